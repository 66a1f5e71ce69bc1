"""Shared fixtures: a tiny, valid district folder written by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

SCHOOLS = "school_id,school_name,level\n0101,Oak Elementary,elementary\n0102,Elm Middle,middle\n"
STUDENTS = (
    "student_id,school_id,school_year,grade,sex,race_ethnicity,english_learner,first_name,last_name,birth_date\n"
    "000123,0101,2025-26,3,F,Asian,N,Ada,Quill,2016-04-01\n"
    "000124,0101,2025-26,3,M,White,Y,Bo,Reed,2016-05-02\n"
    "000125,0102,2025-26,7,F,Black,N,Cy,Vale,2012-06-03\n"
)
ASSESSMENTS = (
    "student_id,school_id,school_year,term,subject,grade,scale_score,performance_level,proficient\n"
    "000123,0101,2025-26,Fall,ELA,3,455,,\n"
    "000124,0101,2025-26,Fall,ELA,3,390,,\n"
    "000125,0102,2025-26,Spring,Math,7,,4,\n"
)
CUT_SCORES = (
    "subject,grade,level,min_score\nELA,3,1,0\nELA,3,2,400\nELA,3,3,450\nELA,3,4,500\nELA,3,5,550\n"
)


def write_district(folder: Path, **tables: str) -> Path:
    """Write a minimal valid district to ``folder``; keyword tables replace or add files.

    A value of ``None`` leaves that table out.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "schools.csv": SCHOOLS,
        "students.csv": STUDENTS,
        "assessments.csv": ASSESSMENTS,
        "cut_scores.csv": CUT_SCORES,
    }
    files.update({name if "." in name else f"{name}.csv": text for name, text in tables.items()})
    for name, text in files.items():
        if text is not None:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def tiny_district(tmp_path: Path) -> Path:
    return write_district(tmp_path / "district")
