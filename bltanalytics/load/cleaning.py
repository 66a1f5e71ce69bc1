"""Normalize one raw table to its cleaned shape, accounting for every row.

Each contract column has a *kind* (see :mod:`bltanalytics.contract`); its normalizer runs once
per **distinct** raw value (``pd.factorize``), never once per row, so a column of 8,000,000
assessment rows with a few dozen distinct spellings costs a few dozen Python calls.

Every row ends up in exactly one place:

* used (returned in :attr:`CleanResult.frame`), possibly with optional values blanked, each
  blank recorded (``value_blanked``) in :attr:`CleanResult.issues`;
* dropped (``row_dropped``) with one reason: ``missing_required``, ``bad_value``,
  ``out_of_range``, ``unknown_school`` / ``unknown_team`` / ``unknown_cycle`` /
  ``unknown_staff``, ``unscorable``, ``duplicate``.

so ``rows_read == len(frame) + rows_dropped`` always holds.

>>> import pandas as pd
>>> raw = pd.DataFrame({"source_row": [1, 2], "school_id": [" 0101", ""],
...                     "school_name": ["Oak", "Elm"], "level": ["ES", "Middle"]})
>>> result = clean_table("schools", raw)
>>> result.frame[["school_id", "level"]].to_dict("records")
[{'school_id': '0101', 'level': 'elementary'}]
>>> result.issues[["source_row", "reason", "column"]].to_dict("records")
[{'source_row': 2, 'reason': 'missing_required', 'column': 'school_id'}]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bltanalytics.contract import (
    DATED,
    STUDENT_PRIVATE_COLUMNS,
    SURVEY_ITEMS,
    TABLES,
    Column,
    TableSpec,
)
from bltanalytics.errors import DistrictFolderError
from bltanalytics.mapping import Mapping
from bltanalytics.vocabulary import lookup, match_key

# status of a normalized value
OK, BLANK, BAD, RANGE, UNKNOWN = 0, 1, 2, 3, 4
_REASON = {BAD: "bad_value", RANGE: "out_of_range", UNKNOWN: "bad_value"}
NOT_REPORTED = "Not reported"
WITHHELD = "(withheld: student identifier)"
QUARANTINE_COLUMNS = [
    "table",
    "file",
    "source_row",
    "action",
    "reason",
    "column",
    "value",
    "school_id",
]
_REFERENCE_REASON = {
    "schools": "unknown_school",
    "teams": "unknown_team",
    "team_cycles": "unknown_cycle",
    "staff": "unknown_staff",
    "rubric": "unknown_indicator",
}
INSTRUCTIONAL_ROLES = ("teacher", "coach", "specialist")


@dataclass(frozen=True, eq=False)
class ColumnCodes:
    """Integer codes of one cleaned column: ``distinct[codes[i]]`` is row i's value (-1: missing).

    Cleaning encodes key columns anyway (to find duplicates); handing the codes on spares the
    metrics layer hashing the same millions of ids again. ``source`` is the column's array the
    codes describe: :meth:`of` gives the codes only for a series still backed by it, so a
    table changed after cleaning is never read through stale codes.
    """

    codes: np.ndarray
    distinct: np.ndarray
    source: object = field(repr=False)

    def of(self, values: pd.Series) -> ColumnCodes | None:
        """These codes if ``values`` is the very column they were made from, else None."""
        return self if values.array is self.source and len(values) == len(self.codes) else None


@dataclass
class CleanResult:
    """A cleaned table and the record of what happened to every input row."""

    table: str
    file: str
    frame: pd.DataFrame
    issues: pd.DataFrame
    rows_read: int
    unrecognised: pd.DataFrame  # column, value, count: raw values no vocabulary or mapping knew
    ignored_columns: list[str] = field(default_factory=list)
    codes: dict[str, ColumnCodes] = field(default_factory=dict, repr=False)

    @property
    def rows_dropped(self) -> int:
        return int((self.issues["action"] == "row_dropped").sum())

    @property
    def values_blanked(self) -> int:
        return int((self.issues["action"] == "value_blanked").sum())


@dataclass
class References:
    """Cleaned tables that other tables point at (filled in as the district loads)."""

    school_ids: pd.Index | None = None
    teams: pd.DataFrame | None = None  # team_id, school_id
    cycle_ids: pd.Index | None = None
    staff_ids: pd.Index | None = None
    cut_scores: pd.DataFrame | None = None
    rated_indicators: pd.Index | None = None  # ids a BLT may rate (from the rubric spec)

    def ids(self, table: str) -> pd.Index | None:
        if table == "schools":
            return self.school_ids
        if table == "teams":
            return None if self.teams is None else pd.Index(self.teams["team_id"])
        if table == "team_cycles":
            return self.cycle_ids
        if table == "staff":
            return self.staff_ids
        if table == "rubric":
            return self.rated_indicators
        raise KeyError(table)


# --------------------------------------------------------------------------- normalizers
# Each takes the distinct raw values (stripped, non-blank) of one column and returns
# (values, statuses) aligned with them. Values are Python objects; the column's dtype is
# applied afterwards.

_SCHOOL_YEAR = re.compile(r"^(?:sy\s*)?(\d{4})(?:\s*[-/\u2013]\s*(\d{4}|\d{2}))?(?:\s*sy)?$", re.I)
_GRADE_WORDS = re.compile(r"\b(grade|grd|gr)\b")
_GRADE_NUMBER = re.compile(r"^0*(\d{1,2})(st|nd|rd|th)?$")
_KINDERGARTEN = {"k", "kg", "0k", "00", "0", "kindergarten", "kinder", "kdg", "ki"}
_PRE_K = {"pk", "pre k", "prek", "pre kindergarten", "prekindergarten", "pre kinder", "p"}
_NUMBER_JUNK = re.compile(r"[,%\s]")


def school_year_text(value: str):
    """``'2025-2026'``, ``'2026'``, ``'SY2025-26'`` -> ``'2025-26'``; None when not a year.

    >>> [school_year_text(v) for v in ["2025-26", "2025-2026", "2026", "2025-27"]]
    ['2025-26', '2025-26', '2025-26', None]
    """
    m = _SCHOOL_YEAR.match(value.strip())
    if not m:
        return None
    first, second = int(m.group(1)), m.group(2)
    if second is None:
        start = first - 1  # a single year names the spring the school year ends in
    else:
        end = int(second)
        start = first
        if (len(second) == 2 and end != (first + 1) % 100) or (
            len(second) == 4 and end != first + 1
        ):
            return None
    if not 1900 <= start <= 2200:
        return None
    return f"{start}-{(start + 1) % 100:02d}"


def grade_text(value: str):
    """Canonical grade (``PK``, ``K``, ``1``..``12``) or None.

    >>> [grade_text(v) for v in ["KG", "03", "Grade 3", "3rd", "12th grade", "13"]]
    ['K', '3', '3', '3', '12', None]
    """
    key = _GRADE_WORDS.sub(" ", match_key(value)).strip()
    key = " ".join(key.split())
    if key in _KINDERGARTEN:
        return "K"
    if key in _PRE_K:
        return "PK"
    m = _GRADE_NUMBER.match(key.replace(" ", ""))
    if m and 1 <= int(m.group(1)) <= 12:
        return str(int(m.group(1)))
    return None


def _translate(values: list[str], value_map: dict[str, str]) -> list[str]:
    if not value_map:
        return values
    return [value_map.get(match_key(v), v) for v in values]


def _by_function(fn: Callable[[str], object]):
    def normalize(values, column, value_map):
        out = [fn(v) for v in _translate(values, value_map)]
        return out, [OK if v is not None else BAD for v in out]

    return normalize


def _norm_vocabulary(values, column: Column, value_map):
    table = lookup(column.vocabulary)
    out = [table.get(match_key(v)) for v in _translate(values, value_map)]
    return out, [OK if v is not None else UNKNOWN for v in out]


_NOT_REPORTED_KEYS = {
    match_key(v)
    for v in (
        NOT_REPORTED,
        "unknown",
        "u",
        "declined",
        "decline to state",
        "not specified",
        "prefer not to say",
        "refused",
    )
}


def _norm_demographic(values, column: Column, value_map):
    out, status = _norm_vocabulary(values, column, value_map)
    said_not_reported = [match_key(v) in _NOT_REPORTED_KEYS for v in _translate(values, value_map)]
    status = [OK if said else s for s, said in zip(status, said_not_reported, strict=True)]
    return [v if v is not None else NOT_REPORTED for v in out], status


def _norm_demographic_flag(values, column, value_map):
    flags = lookup("flags")
    out, status = [], []
    for v in _translate(values, value_map):
        key = match_key(v)
        if key in flags:
            out.append("Yes" if flags[key] else "No")
            status.append(OK)
        elif key in _NOT_REPORTED_KEYS:
            out.append(NOT_REPORTED)
            status.append(OK)
        else:
            out.append(NOT_REPORTED)
            status.append(UNKNOWN)
    return out, status


def _norm_flag(values, column, value_map):
    flags = lookup("flags")
    out = [flags.get(match_key(v)) for v in _translate(values, value_map)]
    return out, [OK if v is not None else BAD for v in out]


def _norm_survey_item(values, column, value_map):
    answers = lookup("survey_answers")
    out, status = [], []
    for v in _translate(values, value_map):
        key = match_key(v)
        if key in answers:
            out.append(answers[key])
            status.append(OK)
            continue
        number = pd.to_numeric(key.replace(" ", "."), errors="coerce")
        if pd.notna(number) and float(number).is_integer() and 1 <= number <= 4:
            out.append(number >= 3)
            status.append(OK)
        else:
            out.append(None)
            status.append(RANGE if pd.notna(number) else BAD)
    return out, status


def _numbers(values, value_map) -> pd.Series:
    text = pd.Series(_translate(values, value_map), dtype="str").str.replace(
        _NUMBER_JUNK, "", regex=True
    )
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _range_status(numbers: pd.Series, column: Column) -> np.ndarray:
    status = np.where(numbers.notna() & np.isfinite(numbers), OK, BAD)
    if column.low is not None:
        status = np.where((status == OK) & (numbers < column.low), RANGE, status)
    if column.high is not None:
        status = np.where((status == OK) & (numbers > column.high), RANGE, status)
    return status


def _norm_number(values, column, value_map):
    numbers = _numbers(values, value_map)
    return numbers.to_numpy(), _range_status(numbers, column)


def _norm_integer(values, column, value_map):
    numbers = _numbers(values, value_map)
    status = _range_status(numbers, column)
    status = np.where((status == OK) & (numbers % 1 != 0), BAD, status)
    return numbers.to_numpy(), status


def _norm_date(values, column, value_map):
    text = pd.Series(_translate(values, value_map), dtype="str").str.strip()
    iso = pd.to_datetime(text, format="ISO8601", errors="coerce")
    us = pd.to_datetime(text, format="%m/%d/%Y", errors="coerce")
    us_short = pd.to_datetime(text, format="%m/%d/%y", errors="coerce")
    dates = iso.fillna(us).fillna(us_short)
    dates = dates.where((dates.dt.year >= 1900) & (dates.dt.year <= 2200))
    return dates.to_numpy(), np.where(dates.notna(), OK, BAD)


_WINDOW = re.compile(
    r"^(?P<year>(?:sy\s*)?\d{4}(?:\s*[-/\u2013]\s*\d{2,4})?)\s*(?P<term>[a-z][a-z \-]*)$"
    r"|^(?P<term2>[a-z][a-z \-]*?)\s*(?P<year2>(?:sy\s*)?\d{4}(?:\s*[-/\u2013]\s*\d{2,4})?)$",
    re.I,
)


def survey_window_parts(value: str):
    """``'2025-26 Fall'`` (or ``'Fall 2025-2026'``) -> ``('2025-26', 'Fall')``; None if unparseable.

    >>> survey_window_parts("Spring 2026")
    ('2025-26', 'Spring')
    """
    m = _WINDOW.match(value.strip())
    if not m:
        return None
    year = school_year_text(m.group("year") or m.group("year2"))
    term = lookup("term").get(match_key(m.group("term") or m.group("term2")))
    return (year, term) if year and term else None


def _norm_survey_window(values, column, value_map):
    parts = [survey_window_parts(v) for v in _translate(values, value_map)]
    out = [f"{p[0]} {p[1]}" if p else None for p in parts]
    return out, [OK if p else BAD for p in parts]


def _norm_text(values, column, value_map):
    out = _translate(values, value_map)
    return out, [OK] * len(out)


NORMALIZERS = {
    "id": _norm_text,
    "text": _norm_text,
    "school_year": _by_function(school_year_text),
    "grade": _by_function(grade_text),
    "enum": _norm_vocabulary,
    "demographic": _norm_demographic,
    "demographic_flag": _norm_demographic_flag,
    "flag": _norm_flag,
    "integer": _norm_integer,
    "number": _norm_number,
    "date": _norm_date,
    "survey_window": _norm_survey_window,
    "survey_item": _norm_survey_item,
}
_DTYPES = {
    "flag": "boolean",
    "survey_item": "boolean",
    "integer": "Int64",
    "number": "float64",
    "date": "datetime64[us]",
}
_BLANK_FILL = {"demographic": NOT_REPORTED, "demographic_flag": NOT_REPORTED}


def normalize_column(raw: pd.Series, column: Column, value_map: dict[str, str] | None = None):
    """Normalize one raw text column; return ``(values, status)`` with one status per row.

    Blank cells get status BLANK (and ``Not reported`` for demographics).

    >>> from bltanalytics.contract import TABLES
    >>> values, status = normalize_column(pd.Series(["Yes", "n", "maybe", None]),
    ...                                   TABLES["staff"].column("instructional"))
    >>> values.tolist(), status.tolist()
    ([True, False, <NA>, <NA>], [0, 0, 2, 1])
    """
    values, status, _, _ = _normalize(raw, column, value_map or {})
    return values, status


def _normalize(raw: pd.Series, column: Column, value_map: dict[str, str]):
    """:func:`normalize_column` plus the integer code of each row's normalized value and the
    distinct normalized values (``distinct[code]``).

    The codes (equal values, equal codes; blank is -1) let duplicate detection group rows
    and later layers match ids without hashing the strings again. Free-text columns take a
    fast path (trim only) and return no codes.
    """
    raw = raw.astype("str")
    dtype = _DTYPES.get(column.kind, "str")
    if column.kind == "text" and not value_map:
        values = raw.str.strip()
        blank = values.eq("").to_numpy(dtype=bool, na_value=False)
        if blank.any():
            values = values.mask(blank)
        status = np.where(values.isna().to_numpy(), BLANK, OK).astype(np.int8)
        return values, status, None, None
    codes, uniques = _text_codes(raw)
    if column.kind == "id" and not value_map:
        return _normalize_ids(raw, codes, uniques)
    texts = [u.strip() for u in uniques]
    n_uniq = len(texts)
    uniq_status = np.full(n_uniq + 1, BLANK, dtype=np.int8)  # the extra slot: blank cells
    full: list = [None] * (n_uniq + 1)
    present = [i for i, t in enumerate(texts) if t]
    if present:
        found, found_status = NORMALIZERS[column.kind](
            [texts[i] for i in present], column, value_map
        )
        for i, value, state in zip(present, list(found), list(found_status), strict=True):
            keep = state == OK or (state == UNKNOWN and column.kind in _BLANK_FILL)
            full[i] = value if keep else None
            uniq_status[i] = state
    uniq_values = (
        pd.Series(full, dtype=object).astype(dtype)
        if dtype != "str"
        else (pd.Series(full, dtype="str"))
    )
    if column.kind in _BLANK_FILL:
        uniq_values = uniq_values.fillna(_BLANK_FILL[column.kind])
    # codes of one column's distinct values are small: int32 throughout
    slot = np.where(codes < 0, np.int32(n_uniq), codes)
    if dtype == "str" and uniq_values.iloc[:n_uniq].tolist() == list(uniques):
        # already canonical (the usual case in a clean export): keep the column, fill blanks
        values = raw if column.kind not in _BLANK_FILL else raw.fillna(uniq_values.iat[n_uniq])
    else:
        # take on the array, not the Series (a Series take also copies its index), and wrap
        # it without the copy pandas' constructor makes by default
        values = pd.Series(uniq_values.array.take(slot), index=raw.index, name=raw.name, copy=False)
    value_codes, distinct = pd.factorize(uniq_values)
    return values, uniq_status[slot], value_codes.astype(np.int32)[slot], np.asarray(distinct)


def _normalize_ids(raw: pd.Series, codes: np.ndarray, uniques: list[str]):
    """Ids: trimmed, blank is missing; codes from the column's dictionary encoding."""
    trimmed = [u.strip() for u in uniques]
    status = np.where(codes < 0, np.int8(BLANK), np.int8(OK))
    if trimmed == uniques and "" not in uniques:  # the usual case: nothing to change
        return raw, status, codes, np.array(uniques, dtype=object)
    kept = pd.Series([t or None for t in trimmed] + [None], dtype="str")
    value_codes, distinct = pd.factorize(kept)  # " 0101" and "0101" become one id
    slot = np.where(codes < 0, np.int32(len(uniques)), codes)
    row_codes = value_codes.astype(np.int32)[slot]
    values = pd.Series(kept.array.take(slot), index=raw.index, name=raw.name, copy=False)
    status = np.where(row_codes < 0, np.int8(BLANK), np.int8(OK))
    return values, status, row_codes, np.asarray(distinct)


