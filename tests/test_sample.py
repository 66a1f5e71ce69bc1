"""Tests for bltanalytics.sample: the synthetic district generator."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from bltanalytics.sample import (
    SCHOOL_YEARS,
    TABLE_NAMES,
    InjectedProblem,
    generate_district,
)

REPO = Path(__file__).resolve().parents[1]

# DATA_CONTRACT.md section 1, required columns (bold), written out independently of the code
REQUIRED = {
    "schools": ["school_id", "school_name"],
    "students": ["student_id", "school_id", "school_year", "grade"],
    "assessments": ["student_id", "school_id", "school_year", "term", "subject", "grade"],
    "staff": ["staff_id", "school_id", "role"],
    "teams": ["team_id", "school_id", "team_type"],
    "team_members": ["team_id", "staff_id"],
    "team_meetings": ["team_id", "meeting_date"],
    "team_cycles": ["cycle_id", "team_id", "subject", "proficiency_cut", "target_pct"],
    "cycle_results": ["cycle_id", "student_id"],
    "staff_survey": ["response_id", "school_id", "survey_window"],
    "walkthroughs": ["observation_id", "school_id", "observation_date", "focus_strategy_observed"],
    "fidelity_checks": ["team_id", "check_date", "fidelity_pct"],
    "pd_activities": ["staff_id", "activity_date", "format"],
    "cut_scores": ["subject", "grade", "level", "min_score"],
    "rubric_ratings": ["school_id", "school_year", "indicator_id", "rating"],
}
ENCODINGS = {"students.csv": "cp1252", "assessments.csv": "utf-8-sig"}


def read_raw(folder: Path, file: str, mapping: dict | None = None) -> pd.DataFrame:
    """A table exactly as written: every cell text, blanks as '' and contract column names."""
    path = folder / file
    if path.suffix == ".xlsx":
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
    elif path.suffix == ".parquet":
        frame = pq.read_table(path).to_pandas().astype(object).fillna("").astype(str)
    else:
        text = path.read_bytes().decode(ENCODINGS.get(file, "utf-8"))
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    renames = ((mapping or {}).get("columns") or {}).get(path.stem, {})
    return frame.rename(columns=renames)


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("messy")
    summary = generate_district(folder, schools=6, students_per_school=80, seed=11)
    mapping = yaml.safe_load((folder / "mapping.yaml").read_text(encoding="utf-8"))
    return summary, mapping


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    return generate_district(folder, seed=5, messy=False, file_format="csv")


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    args = {"schools": 3, "students_per_school": 40}
    a = generate_district(tmp_path / "a", seed=3, **args)
    b = generate_district(tmp_path / "b", seed=3, **args)
    c = generate_district(tmp_path / "c", seed=4, **args)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert "staff.xlsx" in names and "mapping.yaml" in names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert a.problems == b.problems
    differs = [
        n for n in names if (tmp_path / "a" / n).read_bytes() != (tmp_path / "c" / n).read_bytes()
    ]
    assert "students.csv" in differs and "assessments.csv" in differs
    assert c.rows != a.rows or c.problems != a.problems


def test_every_contract_table_is_written_with_its_required_columns(messy):
    summary, mapping = messy
    assert set(summary.files) == set(REQUIRED) == set(TABLE_NAMES)
    for table, file in summary.files.items():
        frame = read_raw(summary.path, file, mapping)
        assert set(REQUIRED[table]) <= set(frame.columns), (table, list(frame.columns))
        assert len(frame) == summary.rows[table] > 0, table


def test_mixed_format_files_encodings_and_xlsx(messy):
    summary, _ = messy
    folder = summary.path
    assert summary.files["staff"] == "staff.xlsx"
    bom = (folder / "assessments.csv").read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf")
    raw = (folder / "students.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert re.search(r"[éëñíáúöü]", text)  # a name such as José, Zoë or Nuñez
    other = (folder / "schools.csv").read_bytes()
    assert not other.startswith(b"\xef\xbb\xbf")
    other.decode("utf-8")

    book = openpyxl.load_workbook(folder / "staff.xlsx", read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("staff_id", "school_id", "role")
    ids = [r[0] for r in rows[1:] if r[0] is not None]
    assert all(isinstance(i, str) and re.fullmatch(r"\d{5}", i) for i in ids)
    assert ids[0] == "00001"
    schools = [r[1] for r in rows[1:]]
    assert "0101" in schools  # padding survives as text


def test_ids_are_zero_padded_strings(messy, clean):
    for summary, mapping in (messy, (clean, None)):
        schools = read_raw(summary.path, summary.files["schools"], mapping)
        students = read_raw(summary.path, summary.files["students"], mapping)
        assert schools["school_id"].iloc[0] == "0101"
        assert schools["school_id"].str.fullmatch(r"\d{4}").all()
        ids = students["student_id"][students["student_id"] != ""]
        assert ids.str.fullmatch(r"\d{6}").all() and ids.iloc[0] == "000001"


def test_mapping_yaml_is_needed_and_translates(messy):
    summary, mapping = messy
    assert mapping["columns"]["assessments"] == {
        "Student Number": "student_id",
        "Test Term": "term",
    }
    assert mapping["values"]["term"] == {"T1": "Fall", "T2": "Winter", "T3": "Spring"}
    raw = read_raw(summary.path, "assessments.csv")  # without the mapping
    assert "student_id" not in raw.columns and "term" not in raw.columns
    assert {"T1", "T2", "T3"} <= set(raw["Test Term"])
    students = read_raw(summary.path, "students.csv")
    assert "LEP Status" in students.columns and "english_learner" not in students.columns


def test_messy_values_show_the_variants_real_exports_have(messy):
    summary, mapping = messy
    students = read_raw(summary.path, "students.csv", mapping)
    a = read_raw(summary.path, "assessments.csv", mapping)
    grades = set(students["grade"]) | set(a["grade"])
    assert grades & {"KG", "00", "0K", "Kindergarten"}
    assert any(re.fullmatch(r"0\d", g) for g in grades)
    assert any(g.startswith("Grade ") for g in grades)
    assert any(re.fullmatch(r"\d+(st|nd|rd|th)", g) for g in grades)
    assert {"Female", "Male"} & set(students["sex"]) and {"f", "m"} & set(students["sex"])
    assert {"Hispanic", "African American", "Multiracial"} & set(students["race_ethnicity"])
    assert any(re.fullmatch(r"[A-Z]{2}7", r) for r in students["race_ethnicity"])
    assert {"2025-2026", "2026"} & set(students["school_year"])
    assert {"Reading", "Mathematics"} & set(a["subject"])
    assert {"BOY", "EOY"} & set(a["term"])
    flags = set(students["economically_disadvantaged"])
    assert {"Y", "N"} <= flags and flags & {"Yes", "True", "1", "T", "y"}
    dates = students["birth_date"]
    assert (
        dates.str.fullmatch(r"\d\d/\d\d/\d{4}").any()
        and dates.str.fullmatch(r"\d{4}-\d\d-\d\d").any()
    )
    survey = read_raw(summary.path, "staff_survey.csv")
    answers = set(survey["UNDERSTANDS_PROCESS"])
    assert {"1", "2", "3", "4"} & answers and {"Agree", "Strongly agree"} & answers
    assert "" in answers
    assert (survey["staff_id"] == "").any() and (survey["staff_id"] != "").any()


def _check_problem(p: InjectedProblem, frame: pd.DataFrame, known: dict[str, set[str]]) -> None:
    row = frame.iloc[p.source_row - 1]
    if p.kind == "missing_required":
        assert row[p.column].strip() == "", p
    elif p.kind == "unknown_school":
        assert row["school_id"] == p.value and p.value not in known["schools"], p
    elif p.kind == "unknown_team":
        assert row["team_id"] == p.value and p.value not in known["teams"], p
    elif p.kind == "unscorable":
        assert row[["scale_score", "performance_level", "proficient"]].tolist() == ["", "", ""], p
    elif p.kind == "duplicate" and p.column == "":
        same = (frame == row).all(axis=1)
        assert same.sum() == 2, p  # the row and its exact copy
        assert same.iloc[p.source_row - 2], p  # the copy comes right after the original
    elif p.kind == "duplicate":  # a conflicting assessment key: this row has the lower score
        key = ["student_id", "school_year", "term", "subject"]
        twins = frame[(frame[key] == row[key]).all(axis=1)]
        assert len(twins) == 2 and row["scale_score"] == p.value, p
        assert int(p.value) < twins["scale_score"].astype(int).max(), p
    else:
        assert p.kind in {"bad_value", "out_of_range", "unrecognised_value"}, p
        assert row[p.column] == p.value != "", p


def test_injected_problems_point_at_rows_that_hold_them(messy):
    summary, mapping = messy
    problems = summary.problems
    frames = {t: read_raw(summary.path, f, mapping) for t, f in summary.files.items()}
    known = {
        "schools": set(frames["schools"]["school_id"]),
        "teams": set(frames["teams"]["team_id"]),
    }
    for p in problems:
        assert p.file == summary.files[p.table]
        _check_problem(p, frames[p.table], known)
    kinds = {p.kind for p in problems}
    assert kinds >= {
        "missing_required",
        "unknown_school",
        "unknown_team",
        "bad_value",
        "out_of_range",
        "duplicate",
        "unscorable",
        "unrecognised_value",
    }
    assert {p.action for p in problems} == {"row_dropped", "value_blanked"}
    values = {(p.table, p.column): p.value for p in problems}
    assert values[("assessments", "performance_level")] == "7"
    assert values[("fidelity_checks", "fidelity_pct")] == "140"
    assert values[("rubric_ratings", "rating")] == "5"
    assert values[("students", "race_ethnicity")] == "Martian"
    assert "maybe" in {p.value for p in problems if p.table == "staff_survey"}
    conflicting = [p for p in problems if p.kind == "duplicate" and p.column == "scale_score"]
    assert len(conflicting) == 2
    assert len(problems) < 80  # a handful of each kind, not a flood
    frame = summary.problems_frame()
    assert list(frame.columns)[:3] == ["table", "file", "source_row"] and len(frame) == len(
        problems
    )


def test_clean_district_has_canonical_values_and_no_problems(clean):
    assert clean.problems == () and not (clean.path / "mapping.yaml").exists()
    students = read_raw(clean.path, "students.csv")
    a = read_raw(clean.path, "assessments.csv")
    canonical_grades = {"PK", "K", *map(str, range(1, 13))}
    assert set(students["grade"]) <= canonical_grades and set(a["grade"]) <= canonical_grades
    assert set(a["term"]) == {"Fall", "Winter", "Spring"}
    assert set(a["subject"]) == {"ELA", "Math", "Science"}
    assert set(a["school_year"]) == set(students["school_year"]) == set(SCHOOL_YEARS)
    assert set(students["sex"]) <= {"F", "M", "X"}
    assert set(students["economically_disadvantaged"]) <= {"Y", "N", ""}
    assert students["birth_date"].str.fullmatch(r"\d{4}-\d\d-\d\d").all()
    assert set(a["proficient"]) == {"Y", "N", ""}
    # some rows carry a level, others only a score (to be placed with cut_scores)
    assert (a["performance_level"] == "").any() and (a["performance_level"] != "").any()
    pd_rows = read_raw(clean.path, "pd_activities.csv")
    assert set(pd_rows["format"]) == {
        "online_course",
        "micro_pd",
        "workshop",
        "support_meeting",
        "coaching",
        "plc",
        "observation_feedback",
    }
    assert set(pd_rows["stage"]) == {"1", "2", "3"}
    assert set(pd_rows["cycle_step"]) == set(map(str, range(1, 11)))
    meetings = read_raw(clean.path, "team_meetings.csv")
    assert set(meetings["cycle_step"]) - {""} == set(map(str, range(1, 6)))
    ratings = read_raw(clean.path, "rubric_ratings.csv")
    per_school_year = ratings.groupby(["school_id", "school_year"])["indicator_id"].nunique()
    assert 0 < per_school_year.min() and per_school_year.max() < 13  # some indicators, not all


def test_schools_vary_and_one_is_small(clean):
    schools = read_raw(clean.path, "schools.csv")
    students = read_raw(clean.path, "students.csv")
    assert {"elementary", "middle", "high"} <= set(schools["level"])
    size = students.groupby(["school_id", "school_year"]).size().unstack()
    assert list(size.columns) == list(SCHOOL_YEARS)
    small = size[(size >= 20).all(axis=1) & (size <= 30).all(axis=1)]
    assert len(small) == 1
    big = size.drop(small.index)
    assert (big > 150).all().all() and big["2025-26"].nunique() > 1  # sizes vary around 300
    teams = read_raw(clean.path, "teams.csv")
    types = teams.groupby("school_id")["team_type"].agg(set)
    has_both = types.map(lambda t: {"BLT", "TBT"} <= t)
    assert has_both.any() and not has_both.all() and len(types) == len(schools)


def test_proficiency_rises_fall_to_spring_and_shows_gaps(clean):
    a = read_raw(clean.path, "assessments.csv")
    cuts = read_raw(clean.path, "cut_scores.csv")
    students = read_raw(clean.path, "students.csv")
    level3 = cuts[cuts["level"] == "3"].set_index(["subject", "grade"])["min_score"].astype(int)
    cut = level3.reindex(pd.MultiIndex.from_frame(a[["subject", "grade"]])).to_numpy()
    assert not np.isnan(cut).any()  # every tested subject and grade has cut scores
    a["prof"] = a["scale_score"].astype(int).to_numpy() >= cut
    given = a["proficient"] != ""
    assert (a.loc[given, "prof"] == (a.loc[given, "proficient"] == "Y")).all()
    by_term = a.groupby("term")["prof"].mean()
    assert by_term["Fall"] + 0.1 < by_term["Winter"] + 0.05 < by_term["Spring"]
    merged = a.merge(students, on=["student_id", "school_id", "school_year"], suffixes=("", "_s"))
    for flag in ("economically_disadvantaged", "english_learner", "special_education"):
        rate = merged.groupby(flag)["prof"].mean()
        assert rate["Y"] + 0.1 < rate["N"], flag
    race = merged.groupby("race_ethnicity")["prof"].mean()
    assert race["White"] > race["Black/African American"] + 0.05


def test_large_path_clean_parquet_has_consistent_row_counts(tmp_path):
    summary = generate_district(
        tmp_path, schools=25, students_per_school=60, seed=9, messy=False, file_format="parquet"
    )
    assert summary.problems == () and set(summary.files.values()) == {
        f"{t}.parquet" for t in TABLE_NAMES
    }
    tables = {t: pq.read_table(tmp_path / f) for t, f in summary.files.items()}
    for name, table in tables.items():
        assert table.num_rows == summary.rows[name], name
    assert tables["schools"].num_rows == 25
    assert str(tables["students"].schema.field("student_id").type) == "string"
    students = tables["students"].to_pandas()
    # each tested student-year (K-10) sits at most 6 ELA/Math tests, plus Science in 5, 8, 10
    grade = students["grade"].replace({"K": "0"}).astype(int)
    tested = int((grade <= 10).sum())
    science = int(grade.isin([5, 8, 10]).sum())
    n = summary.rows["assessments"]
    assert 0.9 * (6 * tested + science) < n <= 6 * tested + science
    size = students.groupby(["school_id", "school_year"]).size()
    assert size.loc["0106"].between(20, 30).all()  # the 6th school of every 20 is small


def test_committed_sample_is_what_the_generator_makes(tmp_path):
    committed = REPO / "data" / "sample"
    if not (committed / "schools.csv").exists():
        pytest.skip("data/sample not generated in this checkout")
    summary = generate_district(tmp_path)  # the defaults are the committed sample's arguments
    for file in [*summary.files.values(), *summary.extra_files]:
        assert (committed / file).read_bytes() == (tmp_path / file).read_bytes(), file


def test_bad_arguments_are_refused_with_a_clear_message(tmp_path):
    with pytest.raises(ValueError, match="file_format"):
        generate_district(tmp_path, file_format="json")
    with pytest.raises(ValueError, match="at least 1"):
        generate_district(tmp_path, schools=0)


def test_regenerating_replaces_table_files_and_keeps_other_files(tmp_path):
    (tmp_path / "README.md").write_text("keep me")
    generate_district(tmp_path, schools=2, students_per_school=20, messy=False, file_format="csv")
    assert (tmp_path / "staff.csv").exists()
    generate_district(tmp_path, schools=2, students_per_school=20)
    assert (tmp_path / "staff.xlsx").exists() and not (tmp_path / "staff.csv").exists()
    assert (tmp_path / "README.md").read_text() == "keep me"


def test_the_loader_quarantines_exactly_the_injected_problems(messy):
    district = pytest.importorskip("bltanalytics.load")
    summary, _ = messy
    loaded = district.load_district(summary.path)
    quarantined = {
        (t, int(r), a)
        for t, r, a in loaded.quarantine[["table", "source_row", "action"]].itertuples(index=False)
    }
    injected = {(p.table, p.source_row, p.action) for p in summary.problems}
    assert quarantined == injected
    read = loaded.accounting.set_index("table")["rows_read"].to_dict()
    assert read == summary.rows
