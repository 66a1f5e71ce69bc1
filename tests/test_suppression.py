"""Disclosure avoidance: every rule of contract section 2, on tiny hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.metrics.audit import audit
from bltanalytics.metrics.suppression import (
    FAMILY,
    SUPPRESSED_MARK,
    display_labels,
    shown_pct,
    suppress,
)


def family(sizes: dict[str, int], proficient: dict[str, int] | None = None, **keys) -> pd.DataFrame:
    """One family of groups (group name -> n_tested); n_proficient defaults to half."""
    proficient = proficient or {g: n // 2 for g, n in sizes.items()}
    base = dict(
        school_id="0101",
        school_year="2025-26",
        term="Spring",
        subject="Math",
        grade="3",
        dimension="race_ethnicity",
    )
    base.update(keys)
    return pd.DataFrame(
        {
            **{k: [v] * len(sizes) for k, v in base.items()},
            "group": list(sizes),
            "n_tested": list(sizes.values()),
            "n_proficient": [proficient[g] for g in sizes],
        }
    )


def reasons(out: pd.DataFrame) -> dict[str, str]:
    """group -> reason ('' when published)."""
    return dict(zip(out["group"], out["suppression_reason"].fillna(""), strict=True))


# ---------------------------------------------------------------- min_n and complementary


def test_one_group_under_min_n_takes_the_smallest_other_with_it():
    out = suppress(family({"Asian": 3, "Black": 20, "Hispanic": 15, "White": 40}))
    assert reasons(out) == {
        "Asian": "min_n",
        "Black": "",
        "Hispanic": "complementary",
        "White": "",
    }
    assert out["suppressed"].tolist() == [True, False, True, False]


def test_two_groups_under_min_n_need_no_complementary():
    out = suppress(family({"Asian": 3, "Black": 4, "Hispanic": 15, "White": 40}))
    assert reasons(out) == {"Asian": "min_n", "Black": "min_n", "Hispanic": "", "White": ""}


def test_binary_dimension_suppresses_both_groups():
    out = suppress(family({"Yes": 4, "No": 50}, dimension="english_learner"))
    assert reasons(out) == {"Yes": "min_n", "No": "complementary"}
    assert out["display"].tolist() == [SUPPRESSED_MARK, SUPPRESSED_MARK]


def test_only_other_group_is_not_reported():
    out = suppress(family({"F": 3, "Not reported": 30}, dimension="sex"))
    assert reasons(out) == {"F": "min_n", "Not reported": "complementary"}


def test_not_reported_is_an_ordinary_candidate_for_complementary():
    out = suppress(family({"Yes": 2, "No": 60, "Not reported": 13}, dimension="homeless"))
    assert reasons(out) == {"Yes": "min_n", "No": "", "Not reported": "complementary"}


def test_a_partner_that_pins_the_small_group_takes_another_with_it():
    # Yes + Not reported = 13 and Not reported >= 10 (complementary): Yes would be 1..3,
    # narrower than protection (3); so No goes too. (Before the linked rule: No stayed.)
    out = suppress(family({"Yes": 2, "No": 60, "Not reported": 11}, dimension="homeless"))
    assert reasons(out) == {"Yes": "min_n", "No": "complementary", "Not reported": "complementary"}


def test_ties_are_broken_by_group_name_ascending():
    out = suppress(family({"Yes": 12, "Not reported": 12, "No": 12, "X": 5}, dimension="migrant"))
    # "No" < "Not reported" < "Yes" in plain string order.
    assert reasons(out) == {"Yes": "", "Not reported": "", "No": "complementary", "X": "min_n"}


def test_smaller_group_wins_over_name_order():
    out = suppress(family({"A": 30, "B": 13, "C": 2}))
    assert reasons(out) == {"A": "", "B": "complementary", "C": "min_n"}


def test_min_n_boundary_is_fewer_than_min_n():
    out = suppress(family({"A": 10, "B": 9, "C": 10, "D": 30}))
    # 9 < 10 is suppressed, 10 is not; C ties A at 10 and loses on name: A is suppressed.
    assert reasons(out) == {"A": "complementary", "B": "min_n", "C": "", "D": ""}


def test_all_students_under_min_n_is_just_min_n():
    out = suppress(family({"All Students": 8}, dimension="all"))
    assert reasons(out) == {"All Students": "min_n"}
    out = suppress(family({"All Students": 10}, dimension="all"))
    assert reasons(out) == {"All Students": ""}


def test_every_group_under_min_n():
    out = suppress(family({"F": 3, "M": 4}, dimension="sex"))
    assert reasons(out) == {"F": "min_n", "M": "min_n"}


def test_families_are_independent_and_use_every_family_column():
    frames = [family({"F": 3, "M": 30, "X": 12}, dimension="sex", grade=g) for g in ("3", "4")]
    frames.append(family({"F": 30, "M": 30}, dimension="sex", grade="5"))
    frames.append(family({"F": 3, "M": 30, "X": 12}, dimension="sex", term="Fall"))
    out = suppress(pd.concat(frames, ignore_index=True))
    assert out["suppression_reason"].fillna("").tolist() == [
        *["min_n", "", "complementary"] * 2,
        "",
        "",
        "min_n",
        "",
        "complementary",
    ]


def test_whole_table_is_one_family_when_family_is_empty():
    table = pd.DataFrame(
        {"group": ["a", "b", "c"], "n_tested": [1, 20, 30], "n_proficient": [1, 10, 15]}
    )
    assert reasons(suppress(table, family=[])) == {"a": "min_n", "b": "complementary", "c": ""}


def test_min_n_comes_from_the_argument():
    out = suppress(family({"A": 6, "B": 20, "C": 40}), min_n=5)
    assert not out["suppressed"].any()
    out = suppress(family({"A": 6, "B": 20, "C": 40}), min_n=21)
    assert reasons(out) == {"A": "min_n", "B": "min_n", "C": ""}


# ---------------------------------------------------------------- blanking and display


def test_suppressed_rows_are_blank_and_published_rows_keep_their_figures():
    table = family(
        {"Yes": 4, "No": 20, "Not reported": 40}, {"Yes": 1, "No": 5, "Not reported": 30}
    )
    table["gap_pp"] = [1.0, 2.0, 3.0]
    table["mean_score"] = [400.0, 410.0, 420.0]
    out = suppress(table, measures=["mean_score"])
    assert out["n_tested"].isna().tolist() == [True, True, False]
    assert out["n_proficient"].isna().tolist() == [True, True, False]
    assert out["pct_proficient"].isna().tolist() == [True, True, False]
    assert out["gap_pp"].isna().tolist() == [True, True, False]
    assert out["mean_score"].isna().tolist() == [True, True, False]
    assert out["n_tested"].iloc[2] == 40
    assert out["n_proficient"].iloc[2] == 30
    assert out["pct_proficient"].iloc[2] == 75.0
    assert out["display"].tolist() == ["*", "*", "75%"]
    assert str(out["n_tested"].dtype) == "Int64"
    assert out["suppressed"].dtype == bool


def test_suppressed_counts_do_not_linger_under_the_mask():
    out = suppress(family({"Yes": 4, "No": 20}))
    assert out["n_tested"].array._data.tolist() == [0, 0]
    assert out["n_proficient"].array._data.tolist() == [0, 0]


@pytest.mark.parametrize(
    ("n_tested", "n_proficient", "pct", "shown"),
    [
        (20, 19, 95.0, "≥95%"),  # exactly 95
        (20, 20, 100.0, "≥95%"),
        (1000, 949, 94.9, "94%"),  # just under 95: a whole number, never the top code
        (1000, 945, 94.5, "94%"),  # would round to 95: kept below the code
        (1000, 944, 94.4, "94%"),
        (16, 10, 62.5, "63%"),  # halves round up
        (1000, 625, 62.5, "63%"),
        (1000, 624, 62.4, "62%"),
        (1000, 51, 5.1, "6%"),  # just over 5: kept above the code
        (20, 1, 5.0, "≤5%"),  # exactly 5
        (20, 0, 0.0, "≤5%"),
        (1000, 60, 6.0, "6%"),
    ],
)
def test_display_boundaries(n_tested, n_proficient, pct, shown):
    out = suppress(family({"A": n_tested}, {"A": n_proficient}, dimension="all"))
    assert out["display"].iloc[0] == shown
    if shown in ("≥95%", "≤5%"):  # coded: the exact count and percentage are not published
        assert pd.isna(out["n_proficient"].iloc[0]) and np.isnan(out["pct_proficient"].iloc[0])
        assert out["n_tested"].iloc[0] == n_tested
    else:
        assert out["pct_proficient"].iloc[0] == pytest.approx(pct)


def test_display_codes_come_from_the_arguments():
    out = suppress(family({"A": 100, "B": 100}, {"A": 91, "B": 9}), top_code=90, bottom_code=10)
    assert out["display"].tolist() == ["≥90%", "≤10%"]
    shown = display_labels(
        np.array([89.6, 10.2]), np.array([False, False]), top_code=90, bottom_code=10
    )
    assert shown.tolist() == ["89%", "11%"]


def test_pct_is_unrounded():
    out = suppress(family({"A": 30}, {"A": 20}, dimension="all"))
    assert out["pct_proficient"].iloc[0] == 200 / 3


# ---------------------------------------------------------------- purity and errors


def test_input_is_not_mutated_and_index_is_kept():
    table = family({"Yes": 4, "No": 20, "Not reported": 40})
    table["gap_pp"] = [1.0, 2.0, 3.0]
    table.index = [10, 20, 30]
    before = table.copy(deep=True)
    out = suppress(table)
    pd.testing.assert_frame_equal(table, before)
    assert out.index.tolist() == [10, 20, 30]
    assert out["display"].tolist() == ["*", "*", "50%"]
    assert out["suppression_reason"].fillna("").tolist() == ["min_n", "complementary", ""]


def test_works_on_categorical_columns_like_strings():
    table = family({"Yes": 12, "No": 12, "Not reported": 3}, dimension="migrant")
    as_categories = table.astype({c: "category" for c in [*FAMILY, "group"]})
    # Category order differs from name order: ties must still go by name.
    as_categories["group"] = as_categories["group"].cat.reorder_categories(
        ["Yes", "Not reported", "No"]
    )
    out = suppress(as_categories)
    assert reasons(out) == {"Yes": "", "No": "complementary", "Not reported": "min_n"}


def test_empty_table():
    out = suppress(family({}))
    assert len(out) == 0
    assert {"pct_proficient", "suppressed", "suppression_reason", "display"} <= set(out.columns)


def test_missing_column_is_named():
    with pytest.raises(BltError, match="n_proficient"):
        suppress(family({"A": 3}).drop(columns="n_proficient"))


def test_more_proficient_than_tested_is_an_error():
    with pytest.raises(BltError, match="between 0 and n_tested"):
        suppress(family({"A": 3}, {"A": 4}))


def test_missing_count_is_an_error():
    table = family({"A": 3, "B": 4})
    table["n_tested"] = pd.array([3, None], dtype="Int64")
    with pytest.raises(BltError, match="n_tested has missing"):
        suppress(table)


# ---------------------------------------------------------------- the linked structure


def block(cells: dict[tuple[str, str, str], tuple[int, int]]) -> pd.DataFrame:
    """One school, year, term and subject: (grade, dimension, group) -> (n_tested,
    n_proficient) for the groups of each grade; All Students and the grade-All rows are
    summed here, as achievement() does."""
    rows = pd.DataFrame(
        [(g, d, k, n, p) for (g, d, k), (n, p) in cells.items()],
        columns=["grade", "dimension", "group", "n_tested", "n_proficient"],
    )
    first = rows["dimension"].iloc[0]
    totals = (
        rows[rows["dimension"] == first]
        .groupby("grade", sort=False)[["n_tested", "n_proficient"]]
        .sum()
        .reset_index()
        .assign(dimension="all", group="All Students")
    )
    rows = pd.concat([totals, rows], ignore_index=True)
    over = rows.groupby(["dimension", "group"], sort=False)[["n_tested", "n_proficient"]].sum()
    rows = pd.concat([rows, over.reset_index().assign(grade="All")], ignore_index=True)
    keys = dict(school_id="0101", school_year="2025-26", term="Spring", subject="Math")
    return rows.assign(**keys)


def hidden(out: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(grade, group) -> reason of every suppressed row."""
    rows = out[out["suppressed"]]
    return dict(
        zip(zip(rows["grade"], rows["group"], strict=True), rows["suppression_reason"], strict=True)
    )