def _is_text(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.StringDtype)


def _text_codes(raw: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes (int32, -1 = missing; possibly a read-only view) and distinct values of a text
    column, in first-seen order.

    Arrow's dictionary encoding for an Arrow-backed column (no Python objects per row),
    ``pd.factorize`` otherwise.
    """
    array = raw.array
    if hasattr(array, "__arrow_array__"):
        arrow = array.__arrow_array__()
        if pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type):
            encoded = pc.dictionary_encode(arrow)
            if isinstance(encoded, pa.ChunkedArray):
                encoded = encoded.combine_chunks()  # one dictionary for every chunk
            codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
            return codes.astype(np.int32, copy=False), encoded.dictionary.to_pylist()
    codes, uniques = pd.factorize(raw)
    return codes.astype(np.int32, copy=False), uniques.tolist()


# --------------------------------------------------------------------------- helpers


def school_year_of(dates: pd.Series) -> pd.Series:
    """School year (July 1 to June 30) of each date.

    >>> school_year_of(pd.Series(pd.to_datetime(["2026-06-30", "2026-07-01"]))).tolist()
    ['2025-26', '2026-27']
    """
    start = dates.dt.year - (dates.dt.month < 7).astype("Int64")
    codes, uniques = pd.factorize(start)
    labels = pd.Series([f"{int(y)}-{(int(y) + 1) % 100:02d}" for y in uniques], dtype="str")
    out = (
        labels.take(np.where(codes < 0, 0, codes)).reset_index(drop=True)
        if len(uniques)
        else (pd.Series([pd.NA] * len(dates), dtype="str"))
    )
    out = out.where(codes >= 0).astype("str")
    out.index = dates.index
    return out


def group_codes(
    frame: pd.DataFrame, columns: list[str], known: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """One int64 code per distinct combination of ``columns`` (missing values are a value).

    ``known`` may give ready codes for some columns (from normalization; -1 = missing).
    Equal combinations get equal codes; the codes are not consecutive.

    >>> f = pd.DataFrame({"a": ["x", "y", "x"], "b": [1, 2, 1]})
    >>> codes = group_codes(f, ["a", "b"])
    >>> bool(codes[0] == codes[2]) and bool(codes[0] != codes[1])
    True
    """
    known = known or {}
    combined = np.zeros(len(frame), dtype=np.int64)
    span = 1
    for name in columns:
        if name in known:
            codes = known[name] + 1
            size = int(codes.max()) + 1 if len(codes) else 1
        else:
            codes, uniques = _text_codes(frame[name]) if _is_text(frame[name]) else (None, None)
            if codes is not None:
                codes = codes + 1  # missing (-1) becomes 0, a value of its own
            else:
                codes, uniques = pd.factorize(frame[name], use_na_sentinel=False)
            size = len(uniques) + 1
        if span * size >= 2**62:  # compress before the product could overflow
            combined, seen = pd.factorize(combined)
            combined, span = combined.astype(np.int64), len(seen)
        combined = combined * size + codes
        span *= size
    return combined


def _first_of_groups(keys: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Given rows sorted by ``order`` (keys grouped), flag the first row of each key.

    Returns ``(is_first, first_position_of_my_key)`` in the original row order.
    """
    sorted_keys = keys[order]
    first_sorted = (
        np.r_[True, sorted_keys[1:] != sorted_keys[:-1]] if len(keys) else np.array([], bool)
    )
    group_start = np.maximum.accumulate(np.where(first_sorted, np.arange(len(keys)), 0))
    is_first = np.empty(len(keys), dtype=bool)
    is_first[order] = first_sorted
    keeper = np.empty(len(keys), dtype=np.int64)
    keeper[order] = order[group_start]
    return is_first, keeper


# --------------------------------------------------------------------------- the table


class _Ledger:
    """Collects quarantine entries for one table as column arrays (cheap at any size)."""

    def __init__(self, table: str, file: str, frame: pd.DataFrame):
        self.table, self.file, self.frame = table, file, frame
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: np.ndarray, action: str, reason: str, column: str, values=None):
        if not mask.any():
            return
        rows = self.frame.loc[mask]
        if values is None:
            values = rows[column] if column in rows else pd.Series("", index=rows.index)
        if column in STUDENT_PRIVATE_COLUMNS:
            values = pd.Series(WITHHELD, index=rows.index).where(values.notna(), "")
        school = rows["school_id"] if "school_id" in rows else pd.Series(pd.NA, index=rows.index)
        self.parts.append(
            pd.DataFrame(
                {
                    "table": self.table,
                    "file": self.file,
                    "source_row": rows["source_row"].to_numpy(),
                    "action": action,
                    "reason": reason,
                    "column": column,
                    "value": pd.Series(values, index=rows.index)
                    .astype("str")
                    .fillna("")
                    .to_numpy(),
                    "school_id": school.astype("str").to_numpy(),
                }
            )
        )

    def frame_of_issues(self) -> pd.DataFrame:
        if not self.parts:
            return empty_quarantine()
        return pd.concat(self.parts, ignore_index=True).sort_values(
            ["source_row", "action"], kind="stable", ignore_index=True
        )


