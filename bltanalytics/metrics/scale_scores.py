"""Mean scale score by group, and the standardized gap (Hedges' g) to the rest of the family.

The rows are those of achievement (:mod:`bltanalytics.metrics.achievement`: the same schools,
years, terms, subjects, grades with ``All``, dimensions, groups and order, students matched
the same way through :func:`~bltanalytics.metrics.achievement.group_layout`), keeping the groups
with at least one scale score. For each: ``n_tested`` (students of the group with a scale
score), ``mean_scale_score``, ``sd_scale_score`` (sample SD, ``ddof=1``; empty when
``n_tested < 2``) and ``effect_size``: Hedges' g of the group against the rest of its family
in the same cell (All Students of that cell minus the group), as OpenSDP's equity toolkit
computes it::

    s_pooled = sqrt(((n1 - 1) s1² + (n2 - 1) s2²) / (n1 + n2 - 2))
    g = (1 - 3 / (4 (n1 + n2) - 9)) * (mean1 - mean2) / s_pooled

``effect_size`` is empty on All Students rows, when either side has fewer than 2 scores, when
``s_pooled`` is 0, where the group is hidden, and where the cell's All Students is hidden (the
rest of the family is read from it, as ``gap_pp`` is).

**Privacy** (contract section 2; docs/scale_scores.md). The table is published beside
``achievement.csv`` and is linked to it: its counts are those of the students with a scale
score. The same :func:`~bltanalytics.metrics.suppression.suppress` runs on those counts
with the groups achievement hides (P1) hidden from the start (``forced``): the result P2
holds P1 and protects every hidden scale count, P1's included (the union of P1 and a P2
computed alone would not: a group hidden by P1 alone may have been protected in achievement
by a group that has no scale score, or by counts the scale table does not have; the audit
finds such groups). Where a whole block (school, year, term, subject) has a scale score for
every student tested, its counts are achievement's and P2 = P1: the second pass is skipped
there. ``suppression_reason`` is ``min_n`` where the scale ``n_tested`` is below ``min_n``,
else ``complementary``. Hidden rows show no ``n_tested``, mean, SD or g.

Sums are taken in one vectorized pass (``np.bincount`` of counts, sums and sums of squares),
scores centred on their block's mean first so the squares do not cancel catastrophically.

>>> import pandas as pd
>>> a = pd.DataFrame({"student_id": [f"{i:03d}" for i in range(24)], "school_id": "0101",
...     "school_year": "2025-26", "term": "Spring", "subject": "Math", "grade": "3",
...     "proficient": pd.array([True, False] * 12, dtype="boolean"),
...     "scale_score": [200.0 + 2 * i for i in range(24)]})
>>> s = pd.DataFrame({"student_id": a["student_id"], "school_id": "0101",
...     "school_year": "2025-26", "grade": "3", "english_learner": ["Yes"] * 12 + ["No"] * 12})
>>> out = scale_scores(a, s)
>>> out.loc[(out["grade"] == "3") & out["dimension"].isin(["all", "english_learner"]),
...         ["group", "n_tested", "mean_scale_score", "effect_size"]].round(3)
          group  n_tested  mean_scale_score  effect_size
0  All Students        24             223.0          NaN
3           Yes        12             211.0       -3.213
4            No        12             235.0        3.213
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.load import ColumnCodes
from bltanalytics.metrics.achievement import (
    KEY_COLUMNS,
    GroupLayout,
    first_of_cell,
    group_layout,
    text_keys,
)
from bltanalytics.metrics.achievement import achievement as compute_achievement
from bltanalytics.metrics.codes import strings
from bltanalytics.metrics.coding import REASONS
from bltanalytics.metrics.suppression import FAMILY, suppress, withheld_mask

#: Columns of ``scale_scores.csv``, in order.
SCALE_SCORE_COLUMNS: list[str] = [
    *KEY_COLUMNS,
    "n_tested",
    "mean_scale_score",
    "sd_scale_score",
    "effect_size",
    "suppressed",
    "suppression_reason",
]


def scale_scores(
    assessments: pd.DataFrame,
    students: pd.DataFrame,
    config: Config | None = None,
    *,
    codes: dict[str, dict[str, ColumnCodes]] | None = None,
    layout: GroupLayout | None = None,
    achievement: pd.DataFrame | None = None,
    kept: np.ndarray | None = None,
) -> pd.DataFrame:
    """Mean scale score, SD and Hedges' g by school, year, term, subject, grade, dimension and
    group, hidden by the rule of the module docstring. Returns :data:`SCALE_SCORE_COLUMNS`.

    ``assessments``, ``students``, ``config`` and ``codes`` as for
    :func:`~bltanalytics.metrics.achievement.achievement`. ``layout``: their
    :func:`~bltanalytics.metrics.achievement.group_layout`, and ``achievement``: their
    achievement table (computed with ``config`` and ``withhold_blocks=False``, every row), when
    the caller has them already; ``kept``: which of its rows are published
    (:func:`~bltanalytics.metrics.suppression.withheld_mask`; computed when not given). The
    rows of a block achievement withholds are withheld here too.

    >>> import pandas as pd
    >>> a = pd.DataFrame({"student_id": ["1", "2", "3"], "school_id": "0101",
    ...     "school_year": "2025-26", "term": "Fall", "subject": "ELA", "grade": "3",
    ...     "proficient": pd.array([True, False, False], dtype="boolean"),
    ...     "scale_score": [250.0, 230.0, float("nan")]})
    >>> s = pd.DataFrame({"student_id": ["1"], "school_id": "0101", "school_year": "2025-26"})
    >>> out = scale_scores(a, s)
    >>> out.loc[out["dimension"] == "all", ["grade", "n_tested", "suppression_reason"]]
      grade  n_tested suppression_reason
    0     3      <NA>              min_n
    9   All      <NA>              min_n
    """
    config = config or Config()
    if len(assessments) == 0:
        return _empty()
    layout = layout or group_layout(assessments, students, codes=codes)
    true: dict = {}
    if achievement is None:
        achievement = compute_achievement(
            assessments, students, config, layout=layout, withhold_blocks=False, counts_out=true
        )
    if kept is None:
        kept = withheld_mask(achievement, config, true or None)
    score = _scores(assessments)
    has = ~np.isnan(score)
    proficient = assessments["proficient"].to_numpy(dtype=bool, na_value=False)

    # slot 0: no scale score; 1: scored, not proficient; 2: scored and proficient
    counts = layout.count(has * (1 + proficient), 3)
    tested = counts.sum(axis=2).ravel()
    scored = (counts[:, :, 1] + counts[:, :, 2]).ravel()
    scored_proficient = counts[:, :, 2].ravel()
    del counts
    in_achievement = np.flatnonzero(tested)
    published = achievement["n_tested"].to_numpy(dtype=float, na_value=np.nan)
    if len(in_achievement) != len(achievement) or not np.array_equal(
        tested[in_achievement][~np.isnan(published)], published[~np.isnan(published)]
    ):
        raise BltError(
            f"the achievement table given has {len(achievement):,} rows, but these assessments "
            f"make {len(in_achievement):,} (or its counts differ): pass the achievement of the "
            "same tables, every row (achievement(..., withhold_blocks=False))"
        )

    # Sums of scores centred on their block's mean (no catastrophic cancellation in squares).
    row_block = layout.row_block()
    n_blocks = int(layout.block.max()) + 1
    block_n = np.bincount(row_block, weights=has, minlength=n_blocks)
    block_sum = np.bincount(row_block, weights=np.where(has, score, 0.0), minlength=n_blocks)
    centre = block_sum / np.maximum(block_n, 1)
    deviation = np.where(has, score - centre[row_block], 0.0)
    total = layout.total(deviation).ravel()
    squares = layout.total(deviation * deviation).ravel()
    raw = layout.total(np.where(has, score, 0.0)).ravel()  # means from raw sums: 154.0, exactly
    del deviation, score

    keep = scored[in_achievement] > 0
    where = in_achievement[keep]  # flat (cell, column) position of each row
    n = scored[where]
    row_cell = where // layout.n_columns
    block = layout.block[row_cell]

    # P1 (achievement's pattern), and P2 (the same rule on the scale counts, P1 forced)
    p1 = achievement["suppressed"].to_numpy(dtype=bool)[keep]
    differs = np.zeros(n_blocks, dtype=bool)
    differs[block[n != tested[where]]] = True
    # a block whose rows were all kept and whose counts all equal achievement's: P2 = P1
    differs[layout.block[in_achievement[~keep] // layout.n_columns]] = True
    hidden = p1.copy()
    second = np.flatnonzero(differs[block])
    if second.size:
        table = pd.DataFrame(
            {
                **layout.key_columns(where[second]),
                "n_tested": n[second],
                "n_proficient": scored_proficient[where[second]],
            }
        )
        hidden[second] = suppress(
            table,
            min_n=config.min_n,
            protection=config.protection,
            family=FAMILY,
            top_code=config.top_code,
            bottom_code=config.bottom_code,
            forced=p1[second],
        )["suppressed"].to_numpy(dtype=bool)
    reason = _reasons(n, hidden, config.min_n)

    figures = _figures(n, total[where], squares[where], raw[where] / n, row_cell, hidden)
    out = pd.DataFrame(layout.key_columns(where))
    out["n_tested"] = pd.arrays.IntegerArray(np.where(hidden, 0, n), hidden.copy())
    for column, values in figures.items():
        out[column] = values
    out["suppressed"] = hidden
    out["suppression_reason"] = strings(REASONS, reason).array
    out = text_keys(out)[SCALE_SCORE_COLUMNS]
    published = kept[keep]  # the rows of blocks achievement withholds go with them
    return out if published.all() else out[published].reset_index(drop=True)


def _reasons(n: np.ndarray, hidden: np.ndarray, min_n: int) -> np.ndarray:
    return np.where(hidden, np.where(n < min_n, 0, 1), -1).astype(np.int8)


def hedges_g(
    n1: np.ndarray,
    mean1: np.ndarray,
    ss1: np.ndarray,
    n2: np.ndarray,
    mean2: np.ndarray,
    ss2: np.ndarray,
) -> np.ndarray:
    """Hedges' g of side 1 against side 2 from counts, means and sums of squared deviations
    (``ss = (n - 1) * sd²``); NaN where a side has fewer than 2 or the pooled SD is 0.

    >>> float(hedges_g(np.array([3]), np.array([2.0]), np.array([2.0]),
    ...                np.array([3]), np.array([4.0]), np.array([2.0]))[0])   # d = -2, J = 0.8
    -1.6
    """
    n1, n2 = np.asarray(n1, dtype=float), np.asarray(n2, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled_var = (np.maximum(ss1, 0) + np.maximum(ss2, 0)) / (n1 + n2 - 2)
        d = (mean1 - mean2) / np.sqrt(pooled_var)
        g = (1 - 3 / (4 * (n1 + n2) - 9)) * d
    return np.where((n1 >= 2) & (n2 >= 2) & (pooled_var > 0), g, np.nan)


def _figures(
    n: np.ndarray,
    total: np.ndarray,
    squares: np.ndarray,
    mean: np.ndarray,
    row_cell: np.ndarray,
    hidden: np.ndarray,
) -> dict[str, np.ndarray]:
    """SD and g of every row from centred sums, and its ``mean``; empty where hidden (the
    module's rule)."""
    nf = n.astype(float)
    shift = total / nf  # mean minus the block's centre
    ss = _deviations(squares, total, shift)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.where(n >= 2, np.sqrt(ss / (nf - 1)), np.nan)
    # the first row of each cell is its All Students row
    first = first_of_cell(row_cell)
    n_rest = n[first] - n
    rest_total = total[first] - total
    rest_squares = squares[first] - squares
    with np.errstate(divide="ignore", invalid="ignore"):
        rest_shift = rest_total / n_rest
    rest_ss = _deviations(rest_squares, rest_total, rest_shift)
    g = hedges_g(n, shift, ss, n_rest, rest_shift, rest_ss)
    g[(first == np.arange(len(n))) | hidden | hidden[first]] = np.nan
    return {
        "mean_scale_score": np.where(hidden, np.nan, mean),
        "sd_scale_score": np.where(hidden, np.nan, sd),
        "effect_size": g,
    }


def _deviations(squares: np.ndarray, total: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Sum of squared deviations from the mean, from sums about the centre; 0 where it is
    below the rounding of those sums (equal scores give exactly 0, so SD 0 and no g)."""
    with np.errstate(invalid="ignore"):
        ss = squares - total * shift
    return np.where(ss <= 1e-11 * squares, 0.0, ss)


def _scores(assessments: pd.DataFrame) -> np.ndarray:
    if "scale_score" not in assessments.columns:
        return np.full(len(assessments), np.nan)
    return pd.to_numeric(assessments["scale_score"]).to_numpy(dtype=float, na_value=np.nan)


def _empty() -> pd.DataFrame:
    text = pd.StringDtype("pyarrow", na_value=np.nan)
    dtypes = {
        "n_tested": "Int64",
        "mean_scale_score": "float64",
        "sd_scale_score": "float64",
        "effect_size": "float64",
        "suppressed": "bool",
    }
    return pd.DataFrame({c: pd.Series([], dtype=dtypes.get(c, text)) for c in SCALE_SCORE_COLUMNS})
