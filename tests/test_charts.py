"""Chart builders added for the reports: specs, words beside colours, widths that print."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from bltanalytics.present import charts, page_charts


def _width(svg: str) -> float:
    return float(re.match(r'<svg[^>]*\bwidth="([0-9.]+)"', svg).group(1))


#: what a chart labels a hidden group with (bltanalytics.present gives it)
HIDDEN = "* fewer than 10"


def _layers(spec: dict) -> list[dict]:
    inner = spec.get("spec", spec)
    return inner.get("layer", [inner])


@pytest.fixture
def groups() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dimension_label": ["All students", "Sex", "Sex", "Sex"],
            "group_label": ["All Students", "Female", "Male", "Non-binary"],
            "plot": [50.0, None, 62.0, None],
            "label": ["50%", HIDDEN, "62%", HIDDEN],
            "all_plot": 50.0,
        }
    )


def test_groups_by_dimension_keeps_group_order_and_marks_suppressed(groups):
    spec = page_charts.groups_by_dimension(
        groups, title="ELA", description="ELA by group."
    ).to_dict()
    assert spec["facet"]["row"]["field"] == "dimension_label"
    assert spec["facet"]["row"]["sort"] == ["All students", "Sex"]
    assert spec["resolve"]["scale"]["y"] == "independent"
    bars, rule, text = _layers(spec)
    # explicit order: a suppressed group (no bar) keeps its place
    assert bars["encoding"]["y"]["sort"] == ["All Students", "Female", "Male", "Non-binary"]
    assert "y" not in rule["encoding"]  # the All Students line spans the whole block
    assert text["encoding"]["text"]["field"] == "label"
    values = spec["datasets"][spec["data"]["name"]]
    assert [v["label"] for v in values][1] == HIDDEN
    assert values[1]["plot"] is None and values[1]["plot_or_zero"] == 0.0
    assert spec["description"] == "ELA by group."


def test_groups_by_dimension_prints_on_a_portrait_page(groups):
    svg = charts.to_svg(page_charts.groups_by_dimension(groups, title="ELA", description="d"))
    assert _width(svg) <= page_charts.MAX_WIDTH


def test_school_subject_bars_panels_and_width():
    frame = pd.DataFrame(
        {
            "school_label": ["Oak Park Community Academy (0106)"] * 3 + ["Maple (0101)"] * 3,
            "subject": ["ELA", "Math", "Science"] * 2,
            "plot": [40.0, 55.0, None, 95.0, 20.0, 5.0],
            "label": ["40%", "55%", HIDDEN, "≥95%", "20%", "≤5%"],
        }
    )
    chart = page_charts.school_subject_bars(frame, title="Spring", description="desc")
    spec = chart.to_dict()
    assert spec["facet"]["column"]["sort"] == ["ELA", "Math", "Science"]
    assert spec["description"] == "desc"
    assert _width(charts.to_svg(chart)) <= page_charts.MAX_WIDTH


def test_gap_bars_scale_leaves_room_for_labels_and_shows_no_positive_ticks():
    frame = pd.DataFrame(
        {
            "school_label": ["A (1)", "B (2)", "A (1)"],
            "subject": ["ELA", "ELA", "Math"],
            "plot": [-33.0, -5.0, -12.0],
            "label": ["-33 pts, English learners", "-5 pts, x", "-12 pts, y"],
        }
    )
    chart = page_charts.gap_bars(frame, title="Gaps", description="d")
    spec = chart.to_dict()
    bars = _layers(spec)[0]
    assert bars["encoding"]["x"]["scale"]["domain"] == [-40.0, 50.0]
    assert bars["encoding"]["x"]["axis"]["values"] == [-40, -30, -20, -10, 0]
    assert spec["facet"]["row"]["sort"] == ["ELA", "Math"]
    assert _width(charts.to_svg(chart)) <= page_charts.MAX_WIDTH
    single = page_charts.gap_bars(frame, title="Gaps", description="d", row=None).to_dict()
    assert "facet" not in single and single["description"] == "d"


def test_status_grid_writes_every_status_as_a_word():
    card = pd.DataFrame(
        {
            "indicator_id": ["C1.teams", "C1.steps", "C1.teams", "C1.steps"],
            "school_label": ["Maple Elementary School (0101)"] * 2 + ["Oak (0106)"] * 2,
            "status": ["met", "insufficient_data", "approaching", "no_data"],
        }
    )
    chart = page_charts.status_grid(card, title="Rubric")
    spec = chart.to_dict()
    values = spec["datasets"][spec["data"]["name"]]
    assert [v["status_word"] for v in values] == ["met", "too few", "approaching", "no data"]
    cells, words = spec["layer"]
    assert cells["encoding"]["color"]["field"] == "status"
    assert words["encoding"]["text"]["field"] == "status_word"
    assert spec["description"] == (
        "Rubric: 2 indicators by 2 columns; 1 met, 1 approaching, 0 not met, 1 too few, 1 no data."
    )
    # four-word labels wrap onto four lines, lifted clear of the first row of cells
    assert cells["encoding"]["x"]["axis"]["labelPadding"] == 4 + 13 * 3
    # eight schools still fit a portrait page
    eight = pd.concat(
        [card.assign(school_label=f"Riverside Elementary School ({k:04d})") for k in range(8)]
    ).assign(indicator_id=lambda f: f["indicator_id"].replace("C1.steps", "C2.coaching_support"))
    assert (
        _width(charts.to_svg(page_charts.status_grid(eight, title="Rubric")))
        <= page_charts.MAX_WIDTH
    )


def test_count_bars_labels_and_description():
    frame = pd.DataFrame({"format": ["Workshop", "Coaching"], "n": [4, 0]})
    spec = page_charts.count_bars(
        frame, category="format", value="n", title="Activities", x_title="Completed"
    ).to_dict()
    assert spec["description"] == "Activities. Workshop: 4; Coaching: 0."
    assert [v["label"] for v in spec["datasets"][spec["data"]["name"]]] == ["4", "0"]


def test_trend_panels_one_panel_per_subject_on_a_shared_time_axis():
    points = pd.DataFrame(
        {
            "period": ["2024-25 Spring", "2025-26 Fall", "2025-26 Spring", "2025-26 Spring"],
            "subject": ["ELA", "ELA", "ELA", "Science"],
            "plot": [30.0, None, 45.0, 95.0],
            "label": ["30%", "", "45%", "≥95%"],
        }
    )
    chart = page_charts.trend_panels(points, title="Trend", description="d")
    spec = chart.to_dict()
    assert spec["facet"]["row"]["sort"] == ["ELA", "Science"]
    line = _layers(spec)[0]
    assert line["encoding"]["x"]["scale"]["domain"] == [
        "2024-25 Spring",
        "2025-26 Fall",
        "2025-26 Spring",
    ]
    assert _width(charts.to_svg(chart)) <= page_charts.MAX_WIDTH


def test_share_bars_axis_title_defaults_to_staff():
    frame = pd.DataFrame({"school": ["A"], "rate": [0.5]})
    default = charts.share_bars(frame, category="school", value="rate", title="t").to_dict()
    assert default["layer"][0]["encoding"]["x"]["title"] == "Share of instructional staff"
    walks = charts.share_bars(
        frame, category="school", value="rate", title="t", axis_title="Share of visits"
    ).to_dict()
    assert walks["layer"][0]["encoding"]["x"]["title"] == "Share of visits"


def test_to_svg_takes_a_chart_or_its_spec(groups):
    chart = page_charts.groups_by_dimension(groups, title="ELA", description="d")
    assert charts.to_svg(chart.to_dict()) == charts.to_svg(chart)
