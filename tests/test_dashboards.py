"""Dashboards without a browser: the pure functions behind the widgets, and the widgets' state.

Hand-made frames for the functions; one tiny synthetic district for the widgets (built once).
The real-browser tests are in test_dashboards_browser.py.
"""

from __future__ import annotations

import base64
import re
import sys

import pandas as pd
import pytest

from bltanalytics import present
from bltanalytics.config import Config
from bltanalytics.dashboards import common, explorer, presenter, rubric_board, serve
from bltanalytics.dashboards.common import (
    csv_link,
    html_table,
    masked_labels,
    safe_filename,
    school_labels,
)
from bltanalytics.errors import BltError
from bltanalytics.present import charts

# ------------------------------------------------------------------------------------------------
# Hand-made achievement rows
# ------------------------------------------------------------------------------------------------


def family(**changes) -> pd.DataFrame:
    """One school/year/term/subject/grade: All Students and the english_learner family."""
    rows = pd.DataFrame(
        {
            "school_id": "0101",
            "school_year": "2025-26",
            "term": "Spring",
            "subject": "ELA",
            "grade": "All",
            "dimension": ["all", "english_learner", "english_learner", "english_learner"],
            "group": ["All Students", "Yes", "No", "Not reported"],
            "n_tested": pd.array([40, None, 31, None], dtype="Int64"),
            "n_proficient": pd.array([20, None, 31, None], dtype="Int64"),
            "pct_proficient": [50.0, None, 100.0, None],
            "suppressed": [False, True, False, True],
            "suppression_reason": [None, "complementary", None, "min_n"],
            "display": ["50%", "*", "≥95%", "*"],
            "gap_pp": [0.0, None, 50.0, None],
        }
    )
    return rows.assign(**changes)


def test_masked_labels_use_spreadsheet_letters():
    labels = masked_labels(703)
    assert labels[:2] == ["School A", "School B"]
    assert labels[25:28] == ["School Z", "School AA", "School AB"]
    assert labels[701:703] == ["School ZZ", "School AAA"]
    assert len(set(labels)) == 703


def test_school_labels_masked_follow_school_id_order():
    schools = pd.DataFrame({"school_id": ["0103", "0101", "0102"], "school_name": ["C", "A", "B"]})
    labels = school_labels(schools, mask=True)
    assert labels.to_dict() == {"0101": "School A", "0102": "School B", "0103": "School C"}


def test_school_labels_unmasked_blank_and_shared_names():
    schools = pd.DataFrame({"school_id": ["2", "1", "3"], "school_name": ["Oak", "Oak", None]})
    assert school_labels(schools, mask=False).to_dict() == {
        "1": "Oak (1)",
        "2": "Oak (2)",
        "3": "3",
    }


def test_environment_readers():
    assert common.data_folder_from_env({"BLT_DATA": " /srv/x "}).as_posix() == "/srv/x"
    assert common.data_folder_from_env({"BLT_DATA": ""}) == common.SAMPLE_DISTRICT
    assert common.SAMPLE_DISTRICT.parts[-2:] == ("data", "sample")
    assert common.mask_names_from_env({"BLT_MASK_NAMES": "1"}) is True
    assert common.mask_names_from_env({"BLT_MASK_NAMES": "0"}) is False
    assert common.config_from_env({}).min_n == Config().min_n
    assert common.config_from_env({"BLT_MIN_N": "5"}).min_n == 5


def test_html_table_escapes_except_trusted_columns():
    frame = pd.DataFrame({"a": ["<script>", None], "chip": ["<b>x</b>", "<i>y</i>"]})
    out = html_table(frame, caption="<c>", html_columns=("chip",))
    assert "&lt;script&gt;" in out and "<script>" not in out
    assert "<b>x</b>" in out and "&lt;c&gt;" in out
    assert out.count("<tr>") == 3  # header + 2 rows
    assert "None" not in out and "nan" not in out


def test_csv_link_round_trips_the_table_shown():
    table = pd.DataFrame({"Student group": ["All Students", "Yes"], "Percent": ["50%", "*"]})
    link = csv_link(table, filename="a b.csv")
    payload = re.search(r"base64,([A-Za-z0-9+/=]+)", link).group(1)
    text = base64.b64decode(payload).decode("utf-8")
    assert text == "\ufeffStudent group,Percent\nAll Students,50%\nYes,*\n"
    assert 'download="a b.csv"' in link


def test_safe_filename():
    assert safe_filename("Oak/Park <School>", "2025-26") == "oak-park--school_2025-26.csv"


