"""Declared shapes of the cleaned tables, checked with pandera where cleaning hands them on.

The shapes are built from the contract declaration (:mod:`bltanalytics.contract`), so a column
is declared once: its kind gives its dtype and, for coded columns, the canonical values it may
hold. A cleaned table that breaks its shape is a bug in this package, never bad input (bad input
is quarantined before this point), so the error says so.

>>> sorted(CLEAN_SCHEMAS["assessments"].columns)[:4]
['grade', 'performance_level', 'proficient', 'scale_score']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from bltanalytics.errors import BltError
from bltanalytics.load.contract import DATED, TABLES, Column
from bltanalytics.load.normalize import NOT_REPORTED
from bltanalytics.load.vocabulary import canonical_values

GRADES = ["PK", "K", *[str(g) for g in range(1, 13)]]
_DTYPE = {
    "flag": "boolean",
    "survey_item": "boolean",
    "integer": "Int64",
    "number": "float64",
    "date": "datetime64[us]",
}
_SCHOOL_YEAR_PATTERN = r"^\d{4}-\d{2}$"


def _checks(column: Column) -> list[pa.Check]:
    if column.kind == "grade":
        return [pa.Check.isin(GRADES)]
    if column.kind == "school_year":
        return [pa.Check.str_matches(_SCHOOL_YEAR_PATTERN)]
    if column.kind == "enum":
        return [pa.Check.isin(canonical_values(column.vocabulary))]
    if column.kind == "demographic":
        return [pa.Check.isin([*canonical_values(column.vocabulary), NOT_REPORTED])]
    if column.kind == "demographic_flag":
        return [pa.Check.isin(["Yes", "No", NOT_REPORTED])]
    checks = []
    if column.low is not None:
        checks.append(pa.Check.ge(column.low))
    if column.high is not None:
        checks.append(pa.Check.le(column.high))
    return checks


def _schema(name: str) -> pa.DataFrameSchema:
    spec = TABLES[name]
    columns = {"source_row": pa.Column("int64", pa.Check.ge(1))}
    for column in spec.columns:
        nullable = not column.required and column.kind not in ("demographic", "demographic_flag")
        if name == "assessments" and column.name == "proficient":
            nullable = False  # unscorable rows are dropped
        columns[column.name] = pa.Column(
            _DTYPE.get(column.kind, "str"), _checks(column), nullable=nullable
        )
    year = pa.Column("str", pa.Check.str_matches(_SCHOOL_YEAR_PATTERN), nullable=True)
    if name in DATED or name in ("team_cycles", "staff_survey"):
        columns["school_year"] = year
    if name in ("team_meetings", "team_cycles", "fidelity_checks"):
        columns["school_id"] = pa.Column("str", nullable=True)
    if name == "staff_survey":
        columns["window_term"] = pa.Column("str", pa.Check.isin(canonical_values("term")))
    if name == "staff":
        columns["instructional"] = pa.Column("boolean", nullable=False)
    return pa.DataFrameSchema(columns, strict=True, name=f"clean {name}")


CLEAN_SCHEMAS: dict[str, pa.DataFrameSchema] = {name: _schema(name) for name in TABLES}


#: above this many rows, value checks run on a random sample (dtypes are always checked in full)
SAMPLE_ROWS = 200_000


#: the sample is this many runs of consecutive rows at random places (slices cost no copy)
SAMPLE_RUNS = 8


def _sample(frame: pd.DataFrame) -> pd.DataFrame:
    """:data:`SAMPLE_ROWS` rows in :data:`SAMPLE_RUNS` runs of consecutive rows, spread at
    random over the table (seeded, so a run is repeatable). Cheaper than a random row sample
    (pandera's draws a permutation of every row, then gathers rows one by one) while still
    reaching every part of a table sorted by school."""
    size = SAMPLE_ROWS // SAMPLE_RUNS
    starts = np.random.default_rng(0).integers(0, len(frame) - size, SAMPLE_RUNS)
    return pd.concat([frame.iloc[s : s + size] for s in np.sort(starts)])


def check_shape(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a cleaned table against its declared shape; return it unchanged.

    Bad input never reaches this point (cleaning quarantines it), so a failure is a bug here;
    on large tables the value checks use a sample of :data:`SAMPLE_ROWS` rows to stay cheap.

    >>> check_shape("team_members", pd.DataFrame({"source_row": [1], "team_id": ["T1"],
    ...                                          "staff_id": ["S1"]})).shape
    (1, 3)
    """
    try:
        if len(frame) > SAMPLE_ROWS:
            CLEAN_SCHEMAS[name].validate(_sample(frame), lazy=True)
            return frame
        CLEAN_SCHEMAS[name].validate(frame, lazy=True)
        return frame  # the very frame (pandera returns a copy): its columns stay the same
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases[["column", "check", "failure_case"]].head(10)
        raise BltError(
            f"internal error: the cleaned {name} table does not have its declared shape "
            f"(please report this with the table):\n{cases.to_string(index=False)}"
        ) from None
