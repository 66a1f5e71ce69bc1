"""Per-kind value normalizers: one raw text column to its canonical values, with a status each.

Each contract column has a *kind* (see :mod:`bltanalytics.load.contract`); its normalizer runs
once per **distinct** raw value (``pd.factorize``), never once per row, so a column of 8,000,000
assessment rows with a few dozen distinct spellings costs a few dozen Python calls.

Every row gets a status: :data:`OK`, :data:`BLANK` (no value), :data:`BAD` (unreadable),
:data:`RANGE` (a number outside the column's bounds) or :data:`UNKNOWN` (a code no vocabulary or
mapping knew). What happens to a row with each status is decided by
:func:`~bltanalytics.load.cleaning.clean_table`; the reason it records is in
:mod:`bltanalytics.load.quarantine`.

>>> from bltanalytics.load.contract import TABLES
>>> values, status = normalize_column(pd.Series(["Grade 3", "KG", "13", None]),
...                                   TABLES["students"].column("grade"))
>>> values.fillna("(none)").tolist(), status.tolist()
(['3', 'K', '(none)', '(none)'], [0, 0, 2, 1])
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bltanalytics.load.contract import Column
from bltanalytics.load.vocabulary import lookup, match_key

#: status of a normalized value: read as is
OK = 0
#: status: the cell is blank
BLANK = 1
#: status: the value cannot be read as the column's kind
BAD = 2
#: status: a number outside the column's ``low``/``high`` bounds
RANGE = 3
#: status: a code that no vocabulary or mapping knew
UNKNOWN = 4
#: what a demographic column holds when the district did not say (blank, "unknown", "declined")
NOT_REPORTED = "Not reported"


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

    >>> from bltanalytics.load import TABLES
    >>> values, status = normalize_column(pd.Series(["Yes", "n", "maybe", None]),
    ...                                   TABLES["staff"].column("instructional"))
    >>> values.tolist(), status.tolist()
    ([True, False, <NA>, <NA>], [0, 0, 2, 1])
    """
    values, status, _, _ = normalize_with_codes(raw, column, value_map or {})
    return values, status


def normalize_with_codes(raw: pd.Series, column: Column, value_map: dict[str, str]):
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
    codes, uniques = text_codes(raw)
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


def text_codes(raw: pd.Series) -> tuple[np.ndarray, list[str]]:
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


# --------------------------------------------------------------------------- codes and years


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
            codes, uniques = text_codes(frame[name]) if _is_text(frame[name]) else (None, None)
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