def empty_quarantine() -> pd.DataFrame:
    """A quarantine table with no entries (the right columns and dtypes)."""
    frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in QUARANTINE_COLUMNS})
    return frame.astype({"source_row": "int64"})


def resolve_columns(
    spec: TableSpec, headers: list[str], mapping: Mapping, file: str
) -> tuple[dict[str, str], list[str]]:
    """Map the file's headers to contract columns; return ``(raw->contract, ignored)``.

    Raises :class:`DistrictFolderError` for a missing required column or two headers that
    name one contract column.
    """
    renames = mapping.column_map(spec.name)
    by_key = {match_key(name): name for name in spec.names}
    chosen: dict[str, str] = {}
    ignored: list[str] = []
    for header in headers:
        key = match_key(header)
        target = renames.get(key) or by_key.get(key)
        if target is None:
            ignored.append(header)
            continue
        if target in chosen.values():
            other = next(h for h, t in chosen.items() if t == target)
            raise DistrictFolderError(
                f"{file}: columns {other!r} and {header!r} both give {spec.name}.{target}; "
                f"remove one, or rename one in mapping.yaml (columns: {spec.name}:)"
            )
        chosen[header] = target
    missing = [c for c in spec.required if c not in chosen.values()]
    if missing:
        found = ", ".join(repr(h) for h in headers) or "none"
        hint = "; ".join(f"'YOUR HEADER: {m}'" for m in missing)
        raise DistrictFolderError(
            f"{file} lacks required column(s) {', '.join(missing)} of table {spec.name} "
            f"(columns found: {found}). Rename the column in the file, or add to mapping.yaml "
            f"under columns: {spec.name}: a line like {hint}."
        )
    return chosen, ignored


