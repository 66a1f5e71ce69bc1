"""Disclosure avoidance: the one function every published figure goes through.

A *group* (all students of one school, year, term, subject and grade who share one value of one
dimension, say English learners = ``Yes``) is published as a count tested, a count proficient and
a percentage. :func:`suppress` applies the data contract's rules (section 2) to a table of such
groups:

1. **min_n** -- a group with fewer than ``min_n`` students tested is suppressed.
2. **complementary** -- published figures are linked: in one school, year, term and subject
   (a *block*), each grade's groups of a dimension add up to that grade's All Students (a
   *family line*), and the grade ``All`` row of a group adds up that group over the grades (a
   *grade line*). More groups are hidden, smallest first, until the contract's protection test
   holds for every hidden group: a reader who knows everything published and the rule cannot
   narrow its ``n_tested`` to fewer than ``protection`` values apart, nor tell that all or none
   of its students were proficient. A grade's All Students is hidden only when no smaller group
   protects. The heuristic (line rules, then interval propagation over both kinds of line, on
   dense per-block grids) is followed by the exact audit (:mod:`bltanalytics.metrics.audit`) and a
   repair loop. Tables without ``grade`` and ``dimension`` in ``family`` are protected family by
   family, each family's total taken as known.
3. **display** -- a published percentage at or above ``top_code`` shows as ``≥95%``, at or below
   ``bottom_code`` as ``≤5%`` (and such a *coded* group publishes neither ``n_proficient`` nor
   ``pct_proficient`` nor ``gap_pp``), otherwise as a whole number (``63%``, rounded half up, and
   kept strictly between the codes so ``94.9`` shows ``94%``, never a bare ``95%`` that could be
   read as the top code). A suppressed group shows :data:`SUPPRESSED_MARK` and its ``n_tested``,
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

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.metrics.blocks import DIMENSION, GRADE, layout, repair
from bltanalytics.metrics.codes import strings
from bltanalytics.metrics.coding import (
    REASON_COMPLEMENTARY,
    REASON_MIN_N,
    REASONS,
    SUPPRESSED_MARK,
    display_labels,
    shown_pct,
)
from bltanalytics.metrics.linked import hopeless, protect_by_size

__all__ = [
    "BLANKED",
    "EXACT_CHECKS",
    "FAMILY",
    "REASONS",
    "REASON_COMPLEMENTARY",
    "REASON_MIN_N",
    "SUPPRESSED_MARK",
    "display_labels",
    "shown_pct",
    "suppress",
    "suppression_reasons",
    "withhold",
]

_DEFAULTS = Config()
#: Columns that identify a family (contract section 2) in an achievement-shaped table.
FAMILY: tuple[str, ...] = ("school_id", "school_year", "term", "subject", "grade", "dimension")
#: Values of ``suppress(exact_check=...)``.
EXACT_CHECKS = ("all", "suspicious", "none")
#: Columns blanked where a group is suppressed (``gap_pp`` only when present).
BLANKED = ("n_tested", "n_proficient", "pct_proficient", "gap_pp")


def suppress(
    table: pd.DataFrame,
    *,
    min_n: int = _DEFAULTS.min_n,
    protection: int = _DEFAULTS.protection,
    family: Sequence[str] = FAMILY,
    group: str = "group",
    measures: Sequence[str] = (),
    top_code: float = _DEFAULTS.top_code,
    bottom_code: float = _DEFAULTS.bottom_code,
    linked: bool | None = None,
    exact_check: str = "all",
    forced: np.ndarray | None = None,
) -> pd.DataFrame:
    """Apply min_n and linked complementary suppression, coding and display to one row per group.

    ``table`` needs the ``family`` columns, the ``group`` column (its names break ties), and
    integer ``n_tested`` and ``n_proficient``. Returns a new frame with the same rows and columns
    plus ``pct_proficient`` (0-100, unrounded), ``suppressed`` (bool), ``suppression_reason``
    (``min_n``, ``complementary`` or empty) and ``display``; ``n_tested`` and ``n_proficient``
    become nullable ``Int64``. Where suppressed, ``n_tested``, ``n_proficient``,
    ``pct_proficient``, ``gap_pp`` (if present) and every column in ``measures`` are empty.
    Where published but coded (``≥95%``, ``≤5%``), ``n_proficient``, ``pct_proficient`` and
    ``gap_pp`` are empty and ``n_tested`` stays. The input is not modified.

    ``linked`` (default: when ``family`` holds ``grade`` and ``dimension``): the rows of one
    school, year, term and subject are one linked block (grade ``All`` rows sum the grades,
    the ``all`` dimension's All Students sums each dimension's groups), protected together.
    Otherwise each family is protected on its own, its total taken as known to the reader.
    ``protection``: a hidden ``n_tested`` must stay uncertain by at least this many students.
    ``exact_check``: which linked blocks the exact audit (:mod:`bltanalytics.metrics.audit`) checks,
    hiding more where it finds a figure narrowed below ``protection``: ``"all"`` (every
    block with a hidden group; the default, and the only one that guarantees the audit
    passes), ``"suspicious"`` (blocks where a grade's All Students is hidden or the lines
    read together already narrow a hidden count below ``protection``: faster, not a
    guarantee) or ``"none"`` (the heuristic alone).
    ``forced``: rows (bool, one per row) hidden whatever their size, because another table
    hides them (scale scores hide what achievement hides); the others are chosen to protect
    them too. Their reason is ``min_n`` or ``complementary`` by their own ``n_tested``.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"school_id": ["01"] * 3, "group": ["Yes", "No", "Not reported"],
    ...                   "n_tested": [4, 12, 30], "n_proficient": [1, 12, 1]})
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
    if not protection >= 1:
        raise BltError(f"protection must be at least 1, found {protection!r}")
    if exact_check not in EXACT_CHECKS:
        raise BltError(
            f"exact_check must be one of {', '.join(EXACT_CHECKS)}, found {exact_check!r}"
        )
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

    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(n > 0, (100.0 * n_prof) / np.maximum(n, 1), np.nan)
    top, bottom = pct >= top_code, pct <= bottom_code

    if linked is None:
        linked = GRADE in family and DIMENSION in family
    hidden = np.zeros(len(table), dtype=bool)
    if len(table):
        grid, flat = layout(table, family, group, linked, n, n_prof, min_n, top_code, bottom_code)
        start = _start(grid.primary, flat, forced)
        hidden = protect_by_size(grid, protection, min_n, hidden=start).reshape(-1)[flat]
        if linked and exact_check != "none":
            hidden = repair(
                table,
                family,
                group,
                grid,
                flat,
                hidden,
                min_n,
                protection,
                top_code,
                bottom_code,
                everything=exact_check == "all",
            )
    suppressed = hidden
    reason = np.where(suppressed, np.where(n < min_n, 0, 1), -1).astype(np.int8)
    coded = ~suppressed & (top | bottom)

    out = table.copy(deep=False)  # copy-on-write: assigning columns never touches `table`
    # Suppressed counts are zeroed under the mask, so they do not linger in the output at all.
    out["n_tested"] = pd.arrays.IntegerArray(np.where(suppressed, 0, n), suppressed.copy())
    blank_p = suppressed | coded
    out["n_proficient"] = pd.arrays.IntegerArray(np.where(blank_p, 0, n_prof), blank_p.copy())
    out["pct_proficient"] = np.where(blank_p, np.nan, pct)
    out["suppressed"] = suppressed
    out["suppression_reason"] = strings(REASONS, reason).array
    out["display"] = display_labels(
        pct, suppressed, top_code=top_code, bottom_code=bottom_code
    ).array
    if "gap_pp" in out.columns:
        out["gap_pp"] = out["gap_pp"].mask(blank_p)
    for column in [c for c in measures if c in out.columns and c != "gap_pp"]:
        out[column] = out[column].mask(suppressed)
    return out


