"""Normalization rules, drop reasons, duplicates, cut scores and row accounting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bltanalytics.errors import DistrictFolderError
from bltanalytics.load.cleaning import References, clean_table
from bltanalytics.load.contract import TABLES
from bltanalytics.load.levels import place_levels
from bltanalytics.load.mapping import Mapping
from bltanalytics.load.normalize import (
    BAD,
    BLANK,
    OK,
    RANGE,
    grade_text,
    normalize_column,
    school_year_of,
    school_year_text,
    survey_window_parts,
)
from bltanalytics.load.quarantine import WITHHELD


def raw(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame({k: pd.Series(v, dtype="str") for k, v in columns.items()})
    frame.insert(0, "source_row", np.arange(1, n + 1))
    return frame


def col(table, name):
    return TABLES[table].column(name)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("KG", "K"),
        ("00", "K"),
        ("0K", "K"),
        ("Kindergarten", "K"),
        ("k", "K"),
        ("PK", "PK"),
        ("Pre-K", "PK"),
        ("01", "1"),
        ("Grade 3", "3"),
        ("3rd", "3"),
        ("12th Grade", "12"),
        (" 7 ", "7"),
        ("13", None),
        ("grade twelve", None),
    ],
)
def test_grade_variants(value, expected):
    assert grade_text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-26", "2025-26"),
        ("2025-2026", "2025-26"),
        ("2026", "2025-26"),
        ("SY2025-26", "2025-26"),
        ("2025/26", "2025-26"),
        ("1999-2000", "1999-00"),
        ("2025-27", None),
        ("26", None),
    ],
)
def test_school_year_variants(value, expected):
    assert school_year_text(value) == expected


def test_school_year_of_dates_turns_on_july_first():
    dates = pd.Series(pd.to_datetime(["2026-06-30", "2026-07-01", "2025-12-31"]))
    assert school_year_of(dates).tolist() == ["2025-26", "2026-27", "2025-26"]


@pytest.mark.parametrize("value", ["Y", "yes", "TRUE", "t", "1", " Yes "])
def test_flag_true_variants(value):
    values, status = normalize_column(pd.Series([value]), col("staff", "instructional"))
    assert values.tolist() == [True] and status.tolist() == [OK]


@pytest.mark.parametrize("value", ["N", "no", "False", "F", "0"])
def test_flag_false_variants(value):
    values, _ = normalize_column(pd.Series([value]), col("staff", "instructional"))
    assert values.tolist() == [False]


def test_dates_iso_and_us():
    values, status = normalize_column(
        pd.Series(["2025-09-15", "09/15/2025", "9/5/2025", "15/09/2025", None]),
        col("walkthroughs", "observation_date"),
    )
    assert [str(v.date()) if pd.notna(v) else None for v in values] == [
        "2025-09-15",
        "2025-09-15",
        "2025-09-05",
        None,
        None,
    ]
    assert status.tolist() == [OK, OK, OK, BAD, BLANK]


def test_numbers_and_ranges():
    values, status = normalize_column(
        pd.Series(["85", "85.5%", "140", "abc", "1,200"]), col("fidelity_checks", "fidelity_pct")
    )
    assert status.tolist() == [OK, OK, RANGE, BAD, RANGE]
    assert values.iloc[:2].tolist() == [85.0, 85.5]
    assert values.iloc[2:].isna().all()


def test_integer_must_be_whole():
    values, status = normalize_column(
        pd.Series(["3", "3.0", "2.5", "6"]), col("assessments", "performance_level")
    )
    assert status.tolist() == [OK, OK, BAD, RANGE]
    assert values.iloc[:2].tolist() == [3, 3]


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("sex", "Female", "F"),
        ("sex", "m", "M"),
        ("sex", "Non-binary", "X"),
        ("sex", "", "Not reported"),
        ("race_ethnicity", "Hispanic", "Hispanic/Latino"),
        ("race_ethnicity", "African American", "Black/African American"),
        ("race_ethnicity", "Multiracial", "Two or More Races"),
        ("race_ethnicity", "WH7", "White"),
        ("race_ethnicity", "Martian", "Not reported"),
        ("english_learner", "Yes", "Yes"),
        ("english_learner", "0", "No"),
        ("english_learner", "maybe", "Not reported"),
        ("english_learner", "", "Not reported"),
    ],
)
def test_demographics(column, value, expected):
    values, _ = normalize_column(pd.Series([value or None]), col("students", column))
    assert values.tolist() == [expected]


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("subject", "Reading", "ELA"),
        ("subject", "English Language Arts", "ELA"),
        ("subject", "Mathematics", "Math"),
        ("term", "BOY", "Fall"),
        ("term", "MOY", "Winter"),
        ("term", "eoy", "Spring"),
    ],
)
def test_subject_and_term_variants(column, value, expected):
    values, _ = normalize_column(pd.Series([value]), col("assessments", column))
    assert values.tolist() == [expected]


def test_survey_answers():
    values, status = normalize_column(
        pd.Series(
            ["4", "3", "2", "1", "Strongly agree", "Disagree", "Yes", "No", "5", "maybe", None]
        ),
        col("staff_survey", "USES_PROCESS"),
    )
    assert values.tolist()[:8] == [True, True, False, False, True, False, True, False]
    assert values.iloc[8:].isna().all()
    assert status.tolist()[8:] == [RANGE, BAD, BLANK]


def test_survey_window():
    assert survey_window_parts("2025-26 Fall") == ("2025-26", "Fall")
    assert survey_window_parts("Spring 2025-2026") == ("2025-26", "Spring")
    assert survey_window_parts("2025-26") is None


def test_mapping_values_apply_before_the_vocabulary():
    mapping = Mapping.from_dict({"values": {"term": {"T2": "Winter"}}})
    values, status = normalize_column(
        pd.Series(["t2"]), col("assessments", "term"), mapping.value_map("term")
    )
    assert values.tolist() == ["Winter"] and status.tolist() == [OK]


def test_each_drop_reason_and_accounting():
    frame = raw(
        school_id=["0101", "0101", "0101", "0101", "9999", "0101", "0101"],
        student_id=["1", None, "3", "4", "5", "1", "7"],
        school_year=["2025-26", "2025-26", "someday", "2025-26", "2025-26", "2025-26", "2025-26"],
        grade=["3", "3", "3", "14", "3", "3", "3"],
        english_learner=["Y", "Y", "Y", "Y", "Y", "Y", "perhaps"],
    )
    refs = References(school_ids=pd.Index(["0101"]))
    result = clean_table("students", frame, references=refs)
    reasons = result.issues.set_index("source_row")[["action", "reason", "column"]]
    assert reasons.loc[2].tolist() == ["row_dropped", "missing_required", "student_id"]
    assert reasons.loc[3].tolist() == ["row_dropped", "bad_value", "school_year"]
    assert reasons.loc[4].tolist() == ["row_dropped", "bad_value", "grade"]
    assert reasons.loc[5].tolist() == ["row_dropped", "unknown_school", "school_id"]
    assert reasons.loc[6].tolist() == [
        "row_dropped",
        "duplicate",
        "student_id+school_id+school_year",
    ]
    assert reasons.loc[7].tolist() == ["value_blanked", "bad_value", "english_learner"]
    assert result.frame["source_row"].tolist() == [1, 7]
    assert result.rows_read == len(result.frame) + result.rows_dropped


def test_student_identifiers_are_withheld_from_quarantine_values():
    frame = raw(
        student_id=["000123", "000123"],
        school_id=["0101"] * 2,
        school_year=["2025-26"] * 2,
        grade=["3", "3"],
        birth_date=["not a date", "2016-01-01"],
    )
    result = clean_table("students", frame)
    assert "000123" not in result.issues["value"].tolist()
    assert set(result.issues["value"]) <= {WITHHELD, "same key as row 1"}


def test_assessment_duplicate_keeps_highest_score_then_level():
    frame = raw(
        student_id=["1", "1", "1", "2", "2"],
        school_id=["0101"] * 5,
        school_year=["2025-26"] * 5,
        term=["Fall", "BOY", "fall", "Fall", "Fall"],
        subject=["ELA"] * 5,
        grade=["3"] * 5,
        scale_score=["400", "450", "420", "500", "500"],
        performance_level=["2", "3", "2", "3", "4"],
    )
    result = clean_table("assessments", frame)
    assert result.frame["source_row"].tolist() == [2, 5]
    dups = result.issues[result.issues["reason"] == "duplicate"]
    assert sorted(dups["source_row"]) == [1, 3, 4]
    assert set(dups["value"]) == {"same key as row 2", "same key as row 5"}


def test_exact_duplicates_in_a_table_without_key():
    frame = raw(
        team_id=["T1", "T1", "T1"],
        meeting_date=["2025-09-01", "09/01/2025", "2025-09-08"],
        cycle_step=["1", "1", "2"],
    )
    result = clean_table("team_meetings", frame)
    assert result.frame["source_row"].tolist() == [1, 3]
    assert result.issues["reason"].tolist() == ["duplicate"]


CUTS = pd.DataFrame(
    {
        "subject": ["ELA"] * 3 + ["ELA"] * 3,
        "grade": ["3"] * 6,
        "level": pd.array([1, 2, 3] * 2, dtype="Int64"),
        "min_score": [0.0, 400.0, 450.0, 0.0, 410.0, 460.0],
        "school_year": pd.Series([None] * 3 + ["2025-26"] * 3, dtype="str"),
    }
)


def test_levels_from_cut_scores_prefer_the_rows_school_year():
    rows = pd.DataFrame(
        {
            "subject": ["ELA"] * 4,
            "grade": ["3"] * 4,
            "school_year": ["2024-25", "2024-25", "2025-26", "2025-26"],
            "scale_score": [450.0, 449.0, 455.0, 460.0],
        }
    )
    assert place_levels(rows, CUTS).tolist() == [3, 2, 2, 3]


def test_levels_below_the_lowest_cut_stay_unknown():
    cuts = CUTS.assign(min_score=CUTS["min_score"] + 100)
    rows = pd.DataFrame(
        {"subject": ["ELA"], "grade": ["3"], "school_year": ["2024-25"], "scale_score": [50.0]}
    )
    assert place_levels(rows, cuts).isna().all()


def test_proficient_from_level_and_unscorable():
    frame = raw(
        student_id=["1", "2", "3", "4", "5"],
        school_id=["0101"] * 5,
        school_year=["2024-25"] * 5,
        term=["Fall"] * 5,
        subject=["ELA", "ELA", "ELA", "ELA", "Math"],
        grade=["3"] * 5,
        scale_score=["455", "", "", "399", "455"],
        performance_level=["", "2", "", "", ""],
        proficient=["", "", "", "", "Y"],
    )
    result = clean_table("assessments", frame, references=References(cut_scores=CUTS))
    out = result.frame.set_index("source_row")
    assert out.loc[1, ["performance_level", "proficient"]].tolist() == [3, True]
    assert out.loc[2, "proficient"] == False  # noqa: E712 - level 2 is below proficient
    assert out.loc[4, ["performance_level", "proficient"]].tolist() == [1, False]
    assert out.loc[5, "proficient"] == True  # noqa: E712 - given flag wins, no Math cut scores
    assert result.issues.set_index("source_row").loc[3, "reason"] == "unscorable"


def test_staff_instructional_defaults_from_role():
    frame = raw(
        staff_id=["1", "2", "3", "4"],
        school_id=["0101"] * 4,
        role=["Teacher", "Instructional Coach", "Principal", "para"],
        instructional=["", "", "", "Y"],
    )
    out = clean_table("staff", frame).frame
    assert out["role"].tolist() == ["teacher", "coach", "principal", "paraprofessional"]
    assert out["instructional"].tolist() == [True, True, False, True]


def test_team_tables_get_school_and_year_from_teams_and_dates():
    teams = pd.DataFrame({"team_id": ["T1"], "school_id": ["0101"]})
    frame = raw(team_id=["T1", "T1", "T9"], meeting_date=["2026-06-30", "2026-07-01", "2026-01-01"])
    result = clean_table("team_meetings", frame, references=References(teams=teams))
    assert result.frame[["school_id", "school_year"]].values.tolist() == [
        ["0101", "2025-26"],
        ["0101", "2026-27"],
    ]
    assert result.issues["reason"].tolist() == ["unknown_team"]


def test_survey_window_gives_year_and_term():
    frame = raw(
        response_id=["r1"],
        school_id=["0101"],
        survey_window=["Spring 2026"],
        USES_PROCESS=["Agree"],
    )
    out = clean_table("staff_survey", frame).frame
    assert out[["survey_window", "school_year", "window_term"]].values.tolist() == [
        ["2025-26 Spring", "2025-26", "Spring"]
    ]
    assert out["UNDERSTANDS_PROCESS"].isna().all() and out["USES_PROCESS"].tolist() == [True]


def test_mapping_renames_columns_case_insensitively():
    mapping = Mapping.from_dict({"columns": {"schools": {"Building Code": "school_id"}}})
    frame = raw(**{"BUILDING CODE ": ["0101"], "School Name": ["Oak"], "Principal": ["X"]})
    result = clean_table("schools", frame, mapping=mapping)
    assert result.frame["school_id"].tolist() == ["0101"]
    assert result.ignored_columns == ["Principal"]


def test_missing_required_column_is_a_clear_error():
    with pytest.raises(
        DistrictFolderError,
        match=r"schools\.csv lacks required column\(s\) school_name.*mapping\.yaml",
    ):
        clean_table("schools", raw(school_id=["0101"]), file="schools.csv")


def test_two_headers_for_one_column_is_an_error():
    with pytest.raises(DistrictFolderError, match="both give schools.school_id"):
        clean_table("schools", raw(school_id=["1"], **{"School ID": ["1"]}, school_name=["x"]))


def test_cleaning_does_not_mutate_its_input():
    frame = raw(school_id=[" 0101 "], school_name=["Oak"], level=["ES"])
    before = frame.copy()
    clean_table("schools", frame)
    pd.testing.assert_frame_equal(frame, before)


def test_pd_completed_defaults_only_when_the_column_is_absent():
    without = clean_table(
        "pd_activities", raw(staff_id=["1"], activity_date=["2025-10-01"], format=["plc"])
    )
    assert without.frame["completed"].tolist() == [True]
    blank = clean_table(
        "pd_activities",
        raw(staff_id=["1"], activity_date=["2025-10-01"], format=["plc"], completed=[None]),
    )
    assert blank.frame["completed"].isna().all()  # a blank cell is not completed