def clean_table(
    name: str,
    raw: pd.DataFrame,
    *,
    file: str | None = None,
    mapping: Mapping | None = None,
    references: References | None = None,
) -> CleanResult:
    """Clean one raw table (text columns + ``source_row``) into its contract shape.

    ``references`` holds already-cleaned tables this one points at; a reference whose table
    is absent is not checked. See the module docstring for the row accounting.
    """
    spec = TABLES[name]
    file = file or f"{name}.csv"
    mapping = mapping or Mapping()
    references = references or References()
    headers = [c for c in raw.columns if c != "source_row"]
    chosen, ignored = resolve_columns(spec, headers, mapping, file)
    inverse = {target: header for header, target in chosen.items()}
    n = len(raw)
    index = pd.RangeIndex(n)
    raw_text = {
        c.name: (
            raw[inverse[c.name]].reset_index(drop=True)
            if c.name in inverse
            else pd.Series([pd.NA] * n, dtype="str", index=index)
        )
        for c in spec.columns
    }
    frame = pd.DataFrame({"source_row": raw["source_row"].to_numpy(dtype=np.int64)}, index=index)
    statuses: dict[str, np.ndarray] = {}
    unrecognised = []
    codes: dict[str, np.ndarray] = {}
    distinct: dict[str, np.ndarray] = {}
    for column in spec.columns:
        values, status, value_codes, value_distinct = _normalize(
            raw_text[column.name], column, mapping.value_map(column.name)
        )
        frame[column.name] = values
        statuses[column.name] = status
        if value_codes is not None:
            codes[column.name] = value_codes
            distinct[column.name] = value_distinct
        if column.kind in ("enum", "demographic", "demographic_flag", "grade", "survey_window"):
            bad = status >= BAD
            if bad.any():
                counts = raw_text[column.name][bad].str.strip().value_counts()
                unrecognised.append(
                    pd.DataFrame(
                        {
                            "table": name,
                            "column": column.name,
                            "value": counts.index,
                            "count": counts.to_numpy(),
                        }
                    )
                )
    ledger = _Ledger(name, file, frame.assign(**{k: raw_text[k] for k in raw_text}))
    dropped = np.zeros(n, dtype=bool)

    def drop(mask: np.ndarray, reason: str, column: str, values=None):
        nonlocal dropped
        mask = mask & ~dropped
        ledger.add(mask, "row_dropped", reason, column, values)
        dropped |= mask

    # required values (a column whose values all read is skipped without a pass per reason)
    unread = [c for c in spec.required if statuses[c].any()]  # OK is 0
    for reason, wanted in (
        ("missing_required", (BLANK,)),
        ("bad_value", (BAD, UNKNOWN)),
        ("out_of_range", (RANGE,)),
    ):
        for column in unread:
            drop(np.isin(statuses[column], wanted), reason, column)

    # references to other tables (the school must exist, the team must exist, ...)
    for column, table in spec.references.items():
        known = references.ids(table)
        if known is None:
            continue
        unknown = ~_is_in(frame[column], known) & frame[column].notna().to_numpy()
        drop(unknown, _REFERENCE_REASON[table], column)

    frame = _derive(name, frame, references, codes, supplied=set(chosen.values()))

    if name == "assessments":
        unscorable = frame["proficient"].isna().to_numpy()
        drop(unscorable, "unscorable", "proficient", raw_text["proficient"])

    _drop_duplicates(spec, frame, dropped, drop, codes)

    # optional values that could not be read: blank and record, keep the row
    for column in spec.columns:
        if column.required:
            continue
        status = statuses[column.name]
        if not status.any() or status.max() < BAD:
            continue
        for code in (BAD, RANGE, UNKNOWN):
            mask = (status == code) & ~dropped
            if mask.any():
                ledger.add(mask, "value_blanked", _REASON[code], column.name)

    used = frame.loc[~dropped].reset_index(drop=True) if dropped.any() else frame
    return CleanResult(
        codes=_kept_codes(spec, used, codes, distinct, None if not dropped.any() else ~dropped),
        table=name,
        file=file,
        frame=used,
        issues=ledger.frame_of_issues(),
        rows_read=n,
        unrecognised=(
            pd.concat(unrecognised, ignore_index=True)
            if unrecognised
            else pd.DataFrame(columns=["table", "column", "value", "count"])
        ),
        ignored_columns=ignored,
    )