def protected(out: pd.DataFrame) -> bool:
    result = audit(out, Config())
    return result.n_below_protection == 0 and result.n_attribute_disclosures == 0


def test_a_group_hidden_in_one_grade_is_not_given_away_by_the_grade_all_row():
    # X: 2 in grade 3, 12 in grade 4, 14 over all grades. Family by family only X3 and its
    # partner would go, and X3 = 14 - 12. The grade line needs a second hidden cell.
    out = suppress(
        block(
            {
                ("3", "sex", "F"): (30, 15),
                ("3", "sex", "M"): (31, 15),
                ("3", "sex", "X"): (2, 1),
                ("4", "sex", "F"): (25, 12),
                ("4", "sex", "M"): (26, 13),
                ("4", "sex", "X"): (12, 6),
            }
        )
    )
    got = hidden(out)
    assert got[("3", "X")] == "min_n"
    assert ("4", "X") in got or ("All", "X") in got  # the grade line holds two hidden cells
    assert protected(out)


def test_a_min_n_group_is_not_pinned_by_its_complementary_partner():
    # Yes 2, No 10 and nobody else: No >= 10 and Yes + No = 12 pin Yes to 1..2. With no
    # other group in the family, the grade's All Students is hidden too (nothing smaller).
    out = suppress(
        block(
            {
                ("3", "english_learner", "Yes"): (2, 1),
                ("3", "english_learner", "No"): (10, 5),
                ("4", "english_learner", "Yes"): (3, 1),
                ("4", "english_learner", "No"): (40, 20),
            }
        )
    )
    got = hidden(out)
    assert got[("3", "Yes")] == "min_n"
    assert got[("3", "All Students")] == "complementary"
    assert protected(out)


