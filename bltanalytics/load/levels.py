"""Cut-score placement: the performance level of a scale score, and proficiency from the level.

An assessment row without a performance level but with a scale score is placed by the district's
``cut_scores`` table (contract section 1); a row without ``proficient`` takes it from its level
(level 3 or higher is proficient).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bltanalytics.load.normalize import group_codes


def place_levels(
    frame: pd.DataFrame,
    cut_scores: pd.DataFrame | None,
    known: dict[str, np.ndarray] | None = None,
) -> pd.Series:
    """Performance level from ``cut_scores`` for each row with a scale_score.

    The level is the highest level whose ``min_score`` is at or below the score, for the
    row's subject and grade; cut scores of the row's school year win over year-less ones.
    ``known``: ready group codes of school_year, subject and grade (see
    :func:`~bltanalytics.load.normalize.group_codes`).

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


def score_assessments(
    frame: pd.DataFrame, cut_scores: pd.DataFrame | None, codes: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Fill performance_level from cut scores and proficient from the level (contract §1).

    Only rows without a level but with a scale_score are placed; a ``proficient`` the file gave
    is kept. ``codes``: ready group codes, as for :func:`place_levels`. The columns are filled in
    numpy (nullable arrays built from values and masks, no per-row objects).

    >>> cuts = pd.DataFrame({"subject": ["Math"] * 2, "grade": ["3"] * 2, "level": [1, 3],
    ...                      "min_score": [0.0, 450.0], "school_year": [pd.NA] * 2})
    >>> rows = pd.DataFrame({"subject": ["Math"] * 3, "grade": ["3"] * 3,
    ...                      "school_year": ["2025-26"] * 3, "scale_score": [449.0, 450.0, 300.0],
    ...                      "performance_level": pd.array([None, None, 4], dtype="Int64"),
    ...                      "proficient": pd.array([None, None, None], dtype="boolean")})
    >>> out = score_assessments(rows, cuts, {})
    >>> out["performance_level"].tolist(), out["proficient"].tolist()
    ([1, 3, 4], [False, True, True])
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
