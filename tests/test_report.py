"""Report sections on a hand-made Metrics: figures, suppression, codes, "No data", HTML."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from bltanalytics import reports
from bltanalytics.errors import BltError
from bltanalytics.metrics import Metrics, read_metrics, shapes, write_metrics
from bltanalytics.metrics.achievement import ACHIEVEMENT_COLUMNS
from bltanalytics.metrics.learning import PD_FORMATS
from bltanalytics.metrics.rubric import RUBRIC_COLUMNS, rollup
from bltanalytics.metrics.suppression import suppress
from bltanalytics.reports import section

FAMILY = ["school_id", "school_year", "term", "subject", "grade", "dimension"]


def _family(school, year, term, subject, rows):
    """Rows of one (school, year, term, subject, grade All) cell: (dimension, group, n, n_prof)."""
    return [(school, year, term, subject, "All", d, g, n, p) for d, g, n, p in rows]


ELA_0101 = [
    ("all", "All Students", 40, 24),  # 60%
    ("sex", "F", 20, 19),  # 95% -> "≥95%"
    ("sex", "M", 17, 5),  # 29% -> complementary suppression (smallest published)
    ("sex", "X", 3, 1),  # 33% -> min_n
    ("english_learner", "Yes", 12, 3),  # 25%, gap -35
    ("english_learner", "No", 28, 21),  # 75%, gap +15
    ("economically_disadvantaged", "Yes", 30, 14),  # 46.67% -> 47%, gap -13.33
    ("economically_disadvantaged", "No", 10, 10),  # 100% -> "≥95%"
]
MATH_0101 = [
    ("all", "All Students", 40, 2),  # 5% -> "≤5%"
    ("english_learner", "Yes", 12, 0),  # 0% -> "≤5%"
    ("english_learner", "No", 28, 2),  # 7.14% -> 7%
]


def _achievement() -> pd.DataFrame:
    rows = (
        _family("0101", "2025-26", "Spring", "ELA", ELA_0101)
        + _family("0101", "2025-26", "Spring", "Math", MATH_0101)
        + _family("0101", "2025-26", "Fall", "ELA", [("all", "All Students", 40, 12)])
        + _family("0101", "2024-25", "Spring", "ELA", [("all", "All Students", 38, 15)])
        + _family(
            "0102",
            "2025-26",
            "Spring",
            "ELA",
            [
                ("all", "All Students", 50, 40),
                ("english_learner", "Yes", 20, 10),
                ("english_learner", "No", 30, 30),
            ],
        )
    )
    counts = pd.DataFrame(rows, columns=[*FAMILY, "group", "n_tested", "n_proficient"])
    out = suppress(counts, family=FAMILY)
    all_pct = out.groupby(FAMILY[:5])["pct_proficient"].transform("first")
    out["gap_pp"] = (out["pct_proficient"] - all_pct).where(~out["suppressed"])
    return out[ACHIEVEMENT_COLUMNS]


def _rubric(absent: tuple[str, ...] = ("C5.fidelity",)) -> pd.DataFrame:
    rows = [
        # school, year, characteristic, id, kind, numerator, denominator, threshold, status
        ("0101", "2025-26", "systematic_process", "C1.teams", "computed", 1.0, 1, 1.0, "met"),
        ("0101", "2025-26", "focus", "C2.coached", "computed", 1.0, 15, 0.75, "not_met"),
        ("0101", "2025-26", "fidelity", "C5.walkthrough", "computed", 17.0, 19, 0.75, "met"),
        (
            "0101",
            "2025-26",
            "fidelity",
            "C5.fidelity",
            "computed",
            2.4,
            3,
            0.75,
            "insufficient_data",
        ),
        ("0101", "2025-26", "focus", "C2.hiring", "rated", 2.0, 1, 2.0, "met"),
        ("0101", "2025-26", "monitoring", "C6.meetings", "rated", np.nan, pd.NA, 2.0, "no_data"),
        ("0101", "2024-25", "systematic_process", "C1.teams", "computed", 0.0, 1, 1.0, "not_met"),
        (
            "0101",
            "2024-25",
            "fidelity",
            "C5.walkthrough",
            "computed",
            10.0,
            16,
            0.75,
            "approaching",
        ),
        ("0102", "2025-26", "systematic_process", "C1.teams", "computed", 1.0, 1, 1.0, "met"),
        ("0102", "2025-26", "fidelity", "C5.walkthrough", "computed", 0.0, 0, 0.75, "no_data"),
        (
            "0102",
            "2025-26",
            "fidelity",
            "C5.fidelity",
            "computed",
            3.0,
            4,
            0.75,
            "insufficient_data",
        ),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "school_id",
            "school_year",
            "characteristic",
            "indicator_id",
            "kind",
            "numerator",
            "denominator",
            "threshold",
            "status",
        ],
    )
    frame = frame.astype({"denominator": "Int64", "numerator": "float64"})
    for indicator in absent:  # a table the district did not supply: empty counts everywhere
        gone = frame["indicator_id"] == indicator
        frame.loc[gone, ["numerator"]] = np.nan
        frame["denominator"] = frame["denominator"].mask(gone)
        frame.loc[gone, "status"] = "no_data"
    den = frame["denominator"].astype("float64")
    frame["value"] = (frame["numerator"] / den).where(den > 0)
    return frame[RUBRIC_COLUMNS]


def _cycles() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cycle_id": ["C1", "C2", "C3"],
            "team_id": ["0101-T01", "0101-T02", "0102-T01"],
            "school_id": ["0101", "0101", "0102"],
            "school_year": ["2025-26", "2025-26", "2025-26"],
            "subject": ["ELA", "Math", "ELA"],
            "focus": ["Vocabulary", "Fractions", "Inference"],
            "strategy": ["Graphic organizers", None, "Think-alouds"],
            "n_matched": pd.array([20, None, 30], dtype="Int64"),  # C2: 4 matched, hidden
            "n_missing_post": pd.array([1, None, 0], dtype="Int64"),
            "pre_pct_proficient": [2.5, np.nan, 30.0],
            "post_pct_proficient": [40.0, np.nan, 60.0],
            "change_pp": [37.5, np.nan, 30.0],
            "pct_improved": [80.0, np.nan, 70.0],
            "target_pct": [50.0, 60.0, 55.0],
            "target_met": pd.array([False, pd.NA, True], dtype="boolean"),
            "suppressed": [False, True, False],
        }
    )


def _pd() -> pd.DataFrame:
    formats = {f"n_{f}": [3, 0, 5] for f in PD_FORMATS}
    return pd.DataFrame(
        {
            "school_id": ["0101", "0101", "0102"],
            "school_year": ["2024-25", "2025-26", "2025-26"],
            "n_instructional_staff": [12, 15, 8],
            "n_participating": [10, 12, 8],
            "participation_rate": [10 / 12, 12 / 15, 1.0],
            "hours_per_staff": [5.0, 6.25, 3.0],
            **formats,
            "suppressed": False,
        }
    )


def _progress(progression: str, steps: list[str], reached: list[int]) -> pd.DataFrame:
    n = len(steps)
    return pd.DataFrame(
        {
            "school_id": ["0101"] * n,
            "school_year": ["2025-26"] * n,
            "progression": [progression] * n,
            "step": steps,
            "step_order": list(range(1, n + 1)),
            "n_instructional_staff": [15] * n,
            "n_reached": pd.array(reached, dtype="Int64"),
            "share_reached": [r / 15 for r in reached],
            "suppressed": False,
        }
    )


@pytest.fixture
def metrics() -> Metrics:
    rubric = _rubric()
    return Metrics(
        achievement=_achievement(),
        rubric=rubric,
        rubric_summary=rollup(rubric),
        cycles=_cycles(),
        pd=_pd(),
        blended_cycle=_progress(
            "blended_cycle", [str(k) for k in range(1, 11)], [15, 15, 14, 12, 10, 9, 7, 5, 3, 1]
        ),
        distributed_pd=pd.concat(
            [
                _progress("format", ["workshop", "micro_pd", "support_meeting"], [14, 11, 6]),
                _progress("stage", ["1", "2", "3"], [15, 13, 10]),
            ],
            ignore_index=True,
        ),
        trends=shapes.empty(shapes.SHAPES["trends"]),
        schools=pd.DataFrame(
            {
                "school_id": ["0101", "0102"],
                "school_name": ["Oak <Elementary>", "Elm Middle"],
                "level": ["elementary", "middle"],
            }
        ),
        enrollment=pd.DataFrame(
            {
                "school_id": ["0101", "0101", "0101", "0102"],
                "school_year": ["2025-26", "2025-26", "2024-25", "2025-26"],
                "grade": ["3", "4", "3", "7"],
                "n_students": [22, 18, 38, 50],
            }
        ),
        data_quality=pd.DataFrame(
            {
                "school_id": pd.array(["0101", "0101", "0102", None], dtype="str"),
                "table": ["assessments", "students", "assessments", "students"],
                "action": ["row_dropped", "value_blanked", "row_dropped", "row_dropped"],
                "reason": ["duplicate", "bad_value", "unscorable", "unknown_school"],
                "count": [3, 1, 2, 5],
            }
        ),
        quarantine=shapes.empty(shapes.SHAPES["quarantine"]),
    )


def _cells(section: reports.Section, column: str) -> list[str]:
    return section.table[column].tolist()


# --------------------------------------------------------------------------- years and loading


def test_resolve_year_latest_with_results_and_spellings(metrics):
    assert reports.resolve_year(metrics, "0101", "") == "2025-26"
    assert reports.resolve_year(metrics, "0101", "2025") == "2024-25"
    assert reports.resolve_year(metrics, "0101", "2024-2025") == "2024-25"
    assert reports.resolve_year(metrics, "", "") == "2025-26"


def test_resolve_year_errors_name_the_problem(metrics):
    with pytest.raises(BltError, match="2019-20.*years with data: 2024-25, 2025-26"):
        reports.resolve_year(metrics, "0101", "2019-20")
    with pytest.raises(BltError, match="'0199' is not in this district.*0101, 0102"):
        reports.resolve_year(metrics, "0199", "")
    with pytest.raises(BltError, match="school_id must be text.*-r school_id"):
        reports.resolve_year(metrics, 101, "")  # type: ignore[arg-type]


def test_load_reads_an_export_and_sections_read_the_same(metrics, tmp_path):
    write_metrics(metrics, tmp_path / "export")
    again = reports.load(metrics_dir=str(tmp_path / "export"))
    for build in (reports.achievement, reports.scorecard, reports.team_cycles, reports.learning):
        assert (
            build(again, "0101", "2025-26").to_html() == build(metrics, "0101", "2025-26").to_html()
        )


def test_load_rejects_a_non_whole_min_n(tmp_path):
    with pytest.raises(BltError, match="min_n must be a whole number"):
        reports.load(data_dir=tmp_path, min_n=2.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- achievement


def test_achievement_table_shows_the_published_figures(metrics):
    section = reports.achievement(metrics, "0101", "2025-26")
    ela, math = section.parts
    assert [ela.title, math.title] == ["ELA", "Math"]
    assert _cells(ela, "Group") == [
        "All Students",
        "Female",
        "Male",
        "Non-binary",
        "Yes",
        "No",
        "Yes",
        "No",
    ]
    assert _cells(ela, "Proficient") == ["60%", "≥95%", "*", "*", "25%", "75%", "47%", "≥95%"]
    assert _cells(ela, "Tested") == ["40", "20", "*", "*", "12", "28", "30", "10"]
    # gaps with a sign; a range next to a coded percentage; * where suppressed
    assert _cells(ela, "Gap to All Students (points)") == [
        "",
        "+35 to +40",
        "*",
        "*",
        "-35",
        "+15",
        "-13",
        "+35 to +40",
    ]
    assert _cells(math, "Proficient") == ["≤5%", "≤5%", "7%"]
    # All Students is bottom-coded: gaps are ranges of what the shown figures allow
    assert _cells(math, "Gap to All Students (points)") == ["", "-5 to +5", "+2 to +8"]


def test_achievement_suppressed_figures_never_appear_as_numbers(metrics):
    html = reports.achievement(metrics, "0101", "2025-26").to_html()  # without the stylesheet
    # Male: 17 tested, 29% (complementary); Non-binary: 3 tested, 33% (min_n)
    assert "29%" not in html and "33%" not in html
    male_row = re.search(r"<tr><th scope=\"row\">Sex</th><td>Male</td>(.*?)</tr>", html).group(1)
    # tested, proficient, gap; the district (no other school shows it); school minus district
    assert male_row == "<td>*</td><td>*</td><td>*</td><td>none shown</td><td>*</td>"
    assert "Sex, Male: hidden to protect a smaller group" in html  # the chart's text alternative
    # coded percentages are never shown exactly: 100% (econ No) nor 95% (Female)
    assert "100%" not in html and "95%" not in html.replace("≥95%", "")
    assert "≥95%" in html


def test_achievement_beside_the_district_made_from_shown_figures_only(metrics):
    section = reports.achievement(metrics, "0101", "2025-26")
    ela = section.parts[0]
    # All Students: (24 + 40) / (40 + 50) = 71.1%; English learner Yes: (3 + 10) / (12 + 20) =
    # 40.6%; English learner No: 0102's is coded (≥95%), so only 0101's own figure is exact
    assert _cells(ela, "District") == [
        "71%",
        "none shown",
        "none shown",
        "none shown",
        "41%",
        "this school only",
        "this school only",
        "none shown",
    ]
    assert _cells(ela, "School minus district (points)") == ["-11", "", "*", "*", "-16", "", "", ""]
    assert "across the district it was 71% in ELA" in section.reading
    assert any(n.startswith("District = the same group in every school") for n in section.notes)


def test_achievement_bars_stop_at_the_codes(metrics):
    rows = reports.achievement(metrics, "0101", "2025-26").parts[0].extra["rows"]
    plot = rows.set_index(["dimension", "group"])["plot"]
    assert plot[("economically_disadvantaged", "No")] == 95.0  # 100% shown as ≥95%
    assert plot[("sex", "F")] == 95.0
    assert pd.isna(plot[("sex", "M")]) and pd.isna(plot[("sex", "X")])
    assert plot[("english_learner", "Yes")] == 25.0


def test_achievement_readings_name_the_figures(metrics):
    section = reports.achievement(metrics, "0101", "2025-26")
    assert section.reading == (
        "In Spring 2025-26, the share of all students at this school who were proficient was "
        "60% in ELA and ≤5% in Math (all grades together); across the district it was 71% in ELA."
    )
    assert section.parts[0].reading == (
        "In ELA, 60% of the 40 students tested in Spring were proficient; the widest gap below "
        "All Students is for English learners (25%, -35 points), and 2 of 7 groups are "
        "suppressed."
    )


def test_achievement_of_a_school_without_results_says_no_data(metrics):
    section = reports.achievement(metrics, "0102", "2024-25")
    assert section.reading.startswith("No data:")
    assert section.chart is None and section.table is None


def test_trend_reads_first_and_last_published_terms(metrics):
    section = reports.trend(metrics, "0101", "2025-26")
    assert section.reading == (
        "Among all students, the share proficient went: ELA from 39% (Spring 2024-25) to 60% "
        "(Spring 2025-26) and Math ≤5% (Spring 2025-26, one term only)."
    )
    assert section.table.to_dict("list") == {
        "Term": ["2024-25 Spring", "2025-26 Fall", "2025-26 Spring"],
        "ELA": ["39%", "30%", "60%"],
        "Math": ["no test", "no test", "≤5%"],
    }
    # a year before the selected one only sees its own past
    assert reports.trend(metrics, "0101", "2024-25").table["Term"].tolist() == ["2024-25 Spring"]


# --------------------------------------------------------------------------- other sections


def test_cycles_show_marks_ranges_and_targets(metrics):
    section = reports.team_cycles(metrics, "0101", "2025-26")
    table = section.table.set_index("Cycle")
    assert table.loc["C1 ELA", ["Before", "After", "Change (pts)", "Target: met?"]].tolist() == [
        "≤5%",
        "40%",
        "+35 to +40",
        "50%: no",
    ]
    assert table.loc[
        "C2 Math", ["Students", "Before", "After", "Change (pts)", "Target: met?"]
    ].tolist() == [
        "*",  # a hidden cycle shows neither its percentages nor how many students it matched
        "*",
        "*",
        "*",
        "60%: *",
    ]
    assert table.loc["C1 ELA", "Focus and strategy"] == "Vocabulary; strategy: Graphic organizers"
    assert "C3 ELA" not in table.index  # another school's cycle
    # the only published change is a range (+35 to +40): the reading never says the exact +37.5
    assert section.reading == (
        "2 teacher-team cycles ran in 2025-26; of the 1 with enough students to report, 0 reached "
        "their target, and the median change in the share proficient was +35 points."
    )


def test_cycles_absent_or_none_at_the_school(metrics):
    empty = replace(metrics, cycles=metrics.cycles.iloc[0:0])
    assert (
        reports.team_cycles(empty, "0101", "2025-26").reading
        == "No data: the district did not supply teacher-team cycles."
    )
    assert reports.team_cycles(metrics, "0101", "2024-25").reading.startswith(
        "No teacher-team cycles were recorded"
    )


def test_scorecard_statuses_and_values(metrics):
    section = reports.scorecard(metrics, "0101", "2025-26")
    grid = section.table.set_index("Indicator")
    # the grid names each indicator beside its code
    assert grid.loc["C1.teams BLT and teacher teams in place"].tolist() == ["not met", "met"]
    assert grid.loc["C5.walkthrough Strategies seen in classrooms"].tolist() == [
        "approaching",
        "met",
    ]
    assert grid.loc["C6.meetings BLT reviews its meetings", "2025-26"] == "no data"
    parts = {p.key: p.table.set_index("Indicator") for p in section.parts}
    assert parts["rubric-fidelity"].loc["C5.walkthrough", ["Value", "Goal", "Status"]].tolist() == [
        "17 of 19 walk-throughs (89%)",
        "75%",
        "met",
    ]
    assert parts["rubric-focus"].loc["C2.hiring", ["Value", "Goal", "Status"]].tolist() == [
        "rating 2 (acceptable)",
        "rating 2+",
        "met",
    ]
    assert parts["rubric-focus"].loc["C2.coached", "Value"] == "1 of 15 staff (7%)"
    assert section.reading == (
        "In 2025-26, 3 of the 6 indicators are met, 0 approaching and 1 not met; 2 cannot be "
        "judged (too few responses, or no data)."
    )


def test_walkthroughs_absent_table_says_no_data(metrics):
    section = reports.walkthroughs(metrics, "0101", "2025-26")
    assert section.reading == (
        "In 2025-26, an agreed strategy was seen in 17 of 19 walk-throughs (89%; goal 75%: met); "
        "the district did not supply fidelity checks."
    )
    both = replace(metrics, rubric=_rubric(absent=("C5.fidelity", "C5.walkthrough")))
    section = reports.walkthroughs(both, "0101", "2025-26")
    assert (
        section.reading == "No data: the district did not supply walkthroughs or fidelity checks."
    )
    assert section.chart is None


def test_walkthroughs_none_recorded_at_the_school(metrics):
    section = reports.walkthroughs(replace(metrics, rubric=_rubric(absent=())), "0102", "2025-26")
    assert "no walk-throughs were recorded in 2025-26" in section.reading
    assert "averaged 75% over 4 checks (goal 75%: too few)" in section.reading


def test_learning_readings_and_no_data(metrics):
    section = reports.learning(metrics, "0101", "2025-26")
    assert section.reading == (
        "In 2025-26, 12 of 15 instructional staff (80%) completed at least one "
        "professional-learning activity, averaging 6.2 hours each."
    )
    blended = next(p for p in section.parts if p.key == "learning-blended")
    assert blended.reading == (
        "Of 15 instructional staff, 15 (100%) reached step 1 and 1 (7%) reached step 10, the end "
        "of the 10-step blended learning cycle."
    )
    assert section.parts[0].table.set_index("Measure").loc["Participation rate"].tolist() == [
        "83%",
        "80%",
    ]
    no_pd = replace(metrics, pd=metrics.pd.assign(n_participating=pd.NA))
    assert reports.learning(no_pd, "0101", "2025-26").reading == (
        "No data: the district did not supply professional-learning activities."
    )


def test_data_quality_counts_this_school_only(metrics):
    section = reports.data_quality(metrics, "0101")
    assert section.table.to_dict("list") == {
        "Table": ["assessments", "students"],
        "What happened": ["row not used", "value blanked, row kept"],
        "Why": ["a duplicate of another row", "a value could not be read"],
        "Rows": ["3", "1"],
    }
    assert section.reading.startswith("3 input rows for this school were not used and 1 value")
    assert "Another 5 rows" in " ".join(section.notes)


def test_overview_names_the_school_and_its_figures(metrics):
    section = reports.overview(metrics, "0101", "2025-26")
    assert section.reading == (
        "Oak <Elementary> (0101), an elementary school, had 40 students in grades 3-4 in 2025-26; "
        "All Students proficient in Spring: ELA 60% and Math ≤5%; "
        "3 of 4 rubric indicators that can be judged met."
    )


# --------------------------------------------------------------------------- district


def test_district_sections(metrics):
    achievement = reports.district_achievement(metrics, "2025-26")
    assert achievement.table.to_dict("list") == {
        "School": ["Oak <Elementary> (0101)", "Elm Middle (0102)"],
        "ELA": ["60%", "80%"],
        "Math": ["≤5%", "no test"],
    }
    gaps = reports.district_gaps(metrics, "2025-26")
    assert gaps.table[["School", "Subject", "Group", "Gap (points)"]].values.tolist() == [
        ["Oak <Elementary> (0101)", "ELA", "English learner: Yes", "-35"],
        ["Elm Middle (0102)", "ELA", "English learner: Yes", "-30"],
    ]
    assert gaps.reading.startswith("The widest gap in Spring 2025-26 is at Oak <Elementary> in ELA")
    board = reports.district_scorecard(metrics, "2025-26")
    table = board.parts[0].table.set_index("Indicator")
    assert table.loc["C5.walkthrough"].tolist() == ["met", "no data"]
    learning = reports.district_learning(metrics, "2025-26")
    assert learning.table["Participation rate"].tolist() == ["80%", "100%"]
    quality = reports.district_data_quality(metrics)
    assert quality.table["Rows not used"].tolist() == ["3", "2", "5"]
    assert "<a href" not in quality.to_html()  # no pages given: nothing to link to
    assert quality.table["School"].tolist() == [
        "Oak <Elementary> (0101)",
        "Elm Middle (0102)",
        "(no school)",
    ]


def test_district_range_ranks_a_coded_school_by_its_bound(metrics):
    a = metrics.achievement.copy()
    top = (a["school_id"] == "0102") & (a["dimension"] == "all") & (a["term"] == "Spring")
    a.loc[top, ["display", "pct_proficient", "n_proficient"]] = ["≥95%", np.nan, pd.NA]
    section = reports.district_achievement(replace(metrics, achievement=a), "2025-26")
    assert "ELA from 60% (Oak <Elementary>) to ≥95% (Elm Middle)" in section.reading


def test_district_learning_hides_a_small_staff_and_leaves_it_out_of_the_total(metrics):
    p = metrics.pd.copy()
    small = (p["school_id"] == "0102") & (p["school_year"] == "2025-26")
    p["n_instructional_staff"] = p["n_instructional_staff"].where(~small, 3)
    p.loc[small, ["n_participating", "participation_rate", "hours_per_staff"]] = np.nan
    p["suppressed"] = small
    section = reports.district_learning(replace(metrics, pd=p), "2025-26")
    hidden = section.table.set_index("School").loc["Elm Middle (0102)"]
    assert hidden.tolist() == ["3", "*", "*", "*"]
    assert section.reading.startswith("In 2025-26, 12 of 15 instructional staff in the schools")
    assert "Elm Middle (0102): hidden: fewer than 5 instructional staff" in section.description
    assert section.notes[0].startswith("* = not shown: fewer than 5 instructional staff")


def test_district_tables_link_each_school_to_its_page(metrics):
    pages = reports.school_pages(metrics, ["0102", "9999"])  # 9999: no such school
    assert pages == {"Elm Middle (0102)": "school_0102.html"}
    for part in (
        reports.district_overview(metrics, "2025-26", pages),
        reports.district_achievement(metrics, "2025-26", pages),
        reports.district_learning(metrics, "2025-26", pages),
        reports.district_data_quality(metrics, pages),
    ):
        html = part.to_html()
        assert '<th scope="row"><a href="school_0102.html">Elm Middle (0102)</a></th>' in html
        assert '<th scope="row">Oak &lt;Elementary&gt; (0101)</th>' in html  # escaped, unlinked


def test_district_scorecard_splits_many_schools(metrics):
    many = pd.concat(
        [metrics.rubric.assign(school_id=f"{k:04d}") for k in range(1, 11)], ignore_index=True
    )
    schools = pd.DataFrame(
        {"school_id": [f"{k:04d}" for k in range(1, 11)], "school_name": "S", "level": "high"}
    )
    board = reports.district_scorecard(replace(metrics, rubric=many, schools=schools), "2025-26")
    assert [p.title for p in board.parts] == ["Schools 1-8 of 10", "Schools 9-10 of 10"]
    assert board.parts[1].table.columns.tolist() == ["Indicator", "S (0009)", "S (0010)"]


# --------------------------------------------------------------------------- HTML


def test_section_html_is_accessible_and_self_contained(metrics):
    html = reports.achievement(metrics, "0101", "2025-26")._repr_html_()
    assert "<h1" not in html and "<h2" not in html
    assert html.count("<h3>") == 2
    assert html.count('<figure role="img" aria-label="Bar chart of percent proficient') == 2
    assert html.count("<figcaption>") == 2 and html.count("<svg") == 2
    assert '<th scope="col">Proficient</th>' in html and "<caption>" in html
    assert "<script" not in html and "http" not in html.replace("http://www.w3.org", "")
    overview = reports.overview(metrics, "0101", "2025-26")._repr_html_()
    assert "Oak &lt;Elementary&gt;" in overview and "Oak <Elementary>" not in overview


def test_no_data_section_renders_without_chart_or_table(metrics):
    empty = replace(metrics, cycles=metrics.cycles.iloc[0:0])
    html = reports.team_cycles(empty, "0101", "2025-26")._repr_html_()
    assert "No data: the district did not supply teacher-team cycles." in html
    assert "<figure" not in html and "<table" not in html


def test_unique_ids_prefix_every_reference():
    svg = '<svg><clipPath id="c1"/><g clip-path="url(#c1)"/><use href="#c1"/></svg>'
    out = section.unique_ids(svg)
    prefix = re.search(r'id="(blt[0-9a-f]+-)c1"', out).group(1)
    assert f"url(#{prefix}c1)" in out and f'href="#{prefix}c1"' in out
    assert section.unique_ids("<svg/>") == "<svg/>"


def test_sections_carry_no_student_columns(metrics):
    forbidden = {"student_id", "first_name", "last_name", "birth_date"}
    sections = [
        build(metrics, "0101", "2025-26")
        for build in (
            reports.overview,
            reports.achievement,
            reports.trend,
            reports.team_cycles,
            reports.scorecard,
            reports.walkthroughs,
            reports.learning,
        )
    ]
    tables = [s.table for s in sections] + [p.table for s in sections for p in s.parts]
    assert all(forbidden.isdisjoint(t.columns) for t in tables if t is not None)


def test_export_round_trip_keeps_suppression(metrics, tmp_path):
    write_metrics(metrics, tmp_path)
    again = read_metrics(tmp_path)
    ela = reports.achievement(again, "0101", "2025-26").parts[0]
    assert _cells(ela, "Proficient")[2:4] == ["*", "*"]