# ------------------------------------------------------------------------------------------------
# Explorer
# ------------------------------------------------------------------------------------------------


def test_selection_options_narrow_in_order():
    options = pd.DataFrame(
        {
            "school_id": ["1", "1", "1", "1", "2"],
            "school_year": ["2024-25", "2025-26", "2025-26", "2025-26", "2025-26"],
            "term": ["Fall", "Spring", "Fall", "Fall", "Winter"],
            "subject": ["Math", "ELA", "Math", "Math", "ELA"],
            "grade": ["3", "All", "4", "All", "5"],
        }
    )
    found = explorer.selection_options(options, "1")
    assert found["school_year"] == ["2024-25", "2025-26"]
    assert found["term"] == ["Fall", "Spring"]  # Fall before Spring, not by name
    found = explorer.selection_options(
        options, "1", school_year="2025-26", term="Fall", subject="Math"
    )
    assert found["subject"] == ["Math"]
    assert found["grade"] == ["All", "4"]  # All first


def test_group_rows_keeps_all_students_and_one_dimension():
    other = family(dimension=["all", "sex", "sex", "sex"], group=["All Students", "F", "M", "X"])
    frame = pd.concat([family(), other.iloc[1:], family(term="Fall")], ignore_index=True)
    rows = explorer.group_rows(
        frame,
        school_id="0101",
        school_year="2025-26",
        term="Spring",
        subject="ELA",
        grade="All",
        dimension="english_learner",
    )
    assert rows["group"].tolist() == ["All Students", "Yes", "No", "Not reported"]


def test_download_table_puts_the_selection_first():
    table = present.group_table(present.achievement_view(family(), Config()))
    out = explorer.download_table(table, {"school": "School A", "term": "Spring"})
    assert out.columns.tolist()[:3] == ["school", "term", "Student group"]
    assert (out["school"] == "School A").all() and len(out) == 4


def test_bars_chart_draws_no_suppressed_value_and_holds_top_code():
    view = present.achievement_view(family(), Config())
    spec = explorer.bars_chart(view, title="t", subtitle="School A · by sex").to_dict()
    assert spec["description"].startswith("School A · by sex. Percent proficient by")
    values = [row for data in spec["datasets"].values() for row in data]
    drawn = {r["group"]: r.get("value") for r in values if "group" in r and "value" in r}
    assert drawn["No"] == 95.0  # shown as ≥95%: drawn at 95, never at the exact 100
    assert drawn["Yes"] is None and drawn["Not reported"] is None
    assert 100.0 not in [r.get("pct_proficient") for r in values]


def trend_frame() -> pd.DataFrame:
    parts = []
    for year in ("2025-26", "2024-25"):
        for term in ("Spring", "Fall"):
            rows = family(school_year=year, term=term)
            if (year, term) == ("2024-25", "Fall"):
                rows = rows.assign(
                    suppressed=[False, False, True, True],
                    display=["40%", "30%", "*", "*"],
                    pct_proficient=[40.0, 30.0, None, None],
                )
            parts.append(rows)
    return pd.concat(parts, ignore_index=True)


def test_trend_points_in_time_order_with_all_students():
    points = explorer.trend_points(
        trend_frame(),
        school_id="0101",
        subject="ELA",
        grade="All",
        dimension="english_learner",
        group="No",
    )
    assert points["period"].tolist() == [
        "2024-25 Fall",
        "2024-25 Fall",
        "2024-25 Spring",
        "2024-25 Spring",
        "2025-26 Fall",
        "2025-26 Fall",
        "2025-26 Spring",
        "2025-26 Spring",
    ]
    assert points["group"].tolist()[:2] == ["All Students", "No"]
    assert points["display"].tolist()[:2] == ["40%", "*"]
    assert points["pct_proficient"].max() == 95.0  # ≥95% drawn at the code


def test_trend_table_and_chart_leave_suppressed_points_out():
    points = explorer.trend_points(
        trend_frame(),
        school_id="0101",
        subject="ELA",
        grade="All",
        dimension="english_learner",
        group="No",
    )
    table = explorer.trend_table(points)
    assert table.columns.tolist() == ["Period", "All Students", "No"]
    assert table.iloc[0].tolist() == ["2024-25 Fall", "40%", "*"]
    untested = explorer.trend_table(points[points["period"] != "2025-26 Fall"].iloc[:-1])
    assert untested.iloc[-1].tolist() == ["2025-26 Spring", "50%", explorer.NOT_TESTED]
    spec = explorer.trend_chart(points, title="t").to_dict()
    rows = [r for data in spec["datasets"].values() for r in data]
    assert len(rows) == 7  # 8 points, one suppressed
    assert spec["width"] == explorer.TREND_WIDTH


