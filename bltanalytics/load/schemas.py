"""Declared shapes of the cleaned tables, checked with pandera where cleaning hands them on.

The shapes are built from the contract declaration (:mod:`bltanalytics.contract`), so a column
is declared once: its kind gives its dtype and, for coded columns, the canonical values it may
hold. A cleaned table that breaks its shape is a bug in this package, never bad input (bad input
is quarantined before this point), so the error says so.

>>> sorted(CLEAN_SCHEMAS["assessments"].columns)[:4]
['grade', 'performance_level', 'proficient', 'scale_score']
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pandera.pandas as pa

from bltanalytics.errors import BUG_NOTICE, Failure, PackageBug
from bltanalytics.load.contract import DATED, STUDENT_PRIVATE_COLUMNS, TABLES, Column
from bltanalytics.load.normalize import NOT_REPORTED
from bltanalytics.load.quarantine import WITHHELD
from bltanalytics.load.vocabulary import canonical_values

GRADES = ["PK", "K", *[str(g) for g in range(1, 13)]]
_DTYPE = {
    "flag": "boolean",
    "survey_item": "boolean",
    "integer": "Int64",
    "number": "float64",
    "date": "datetime64[us]",
}
SCHOOL_YEAR_PATTERN = r"^\d{4}-\d{2}$"


def _checks(column: Column) -> list[pa.Check]:
    if column.kind == "grade":
        return [pa.Check.isin(GRADES)]
    if column.kind == "school_year":
        return [pa.Check.str_matches(SCHOOL_YEAR_PATTERN)]
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
    year = pa.Column("str", pa.Check.str_matches(SCHOOL_YEAR_PATTERN), nullable=True)
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


def sample_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """:data:`SAMPLE_ROWS` rows in :data:`SAMPLE_RUNS` runs of consecutive rows, spread at
    random over the table (seeded, so a run is repeatable); a smaller table whole. Cheaper
    than a random row sample (pandera's draws a permutation of every row, then gathers rows
    one by one) while still reaching every part of a table sorted by school. Rows keep their
    index labels, so a failure in the sample names its row in the table.

    >>> len(sample_rows(pd.DataFrame({"x": range(10)})))
    10
    """
    if len(frame) <= SAMPLE_ROWS:
        return frame
    size = SAMPLE_ROWS // SAMPLE_RUNS
    starts = np.random.default_rng(0).integers(0, len(frame) - size, SAMPLE_RUNS)
    return pd.concat([frame.iloc[s : s + size] for s in np.sort(starts)])


#: pandera's names of the structural checks, in words (their failure case is the column name)
_STRUCTURE = {
    "column_in_dataframe": "this column, which is missing",
    "column_in_schema": "no such column (it is not in the declared shape)",
    "column_ordered": "the declared column order",
}


def shape_failures(
    schema: pa.DataFrameSchema,
    frame: pd.DataFrame,
    table: str,
    *,
    exact_dtypes: Mapping[str, object] | None = None,
    private: tuple[str, ...] = (),
) -> list[Failure]:
    """Every way ``frame`` breaks ``schema``, as :class:`~bltanalytics.errors.Failure`\\ s
    (empty: none). Validation is lazy (every problem, not the first), dtypes and columns are
    checked on the whole table, and the value checks on :func:`sample_rows` of it.

    ``exact_dtypes``: each column's dtype (or a tuple of the dtypes allowed), which it must
    have exactly (pandera accepts any
    text dtype, ``object`` included, for ``str``, and its own dtype check reads every value of
    a text column); the schema is then used for its columns and values only. ``private``:
    columns whose values are withheld from the failures (student identifiers), the row still
    given. Rows are 1-based data rows of the table; a cross-column rule (``dataframe_check``)
    named ``"column: words"`` fails once per row, under that column.

    >>> schema = pa.DataFrameSchema({"n": pa.Column("int64", pa.Check.ge(0))}, name="t")
    >>> [f.describe() for f in shape_failures(schema, pd.DataFrame({"n": [1, -2]}), "t")]
    ['column n, row 2: -2 (expected greater_than_or_equal_to(0))']
    """
    default_index = isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0
    if not (default_index and frame.index.step == 1):
        frame = frame.reset_index(drop=True)  # rows are positions (no data is copied)
    found: list[Failure] = []
    for name, wanted in (exact_dtypes or {}).items():
        allowed = wanted if isinstance(wanted, tuple) else (wanted,)
        if name in frame.columns and not any(frame[name].dtype == d for d in allowed):
            expected = " or ".join(str(d) for d in allowed)
            found.append(Failure(table, name, None, str(frame[name].dtype), f"dtype {expected}"))
    try:
        schema.validate(sample_rows(frame), lazy=True)
    except pa.errors.SchemaErrors as exc:
        found += _failures(exc.failure_cases, table, schema, exact_dtypes is not None, private)
    return found


def _failures(
    cases: pd.DataFrame,
    table: str,
    schema: pa.DataFrameSchema,
    exact_dtypes: bool,
    private: tuple[str, ...],
) -> list[Failure]:
    rules = {c.name: c.name.split(":", 1)[0] for c in schema.checks if c.name and ":" in c.name}
    out: list[Failure] = []
    seen: set[tuple] = set()
    for case in cases.head(100_000).itertuples(index=False):
        check, column, value = str(case.check), case.column, case.failure_case
        row = None if pd.isna(case.index) else int(case.index) + 1
        if check in _STRUCTURE:
            out.append(Failure(table, str(value), None, None, _STRUCTURE[check]))
            continue
        if check.startswith("dtype(") and exact_dtypes:
            continue  # reported by the exact comparison
        if check in rules:
            if column != rules[check]:
                continue  # pandera repeats a row rule's failure for every column
            check = check.split(":", 1)[1].strip()
        if (table, column, row, check) in seen:
            continue
        seen.add((table, column, row, check))
        if isinstance(value, np.generic):
            value = value.item()
        if check == "not_nullable":
            value, check = None, "a value, found it empty"
        elif column in private:
            value = WITHHELD
        elif value is None or value is pd.NA or (isinstance(value, float) and value != value):
            value = None
        elif not isinstance(value, str | int | float | bool):
            value = str(value)
        out.append(Failure(table, None if column is None else str(column), row, value, check))
    return sorted(out, key=lambda f: (f.row is not None, f.row or 0, str(f.column)))


def failure_lines(failures: list[Failure], limit: int = 10) -> str:
    """The first ``limit`` failures, one indented line each, and how many more there are.

    >>> print(failure_lines([Failure("t", "n", 2, -2, ">= 0")] * 3, limit=2))
      column n, row 2: -2 (expected >= 0)
      column n, row 2: -2 (expected >= 0)
      ... and 1 more
    """
    lines = [f"  {f.describe()}" for f in failures[:limit]]
    if len(failures) > limit:
        lines.append(f"  ... and {len(failures) - limit} more")
    return "\n".join(lines)


def check_shape(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a cleaned table against its declared shape; return it unchanged.

    Bad input never reaches this point (cleaning quarantines it), so a failure is a bug here,
    raised as :class:`~bltanalytics.errors.PackageBug` with the table, column, row and value
    (student identifiers withheld); on large tables the value checks use a sample of
    :data:`SAMPLE_ROWS` rows to stay cheap.

    >>> check_shape("team_members", pd.DataFrame({"source_row": [1], "team_id": ["T1"],
    ...                                          "staff_id": ["S1"]})).shape
    (1, 3)
    """
    failures = shape_failures(CLEAN_SCHEMAS[name], frame, name, private=STUDENT_PRIVATE_COLUMNS)
    if failures:
        raise PackageBug(
            f"the cleaned {name} table does not have its declared shape; {BUG_NOTICE}:\n"
            f"{failure_lines(failures)}",
            failures,
        )
    return frame  # the very frame (pandera returns a copy): its columns stay the same