#: columns whose codes a cleaned table hands on (what the metrics layer groups and matches by)
CODED_COLUMNS = ("student_id", "school_id", "school_year", "term", "subject", "grade")


def _kept_codes(
    spec: TableSpec,
    used: pd.DataFrame,
    codes: dict[str, np.ndarray],
    distinct: dict[str, np.ndarray],
    keep: np.ndarray | None,
) -> dict[str, ColumnCodes]:
    """The codes of the used rows of the columns later layers group by, in small dtypes."""
    if spec.name not in ("assessments", "students"):
        return {}
    out = {}
    for name in CODED_COLUMNS:
        if name not in codes:
            continue
        values = codes[name] if keep is None else codes[name][keep]
        small = np.min_scalar_type(-max(len(distinct[name]), 1))  # signed: -1 is missing
        out[name] = ColumnCodes(values.astype(small), distinct[name], used[name].array)
    return out


def _is_in(values: pd.Series, known: pd.Index) -> np.ndarray:
    """``values.isin(known)`` as a bool array, hashed by Arrow for Arrow-backed text."""
    array = values.array
    if hasattr(array, "__arrow_array__") and isinstance(values.dtype, pd.StringDtype):
        arrow = array.__arrow_array__()
        value_set = pa.array(known.astype("str").dropna().to_numpy(dtype=object), type=arrow.type)
        found = pc.is_in(arrow, value_set=value_set)
        if isinstance(found, pa.ChunkedArray):
            found = found.combine_chunks()
        return pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    return values.isin(known).to_numpy()


