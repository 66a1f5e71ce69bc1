"""Loading a whole district folder, and the `validate` command on good and bad folders."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import write_district
from typer.testing import CliRunner

from bltanalytics.cli import app
from bltanalytics.errors import DistrictFolderError, MappingError
from bltanalytics.load import load_district

runner = CliRunner()


def test_tiny_district_loads_and_balances(tiny_district):
    district = load_district(tiny_district)
    assert set(district.tables) == {"schools", "students", "assessments", "cut_scores"}
    acc = district.accounting.set_index("table")
    assert (acc["rows_read"] == acc["rows_used"] + acc["rows_dropped"]).all()
    ela = district.tables["assessments"].set_index("student_id")
    assert ela.loc["000123", "proficient"] == True  # noqa: E712 - 455 >= level 3 cut 450
    assert ela.loc["000124", "proficient"] == False  # noqa: E712
    assert district.school_years == ["2025-26"]


def test_mapping_yaml_renames_columns_and_values(tmp_path):
    folder = write_district(
        tmp_path / "d",
        assessments=(
            "Student Number,school_id,school_year,Test Term,subject,grade,proficient\n"
            "000123,0101,2025-26,T1,ELA,3,Y\n"
        ),
        **{
            "mapping.yaml": "columns:\n  assessments:\n    Student Number: student_id\n"
            "    test term: term\nvalues:\n  term:\n    T1: Fall\n"
        },
    )
    rows = load_district(folder).tables["assessments"]
    assert rows[["student_id", "term"]].values.tolist() == [["000123", "Fall"]]


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("columns:\n  pupils:\n    A: b\n", "'pupils' is not a table"),
        ("columns:\n  students:\n    Student Number: pupil_id\n", "not a column of students"),
        ("values:\n  colour:\n    r: red\n", "'colour' is not a column"),
        ("columns: [\n", "not valid YAML"),
    ],
)
def test_bad_mapping_yaml(tmp_path, yaml_text, message):
    folder = write_district(tmp_path / "d", **{"mapping.yaml": yaml_text})
    with pytest.raises(MappingError, match=message):
        load_district(folder)


BAD_FOLDERS = {
    "missing": ({"students": None}, "students.csv.*required"),
    "empty": ({"students": ""}, r"students\.csv is empty"),
    "header only": (
        {"students": "student_id,school_id,school_year,grade\n"},
        r"students\.csv has a header but no data rows",
    ),
    "binary": ({}, r"schools\.csv is not a text CSV"),
    "missing column": (
        {"assessments": "student_id,school_id,school_year,term,grade\n1,0101,2025-26,Fall,3\n"},
        r"assessments\.csv lacks required column\(s\) subject",
    ),
    "twice": ({"students.xlsx": "not really"}, "table students is given twice"),
    "no usable rows": (
        {"schools": "school_id,school_name\n,Oak\n"},
        r"schools\.csv: none of its 1 rows could be used",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FOLDERS))
def test_bad_folder_gets_one_clear_message_and_nonzero_exit(tmp_path, case):
    tables, message = BAD_FOLDERS[case]
    folder = write_district(tmp_path / "d", **tables)
    if case == "binary":
        (folder / "schools.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(DistrictFolderError, match=message):
        load_district(folder)
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ")
    assert len(result.output.strip().splitlines()) == 1


def test_missing_folder(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_validate_report_lists_reasons_examples_and_mapping_fix(tmp_path):
    folder = write_district(
        tmp_path / "d",
        students=(
            "student_id,school_id,school_year,grade,race_ethnicity\n"
            "1,0101,2025-26,3,Martian\n2,9999,2025-26,3,White\n3,0101,2025-26,3,Asian\n"
        ),
    )
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "unknown_school in school_id: 1 rows dropped" in out
    assert "students.csv row 2, column school_id: value '9999'" in out
    assert "students.race_ethnicity: 'Martian' (1 rows)" in out
    assert "race_ethnicity:   # one of: Hispanic/Latino" in out and "Martian: ???" in out
    assert "Verdict: the folder is usable." in out


def test_validate_json(tiny_district):
    result = runner.invoke(app, ["validate", str(tiny_district), "--json"])
    report = json.loads(result.output)
    assert report["balanced"] is True
    tables = pd.DataFrame(report["tables"]).set_index("table")
    assert tables.loc["students", "rows_used"] == 3
    assert "staff" in report["absent_tables"]


def test_optional_table_absent_is_fine_and_present_is_cleaned(tmp_path):
    folder = write_district(
        tmp_path / "d",
        staff="staff_id,school_id,role\n0007,0101,Teacher\n0008,0101,Counselor\n",
        pd_activities="staff_id,activity_date,format\n0007,2025-10-01,Coaching\n0099,2025-10-01,workshop\n",
    )
    district = load_district(folder)
    assert district.get("teams") is None and not district.has("teams")
    pd_rows = district.tables["pd_activities"]
    assert pd_rows["staff_id"].tolist() == ["0007"] and pd_rows["completed"].tolist() == [True]
    assert district.quarantine.query("table == 'pd_activities'")["reason"].tolist() == [
        "unknown_staff"
    ]


def test_rating_of_an_unknown_indicator_is_quarantined(tmp_path):
    folder = write_district(
        tmp_path / "d",
        rubric_ratings=(
            "school_id,school_year,indicator_id,rating\n"
            "0101,2025-26,C1.procedures,2\n0101,2025-26,C9.made_up,3\n0101,2025-26,C1.teams,1\n"
        ),
    )
    district = load_district(folder)
    assert district.tables["rubric_ratings"]["indicator_id"].tolist() == ["C1.procedures"]
    q = district.quarantine.query("table == 'rubric_ratings'")
    assert q["reason"].tolist() == ["unknown_indicator"] * 2
    assert q["value"].tolist() == ["C9.made_up", "C1.teams"]