def test_every_hidden_student_failing_is_not_given_away():
    # Yes (3, none proficient) and Not reported (12, none proficient): All Students minus No
    # would show that no hidden student was proficient. Hiding No too leaves that open.
    cells = {
        ("3", "homeless", "Yes"): (3, 0),
        ("3", "homeless", "No"): (40, 20),
        ("3", "homeless", "Not reported"): (12, 0),
    }
    out = suppress(block(cells))
    got = hidden(out)
    assert got[("3", "Yes")] == "min_n"
    assert got[("3", "No")] == "complementary"
    assert protected(out)


def test_all_students_is_not_hidden_while_a_smaller_group_protects():
    cells = {
        ("3", "sex", "F"): (50, 25),
        ("3", "sex", "M"): (48, 20),
        ("3", "sex", "X"): (1, 1),
        ("3", "sex", "Not reported"): (14, 6),
        ("4", "sex", "F"): (45, 25),
        ("4", "sex", "M"): (44, 20),
        ("4", "sex", "X"): (1, 0),
        ("4", "sex", "Not reported"): (13, 6),
    }
    out = suppress(block(cells))
    got = hidden(out)
    assert not any(group == "All Students" for _, group in got)
    # the smallest partners go: Not reported, never F or M
    assert {group for _, group in got} == {"X", "Not reported"}
    assert protected(out)