def test_achievement_index_slices_one_cell():
    frame = pd.concat(
        [family(), family(subject="Math"), family(school_id="0102")], ignore_index=True
    )
    index = explorer.AchievementIndex(frame)
    cell = index.cell("0101", "Math", "All")
    assert len(cell) == 4 and set(cell["subject"]) == {"Math"}
    assert set(cell["school_id"]) == {"0101"}
    assert index.cell("0101", "Science", "All").empty
    assert len(index.options) == 3


# ------------------------------------------------------------------------------------------------
# Rubric board
# ------------------------------------------------------------------------------------------------


def card() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "school_id": ["1", "1", "1", "2"],
            "school_year": "2025-26",
            "characteristic": ["systematic_process", "fidelity", "focus", "focus"],
            "indicator_id": ["C1.understand", "C5.fidelity", "C2.hiring", "C2.list"],
            "kind": ["computed", "computed", "rated", "computed"],
            "numerator": [9.0, 13.05, 2.0, 1.0],
            "denominator": pd.array([12, 17, 1, 3], dtype="Int64"),
            "value": [0.75, 13.05 / 17, 2.0, 1 / 3],
            "threshold": [0.75, 0.75, 2.0, 0.75],
            "status": ["met", "met", "met", "insufficient_data"],
        }
    )


def test_indicator_detail_shows_the_data_behind_each_value():
    detail = rubric_board.indicator_detail(card(), school_id="1", school_year="2025-26")
    shown = detail.set_index("Indicator")
    assert shown.loc[
        "C1.understand", ["Numerator", "Denominator", "Value", "Threshold"]
    ].tolist() == [
        "9",
        "12",
        "75%",
        "75%",
    ]
    assert shown.loc["C5.fidelity", "Numerator"] == "13.05"
    assert shown.loc["C2.hiring", ["Numerator", "Value", "Threshold", "Source"]].tolist() == [
        "",
        "2 (acceptable)",
        "2 (acceptable)",
        "BLT rating",
    ]
    assert shown.loc["C1.understand", "Source"] == "staff_survey"
    assert "understand" in shown.loc["C1.understand", "What it looks for"]


def test_detail_html_has_six_characteristics_and_status_words():
    detail = rubric_board.indicator_detail(card(), school_id="1", school_year="2025-26")
    out = rubric_board.detail_html(detail, {"focus": "1 of 1 indicators with data met (1 in all)"})
    assert out.count("<section") == 6
    assert "1 of 1 indicators with data met" in out
    assert out.count(">met</span>") == 3
    assert charts.STATUS_COLORS["met"] in out


def test_board_rows_follow_label_order_past_z():
    ids = [f"{i:03d}" for i in range(28)]
    labels = school_labels(pd.DataFrame({"school_id": ids, "school_name": "x"}), mask=True)
    rubric = card().iloc[[0]].merge(pd.DataFrame({"sid": ids}), how="cross")
    rubric = rubric.assign(school_id=rubric["sid"]).drop(columns="sid").iloc[::-1]
    rows = rubric_board.board_rows(rubric, labels, school_year="2025-26")
    assert rows["school_label"].tolist()[-3:] == ["School Z", "School AA", "School AB"]
    spec = rubric_board.board_charts(rows, "2025-26")[0].to_dict()
    assert spec["layer"][0]["encoding"]["y"]["sort"][-2:] == ["School AA", "School AB"]
    options = common.school_options(labels)
    assert options[25:27] == [("School Z", "025"), ("School AA", "026")]


def test_board_rows_label_and_page():
    labels = pd.Series({"2": "School A", "1": "School B"})
    rows = rubric_board.board_rows(card(), labels, school_year="2025-26", school_ids=["2"])
    assert rows["school_label"].tolist() == ["School A"]
    rows = rubric_board.board_rows(card(), labels, school_year="2025-26")
    assert rows["school_label"].tolist()[0] == "School A"
    charts_ = rubric_board.board_charts(rows, "2025-26")
    assert len(charts_) == 2  # computed, then rated
    assert charts_[0].to_dict()["width"] == 3 * rubric_board.BOARD_CELL_WIDTH  # 3 computed


def test_pages_cover_every_school_once():
    labels = pd.Series([f"S{i:03d}" for i in range(65)], index=[str(i) for i in range(65)])
    found = rubric_board.pages(labels, size=30)
    assert [len(ids) for _, ids in found] == [30, 30, 5]
    assert sorted(i for _, ids in found for i in ids) == sorted(labels.index)
    assert found[2][0] == "Schools 61-65 (S060 to S064)"


