"""Change in percent proficient: Fall to Spring, and year over year.

Built from the *published* achievement table (after suppression), so a trend can never reveal
more than the figures it compares. For every school, subject, grade, dimension and group:

- ``fall_to_spring``: Fall to Spring of the same school year;
- ``year_over_year``: the same term of two consecutive school years (``2024-25`` to ``2025-26``).

A comparison appears when the group has a row at both ends (it was tested both times).
``change_pp`` (to minus from, percentage points) is empty when either end is hidden, and the
hidden end's percentage is empty too; the other end keeps its published percentage. An end is
hidden when it is suppressed, or when it is top/bottom-coded (``≥95%``, ``≤5%``): the export
does not publish its exact figure, so no change may be computed from it. ``from_display`` and
``to_display`` show each end as the achievement table does (``*``, ``≥95%``, ``63%``).

>>> import pandas as pd
>>> a = pd.DataFrame({"school_id": "0101", "school_year": "2025-26", "term": ["Fall", "Spring"],
...     "subject": "Math", "grade": "3", "dimension": "all", "group": "All Students",
...     "pct_proficient": [40.0, 55.0], "suppressed": False})
>>> trends(a)[["comparison", "from_term", "to_term", "from_pct", "to_pct", "change_pp"]]
       comparison from_term to_term  from_pct  to_pct  change_pp
0  fall_to_spring      Fall  Spring      40.0    55.0       15.0
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.metrics.achievement import TERM_ORDER
from bltanalytics.metrics.codes import compact, encode, strings
from bltanalytics.metrics.shapes import Trends, columns
from bltanalytics.metrics.suppression import display_labels

#: Columns of ``trends.csv``, in order: from its shape (:mod:`bltanalytics.metrics.shapes`).
TREND_COLUMNS: list[str] = columns(Trends)

#: ``comparison`` values, in output order.
COMPARISONS: tuple[str, ...] = ("fall_to_spring", "year_over_year")

_SERIES = ("school_id", "subject", "grade", "dimension", "group")
_NEEDS = (*_SERIES, "school_year", "term", "pct_proficient", "suppressed")
_YEAR = re.compile(r"^(\d{4})-\d{2}$")
# Key spaces up to this size (or _DENSE_FACTOR x the rows) use a lookup array, else a hash index.
_DENSE_LIMIT = 1 << 24
_DENSE_FACTOR = 4


def trends(achievement: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    """Fall-to-Spring and year-over-year change of every group's percent proficient.

    ``achievement`` is the output of :func:`bltanalytics.metrics.achievement.achievement` (or the
    same
    columns re-read from ``achievement.csv``). Returns :data:`TREND_COLUMNS`, one row per
    comparison whose two ends both exist, ordered like the input's groups, then by comparison,
    from_year and from_term. ``from_pct``/``to_pct`` are empty where that end is hidden
    (suppressed, or coded at ``config.top_code``/``bottom_code``) and ``change_pp`` where either
    is: a change is never computed from a figure the export does not show exactly.

    >>> import pandas as pd
    >>> a = pd.DataFrame({"school_id": "0101", "school_year": "2025-26",
    ...     "term": ["Fall", "Spring"], "subject": "Math", "grade": "3", "dimension": "all",
    ...     "group": "All Students", "pct_proficient": [60.0, 97.5], "suppressed": False})
    >>> trends(a)[["from_pct", "to_pct", "change_pp", "from_display", "to_display"]]
       from_pct  to_pct  change_pp from_display to_display
    0      60.0     NaN        NaN          60%       ≥95%

    >>> import pandas as pd
    >>> a = pd.DataFrame({"school_id": "0101", "school_year": ["2024-25", "2025-26"],
    ...     "term": "Spring", "subject": "ELA", "grade": "All", "dimension": "sex",
    ...     "group": "F", "pct_proficient": [float("nan"), 62.5], "suppressed": [True, False]})
    >>> trends(a)[["comparison", "from_year", "to_year", "from_pct", "to_pct", "change_pp"]]
           comparison from_year  to_year  from_pct  to_pct  change_pp
    0  year_over_year   2024-25  2025-26       NaN    62.5        NaN
    """
    missing = [c for c in _NEEDS if c not in achievement.columns]
    if missing:
        raise BltError(
            f"trends() needs the achievement column(s) {', '.join(missing)}; "
            f"the table has {', '.join(map(str, achievement.columns))}"
        )
    if len(achievement) == 0:
        return _empty()

    # Integer codes: the group series (first-seen order), the year's start, the term's rank.
    series = np.zeros(len(achievement), dtype=np.int64)
    space = 1.0
    encoded = {}
    for column in _SERIES:
        codes, distinct = encoded[column] = encode(_text(achievement[column]))
        k = len(distinct) + 1
        series *= k
        series += codes.astype(np.int64) + 1  # missing (-1) is a value of its own
        space *= k
        if space > 2**40:
            series, distinct_series = compact(series, float("inf"))
            space = float(len(distinct_series))
    series = pd.factorize(series)[0].astype(np.int64)
    year_codes, years = encode(_text(achievement["school_year"]))
    if (year_codes < 0).any():
        raise BltError("achievement has rows without a school_year; trends need one on every row")
    year = np.array([_year_start(y) for y in years], dtype=np.int64)[year_codes]
    year -= year.min()
    term_codes, terms = encode(_text(achievement["term"]))
    term_rank = {t: i for i, t in enumerate(TERM_ORDER)}
    term = np.array([term_rank.get(t, -1) for t in terms] + [-1], dtype=np.int64)[term_codes]
    known_term = term >= 0

    n_terms = len(TERM_ORDER)
    n_year_slots = int(year.max()) + 2
    rows_known = np.flatnonzero(known_term)
    key = (series[rows_known] * n_year_slots + year[rows_known]) * n_terms + term[rows_known]
    space = (int(series.max()) + 1) * n_year_slots * n_terms
    dense = space <= max(_DENSE_LIMIT, _DENSE_FACTOR * len(key))
    if dense:
        slot = np.full(space + n_terms * 2 + 1, -1, dtype=np.int64)
        slot[key] = rows_known
        duplicated = np.bincount(key, minlength=1).max() > 1
    else:
        index = pd.Index(key)
        duplicated = index.has_duplicates
    if duplicated:
        raise BltError(
            "achievement has more than one row for the same school, year, term, subject, "
            "grade, dimension and group; trends need one row per group"
        )

    def partner(wanted: np.ndarray) -> np.ndarray:
        """The row holding each wanted key, or -1."""
        if dense:
            return slot[wanted]
        found = index.get_indexer(wanted)
        return np.where(found >= 0, rows_known[np.maximum(found, 0)], -1)

    # key of each known-term row, by row position, for looking up its partners.
    row_key = np.zeros(len(achievement), dtype=np.int64)
    row_key[rows_known] = key
    fall = rows_known[term[rows_known] == term_rank["Fall"]]
    spring = partner(row_key[fall] + (term_rank["Spring"] - term_rank["Fall"]))
    next_year = partner(row_key[rows_known] + n_terms)
    from_rows = np.r_[fall[spring >= 0], rows_known[next_year >= 0]]
    to_rows = np.r_[spring[spring >= 0], next_year[next_year >= 0]]
    comparison = np.r_[
        np.zeros(int((spring >= 0).sum()), dtype=np.int64),
        np.ones(int((next_year >= 0).sum()), dtype=np.int64),
    ]
    order = np.lexsort((term[from_rows], year[from_rows], comparison, series[from_rows]))
    from_rows, to_rows, comparison = from_rows[order], to_rows[order], comparison[order]

    config = config or Config()
    hidden = _as_bool(achievement["suppressed"])
    pct = np.where(hidden, np.nan, _pct(achievement))
    if "display" in achievement.columns:
        shown = _text(achievement["display"]).to_numpy(dtype=object, na_value="")
        shown = np.where(hidden, display_labels(pct[:1], np.ones(1, bool))[0], shown)
    else:
        shown = display_labels(
            pct, hidden, top_code=config.top_code, bottom_code=config.bottom_code
        ).to_numpy(dtype=object)
    codes = (f"≥{config.top_code:g}%", f"≤{config.bottom_code:g}%")
    with np.errstate(invalid="ignore"):
        coded = np.isin(shown, codes) | (pct >= config.top_code) | (pct <= config.bottom_code)
    published = np.where(coded, np.nan, pct)
    from_pct, to_pct = published[from_rows], published[to_rows]
    # text columns taken from each column's few distinct values (cheaper than from its rows)
    out = {c: strings(encoded[c][1], encoded[c][0][from_rows]) for c in _SERIES}
    out["comparison"] = strings(np.array(COMPARISONS), comparison)
    out["from_year"] = strings(years, year_codes[from_rows])
    out["from_term"] = strings(terms, term_codes[from_rows])
    out["to_year"] = strings(years, year_codes[to_rows])
    out["to_term"] = strings(terms, term_codes[to_rows])
    out["from_pct"] = from_pct
    out["to_pct"] = to_pct
    out["change_pp"] = to_pct - from_pct
    out["from_display"] = pd.Series(shown[from_rows], dtype="str").array
    out["to_display"] = pd.Series(shown[to_rows], dtype="str").array
    return pd.DataFrame(out)[TREND_COLUMNS]


def _text(values: pd.Series) -> pd.Series:
    return values if pd.api.types.is_string_dtype(values.dtype) else values.astype("str")


def _year_start(school_year: str) -> int:
    match = _YEAR.match(str(school_year))
    if not match:
        raise BltError(
            f"school_year {school_year!r} is not canonical (expected like '2025-26'); "
            "pass the achievement table computed from cleaned data"
        )
    return int(match.group(1))


def _as_bool(values: pd.Series) -> np.ndarray:
    """``suppressed`` as numpy bool, whether bool already or re-read text (``true``/``False``)."""
    if pd.api.types.is_bool_dtype(values.dtype) and not values.isna().any():
        return values.to_numpy(dtype=bool)
    text = values.astype("str").str.strip().str.lower()
    known = text.isin(["true", "false", "1", "0"])
    if not known.all():
        raise BltError(
            f"suppressed must be true or false, found {values[~known].iloc[0]!r}; "
            "a row whose suppression is unknown cannot be published"
        )
    return text.isin(["true", "1"]).to_numpy()


def _pct(achievement: pd.DataFrame) -> np.ndarray:
    return pd.to_numeric(achievement["pct_proficient"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )


def _empty() -> pd.DataFrame:
    numeric = {"from_pct", "to_pct", "change_pp"}  # the rest are text
    return pd.DataFrame(
        {c: pd.Series([], dtype="float64" if c in numeric else "str") for c in TREND_COLUMNS}
    )