def test_coded_groups_publish_neither_their_count_nor_percentage_proficient():
    table = family({"F": 40, "M": 40}, {"F": 39, "M": 1}, dimension="sex")
    table["gap_pp"] = [1.0, 2.0]
    out = suppress(table)
    assert out["display"].tolist() == ["≥95%", "≤5%"]
    assert out["n_proficient"].isna().all() and out["pct_proficient"].isna().all()
    assert out["gap_pp"].isna().all()
    assert out["n_tested"].tolist() == [40, 40]
    assert not out["suppressed"].any()
    # what a ranking may use: the bound the display gives
    assert shown_pct(out["display"], out["pct_proficient"]).tolist() == [95.0, 5.0]


def test_exact_check_and_protection_are_arguments():
    cells = {
        ("3", "sex", "F"): (30, 15),
        ("3", "sex", "M"): (31, 15),
        ("3", "sex", "X"): (2, 1),
        ("4", "sex", "F"): (25, 12),
        ("4", "sex", "M"): (26, 13),
        ("4", "sex", "X"): (12, 6),
    }
    for check in ("none", "suspicious", "all"):
        assert protected(suppress(block(cells), exact_check=check))
    with pytest.raises(BltError, match="exact_check"):
        suppress(block(cells), exact_check="maybe")
    with pytest.raises(BltError, match="protection"):
        suppress(block(cells), protection=0)


# ---------------------------------------------------------------- properties

MIN_N = 10
GROUP_NAMES = ["A", "B", "C", "D", "Not reported"]