def test_characteristic_summary():
    summary = pd.DataFrame(
        {
            "school_id": ["1", "2"],
            "school_year": "2025-26",
            "characteristic": "focus",
            "n_met": [3, 0],
            "n_with_data": [4, 0],
            "n_indicators": [7, 7],
        }
    )
    assert rubric_board.characteristic_summary(summary, school_id="1", school_year="2025-26") == {
        "focus": "3 of 4 indicators with data met (7 in all)"
    }


# ------------------------------------------------------------------------------------------------
# Presenter
# ------------------------------------------------------------------------------------------------


def test_latest_term():
    assert presenter.latest_term(pd.DataFrame({"term": ["Spring", "Fall", "Winter"]})) == "Spring"
    assert presenter.latest_term(pd.DataFrame({"term": pd.Series([], dtype="str")})) is None


def test_slide_html_escapes():
    slide = presenter.Slide(title="<A>", kicker="k&", points=("x < y",))
    out = presenter.slide_html(slide)
    assert "&lt;A&gt;" in out and "k&amp;" in out and "x &lt; y" in out


# ------------------------------------------------------------------------------------------------
# Launcher
# ------------------------------------------------------------------------------------------------


def test_voila_arguments_standalone_local_hidden_code():
    args = serve.voila_arguments("rubric", port=9000)
    assert args[:3] == [sys.executable, "-m", "bltanalytics.dashboards.voila_app"]
    assert args[3].endswith("notebooks/dashboards/rubric_board.ipynb")
    for flag in (
        "--port=9000",
        "--Voila.ip=127.0.0.1",
        "--show_tracebacks=False",
        "--strip_sources=True",
        "--no-browser",
        "--template=bltdash",
        "--preheat_kernel=True",
        "--Voila.port_retries=0",
    ):
        assert flag in args
    assert f"--Voila.root_dir={serve.NOTEBOOK_DIR}" in args
    assert "--no-browser" not in serve.voila_arguments("explorer", open_browser=True)
    assert "--preheat_kernel=True" not in serve.voila_arguments("explorer", pool_size=0)
    assert "--Voila.ip=0.0.0.0" in serve.voila_arguments("presenter", host="0.0.0.0")


def test_voila_environment():
    env = serve.voila_environment(
        data="/d", mask_names=False, min_n=7, metrics="/m", environ={"JUPYTER_PATH": "/x"}
    )
    assert env["BLT_DATA"] == "/d" and env["BLT_MIN_N"] == "7" and env["BLT_METRICS"] == "/m"
    assert env["BLT_MASK_NAMES"] == "0"
    assert env["JUPYTER_PATH"].split(":") == [str(serve.TEMPLATE_ROOT), "/x"]
    cleared = serve.voila_environment(environ={"BLT_DATA": "/old", "BLT_MIN_N": "3"})
    assert "BLT_DATA" not in cleared and "BLT_MIN_N" not in cleared


def test_template_has_no_cdn_assets():
    template = serve.TEMPLATE_ROOT / "voila" / "templates" / serve.TEMPLATE
    text = (template / "index.html.j2").read_text(encoding="utf-8")
    assert not re.search(r"""(href|src)=["']https?://""", text)
    assert (template / "conf.json").is_file()


def test_notebook_path_and_unknown_dashboard():
    for name in serve.DASHBOARDS:
        assert serve.notebook_path(name).is_file()
    with pytest.raises(BltError, match="explorer, rubric, presenter"):
        serve.notebook_path("board")


