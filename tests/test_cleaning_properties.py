"""Property tests: whatever rows are thrown at cleaning, every row is accounted for, and
cleaning what cleaning produced changes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bltanalytics.load.cleaning import References, clean_table
from bltanalytics.load.contract import TABLES

MESSY = {
    "id": ["0101", "0102", " 0101", "000123", "42", "", "x y"],
    "text": ["Oak", "José", "", "  spaced  "],
    "school_year": ["2025-26", "2025-2026", "2026", "2024-25", "20xx", ""],
    "grade": ["K", "KG", "03", "Grade 3", "3rd", "12", "13", "PK", ""],
    "enum": [
        "Fall",
        "BOY",
        "eoy",
        "Winter",
        "ELA",
        "Reading",
        "Math",
        "teacher",
        "Coach",
        "TBT",
        "blt",
        "workshop",
        "Micro PD",
        "elementary",
        "nonsense",
        "",
    ],
    "demographic": ["F", "Female", "m", "X", "Hispanic", "WH7", "Martian", ""],
    "demographic_flag": ["Y", "No", "1", "0", "maybe", ""],
    "flag": ["Y", "n", "True", "f", "1", "maybe", ""],
    "integer": ["1", "3", "5", "3.0", "2.5", "99", "-1", "x", ""],
    "number": ["0", "12.5", "450", "85%", "1,200", "-3", "abc", ""],
    "date": ["2025-09-15", "09/15/2025", "2026-06-30", "2026-07-01", "13/13/2025", ""],
    "survey_window": ["2025-26 Fall", "Spring 2026", "2024-25 Winter", "whenever", ""],
    "survey_item": ["4", "3", "2", "1", "Agree", "Strongly disagree", "Yes", "5", "maybe", ""],
}


@st.composite
def raw_tables(draw, name):
    spec = TABLES[name]
    n = draw(st.integers(min_value=0, max_value=25))
    data = {c.name: [draw(st.sampled_from(MESSY[c.kind])) for _ in range(n)] for c in spec.columns}
    frame = pd.DataFrame({k: pd.Series(v, dtype="str").replace("", pd.NA) for k, v in data.items()})
    frame.insert(0, "source_row", np.arange(1, n + 1, dtype=np.int64))
    return frame


REFS = References(
    school_ids=pd.Index(["0101", "0102"]),
    teams=pd.DataFrame({"team_id": ["0101", "42"], "school_id": ["0101", "0102"]}),
    cycle_ids=pd.Index(["0101"]),
    staff_ids=pd.Index(["0101", "42"]),
    cut_scores=pd.DataFrame(
        {
            "subject": ["ELA", "ELA"],
            "grade": ["3", "3"],
            "level": pd.array([1, 3], dtype="Int64"),
            "min_score": [0.0, 400.0],
            "school_year": pd.Series([None, None], dtype="str"),
        }
    ),
)
TABLE_NAMES = st.sampled_from(sorted(TABLES))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def as_raw_text(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A cleaned table written back out as an export would hold it (text cells)."""
    out = {"source_row": frame["source_row"].to_numpy()}
    for column in TABLES[name].columns:
        values = frame[column.name]
        if column.kind == "date":
            text = values.dt.strftime("%Y-%m-%d")
        else:
            text = values.astype("object").map(lambda v: None if pd.isna(v) else str(v))
        out[column.name] = pd.Series(text, dtype="str")
    return pd.DataFrame(out)


@SETTINGS
@given(data=st.data(), name=TABLE_NAMES)
def test_every_row_is_used_or_dropped(data, name):
    frame = data.draw(raw_tables(name))
    result = clean_table(name, frame, references=REFS)
    dropped = result.issues.loc[result.issues["action"] == "row_dropped", "source_row"]
    assert result.rows_read == len(frame) == len(result.frame) + result.rows_dropped
    assert dropped.is_unique  # one reason per dropped row
    assert set(dropped).isdisjoint(result.frame["source_row"])
    assert set(dropped) | set(result.frame["source_row"]) == set(frame["source_row"])


@SETTINGS
@given(data=st.data(), name=TABLE_NAMES)
def test_cleaning_is_idempotent(data, name):
    frame = data.draw(raw_tables(name))
    once = clean_table(name, frame, references=REFS)
    twice = clean_table(name, as_raw_text(once.frame, name), references=REFS)
    assert twice.rows_dropped == 0
    assert twice.values_blanked == 0
    pd.testing.assert_frame_equal(once.frame, twice.frame)