@st.composite
def partitions(draw):
    """Families of groups that partition an All Students row, like one dimension."""
    frames = []
    for i in range(draw(st.integers(1, 6))):
        names = draw(st.lists(st.sampled_from(GROUP_NAMES), min_size=1, max_size=5, unique=True))
        sizes = {g: draw(st.integers(1, 3 * MIN_N)) for g in names}
        prof = {g: draw(st.integers(0, n)) for g, n in sizes.items()}
        frames.append(family(sizes, prof, grade=str(i)))
        total = sum(sizes.values())
        frames.append(
            family(
                {"All Students": total},
                {"All Students": sum(prof.values())},
                grade=str(i),
                dimension="all",
            )
        )
    return pd.concat(frames, ignore_index=True)


@settings(max_examples=50, deadline=None)
@given(partitions())
def test_no_published_group_is_small_and_no_suppressed_figure_can_be_worked_out(table):
    out = suppress(table, min_n=MIN_N)
    published = ~out["suppressed"]
    assert (table.loc[published, "n_tested"] >= MIN_N).all()
    assert (out.loc[published, "n_tested"] == table.loc[published, "n_tested"]).all()
    assert (table.loc[out["suppression_reason"] == "min_n", "n_tested"] < MIN_N).all()
    assert (table.loc[out["suppression_reason"] == "complementary", "n_tested"] >= MIN_N).all()
    # the attacker's programme (the audit) can narrow no hidden count below protection and
    # force no proficient count to 0 or to n_tested
    result = audit(out, Config(min_n=MIN_N))
    assert result.n_below_protection == 0, result.summary()
    assert result.n_attribute_disclosures == 0, result.summary()


@settings(max_examples=50, deadline=None)
@given(partitions())
def test_published_percentages_and_display_agree(table):
    out = suppress(table, min_n=MIN_N)
    published = out[~out["suppressed"] & out["pct_proficient"].notna()]
    expected = 100 * table.loc[published.index, "n_proficient"] / published["n_tested"]
    assert np.allclose(published["pct_proficient"].to_numpy(float), expected.to_numpy(float))
    for pct, shown in zip(published["pct_proficient"], published["display"], strict=True):
        if pct >= 95:
            assert shown == "≥95%"
        elif pct <= 5:
            assert shown == "≤5%"
        else:
            assert shown.endswith("%") and 5 < int(shown[:-1]) < 95
            assert abs(int(shown[:-1]) - pct) <= 1
    assert (out.loc[out["suppressed"], "display"] == SUPPRESSED_MARK).all()


def test_rows_of_grade_all_only_are_one_family_each():
    out = suppress(family({"A": 3, "B": 20, "C": 30}, grade="All"))
    assert reasons(out) == {"A": "min_n", "B": "complementary", "C": ""}


def test_forced_rows_stay_hidden_and_are_protected():
    from bltanalytics.metrics.audit import audit

    rows = [("all", "All Students", 40, 20), ("sex", "F", 20, 10), ("sex", "M", 15, 6),
            ("sex", "X", 5, 4)]  # fmt: skip
    t = pd.DataFrame(
        [("01", "2025-26", "Spring", "Math", g, *r) for g in ("3", "All") for r in rows],
        columns=["school_id", "school_year", "term", "subject", "grade", "dimension", "group",
                 "n_tested", "n_proficient"],
    )  # fmt: skip
    plain = suppress(t)
    forced = (t["group"] == "F").to_numpy()
    out = suppress(t, forced=forced)
    assert out.loc[forced, "suppressed"].all() and not plain.loc[forced, "suppressed"].any()
    assert (out.loc[forced, "suppression_reason"] == "complementary").all()
    # F now protects X (the smallest choice was M): M is published
    assert not out.loc[(t["group"] == "M").to_numpy(), "suppressed"].any()
    assert audit(out).protected


def test_a_table_of_all_students_rows_alone_is_protected_by_the_linked_rule():
    """No dimension but All Students: the grades' rows and the grade All row still form a line
    (the exact check's moves of totals have no dimension table to carry them)."""
    rows = [(g, "all", "All Students", 2, 1) for g in "3456789"]
    rows.append(("All", "all", "All Students", 14, 7))
    table = pd.DataFrame(rows, columns=["grade", "dimension", "group", "n_tested", "n_proficient"])
    table = table.assign(school_id="01", school_year="2025-26", term="Spring", subject="Math")
    out = suppress(table)
    assert out["suppressed"].tolist() == [True] * 7 + [False]
    assert audit(out).protected