def test_notebooks_are_thin_and_committed_without_outputs():
    import nbformat

    for file in serve.DASHBOARDS.values():
        nb = nbformat.read(serve.NOTEBOOK_DIR / file, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
        assert "parameters" in code[1].metadata.get("tags", [])
        assert "def " not in "".join(c.source for c in code)
        assert code[-1].source.count("(") == 1 and code[-1].source.startswith("build_")


# ------------------------------------------------------------------------------------------------
# Widgets on a tiny synthetic district
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    from bltanalytics.sample import generate_district

    folder = tmp_path_factory.mktemp("district")
    generate_district(folder, schools=2, students_per_school=60, seed=11)
    return folder


@pytest.fixture(scope="module")
def metrics(district):
    return common.load_metrics(district)


def find(widget, css_class):
    found = [widget] if css_class in getattr(widget, "_dom_classes", ()) else []
    for child in getattr(widget, "children", ()):
        found += find(child, css_class)
    return found


def page_text(widget) -> str:
    parts = [getattr(widget, "value", "") or ""] if hasattr(widget, "value") else []
    if hasattr(widget, "options"):
        parts += [str(o) for o in widget.options]
    for child in getattr(widget, "children", ()):
        parts.append(page_text(child))
    return " ".join(str(p) for p in parts)


def test_load_metrics_reads_once_per_kernel(district, metrics):
    assert common.load_metrics(district) is metrics
    assert common.load_metrics(district, Config(min_n=5)) is not metrics


def test_load_metrics_uses_the_launchers_prepared_export(district, tmp_path):
    config = Config(min_n=3)
    prepared = common.prepare_metrics(district, config, tmp_path / "m")
    common._METRICS.clear()
    got = common.load_metrics(district, config, environ={"BLT_METRICS": str(tmp_path / "m")})
    pd.testing.assert_frame_equal(got.achievement, prepared.achievement, check_dtype=False)
    # an export made for other settings is not used
    common._METRICS.clear()
    other = common.load_metrics(district, Config(min_n=4), {"BLT_METRICS": str(tmp_path / "m")})
    assert not other.achievement.equals(got.achievement)


def test_builders_show_a_plain_message_for_a_bad_folder(tmp_path):
    (tmp_path / "schools.csv").write_text("school_id,school_name\n1,A\n", encoding="utf-8")
    for build in (
        explorer.build_explorer,
        rubric_board.build_rubric_board,
        presenter.build_presenter,
    ):
        widget = build(tmp_path)
        text = page_text(widget)
        assert "This data folder cannot be shown" in text
        assert "students" in text  # the error names the missing table
        assert "Traceback" not in text
        assert "cannot be shown" in page_text(build(tmp_path / "missing"))


def student_identifiers(district) -> set[str]:
    from bltanalytics.load import load_district

    students = load_district(district).tables["students"]
    ids = set(students["student_id"].astype("str"))
    names = set(students["first_name"].dropna().astype("str")) | set(
        students["last_name"].dropna().astype("str")
    )
    dates = set(students["birth_date"].dropna().dt.strftime("%Y-%m-%d"))
    return ids | names | dates


def test_explorer_widget_changes_and_never_shows_a_student(district, metrics):
    app = explorer.Explorer(metrics, mask_names=True, config=Config())
    table, chart = find(app.widget, "blt-group-table")[0], find(app.widget, "blt-bars")[0]
    before = (table.value, chart.value)
    assert "<svg" in chart.value and "mark-rect" in chart.value
    assert "School A" in table.value
    assert not any(name in page_text(app.widget) for name in metrics.schools["school_name"])
    app.dimension.value = "sex"
    assert table.value != before[0] and chart.value != before[1]
    assert "by sex" in chart.value
    words = set(re.findall(r"[\w'./-]+", page_text(app.widget)))
    assert not words & student_identifiers(district)


def test_explorer_reuses_rendered_selections(metrics, monkeypatch):
    app = explorer.Explorer(metrics, mask_names=False, config=Config())
    calls = []
    original = explorer.chart_html
    monkeypatch.setattr(explorer, "chart_html", lambda c: calls.append(1) or original(c))
    first = app.dimension.value
    app.dimension.value = "sex"
    n = len(calls)
    app.dimension.value = first
    app.dimension.value = "sex"
    assert n == 2 and len(calls) == 2  # bars + trend once; going back and forth re-renders none


def test_rubric_board_widget(metrics):
    board = rubric_board.RubricBoard(metrics, mask_names=True, config=Config())
    detail = find(board.widget, "blt-detail")[0]
    first = detail.value
    assert first.count("<section") == 6
    assert find(board.widget, "blt-board")[0].value.count("<svg") == 2
    board.school.value = board.school.options[-1][1]
    assert detail.value != first


def test_presenter_walks_slides_and_masks_names(metrics):
    show = presenter.Presenter(metrics, mask_names=True, config=Config())
    area = find(show.widget, "blt-slide-area")[0]
    assert "School A" in area.value and show.previous.disabled
    titles = []
    for _ in range(12):
        titles.append(re.search(r"<h1>(.*?)</h1>", area.value).group(1))
        show.next.click()
    assert titles[1] == "How are students doing?"
    assert titles[-1] == "Questions for the team" and show.next.disabled
    assert "<svg" in show._html[1]
    names = set(metrics.schools["school_name"])
    assert not any(n in page_text(show.widget) for n in names)
    show.previous.click()
    assert show.position == len(show._slides) - 2
