"""The presentation layer: one wording, coded values shown as bounds, ranks by what is shown.

Hand-made achievement rows (one school, year, term, subject and grade: All Students and the
english_learner family), so each assertion names the figure it is about.
"""

from __future__ import annotations

import re

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import given, settings

from bltanalytics import present
from bltanalytics.config import Config
from bltanalytics.errors import ConfigError
from bltanalytics.present.labels import REQUIRED, SECTIONS, read_labels


def family(**changes) -> pd.DataFrame:
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
            "pct_proficient": [50.0, None, None, None],
            "suppressed": [False, True, False, True],
            "suppression_reason": [None, "complementary", None, "min_n"],
            "display": ["50%", "*", "≥95%", "*"],
            "gap_pp": [0.0, None, None, None],
        }
    )
    return rows.assign(**changes)


def view(rows: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    return present.achievement_view(rows, config or Config())


# ------------------------------------------------------------------------------------------------
# labels.yaml
# ------------------------------------------------------------------------------------------------


def test_every_dimension_and_status_has_one_label():
    assert present.LABELS.dimensions["all"] == "All Students"
    for section, codes in REQUIRED.items():
        assert set(codes) <= set(getattr(present.LABELS, section))


def test_labels_file_errors_name_the_section_and_code():
    with pytest.raises(ConfigError, match="no section"):
        read_labels("dimensions: {}")
    text = "\n".join(f"{s}: {{}}" for s in SECTIONS if s != "say_suppressed")
    with pytest.raises(ConfigError, match="section dimensions has no label for all"):
        read_labels(text + "\nsay_suppressed: x")
    with pytest.raises(ConfigError, match="unknown section"):
        read_labels(text + "\nsay_suppressed: x\nextra: {}")


def test_labels_are_read_only():
    with pytest.raises(TypeError):
        present.LABELS.dimensions["sex"] = "Gender"  # type: ignore[index]


def test_group_labels_and_phrases():
    dims = pd.Series(["sex", "sex", "race_ethnicity", "homeless"])
    groups = pd.Series(["F", "Not reported", "Asian", "Not reported"])
    assert present.group_labels(dims, groups).tolist() == [
        "Female",
        "Not reported",
        "Asian",
        "Not reported",
    ]
    assert present.group_phrases(dims, groups).tolist() == [
        "female students",
        "students whose sex is not reported",
        "Asian students",
        "students whose homeless is not reported",
    ]


# ------------------------------------------------------------------------------------------------
# Coded values, gaps and their rank
# ------------------------------------------------------------------------------------------------


def test_coded_percentages_are_drawn_at_the_code():
    v = view(family())
    assert v["plot"].iloc[0] == 50.0 and v["plot"].iloc[2] == 95.0
    assert v["plot"].iloc[[1, 3]].isna().all()
    low = view(family(display=["50%", "*", "≤3%", "*"]))
    assert low["plot"].iloc[2] == 3.0  # the code of the display, whatever the config


def test_gap_text_is_the_range_a_coded_gap_lies_in():
    rows = family(
        pct_proficient=[50.0, 25.1, None, 50.4],
        suppressed=[False, False, False, False],
        suppression_reason=[None] * 4,
        display=["50%", "25%", "≥95%", "50%"],
        gap_pp=[0.0, -24.9, None, 0.4],
    )
    v = view(rows)
    assert v["gap_label"].tolist() == ["", "-25", "+45 to +50", "0"]
    # ranked by the end nearest zero: never more than the label says
    assert v["gap_rank"].tolist()[1:] == pytest.approx([-24.9, 45.0, 0.4])


def test_a_coded_all_students_makes_every_gap_a_range():
    rows = family(
        pct_proficient=[None, 40.0, 60.0, None],
        suppressed=[False, False, False, True],
        display=["≤5%", "40%", "60%", "*"],
    )
    assert view(rows)["gap_label"].tolist() == ["", "+35 to +40", "+55 to +60", "*"]


def test_largest_gaps_rank_by_what_is_shown():
    rows = family(
        pct_proficient=[50.0, 30.0, None, 20.0],
        suppressed=[False, False, False, False],
        suppression_reason=[None] * 4,
        display=["50%", "30%", "≤5%", "20%"],
        group=["All Students", "Yes", "No", "Not reported"],
    )
    gaps = present.largest_gaps(view(rows))
    # "No" is at most 5%: its gap is -45 to -50 and ranks at -45, below "Yes" at -20;
    # Not reported is never ranked
    assert gaps["group"].tolist() == ["No", "Yes"]
    assert gaps["gap_rank"].tolist() == [-45.0, -20.0]


def test_group_table_never_shows_a_number_for_a_hidden_group():
    table = present.group_table(view(family()))
    hidden = table.iloc[[1, 3]]
    figures = hidden[["Students tested", "Percent proficient", "Gap to All Students (points)"]]
    assert not figures.apply(lambda c: c.str.contains(r"\d")).any().any()
    assert table["Note"].tolist() == [
        "",
        "hidden to protect a smaller group",
        "",
        "hidden: fewer than 10 students",
    ]
    assert view(family(), Config(min_n=15))["note"].iloc[3] == "hidden: fewer than 15 students"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 200), st.integers(0, 200), st.booleans()), min_size=1, max_size=6
    )
)
def test_group_table_property_no_figure_leaks_from_hidden_rows(groups):
    n = len(groups)
    tested = [t for t, _, _ in groups]
    prof = [min(p, t) for t, p, _ in groups]
    hidden = [h for _, _, h in groups]
    pct = [100 * p / t for p, t in zip(prof, tested, strict=True)]
    rows = pd.DataFrame(
        {
            "school_id": "1",
            "school_year": "2025-26",
            "term": "Fall",
            "subject": "ELA",
            "grade": "All",
            "dimension": ["all"] + ["sex"] * n,
            "group": ["All Students"] + [f"G{i}" for i in range(n)],
            "n_tested": pd.array(
                [sum(tested)] + [None if h else t for t, h in zip(tested, hidden, strict=True)],
                dtype="Int64",
            ),
            "pct_proficient": [50.0] + [None if h else v for v, h in zip(pct, hidden, strict=True)],
            "suppressed": [False, *hidden],
            "suppression_reason": [None] + ["min_n" if h else None for h in hidden],
            "display": ["50%"]
            + ["*" if h else f"{v:.0f}%" for v, h in zip(pct, hidden, strict=True)],
            "gap_pp": [0.0] + [None if h else v - 50 for v, h in zip(pct, hidden, strict=True)],
        }
    )
    table = present.group_table(view(rows))
    for i, h in enumerate(hidden, start=1):
        shown = " ".join(
            table.iloc[i][["Students tested", "Percent proficient", "Gap to All Students (points)"]]
        )
        assert (re.search(r"\d", shown) is None) == h


