"""Reading CSV (UTF-8, BOM, Windows-1252), XLSX and Parquet into text frames."""

from __future__ import annotations

import pandas as pd
import pytest

from bltanalytics.errors import DistrictFolderError
from bltanalytics.load.readers import find_table_files, read_table_file


def test_csv_keeps_ids_as_text_and_numbers_rows_from_one(tmp_path):
    path = tmp_path / "schools.csv"
    path.write_text("school_id,school_name\n0101,Oak\n007,Elm\n", encoding="utf-8")
    frame = read_table_file(path)
    assert frame["school_id"].tolist() == ["0101", "007"]
    assert frame["source_row"].tolist() == [1, 2]


def test_blank_cells_are_missing(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,\n,2\n", encoding="utf-8")
    frame = read_table_file(path)
    assert frame["a"].isna().tolist() == [False, True]
    assert frame["b"].isna().tolist() == [True, False]


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffschool_id,school_name\n0101,Zoë\n".encode())
    frame = read_table_file(path)
    assert list(frame.columns) == ["source_row", "school_id", "school_name"]
    assert frame["school_name"].iloc[0] == "Zoë"


def test_windows_1252_is_decoded(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("school_id,school_name\n0101,José Martí\n".encode("cp1252"))
    assert read_table_file(path)["school_name"].iloc[0] == "José Martí"


def test_quoted_newlines_stay_in_one_row(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,evidence\n1,"line one\nline two"\n2,x\n', encoding="utf-8")
    frame = read_table_file(path)
    assert frame["source_row"].tolist() == [1, 2]
    assert frame["evidence"].iloc[0] == "line one\nline two"


def test_xlsx_text_and_numeric_cells(tmp_path):
    path = tmp_path / "staff.xlsx"
    pd.DataFrame(
        {
            "staff_id": ["0042", "0043"],
            "hours": [1.5, 2.0],
            "when": pd.to_datetime(["2025-09-01", "2025-10-02"]),
        }
    ).to_excel(path, index=False)
    frame = read_table_file(path)
    assert frame["staff_id"].tolist() == ["0042", "0043"]
    assert frame["hours"].tolist() == ["1.5", "2"]
    assert frame["when"].tolist() == ["2025-09-01", "2025-10-02"]


def test_parquet_typed_columns_become_text(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame(
        {"school_id": ["0101"], "level": [3.0], "n": [7], "d": pd.to_datetime(["2025-09-01"])}
    ).to_parquet(path)
    frame = read_table_file(path)
    assert frame.loc[0, ["school_id", "level", "n", "d"]].tolist() == [
        "0101",
        "3",
        "7",
        "2025-09-01",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04\x00\x00binary", "not a text CSV"),
        ("a,b\n1,2\n".encode("utf-16"), "UTF-16"),
        (b"a,b\n\x81\x8d,2\n", "neither UTF-8 nor Windows-1252"),
    ],
)
def test_unreadable_csv_names_the_file(tmp_path, content, message):
    path = tmp_path / "students.csv"
    path.write_bytes(content)
    with pytest.raises(DistrictFolderError, match=rf"students\.csv.*{message}|{message}.*students"):
        read_table_file(path)


def test_xlsx_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "staff.xlsx"
    path.write_text("staff_id\n1\n")
    with pytest.raises(DistrictFolderError, match=r"staff\.xlsx is not an Excel workbook"):
        read_table_file(path)


def test_table_files_match_case_insensitively(tmp_path):
    (tmp_path / "Students.CSV").write_text("x\n")
    (tmp_path / "students_old.csv").write_text("x\n")
    assert [p.name for p in find_table_files(tmp_path, "students")] == ["Students.CSV"]