def _drop_duplicates(
    spec: TableSpec, frame: pd.DataFrame, dropped: np.ndarray, drop, codes: dict[str, np.ndarray]
) -> None:
    """Exact duplicates, and conflicting duplicates of the table's key, become `duplicate`."""
    columns = list(spec.key) if spec.key else list(spec.names)
    alive = np.flatnonzero(~dropped)
    if len(alive) < 2:
        return
    everyone = len(alive) == len(frame)
    keyed = frame[columns] if everyone else frame[columns].iloc[alive]
    known = {c: (v if everyone else v[alive]) for c, v in codes.items() if c in columns}
    keys = group_codes(keyed, columns, known)
    repeated = _repeated(keys)
    if repeated is None:
        return
    rows = alive[repeated]  # only rows whose key repeats need ordering
    keys = keys[repeated]
    source_row = frame["source_row"].to_numpy()[rows]
    if spec.name == "assessments":
        # keep the highest scale_score, then the highest performance_level, then the first row
        score = frame["scale_score"].to_numpy(dtype=float, na_value=-np.inf)[rows]
        level = frame["performance_level"].to_numpy(dtype=float, na_value=-np.inf)[rows]
        order = np.lexsort((source_row, -level, -score, keys))
    else:
        order = np.lexsort((source_row, keys))
    is_first, keeper = _first_of_groups(keys, order)
    mask = np.zeros(len(frame), dtype=bool)
    mask[rows[~is_first]] = True
    note = pd.Series("", index=frame.index, dtype="str")
    note.iloc[rows[~is_first]] = [f"same key as row {r}" for r in source_row[keeper[~is_first]]]
    label = "+".join(columns) if spec.key else "all columns"
    drop(mask, "duplicate", label, note)


