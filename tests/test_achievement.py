"""Disaggregated achievement: hand-computed figures on tiny districts, plus properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.metrics.achievement import ACHIEVEMENT_COLUMNS, DIMENSIONS, achievement
from bltanalytics.metrics.audit import audit

YEAR = "2025-26"
EVERYONE = Config(
    min_n=1, top_code=101.0, bottom_code=-1.0
)  # nothing suppressed or coded: raw counts


def assessments_for(rows: list[tuple], **defaults) -> pd.DataFrame:
    """(student_id, grade, proficient) rows, or full dicts; other keys from ``defaults``."""
    base = dict(school_id="0101", school_year=YEAR, term="Spring", subject="Math")
    base.update(defaults)
    records = [
        {**base, "student_id": sid, "grade": grade, "proficient": prof} for sid, grade, prof in rows
    ]
    frame = pd.DataFrame(records)
    frame["scale_score"] = 500.0
    frame["performance_level"] = pd.array([3] * len(frame), dtype="Int64")
    frame["proficient"] = frame["proficient"].astype("boolean")
    for column in ("student_id", "school_id", "school_year", "term", "subject", "grade"):
        frame[column] = frame[column].astype("str")
    return frame


def students_for(rows: list[dict], **defaults) -> pd.DataFrame:
    base = dict(school_id="0101", school_year=YEAR)
    base.update(defaults)
    frame = pd.DataFrame(
        [{**base, **r} for r in rows], columns=None if rows else ["student_id", *base]
    )
    return frame.astype({c: "str" for c in frame.columns})


@pytest.fixture
def school():
    """22 students tested in Spring Math at school 0101.

    grade 3: s01-s06 F (s01, s02 English learners), s07-s12 M; s01-s09 proficient (9/12).
    grade 4: s13-s17 F, s18-s21 M, s22 has no students row; s13-s17 proficient (5/10).
    Everyone in students is White; special_education is not in the export at all.
    """
    ids = [f"s{i:02d}" for i in range(1, 23)]
    grade = ["3"] * 12 + ["4"] * 10
    proficient = [i <= 9 or 13 <= i <= 17 for i in range(1, 23)]
    tests = assessments_for(list(zip(ids, grade, proficient, strict=True)))
    people = students_for(
        [
            {
                "student_id": ids[i - 1],
                "grade": grade[i - 1],
                "sex": "F" if i <= 6 or 13 <= i <= 17 else "M",
                "race_ethnicity": "White",
                "english_learner": "Yes" if i <= 2 else "No",
            }
            for i in range(1, 22)
        ]
    )
    return tests, people


def row(out: pd.DataFrame, grade: str, dimension: str, group: str, **keys) -> pd.Series:
    mask = (out["grade"] == grade) & (out["dimension"] == dimension) & (out["group"] == group)
    for key, value in keys.items():
        mask &= out[key] == value
    assert mask.sum() == 1, (grade, dimension, group, keys)
    return out[mask].iloc[0]


def groups(out: pd.DataFrame, grade: str, dimension: str) -> dict[str, str]:
    """group -> suppression reason ('' when published) for one family."""
    family = out[(out["grade"] == grade) & (out["dimension"] == dimension)]
    return dict(zip(family["group"], family["suppression_reason"].fillna(""), strict=True))


# ---------------------------------------------------------------- counts


def test_raw_counts_by_grade_and_for_all_grades(school):
    out = achievement(*school, EVERYONE)
    assert not out["suppressed"].any()
    expected = {
        ("3", "all", "All Students"): (12, 9),
        ("4", "all", "All Students"): (10, 5),
        ("All", "all", "All Students"): (22, 14),
        ("3", "sex", "F"): (6, 6),
        ("3", "sex", "M"): (6, 3),
        ("4", "sex", "F"): (5, 5),
        ("4", "sex", "M"): (4, 0),
        ("4", "sex", "Not reported"): (1, 0),
        ("All", "sex", "F"): (11, 11),
        ("All", "sex", "M"): (10, 3),
        ("All", "english_learner", "Yes"): (2, 2),
        ("All", "english_learner", "No"): (19, 12),
        ("All", "race_ethnicity", "White"): (21, 14),
        ("All", "special_education", "Not reported"): (22, 14),
    }
    for (grade, dimension, group), (n, n_prof) in expected.items():
        r = row(out, grade, dimension, group)
        assert (r["n_tested"], r["n_proficient"]) == (n, n_prof), (grade, dimension, group)
        assert r["pct_proficient"] == pytest.approx(100 * n_prof / n)


def test_every_dimension_partitions_all_students(school):
    out = achievement(*school, EVERYONE)
    totals = out.groupby(["grade", "dimension"])["n_tested"].sum()
    for grade, expected in (("3", 12), ("4", 10), ("All", 22)):
        for dimension in DIMENSIONS:
            assert totals[(grade, dimension)] == expected, (grade, dimension)


def test_grade_all_is_the_sum_over_grades(school):
    out = achievement(*school, EVERYONE)
    keys = ["dimension", "group"]
    by_grade = out[out["grade"] != "All"].groupby(keys)[["n_tested", "n_proficient"]].sum()
    all_grades = out[out["grade"] == "All"].set_index(keys)[["n_tested", "n_proficient"]]
    pd.testing.assert_frame_equal(
        by_grade.sort_index().astype("int64"), all_grades.sort_index().astype("int64")
    )


def test_student_missing_from_students_is_not_reported_in_every_dimension(school):
    out = achievement(*school, EVERYONE)
    for dimension in DIMENSIONS[1:]:
        r = row(out, "4", dimension, "Not reported")
        expected = (
            10
            if dimension
            in (
                "special_education",
                "economically_disadvantaged",
                "homeless",
                "migrant",
                "foster_care",
            )
            else 1
        )
        assert r["n_tested"] == expected, dimension


def test_groups_with_no_students_do_not_appear(school):
    out = achievement(*school, EVERYONE)
    assert set(out.loc[out["dimension"] == "sex", "group"]) == {"F", "M", "Not reported"}
    assert set(out.loc[out["dimension"] == "english_learner", "group"]) == {
        "Yes",
        "No",
        "Not reported",
    }
    assert not (
        (out["grade"] == "3") & (out["group"] == "Not reported") & (out["dimension"] == "sex")
    ).any()
    assert (out["n_tested"] > 0).all()


# ---------------------------------------------------------------- suppression, display, gap


def test_suppression_by_family(school):
    out = achievement(*school)  # min_n = 10
    # grade 3: F 6 and M 6 are both small: no complementary needed among them.
    assert groups(out, "3", "sex") == {"F": "min_n", "M": "min_n"}
    # grade 3: EL Yes 2 and No 10, nobody else: No >= 10 and Yes + No = 12 would pin Yes to
    # 1..2, so the grade's All Students goes too (no smaller cell protects). Before the linked
    # rule only No was hidden.
    assert groups(out, "3", "english_learner") == {"Yes": "min_n", "No": "complementary"}
    assert groups(out, "3", "all") == {"All Students": "complementary"}
    # grade 4: 10 tested is exactly min_n: published.
    assert groups(out, "4", "all") == {"All Students": ""}
    # Two small EL groups (Yes 2, Not reported 1) over all grades: their partner No goes as
    # well, since grade 3's All Students is hidden and the grades must not give it away.
    assert groups(out, "All", "english_learner")["Yes"] == "min_n"
    result = audit(out, Config())
    assert result.n_below_protection == 0 and result.n_attribute_disclosures == 0


def test_suppressed_rows_are_blank(school):
    out = achievement(*school)
    hidden = out[out["suppressed"]]
    assert len(hidden) > 0
    for column in ("n_tested", "n_proficient", "pct_proficient", "gap_pp"):
        assert hidden[column].isna().all(), column
    assert (hidden["display"] == "*").all()
    shown = out[~out["suppressed"]]
    assert shown[["n_tested", "n_proficient", "pct_proficient", "gap_pp"]].notna().all().all()
    assert shown["suppression_reason"].isna().all()


def test_display_and_gap(school):
    out = achievement(*school, Config(min_n=1))  # nothing suppressed; coding applies
    all_students = row(out, "All", "all", "All Students")
    assert all_students["pct_proficient"] == pytest.approx(100 * 14 / 22)
    assert all_students["display"] == "64%"
    assert all_students["gap_pp"] == 0
    female = row(out, "All", "sex", "F")  # 11 of 11: coded, so no exact count or gap
    assert female["display"] == "≥95%"
    assert female["n_tested"] == 11
    assert pd.isna(female["n_proficient"]) and np.isnan(female["pct_proficient"])
    assert np.isnan(female["gap_pp"])
    not_el = row(out, "All", "english_learner", "No")  # 12 of 19
    assert not_el["display"] == "63%"
    assert not_el["gap_pp"] == pytest.approx(100 * 12 / 19 - 100 * 14 / 22)  # below: negative
    assert not_el["gap_pp"] < 0
    grade4 = row(out, "4", "all", "All Students")
    assert grade4["display"] == "50%"


def test_gap_is_empty_where_all_students_is_coded():
    tests = assessments_for([(f"c{i:02d}", "3", i < 20) for i in range(20)])
    people = students_for(
        [{"student_id": f"c{i:02d}", "sex": "F" if i < 10 else "M"} for i in range(20)]
    )
    out = achievement(tests, people, Config(min_n=1))
    assert row(out, "3", "all", "All Students")["display"] == "≥95%"
    assert out.loc[out["grade"] == "3", "gap_pp"].isna().all()


def test_all_students_suppressed_hides_everything_in_its_cell():
    tests = assessments_for([(f"t{i}", "5", i < 3) for i in range(5)], school_id="0202")
    people = students_for([{"student_id": f"t{i}", "sex": "F"} for i in range(5)], school_id="0202")
    out = achievement(tests, people)
    assert out["suppressed"].all()
    assert out["gap_pp"].isna().all()
    assert groups(out, "5", "all") == {"All Students": "min_n"}
    assert groups(out, "5", "sex") == {"F": "min_n"}  # no "others": just min_n


def test_min_n_comes_from_config(school):
    out = achievement(*school, Config(min_n=5))
    # F 6 and M 6 pass min_n 5, but they are hidden to protect a smaller group (EL Yes 2)
    assert groups(out, "3", "sex") == {"F": "complementary", "M": "complementary"}
    assert groups(out, "3", "english_learner")["Yes"] == "min_n"
    out = achievement(*school, Config(min_n=13))
    assert groups(out, "3", "all") == {"All Students": "min_n"}


# ---------------------------------------------------------------- joining students


def test_student_with_several_schools_in_a_year():
    tests = assessments_for([("m1", "6", True)], school_id="0303")
    tests = pd.concat(
        [tests, assessments_for([("m1", "6", False)], school_id="0404", subject="ELA")],
        ignore_index=True,
    )
    people = students_for(
        [
            {"student_id": "m1", "school_id": "0303", "sex": "M", "homeless": "Yes"},
            {"student_id": "m1", "school_id": "0101", "sex": "F", "homeless": "No"},
            {"student_id": "m1", "school_id": "0202", "sex": "X", "homeless": "No"},
        ]
    )
    out = achievement(tests, people, EVERYONE)
    # Tested at 0303, where m1 has a row: that row.
    assert row(out, "6", "sex", "M", school_id="0303")["n_tested"] == 1
    assert row(out, "6", "homeless", "Yes", school_id="0303")["n_tested"] == 1
    # Tested at 0404, where m1 has no row: the row with the lowest school_id (0101).
    assert row(out, "6", "sex", "F", school_id="0404")["n_tested"] == 1
    assert set(out["group"]) >= {"M", "F"} and "X" not in set(out["group"])


def test_demographics_come_from_the_same_school_year():
    tests = assessments_for([("y1", "3", True)])
    people = students_for([{"student_id": "y1", "sex": "F"}], school_year="2024-25")
    out = achievement(tests, people, EVERYONE)
    assert row(out, "3", "sex", "Not reported")["n_tested"] == 1
    assert "F" not in set(out["group"])


def test_missing_values_and_unknown_values_in_students():
    tests = assessments_for([("a", "3", True), ("b", "3", False), ("c", "3", True)])
    people = students_for(
        [{"student_id": "a", "sex": "F"}, {"student_id": "b"}, {"student_id": "c", "sex": "Q"}]
    )
    people.loc[1, "sex"] = np.nan
    out = achievement(tests, people, EVERYONE)
    sex = out[(out["grade"] == "3") & (out["dimension"] == "sex")]
    # A value the vocabulary does not know is kept as its own group, before Not reported.
    assert sex["group"].tolist() == ["F", "Q", "Not reported"]
    assert sex["n_tested"].tolist() == [1, 1, 1]


# ---------------------------------------------------------------- shape


def test_columns_types_and_order():
    tests = pd.concat(
        [
            assessments_for([("a", g, True)], term=t, subject=s)
            for g in ("10", "K", "1")
            for t in ("Spring", "Fall", "Winter")
            for s in ("Math", "ELA")
        ],
        ignore_index=True,
    )
    tests["school_id"] = "0007"
    tests["school_id"] = tests["school_id"].astype("str")
    out = achievement(tests, students_for([]), EVERYONE)
    assert list(out.columns) == ACHIEVEMENT_COLUMNS
    assert out["school_id"].unique().tolist() == ["0007"]
    for column in ("school_id", "school_year", "term", "subject", "grade", "dimension", "group"):
        assert pd.api.types.is_string_dtype(out[column]), column
    assert str(out["n_tested"].dtype) == "Int64" and out["suppressed"].dtype == bool
    cells = out[["term", "subject", "grade"]].drop_duplicates()
    assert cells["term"].unique().tolist() == ["Fall", "Winter", "Spring"]
    first = cells[cells["term"] == "Fall"]
    assert first["subject"].unique().tolist() == ["ELA", "Math"]
    assert first[first["subject"] == "ELA"]["grade"].tolist() == ["K", "1", "10", "All"]
    cell = out[(out["term"] == "Fall") & (out["subject"] == "ELA") & (out["grade"] == "K")]
    assert cell["dimension"].tolist() == list(DIMENSIONS)
    assert out.index.equals(pd.RangeIndex(len(out)))


def test_inputs_are_not_mutated(school):
    tests, people = school
    before = tests.copy(deep=True), people.copy(deep=True)
    achievement(tests, people)
    pd.testing.assert_frame_equal(tests, before[0])
    pd.testing.assert_frame_equal(people, before[1])


def test_no_assessments_gives_an_empty_table(school):
    out = achievement(school[0].iloc[:0], school[1])
    assert list(out.columns) == ACHIEVEMENT_COLUMNS and len(out) == 0


def test_missing_column_is_named(school):
    with pytest.raises(BltError, match="assessments is missing the column.*subject"):
        achievement(school[0].drop(columns="subject"), school[1])
    with pytest.raises(BltError, match="students is missing the column.*school_year"):
        achievement(school[0], school[1].drop(columns="school_year"))


def test_unscored_rows_are_refused(school):
    tests = school[0].copy()
    tests.loc[0, "proficient"] = pd.NA
    with pytest.raises(BltError, match="proficient has 1 missing"):
        achievement(tests, school[1])


# ---------------------------------------------------------------- properties

FLAG = st.sampled_from(["Yes", "No", "Not reported"])


@st.composite
def districts(draw):
    pool = [f"{i:03d}" for i in range(draw(st.integers(1, 40)))]
    schools = ["01", "02", "03"]
    years = ["2024-25", "2025-26"]
    people = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "student_id": st.sampled_from(pool),
                    "school_id": st.sampled_from(schools),
                    "school_year": st.sampled_from(years),
                    "grade": st.just("3"),
                    "sex": st.sampled_from(["F", "M", "X", "Not reported"]),
                    "race_ethnicity": st.sampled_from(["Asian", "White", "Not reported"]),
                    **{d: FLAG for d in DIMENSIONS[3:]},
                }
            ),
            max_size=40,
        )
    )
    tests = draw(
        st.lists(
            st.tuples(
                st.sampled_from(pool + ["zzz"]),
                st.sampled_from(schools),
                st.sampled_from(years),
                st.sampled_from(["Fall", "Spring"]),
                st.sampled_from(["ELA", "Math"]),
                st.sampled_from(["K", "3", "4"]),
                st.booleans(),
            ),
            min_size=1,
            max_size=150,
        )
    )
    columns = ["student_id", "school_id", "school_year", "term", "subject", "grade", "proficient"]
    a = pd.DataFrame(tests, columns=columns).astype({c: "str" for c in columns[:-1]})
    a["proficient"] = a["proficient"].astype("boolean")
    s = pd.DataFrame(
        people,
        columns=[
            "student_id",
            "school_id",
            "school_year",
            "grade",
            "sex",
            "race_ethnicity",
            *DIMENSIONS[3:],
        ],
    )
    return a, s.astype("str")


def reference(a: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    """The same counts the slow, obvious way: merges and one groupby per dimension."""
    s = s.reset_index(drop=True).reset_index(names="order")
    same_school = s.sort_values("order").drop_duplicates(["student_id", "school_year", "school_id"])
    lowest = s.sort_values(["school_id", "order"]).drop_duplicates(["student_id", "school_year"])
    a = a.reset_index(drop=True)
    demo = list(DIMENSIONS[1:])
    joined = a.merge(
        same_school, on=["student_id", "school_year", "school_id"], how="left", suffixes=("", "_s")
    )
    fallback = a.merge(
        lowest.drop(columns="school_id"),
        on=["student_id", "school_year"],
        how="left",
        suffixes=("", "_s"),
    )
    matched = joined["order"].notna()
    for d in demo:
        joined[d] = joined[d].where(matched, fallback[d]).fillna("Not reported")
    joined["all"] = "All Students"
    keys = ["school_id", "school_year", "term", "subject"]
    parts = []
    for grade_keys in (keys + ["grade"], keys):
        for d in DIMENSIONS:
            g = joined.groupby(grade_keys + [d])["proficient"].agg(["size", "sum"]).reset_index()
            g = g.rename(columns={d: "group", "size": "n_tested", "sum": "n_proficient"})
            g["dimension"] = d
            if "grade" not in grade_keys:
                g["grade"] = "All"
            parts.append(g)
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"n_tested": "int64", "n_proficient": "int64"})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(districts())
def test_counts_match_a_plain_pandas_reference(district):
    a, s = district
    out = achievement(a, s, EVERYONE)
    keys = ["school_id", "school_year", "term", "subject", "grade", "dimension", "group"]
    got = out[keys + ["n_tested", "n_proficient"]].astype(
        {"n_tested": "int64", "n_proficient": "int64"}
    )
    want = reference(a, s)[keys + ["n_tested", "n_proficient"]]
    got = got.astype({k: object for k in keys}).sort_values(keys).reset_index(drop=True)
    want = want.astype({k: object for k in keys}).sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(districts(), st.integers(8, 12))
def test_privacy_properties(district, min_n):
    # min_n >= 8: a hidden grade with k groups present in a dimension has k..min_n-1 students
    # (rows exist only for groups with students), which no suppression can widen; with up to
    # 4 groups per dimension here, min_n - 1 - 4 >= protection (3) needs min_n >= 8
    a, s = district
    raw = achievement(a, s, EVERYONE)
    out = achievement(a, s, Config(min_n=min_n))
    assert len(raw) == len(out)
    published = ~out["suppressed"]
    assert (out.loc[published, "n_tested"] >= min_n).all()
    assert (raw.loc[out["suppression_reason"] == "min_n", "n_tested"] < min_n).all()

    cell = ["school_id", "school_year", "term", "subject", "grade"]
    all_rows = out[out["dimension"] == "all"].set_index(cell)
    for key, family in out[out["dimension"] != "all"].groupby(cell + ["dimension"]):
        all_row = all_rows.loc[tuple(key[:-1])]
        hidden = family["suppressed"]
        if all_row["suppressed"]:
            if all_row["suppression_reason"] == "min_n":  # no group can be larger
                assert hidden.all()
            continue
        # All Students minus the published groups = the sum of the hidden ones: never one.
        assert hidden.sum() != 1, key
        recovered = all_row["n_tested"] - family["n_tested"].sum()
        assert recovered == raw.loc[family.index[hidden], "n_tested"].sum()

    # the attacker's programme (the audit) narrows no hidden count below protection and forces
    # no proficient count to 0 or to n_tested
    result = audit(out, Config(min_n=min_n))
    assert result.n_below_protection == 0, result.summary()
    assert result.n_attribute_disclosures == 0, result.summary()
    assert result.coded_exact == 0

    # every published figure equals a plain-pandas recount
    keys = cell + ["dimension", "group"]
    want = reference(a, s).astype({k: object for k in keys}).set_index(keys)
    shown = out[published].astype({k: object for k in keys}).set_index(keys)
    assert (shown["n_tested"] == want.loc[shown.index, "n_tested"]).all()
    exact = shown["n_proficient"].notna()
    assert (shown.loc[exact, "n_proficient"] == want.loc[shown.index[exact], "n_proficient"]).all()
    pct = (
        100
        * want.loc[shown.index[exact], "n_proficient"]
        / want.loc[shown.index[exact], "n_tested"]
    )
    assert np.allclose(shown.loc[exact, "pct_proficient"].to_numpy(float), pct.to_numpy(float))

    # gap_pp: published exactly when the group and its All Students are, and it is the difference.
    all_pct = out.merge(
        out.loc[out["dimension"] == "all", cell + ["pct_proficient"]],
        on=cell,
        suffixes=("", "_all"),
    )
    has_gap = all_pct["gap_pp"].notna()
    assert (
        has_gap == (all_pct["pct_proficient"].notna() & all_pct["pct_proficient_all"].notna())
    ).all()
    assert np.allclose(
        all_pct.loc[has_gap, "gap_pp"],
        all_pct.loc[has_gap, "pct_proficient"] - all_pct.loc[has_gap, "pct_proficient_all"],
    )


def test_hash_paths_give_the_same_table(school, monkeypatch):
    """Very large key spaces are compacted by hashing instead of arrays: same answer."""
    import bltanalytics.metrics.codes as codes

    tests = pd.concat(
        [school[0], school[0].assign(term="Fall"), school[0].assign(school_id="0001")],
        ignore_index=True,
    )
    expected = achievement(tests, school[1])
    monkeypatch.setattr(codes, "DENSE_LIMIT", 1)
    monkeypatch.setattr(codes, "FAMILY_DENSE_LIMIT", 1)
    pd.testing.assert_frame_equal(achievement(tests, school[1]), expected)
