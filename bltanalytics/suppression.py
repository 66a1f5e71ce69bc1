"""Disclosure avoidance: the one function every published figure goes through.

A *group* (all students of one school, year, term, subject and grade who share one value of one
dimension, say English learners = ``Yes``) is published as a count tested, a count proficient and
a percentage. :func:`suppress` applies the data contract's rules (section 2) to a table of such
groups:

1. **min_n** -- a group with fewer than ``min_n`` students tested is suppressed.
2. **complementary** -- a *family* is the set of groups that together make up All Students (same
   school, year, term, subject, grade and dimension). If exactly one group of a family is
   suppressed for min_n while at least one other group is published, the reader could recover it
   as All Students minus the published groups. So the smallest published group of that family
   (ties broken by group name, ascending) is suppressed too, with reason ``complementary``.
   Families with two or more min_n groups need nothing more: only their sum can be recovered.
   A family with a single group (the ``all`` dimension, or a school whose students are all in
   one group) has no "others": only min_n applies to it.
3. **display** -- a published percentage at or above ``top_code`` shows as ``≥95%``, at or below
   ``bottom_code`` as ``≤5%``, otherwise as a whole number (``63%``, rounded half up, and kept
   strictly between the codes so ``94.9`` shows ``94%``, never a bare ``95%`` that could be read
   as the top code). A suppressed group shows :data:`SUPPRESSED_MARK` and its ``n_tested``,
   ``n_proficient``, ``pct_proficient`` (and ``gap_pp`` and any other listed measure) are empty.

``pct_proficient`` is ``100 * n_proficient / n_tested``, not rounded: rounding is for display.

>>> import pandas as pd
>>> t = pd.DataFrame({"family": ["a", "a", "a"], "group": ["F", "M", "X"],
...                   "n_tested": [40, 30, 3], "n_proficient": [20, 29, 1]})
>>> out = suppress(t, family=["family"])
>>> out[["group", "n_tested", "suppression_reason", "display"]]
  group  n_tested suppression_reason display
0     F        40                NaN     50%
1     M      <NA>      complementary       *
2     X      <NA>              min_n       *
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from bltanalytics.config import Config
from bltanalytics.errors import BltError

_DEFAULTS = Config()

#: Columns that identify a family (contract section 2) in an achievement-shaped table.
FAMILY: tuple[str, ...] = ("school_id", "school_year", "term", "subject", "grade", "dimension")

#: What a suppressed figure displays as.
SUPPRESSED_MARK = "*"

#: ``suppression_reason`` values.
REASON_MIN_N = "min_n"
REASON_COMPLEMENTARY = "complementary"
REASONS = np.array([REASON_MIN_N, REASON_COMPLEMENTARY])

#: Columns blanked where a group is suppressed (``gap_pp`` only when present).
BLANKED = ("n_tested", "n_proficient", "pct_proficient", "gap_pp")

# Above this many possible families, family codes are compacted with a hash instead of an array.
_DENSE_LIMIT = 1 << 26


def suppress(
    table: pd.DataFrame,
    *,
    min_n: int = _DEFAULTS.min_n,
    family: Sequence[str] = FAMILY,
    group: str = "group",
    measures: Sequence[str] = (),
    top_code: float = _DEFAULTS.top_code,
    bottom_code: float = _DEFAULTS.bottom_code,
) -> pd.DataFrame:
    """Apply min_n and complementary suppression and the display rules to one row per group.

    ``table`` needs the ``family`` columns, the ``group`` column (its names break ties), and
    integer ``n_tested`` and ``n_proficient``. Returns a new frame with the same rows and columns
    plus ``pct_proficient`` (0-100, unrounded), ``suppressed`` (bool), ``suppression_reason``
    (``min_n``, ``complementary`` or empty) and ``display``; ``n_tested`` and ``n_proficient``
    become nullable ``Int64``. Where suppressed, ``n_tested``, ``n_proficient``,
    ``pct_proficient``, ``gap_pp`` (if present) and every column in ``measures`` are empty.
    The input is not modified. An empty ``family`` makes the whole table one family.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"school_id": ["01"] * 3, "group": ["Yes", "No", "Not reported"],
    ...                   "n_tested": [4, 12, 12], "n_proficient": [1, 12, 0]})
    >>> suppress(t, family=["school_id"])[["group", "suppression_reason", "display"]]
              group suppression_reason display
    0           Yes              min_n       *
    1            No      complementary       *
    2  Not reported                NaN     ≤5%
    """
    family = list(family)
    needed = [*family, group, "n_tested", "n_proficient", *measures]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise BltError(
            f"suppress() needs the column(s) {', '.join(missing)}; "
            f"the table has {', '.join(map(str, table.columns))}"
        )
    if not min_n >= 1:
        raise BltError(f"min_n must be at least 1, found {min_n!r}")
    if not top_code - bottom_code >= 2:
        raise BltError(
            "top_code must be at least 2 points above bottom_code, so whole percentages fit "
            f"between them; found bottom_code={bottom_code!r}, top_code={top_code!r}"
        )

    n = _counts(table["n_tested"], "n_tested")
    n_prof = _counts(table["n_proficient"], "n_proficient")
    bad = (n_prof > n) | (n < 0) | (n_prof < 0)
    if bad.any():
        row = table.index[np.flatnonzero(bad)[0]]
        raise BltError(
            f"row {row!r}: n_proficient must be between 0 and n_tested, "
            f"found n_tested={n[bad][0]} and n_proficient={n_prof[bad][0]}"
        )

    fam = _family_codes(table, family)
    rank = _name_rank(table[group])
    reason = suppression_reasons(fam, rank, n, min_n)
    suppressed = reason >= 0

    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(n > 0, (100.0 * n_prof) / np.maximum(n, 1), np.nan)

    out = table.copy(deep=False)  # copy-on-write: assigning columns never touches `table`
    # Suppressed counts are zeroed under the mask, so they do not linger in the output at all.
    out["n_tested"] = pd.arrays.IntegerArray(np.where(suppressed, 0, n), suppressed.copy())
    out["n_proficient"] = pd.arrays.IntegerArray(np.where(suppressed, 0, n_prof), suppressed.copy())
    out["pct_proficient"] = np.where(suppressed, np.nan, pct)
    out["suppressed"] = suppressed
    out["suppression_reason"] = _strings(REASONS, reason).array
    out["display"] = display_labels(
        pct, suppressed, top_code=top_code, bottom_code=bottom_code
    ).array
    for column in [c for c in ("gap_pp", *measures) if c in out.columns]:
        out[column] = out[column].mask(suppressed)
    return out


def suppression_reasons(
    family_codes: np.ndarray, name_rank: np.ndarray, n_tested: np.ndarray, min_n: int
) -> np.ndarray:
    """The rule itself on plain arrays: -1 published, 0 ``min_n``, 1 ``complementary``.

    ``family_codes`` are integers from 0 naming each row's family, ``name_rank`` orders group
    names (smaller = earlier by name). One pass for every family at once.

    >>> suppression_reasons(np.array([0, 0, 0, 1, 1]), np.array([0, 1, 2, 0, 1]),
    ...                     np.array([5, 20, 12, 3, 2]), 10).tolist()
    [0, -1, 1, 0, 0]
    """
    n_rows = len(n_tested)
    reason = np.full(n_rows, -1, dtype=np.int8)
    if n_rows == 0:
        return reason
    small = n_tested < min_n
    reason[small] = 0
    n_families = int(family_codes.max()) + 1
    n_small = np.bincount(family_codes[small], minlength=n_families)
    n_published = np.bincount(family_codes, minlength=n_families) - n_small
    needs = (n_small == 1) & (n_published >= 1)
    candidates = np.flatnonzero(needs[family_codes] & ~small)
    if candidates.size:
        # Smallest n_tested, then first group name: one integer to minimise within the family.
        fam = family_codes[candidates].astype(np.int64)
        size_then_name = n_tested[candidates].astype(np.int64) * (int(name_rank.max()) + 1)
        size_then_name += name_rank[candidates]
        span = int(size_then_name.max()) + 1
        if n_families * span < 2**62:
            order = np.argsort(fam * span + size_then_name, kind="stable")
        else:
            order = np.lexsort((size_then_name, fam))
        fam = fam[order]
        first = np.ones(len(fam), dtype=bool)
        first[1:] = fam[1:] != fam[:-1]
        reason[candidates[order][first]] = 1
    return reason


def display_labels(
    pct: np.ndarray,
    suppressed: np.ndarray,
    *,
    top_code: float = _DEFAULTS.top_code,
    bottom_code: float = _DEFAULTS.bottom_code,
) -> pd.Series:
    """What a reader sees for each percentage: ``*``, ``≥95%``, ``≤5%`` or a whole number.

    Whole numbers are rounded half up and kept strictly between the codes (94.9 shows ``94%``).

    >>> display_labels(np.array([95.0, 94.9, 62.5, 5.2, 5.0, 50.0]),
    ...                np.array([False] * 5 + [True])).tolist()
    ['≥95%', '94%', '63%', '6%', '≤5%', '*']
    """
    pct = np.asarray(pct, dtype=float)
    lowest = int(np.floor(bottom_code)) + 1
    highest = int(np.ceil(top_code)) - 1
    middle = np.arange(lowest, highest + 1)
    labels = np.array(
        [SUPPRESSED_MARK, f"≥{top_code:g}%", f"≤{bottom_code:g}%", *(f"{v}%" for v in middle)]
    )
    with np.errstate(invalid="ignore"):
        whole = np.clip(np.floor(np.nan_to_num(pct) + 0.5), lowest, highest).astype(np.int64)
        code = np.select(
            [np.asarray(suppressed) | np.isnan(pct), pct >= top_code, pct <= bottom_code],
            [0, 1, 2],
            default=whole - lowest + 3,
        )
    return _strings(labels, code)


def _counts(values: pd.Series, name: str) -> np.ndarray:
    """Whole, non-missing counts as int64, or a clear error."""
    if values.isna().any():
        raise BltError(f"{name} has missing values; every group needs a count")
    as_float = values.to_numpy(dtype=float)
    if not np.array_equal(as_float, np.round(as_float)):
        raise BltError(f"{name} must hold whole numbers")
    return as_float.astype(np.int64)


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes 0..k-1 for a column (categoricals use their codes), and k. NA is a value."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        k = len(values.cat.categories)
        if (codes < 0).any():
            codes = np.where(codes < 0, k, codes)
            k += 1
        return codes, k
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64), max(len(uniques), 1)


def _family_codes(table: pd.DataFrame, family: list[str]) -> np.ndarray:
    """One integer per row naming its family, 0..F-1."""
    combined = np.zeros(len(table), dtype=np.int64)
    size = 1
    for column in family:
        codes, k = _codes(table[column])
        if size * k >= _DENSE_LIMIT:
            combined, uniques = pd.factorize(combined)
            size = max(len(uniques), 1)
        combined = combined * k + codes
        size *= k
    if size < _DENSE_LIMIT and size <= 4 * len(table) + 1024:
        return combined
    return pd.factorize(combined)[0].astype(np.int64)


def _name_rank(names: pd.Series) -> np.ndarray:
    """Rank of each group name in ascending order, for tie-breaking."""
    if isinstance(names.dtype, pd.CategoricalDtype):
        categories = names.cat.categories.astype(str)
        rank_of_category = np.empty(len(categories), dtype=np.int64)
        rank_of_category[np.argsort(categories.to_numpy(), kind="stable")] = np.arange(
            len(categories)
        )
        codes = names.cat.codes.to_numpy()
        return np.where(codes < 0, len(categories), rank_of_category[codes])
    return pd.factorize(names.astype(str), sort=True)[0].astype(np.int64)


def _strings(labels: np.ndarray, codes: np.ndarray) -> pd.Series:
    """A pandas ``str`` column of ``labels[codes]`` (code -1 = missing), built by Arrow ``take``."""
    codes = np.asarray(codes)
    taken = pa.array(np.asarray(labels, dtype=object), type=pa.large_string()).take(
        pa.array(codes, mask=codes < 0, type=pa.int64())
    )
    return pd.Series(taken, dtype=pd.StringDtype("pyarrow", na_value=np.nan))
