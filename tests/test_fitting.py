"""Axis labels fitted once per process (present.fitting) draw the SVG vl-convert draws from the
plain spec, byte for byte, with the caches empty, half-filled and warm."""

from __future__ import annotations

import altair as alt
import pandas as pd
import pytest
import vl_convert as vlc

from bltanalytics.present import charts, fitting, page_charts

LONG = "C1.teams BLT and teacher teams in place, with a very long name"
GROUPS = [
    "All Students",
    "Students with disabilities",
    "Economically disadvantaged students in every grade of the school",
    LONG,
    "C6.meetings BLT reviews its meetings",  # shortened text wider than the limit
    "Ä & <b> ≥95% \"quoted\" 'too'",
]


def _bars(limit: int | None, labels: list[str] = GROUPS) -> alt.Chart:
    frame = pd.DataFrame({"group": labels, "pct": range(10, 10 + 10 * len(labels), 10)})
    axis = alt.Axis() if limit is None else alt.Axis(labelLimit=limit)
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(y=alt.Y("group:N", sort=labels, axis=axis, title=None), x="pct:Q")
    )


def _charts() -> dict[str, alt.TopLevelMixin]:
    rubric = pd.DataFrame(
        {
            "indicator_id": [LONG, "C2.coached Staff coached", LONG, "C2.coached Staff coached"],
            "school_label": ["2024-25", "2024-25", "2025-26 Spring term", "2025-26 Spring term"],
            "status": ["met", "not_met", "approaching", "no_data"],
        }
    )
    rows = pd.DataFrame(
        {
            "dimension_label": ["All students", "Program", "Program", "Program"],
            "group_label": GROUPS[:4],
            "plot": [50.0, 55.0, None, 20.0],
            "label": ["50%", "55%", "*", "20%"],
            "all_plot": 50.0,
        }
    )
    return {
        "default limit": _bars(None),
        "short limit": _bars(60),
        "long limit": _bars(400),
        "status grid": page_charts.status_grid(rubric, title="Rubric"),
        "facets": page_charts.groups_by_dimension(rows, title="ELA", description="d"),
    }


def _forget() -> None:
    fitting.FITTED.clear()
    fitting._TOO_LONG.clear()
    fitting._FONTS.clear()


@pytest.fixture
def empty_caches():
    _forget()
    yield
    _forget()


@pytest.mark.parametrize("name", list(_charts()))
def test_fitted_render_is_the_plain_render_cold_and_warm(name, empty_caches):
    vega = vlc.vegalite_to_vega(charts.themed_spec(_charts()[name]))
    plain = vlc.vega_to_svg(vega, allowed_base_urls=[])
    # first sight, seen again (labels too long are shortened by the probes), then warm
    for _ in range(3):
        assert vlc.vega_to_svg(fitting.fit_labels(vega), allowed_base_urls=[]) == plain
    assert vega == vlc.vegalite_to_vega(charts.themed_spec(_charts()[name]))  # not changed


def test_labels_are_fitted_both_ways_once_warm(empty_caches):
    vega = vlc.vegalite_to_vega(charts.themed_spec(_bars(None)))
    fitting.fit_labels(vega)
    fitted = fitting.fit_labels(vega)
    (table,) = [s["value"] for s in fitted["signals"] if s["name"].startswith("blt_fitted")]
    assert table["kAll Students"] == 0  # fits: drawn with no limit
    shortened = table["k" + LONG]
    assert shortened.endswith(fitting.ELLIPSIS + fitting.PAD)
    assert LONG.startswith(shortened.removesuffix(fitting.ELLIPSIS + fitting.PAD))
    (axis,) = [
        a
        for a in fitted["axes"]
        if "limit" in a.get("encode", {}).get("labels", {}).get("update", {})
    ]
    assert axis["scale"] == "y"
    # the same label under another limit is another probe's: there it fits
    fitting.fit_labels(vlc.vegalite_to_vega(charts.themed_spec(_bars(400))))
    assert {v for (_, label), v in fitting.FITTED.items() if label == LONG} == {0, shortened}


def test_both_axes_of_the_status_grid_are_fitted(empty_caches):
    vega = vlc.vegalite_to_vega(charts.themed_spec(_charts()["status grid"]))
    labels = {a["scale"]: a["encode"]["labels"]["update"] for a in fitting.fit_labels(vega)["axes"]}
    assert "limit" in labels["x"] and "limit" in labels["y"]
    assert labels["x"]["text"]["signal"].endswith("split(datum.label, ' ')")  # words one a line
    assert labels["y"]["text"]["signal"].endswith("datum.label")  # whole labels


def test_a_label_the_data_flow_changes_is_left_to_vega(empty_caches):
    chart = _bars(80).transform_calculate(group="upper(datum.group)")
    vega = vlc.vegalite_to_vega(charts.themed_spec(chart))
    plain = vlc.vega_to_svg(vega, allowed_base_urls=[])
    for _ in range(3):
        assert vlc.vega_to_svg(fitting.fit_labels(vega), allowed_base_urls=[]) == plain
    assert LONG.upper()[:10] in plain and LONG[:10] not in plain


def test_to_svg_renders_report_charts_as_vl_convert_does(empty_caches):
    charts._SVG_MEMO.clear()
    for _ in range(2):
        for chart in _charts().values():
            spec = charts.themed_spec(chart)
            assert charts.to_svg(spec) == vlc.vegalite_to_svg(spec, allowed_base_urls=[])
        charts._SVG_MEMO.clear()