# ------------------------------------------------------------------------------------------------
# Orders, notes, rubric words
# ------------------------------------------------------------------------------------------------


def test_orders_put_known_values_first():
    assert present.ordered(pd.Series(["Math", "Art", "ELA", None]), "subject") == [
        "ELA",
        "Math",
        "Art",
    ]
    grades = present.categorical(pd.Series(["All", "3", "K", "12"]), "grade")
    assert grades.sort_values().tolist() == ["K", "3", "12", "All"]


def test_notes_state_the_config_not_a_fixed_number():
    config = Config(min_n=20, top_code=90.0, bottom_code=10.0, approaching_band=0.1)
    assert "fewer than 20 students" in present.suppression_note(config)
    assert "≥90%" in present.coded_note(config) and "≤10%" in present.coded_note(config)
    assert "within 10 points" in present.rubric_note(config)
    assert "fewer than 20 students were matched" in present.cycles_suppression_note(config)


def test_rubric_value_goal_and_status_words():
    card = pd.DataFrame(
        {
            "indicator_id": ["C1.teams", "C5.fidelity", "C2.hiring", "C1.use"],
            "kind": ["computed", "computed", "rated", "computed"],
            "numerator": [1.0, 2.4, 3.0, None],
            "denominator": [1.0, 3.0, 1.0, 0.0],
            "value": [1.0, 0.8, 3.0, None],
            "threshold": [1.0, 0.75, 2.0, 0.75],
            "status": ["met", "met", "met", "no_data"],
        }
    )
    assert present.value_text(card).tolist() == [
        "yes",
        "average 80% over 3 checks",
        "rating 3 (exemplary)",
        "no data",
    ]
    assert present.goal_text(card).tolist() == ["yes", "75%", "rating 2+", "75%"]
    assert present.status_words(card["status"]).tolist() == ["met", "met", "met", "no data"]
    assert present.indicator_texts(card["indicator_id"]).str.len().gt(10).all()


def test_every_rubric_indicator_has_a_short_name():
    from bltanalytics.metrics.rubric import load_rubric

    ids = [i.id for i in load_rubric().indicators]
    assert set(ids) == set(present.LABELS.indicators)
    assert present.indicator_labels(pd.Series(ids)).str.contains(" ").all()