def _start(primary: np.ndarray, flat: np.ndarray, forced: np.ndarray | None) -> np.ndarray:
    """The cells hidden before any choice: the primary ones, and the ``forced`` rows."""
    start = primary.copy()
    if forced is not None:
        start.reshape(-1)[flat[np.asarray(forced, dtype=bool)]] = True
    return start


#: The block of the linked structure: a school, year, term and subject.
BLOCK: tuple[str, ...] = ("school_id", "school_year", "term", "subject")


def withhold(published: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    """Rows of blocks that hiding cannot protect, withheld: what is left of such a block is its
    All Students rows (or, if those still pin a count, its grade ``All`` All Students row).

    ``published``: an achievement table as :func:`suppress` returns it (linked families). In a
    very small school every figure can be hidden and a reader still pins some counts: a row
    exists only for a group with students (n >= 1), and the reasons say which groups are
    under ``min_n`` and which are not (both truthful, both part of the rule the reader
    knows). Seven grade rows of a group whose grade ``All`` row is under 10 leave each grade
    1 to 3 students. Such a block (every row hidden, and the audit still finds a group
    narrowed below ``protection``) publishes no group rows at all, only All Students: a
    reader sees that the block was withheld (it has rows of the ``all`` dimension only) and
    learns nothing of its groups. A block is withheld only when hiding every figure is not
    enough; no figure is lost (they were all hidden). Returns ``published`` itself when no
    block needs it, else a copy without the withheld rows (index reset).

    >>> import pandas as pd
    >>> rows = [(g, *r) for g in [*"3456789", "All"] for r in
    ...         [("all", "All Students", 2, 1), ("sex", "F", 1, 0), ("sex", "M", 1, 1)]]
    >>> t = pd.DataFrame(rows, columns=["grade", "dimension", "group", "n_tested",
    ...                                 "n_proficient"])
    >>> t.loc[t["grade"] == "All", ["n_tested", "n_proficient"]] = [[14, 7], [7, 0], [7, 7]]
    >>> t = t.assign(school_id="01", school_year="2025-26", term="Spring", subject="Math")
    >>> hidden = suppress(t)            # every row hidden, yet F: 7 grades of 1..3 under 7..9
    >>> bool(hidden["suppressed"].all()), len(hidden)
    (True, 24)
    >>> out = withhold(hidden)          # the block's All Students rows are what is left
    >>> sorted(set(out["dimension"])), len(out)
    (['all'], 8)
    """
    keep = withheld_mask(published, config)
    if keep.all():
        return published
    return published[keep].reset_index(drop=True)


def withheld_mask(
    published: pd.DataFrame, config: Config | None = None, counts: dict | None = None
) -> np.ndarray:
    """Which rows of ``published`` :func:`withhold` keeps (bool, one per row): a table linked
    to achievement row for row (scale scores) withholds the same rows with it.

    ``counts``: the true ``n_tested`` and ``n_proficient`` of every row (as
    ``achievement(counts_out=...)`` gives them), when the caller has them: a block whose lines
    already fail with every figure hidden (outer bounds, :func:`~bltanalytics.metrics.linked.
    hopeless`) is withheld without a programme, and the audit of the others starts from the
    true table. The rows kept are the same either way.
    """
    config = config or _DEFAULTS
    keep = np.ones(len(published), dtype=bool)
    if not len(published) or not published["suppressed"].any():
        return keep
    block = _block_codes(published)
    shown = np.bincount(block, weights=~published["suppressed"].to_numpy(dtype=bool))
    full = np.flatnonzero(shown == 0)  # blocks with every row hidden
    if not full.size:
        return keep
    from bltanalytics.metrics.audit import audit  # the audit reads what suppress() writes

    is_all = (published["dimension"] == "all").to_numpy()
    is_top = is_all & (published["grade"] == "All").to_numpy()
    for narrower in (is_all, is_top):
        rows = np.flatnonzero(np.isin(block, full) & keep)
        lost = _lost_blocks(published, rows, block, config, counts)
        rows = rows[~np.isin(block[rows], lost)]
        sub = None if counts is None else {k: np.asarray(v)[rows] for k, v in counts.items()}
        verdict = audit(published.iloc[rows], config, counts=sub).groups
        bad = ~verdict["protected"].to_numpy(dtype=bool)
        failing = np.union1d(lost, block[rows][verdict_rows(published, rows, verdict)[bad]])
        if not failing.size:
            break
        keep &= ~np.isin(block, failing) | narrower
        full = failing
    return keep


def _lost_blocks(
    published: pd.DataFrame,
    rows: np.ndarray,
    block: np.ndarray,
    config: Config,
    counts: dict | None,
) -> np.ndarray:
    """Blocks (codes) among ``rows``, every one of them hidden, that fail by the lines alone
    (:func:`~bltanalytics.metrics.linked.hopeless`); none without ``counts``."""
    if counts is None or not rows.size:
        return np.array([], dtype=np.int64)
    n = np.asarray(counts["n_tested"], dtype=np.int64)[rows]
    p = np.asarray(counts["n_proficient"], dtype=np.int64)[rows]
    table = published.iloc[rows]
    grid, flat = layout(
        table, list(FAMILY), "group", True, n, p, config.min_n, config.top_code, config.bottom_code
    )
    code = np.empty(grid.n.shape[0], dtype=np.int64)  # each grid block's code
    code[flat // (grid.n.shape[1] * grid.n.shape[2])] = block[rows]
    return code[hopeless(grid, np.arange(len(code)), None, config.protection)]


def verdict_rows(published: pd.DataFrame, rows: np.ndarray, verdict: pd.DataFrame) -> np.ndarray:
    """Position in ``rows`` of each of the audit's groups (one per suppressed row, in order)."""
    hidden = published["suppressed"].to_numpy(dtype=bool)[rows]
    if len(verdict) != int(hidden.sum()):
        raise BltError("the audit's groups do not match the suppressed rows")
    return np.flatnonzero(hidden)


def _block_codes(table: pd.DataFrame) -> np.ndarray:
    key = np.zeros(len(table), dtype=np.int64)
    for column in BLOCK:
        codes, uniques = pd.factorize(table[column])
        key = pd.factorize(key * (len(uniques) + 1) + codes)[0].astype(np.int64)
    return key


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


def _counts(values: pd.Series, name: str) -> np.ndarray:
    """Whole, non-missing counts as int64, or a clear error."""
    if values.isna().any():
        raise BltError(f"{name} has missing values; every group needs a count")
    as_float = values.to_numpy(dtype=float)
    if not np.array_equal(as_float, np.round(as_float)):
        raise BltError(f"{name} must hold whole numbers")
    return as_float.astype(np.int64)