def _repeated(keys: np.ndarray) -> np.ndarray | None:
    """True for every row whose key occurs more than once; None when no key repeats.

    Sorting the keys (a vectorized sort of plain integers) finds the repeated values; only
    when there are some is every row looked up among them. Cheaper than hashing millions of
    distinct keys.
    """
    ordered = np.sort(keys)
    again = ordered[1:][ordered[1:] == ordered[:-1]]
    if again.size == 0:
        return None
    values = np.unique(again)
    position = np.minimum(np.searchsorted(values, keys), len(values) - 1)
    return values[position] == keys


# --------------------------------------------------------------------------- derivations


def _derive(
    name: str,
    frame: pd.DataFrame,
    references: References,
    codes: dict[str, np.ndarray],
    supplied: set[str],
) -> pd.DataFrame:
    """Columns computed from others; ``supplied``: the contract columns the file had."""
    if name in DATED:
        frame = frame.assign(school_year=school_year_of(frame[DATED[name]]))
    if name in ("team_meetings", "team_cycles", "fidelity_checks"):
        frame = frame.assign(school_id=_team_school(frame["team_id"], references.teams))
    if name == "team_cycles":
        anchor = frame["start_date"].fillna(frame["end_date"])
        frame = frame.assign(school_year=school_year_of(anchor))
    if name == "staff_survey":
        window = frame["survey_window"]  # canonical: "2025-26 Fall"
        frame = frame.assign(school_year=window.str.slice(0, 7), window_term=window.str.slice(8))
    if name == "staff":
        default = frame["role"].isin(INSTRUCTIONAL_ROLES).astype("boolean")
        frame = frame.assign(instructional=frame["instructional"].fillna(default))
    if name == "pd_activities" and "completed" not in supplied:
        # no completed column at all: an activity log lists what staff took part in
        frame = frame.assign(completed=pd.array([True] * len(frame), dtype="boolean"))
    if name == "assessments":
        frame = _score(frame, references.cut_scores, codes)
    return frame


def _team_school(team_ids: pd.Series, teams: pd.DataFrame | None) -> pd.Series:
    if teams is None:
        return pd.Series(pd.NA, index=team_ids.index, dtype="str")
    lookup_ = pd.Series(teams["school_id"].to_numpy(), index=teams["team_id"].to_numpy())
    return team_ids.map(lookup_).astype("str")


def place_levels(
    frame: pd.DataFrame,
    cut_scores: pd.DataFrame | None,
    known: dict[str, np.ndarray] | None = None,
) -> pd.Series:
    """Performance level from ``cut_scores`` for each row with a scale_score.

    The level is the highest level whose ``min_score`` is at or below the score, for the
    row's subject and grade; cut scores of the row's school year win over year-less ones.
    ``known``: ready group codes of school_year, subject and grade (see :func:`group_codes`).

    >>> cuts = pd.DataFrame({"subject": ["Math"] * 3, "grade": ["3"] * 3, "level": [1, 2, 3],
    ...                      "min_score": [0.0, 400.0, 450.0], "school_year": [pd.NA] * 3})
    >>> rows = pd.DataFrame({"subject": ["Math", "Math"], "grade": ["3", "3"],
    ...                      "school_year": ["2025-26"] * 2, "scale_score": [449.0, 450.0]})
    >>> place_levels(rows, cuts).tolist()
    [2, 3]
    """
    levels = _placed_levels(frame, cut_scores, known, np.arange(len(frame)))
    return pd.Series(pd.arrays.IntegerArray(levels, levels == 0), index=frame.index)


def _placed_levels(
    frame: pd.DataFrame,
    cut_scores: pd.DataFrame | None,
    known: dict[str, np.ndarray] | None,
    rows: np.ndarray,
) -> np.ndarray:
    """:func:`place_levels` for the rows at positions ``rows``: int64 levels, 0 = no level."""
    levels = np.zeros(len(rows), dtype=np.int64)
    if cut_scores is None or cut_scores.empty or len(rows) == 0:
        return levels
    cuts = cut_scores.dropna(subset=["min_score", "level"])
    tables: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    for key, part in cuts.groupby(["school_year", "subject", "grade"], dropna=False, sort=False):
        part = part.sort_values(["min_score", "level"], kind="stable")
        year = None if pd.isna(key[0]) else key[0]
        # "highest level at or below": levels need not rise with min_score in a bad file
        top = np.maximum.accumulate(part["level"].to_numpy(dtype=np.int64))
        tables[(year, key[1], key[2])] = (part["min_score"].to_numpy(dtype=float), top)
    score = frame["scale_score"].to_numpy(dtype=float, na_value=np.nan)[rows]
    columns = ["school_year", "subject", "grade"]
    # group codes of the chosen rows only, from the normalization codes where there are some
    ready = {c: known[c][rows] for c in columns if known and c in known}
    others = pd.DataFrame(
        {c: pd.Series(frame[c].array.take(rows)) for c in columns if c not in ready},
        index=pd.RangeIndex(len(rows)),
    )
    combo, n_combos = _compact_codes(group_codes(others, columns, ready))
    small = combo.astype(np.int16 if n_combos < 2**15 else np.int64)
    order = np.argsort(small, kind="stable")  # a radix sort for 16-bit codes
    bounds = np.searchsorted(small[order], np.arange(n_combos + 1), side="left")
    first = rows[order[bounds[:-1]]]
    for i, row in enumerate(first):
        year, subject, grade = (frame[c].iat[row] for c in columns)
        table = tables.get((year, subject, grade)) or tables.get((None, subject, grade))
        if table is None:
            continue
        these = order[bounds[i] : bounds[i + 1]]
        mins, top = table
        position = np.searchsorted(mins, score[these], side="right") - 1
        placed = (position >= 0) & ~np.isnan(score[these])
        levels[these[placed]] = top[position[placed]]
    return levels


def _compact_codes(keys: np.ndarray) -> tuple[np.ndarray, int]:
    """Renumber non-negative int keys as 0..k-1 (in key order); returns (codes, k)."""
    if len(keys) == 0:
        return keys.astype(np.int64), 0
    top = int(keys.max())
    if top < 1 << 24:  # a dense table, no hashing
        seen = np.zeros(top + 1, dtype=bool)
        seen[keys] = True
        renumber = np.cumsum(seen, dtype=np.int64) - 1
        return renumber[keys], int(renumber[-1]) + 1
    codes, uniques = pd.factorize(keys, sort=True)
    return codes.astype(np.int64), len(uniques)


def _score(
    frame: pd.DataFrame, cut_scores: pd.DataFrame | None, codes: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Fill performance_level from cut scores and proficient from the level (contract §1).

    Only rows without a level but with a scale_score are placed; the columns are filled in
    numpy (nullable arrays built from values and masks, no per-row objects).
    """
    level = frame["performance_level"].array
    level_missing = level.isna()
    if level_missing.any():
        values = level.to_numpy(dtype=np.int64, na_value=0)
        need = np.flatnonzero(level_missing & frame["scale_score"].notna().to_numpy())
        values[need] = _placed_levels(frame, cut_scores, codes, need)
        level_missing = values == 0
        level = pd.arrays.IntegerArray(values, level_missing)
    proficient = frame["proficient"].array
    unknown = proficient.isna()
    if unknown.any():
        known_values = proficient.to_numpy(dtype=bool, na_value=False)
        from_level = level.to_numpy(dtype=np.int64, na_value=0) >= 3
        proficient = pd.arrays.BooleanArray(
            np.where(unknown, from_level, known_values), unknown & level_missing
        )
    return frame.assign(
        performance_level=pd.Series(level, index=frame.index),
        proficient=pd.Series(proficient, index=frame.index),
    )


__all__ = [
    "CleanResult",
    "ColumnCodes",
    "References",
    "clean_table",
    "normalize_column",
    "school_year_of",
    "grade_text",
    "school_year_text",
    "survey_window_parts",
    "place_levels",
    "group_codes",
    "empty_quarantine",
    "QUARANTINE_COLUMNS",
    "SURVEY_ITEMS",
]
