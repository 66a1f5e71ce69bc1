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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.metrics.codes import strings

_DEFAULTS = Config()

#: Columns that identify a family (contract section 2) in an achievement-shaped table.
FAMILY: tuple[str, ...] = ("school_id", "school_year", "term", "subject", "grade", "dimension")

#: Names of the linked structure (contract section 2).
GRADE, DIMENSION = "grade", "dimension"
ALL_GRADE, TOTAL_DIMENSION = "All", "all"
GRADE_ORDER: tuple[str, ...] = ("PK", "K", *map(str, range(1, 13)))

#: What a suppressed figure displays as.
SUPPRESSED_MARK = "*"

#: ``suppression_reason`` values.
REASON_MIN_N = "min_n"
REASON_COMPLEMENTARY = "complementary"
REASONS = np.array([REASON_MIN_N, REASON_COMPLEMENTARY])

#: Values of ``suppress(exact_check=...)``.
EXACT_CHECKS = ("all", "suspicious", "none")

#: Columns blanked where a group is suppressed (``gap_pp`` only when present).
BLANKED = ("n_tested", "n_proficient", "pct_proficient", "gap_pp")

# Above this many possible families, family codes are compacted with a hash instead of an array.
_DENSE_LIMIT = 1 << 26


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
        grid, flat = _layout(table, family, group, linked, n, n_prof, min_n, top_code, bottom_code)
        hidden = _protect(grid, protection, min_n).reshape(-1)[flat]
        if linked and exact_check != "none":
            hidden = _repair(
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


# ------------------------------------------------------------------------------------------
# Secondary suppression over the linked structure, on dense grids.
#
# A block (school, year, term, subject) is a grid: grades (the grade ``All`` row last) x
# columns (All Students first, then the groups of each dimension, one contiguous slice per
# dimension, groups in name order). Two kinds of line, each an equation "the members add up
# to the total": a *family line* (one grade and dimension: its groups add up to the grade's
# All Students) and a *grade line* (one column: the grades add up to the grade-All row).
# A total the table lacks is *virtual*: taken as known to the reader and never hidden.

_BIG = 1 << 24  # no upper bound: far above any school; sums of 64 still fit in int32
_MAX_ROUNDS = 80
_TIGHTEN_ROUNDS = 3


@dataclass
class _Grid:
    """Dense arrays of some blocks, shape (blocks, grades, columns)."""

    n: np.ndarray  # int64 n_tested (0 where there is no row)
    p: np.ndarray  # int64 n_proficient
    exists: np.ndarray  # bool: a row of the table
    p_lo: np.ndarray  # what a reader knows of p when the row is published (exact or coded)
    p_hi: np.ndarray
    lo_r: np.ndarray  # what the rule tells of n when the row is hidden
    hi_r: np.ndarray
    primary: np.ndarray  # bool: under min_n
    grade_lines: np.ndarray  # bool (blocks, columns): the column has a grade line
    starts: np.ndarray  # first column of each dimension; starts[0] == 0 is All Students

    def take(self, blocks: np.ndarray) -> _Grid:
        return _Grid(*(getattr(self, f)[blocks] for f in _GRID_ARRAYS), starts=self.starts)

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(np.r_[self.starts, self.n.shape[2]])

    def fsum(self, x: np.ndarray) -> np.ndarray:
        """Sum over the members of each family line: (blocks, grades, dimensions - 1).

        Column 0 (All Students) is a slice of its own, so it is never summed in; booleans
        are counted."""
        dtype = np.int32 if x.dtype == bool else None
        return np.add.reduceat(x, self.starts, axis=2, dtype=dtype)[:, :, 1:]

    def fspread(self, y: np.ndarray) -> np.ndarray:
        """A family-line value on each member cell: (blocks, grades, columns - 1)."""
        return np.repeat(y, self.sizes[1:], axis=2)

    @staticmethod
    def gsum(x: np.ndarray) -> np.ndarray:
        """Sum over the members (every grade but the last) of each grade line."""
        return x[:, :-1, :].sum(axis=1, dtype=np.int32 if x.dtype == bool else None)


_GRID_ARRAYS = ("n", "p", "exists", "p_lo", "p_hi", "lo_r", "hi_r", "primary", "grade_lines")


def _protect(
    grid: _Grid,
    protection: int,
    min_n: int,
    hidden: np.ndarray | None = None,
    active: np.ndarray | None = None,
) -> np.ndarray:
    """Hidden cells (bool, like ``grid.n``): primary ones and enough others to protect them.

    Rounds of local rules (each line on its own) until no line asks for more; then the lines
    read together (interval propagation); every cell still failing asks its line with the
    fewest hidden cells for one more. Only blocks that changed are looked at again.
    """
    hidden = grid.primary.copy() if hidden is None else hidden
    if active is None:
        active = np.flatnonzero(hidden.any(axis=(1, 2)))
    to_check = [active]
    for _ in range(_MAX_ROUNDS):
        if active.size:
            whole = active.size == len(hidden)
            sub = grid if whole else grid.take(active)
            h = hidden if whole else hidden[active]
            need_f, need_g = _line_needs(sub, h, protection, kinds="f")
            added = _choose(sub, h, need_f, need_g, min_n)
            h |= added
            need_f, need_g = _line_needs(sub, h, protection, kinds="g")
            more = _choose(sub, h, need_f, need_g, min_n)
            h |= more
            if not whole:
                hidden[active] = h
            moved = (added | more).any(axis=(1, 2))
            active = active[moved]
            to_check.append(active)
            continue
        check = np.unique(np.concatenate(to_check))
        to_check = []
        if not check.size:
            break
        whole = check.size == len(hidden)
        sub = grid if whole else grid.take(check)
        h = hidden if whole else hidden[check]
        fail, (need_f, need_g, left) = _failing(sub, h, protection)
        failing = np.flatnonzero(fail.any(axis=(1, 2)))
        if not failing.size:
            break
        blocks = check[failing]
        sub = sub.take(failing)
        h = h[failing]
        added = _choose(sub, h, need_f[failing], need_g[failing], min_n)
        rest = left[failing]
        others = np.flatnonzero(rest.any(axis=(1, 2)) & ~added.any(axis=(1, 2)))
        if others.size:
            added[others] = _neighbour_choice(sub.take(others), h[others], rest[others], min_n)
        hidden[blocks] = h | added
        active = blocks[added.any(axis=(1, 2))]
        to_check.append(active)
    return hidden


def _degrees(g: _Grid, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hidden cells (members and total) of each family line and each grade line."""
    hm = h & g.exists
    deg_f = g.fsum(hm) + hm[:, :, :1]
    deg_g = np.where(g.grade_lines, _Grid.gsum(hm.astype(np.int32)) + hm[:, -1, :], 0)
    return deg_f, deg_g


def _line_needs(g: _Grid, h: np.ndarray, protection: int, kinds: str) -> tuple:
    """Lines that need one more hidden cell, judged each on its own.

    A line needs one more when (1) it has exactly one hidden cell (the published ones give it
    away), (2) its total is published and one of its hidden members is narrowed below
    ``protection`` by the line alone (the hidden members add up to a known remainder; a
    ``min_n`` one is 1..min_n-1, a complementary one at least min_n), or (3) its total is
    published and the hidden members' proficient (or not proficient) remainder is 0.
    """
    hm = h & g.exists
    pub = g.exists & ~h
    n, p = g.n, g.p
    q = n - p
    lo = np.where(hm, g.lo_r, 0)
    hi = np.where(hm, g.hi_r, 0)
    # slack of a published cell's p for the reader (coding): p - p_lo and p_hi - p
    up_p = np.where(pub, g.p_hi - p, 0)  # p could be this much higher -> q lower
    down_p = np.where(pub, p - g.p_lo, 0)
    need_f = need_g = None
    if "f" in kinds:
        mem = lambda x: x  # noqa: E731
        hidden_m = g.fsum(mem(hm))
        t_hidden = hm[:, :, :1]
        deg = hidden_m + t_hidden
        t_pub = ~t_hidden  # virtual totals are known
        rem = g.fsum(mem(n * hm))
        s_lo, s_hi = g.fsum(mem(lo)), g.fsum(mem(hi))
        width = _local_width(
            lo[:, :, 1:], hi[:, :, 1:], g.fspread(rem), g.fspread(s_lo), g.fspread(s_hi)
        )
        narrow = g.fsum(_unpad(hm[:, :, 1:] & (width < protection)))
        rp = g.fsum(mem(p * hm)) + g.fsum(mem(down_p)) + up_p[:, :, :1]
        rq = g.fsum(mem(q * hm)) + g.fsum(mem(up_p)) + down_p[:, :, :1]
        forced = (hidden_m > 0) & ((rp <= 0) | (rq <= 0))
        need_f = (deg == 1) | (t_pub & ((narrow > 0) | forced))
    if "g" in kinds:
        on = g.grade_lines
        hidden_m = _Grid.gsum(hm.astype(np.int32))
        t_hidden = hm[:, -1, :]
        deg = hidden_m + t_hidden
        t_pub = ~t_hidden
        rem = _Grid.gsum(n * hm)
        s_lo, s_hi = _Grid.gsum(lo), _Grid.gsum(hi)
        width = _local_width(
            lo[:, :-1, :], hi[:, :-1, :], rem[:, None, :], s_lo[:, None, :], s_hi[:, None, :]
        )
        narrow = (hm[:, :-1, :] & (width < protection)).any(axis=1)
        rp = _Grid.gsum(p * hm) + _Grid.gsum(down_p) + up_p[:, -1, :]
        rq = _Grid.gsum(q * hm) + _Grid.gsum(up_p) + down_p[:, -1, :]
        forced = (hidden_m > 0) & ((rp <= 0) | (rq <= 0))
        need_g = on & ((deg == 1) | (t_pub & (narrow | forced)))
    return need_f, need_g


def _unpad(x: np.ndarray) -> np.ndarray:
    """Members-only (columns 1..) back to full width with column 0 False, for ``fsum``."""
    y = np.zeros((*x.shape[:2], x.shape[2] + 1), dtype=x.dtype)
    y[:, :, 1:] = x
    return y


def _local_width(lo, hi, rem, s_lo, s_hi):
    """Range of each hidden member within its line: the others take the rest of ``rem``."""
    low = np.maximum(lo, rem - (s_hi - hi))
    high = np.minimum(hi, rem - (s_lo - lo))
    return high - low


def _choose(g: _Grid, h: np.ndarray, need_f, need_g, min_n: int) -> np.ndarray:
    """One more hidden cell in each line that needs one: its cheapest published member.

    The cost of a member is its ``n_tested`` plus, when hiding it opens its other line (one
    with no hidden cell yet), the cheapest cell that line would then need: its smallest
    other published member, or its total counted twice (a total opens lines of its own).
    Ties go by name (grade) order. Only a line with no published member hides its total.
    """
    added = np.zeros_like(h)
    if need_f is None and need_g is None:
        return added
    wanted = np.zeros(len(h), dtype=bool)
    if need_f is not None:
        wanted |= need_f.any(axis=(1, 2))
    if need_g is not None:
        wanted |= need_g.any(axis=1)
    if not wanted.any():
        return added
    if not wanted.all():  # only the blocks with a line that needs one
        rows = np.flatnonzero(wanted)
        added[rows] = _choose(
            g.take(rows),
            h[rows],
            None if need_f is None else need_f[rows],
            None if need_g is None else need_g[rows],
            min_n,
        )
        return added
    pub = g.exists & ~h
    open_grade, open_family = _opening_costs(
        g, h, ("g" if need_f is not None else "") + ("f" if need_g is not None else "")
    )
    n_blocks, n_grades, n_cols = h.shape
    tie = n_grades * n_cols + 1
    if need_f is not None and need_f.any():
        want = np.zeros_like(h)
        want[:, :, 1:] = g.fspread(need_f)
        cand = pub & want
        cand[:, :, 0] = False
        cost = np.where(cand, (g.n + open_grade) * tie + np.arange(n_cols), np.inf)
        for d, (s, e) in enumerate(zip(g.starts[1:], np.r_[g.starts[2:], n_cols], strict=True)):
            part = cost[:, :, s:e]
            j = part.argmin(axis=2)
            best = np.take_along_axis(part, j[:, :, None], axis=2)[:, :, 0]
            b, gr = np.nonzero(np.isfinite(best))
            added[b, gr, s + j[b, gr]] = True
            # no published member: the total (All Students of that grade)
            b, gr = np.nonzero(need_f[:, :, d] & ~np.isfinite(best) & pub[:, :, 0])
            added[b, gr, 0] = True
    if need_g is not None and need_g.any():
        cand = pub & need_g[:, None, :]
        cand[:, -1, :] = False
        cost = np.where(cand, (g.n + open_family) * tie + np.arange(n_grades)[:, None], np.inf)
        j = cost.argmin(axis=1)
        best = np.take_along_axis(cost, j[:, None, :], axis=1)[:, 0, :]
        b, c = np.nonzero(np.isfinite(best))
        added[b, j[b, c], c] = True
        b, c = np.nonzero(need_g & ~np.isfinite(best) & pub[:, -1, :])
        added[b, -1, c] = True
    return added & ~h


def _opening_costs(g: _Grid, h: np.ndarray, which: str = "gf") -> tuple:
    """What hiding each published cell would cost in its *other* line, as float arrays.

    ``open_grade`` (``"g"`` in ``which``): for a cell picked by its family line, the cost in
    its grade line; ``open_family`` (``"f"``): for a cell picked by its grade line, the cost
    in its family line(s). 0 where that line already holds a hidden cell; else its smallest
    other published member, or its total counted twice (a total opens lines of its own).
    """
    pub = g.exists & ~h
    deg_f, deg_g = _degrees(g, h)
    size = np.where(pub, g.n, np.inf).astype(np.float64)
    no_total = 4.0 * _BIG  # a line with a single member and a virtual total: avoid
    open_grade = open_family = None
    if "f" in which:
        other_f = np.full(h.shape, np.inf)
        first_f = np.full(deg_f.shape, np.inf)
        ends = np.r_[g.starts[2:], h.shape[2]]
        for d, (s, e) in enumerate(zip(g.starts[1:], ends, strict=True)):
            part = size[:, :, s:e]
            if e - s > 1:
                low = np.partition(part, 1, axis=2) if e - s > 2 else np.sort(part, axis=2)
                m1, m2 = low[:, :, 0], low[:, :, 1]
            else:
                m1, m2 = part[:, :, 0], np.full(part.shape[:2], np.inf)
            first_f[:, :, d] = m1
            other_f[:, :, s:e] = np.where(part == m1[:, :, None], m2[:, :, None], m1[:, :, None])
        total_f = np.where(pub[:, :, :1], 2.0 * g.n[:, :, :1], no_total)
        other_f = np.where(np.isinf(other_f), total_f, other_f)
        deg_cell = np.zeros(h.shape, dtype=np.int32)
        deg_cell[:, :, 1:] = g.fspread(deg_f)
        open_family = np.where(deg_cell == 0, other_f, 0.0)
        # an All Students cell opens every family line of its grade without a hidden cell
        open_family[:, :, 0] = np.where((deg_f == 0) & np.isfinite(first_f), first_f, 0.0).sum(
            axis=2
        )
    if "g" in which:
        part = size[:, :-1, :]
        if part.shape[1] > 1:
            low = np.partition(part, 1, axis=1) if part.shape[1] > 2 else np.sort(part, axis=1)
            m1, m2 = low[:, 0, :], low[:, 1, :]
        elif part.shape[1] == 1:
            m1, m2 = part[:, 0, :], np.full((len(h), h.shape[2]), np.inf)
        else:  # only grade-All rows
            m1 = m2 = np.full((len(h), h.shape[2]), np.inf)
        other_g = np.full(h.shape, np.inf)
        other_g[:, :-1, :] = np.where(part == m1[:, None, :], m2[:, None, :], m1[:, None, :])
        total_g = np.where(pub[:, -1, :], 2.0 * g.n[:, -1, :], no_total)
        other_g = np.where(np.isinf(other_g), total_g[:, None, :], other_g)
        other_g[:, -1, :] = np.where(np.isfinite(m1), m1, no_total)  # the All row opens it
        open_grade = np.where(((deg_g == 0) & g.grade_lines)[:, None, :], other_g, 0.0)
    return open_grade, open_family


def _failing(g: _Grid, h: np.ndarray, protection: int) -> tuple[np.ndarray, tuple]:
    """Hidden cells the lines read together (interval propagation: outer bounds) narrow
    below ``protection`` or whose proficient count they force to 0 or to n_tested, and the
    lines to hide one more cell in (see :func:`_binding`)."""
    hm = h & g.exists
    pub = g.exists & ~h
    n = g.n
    lo = np.where(hm, g.lo_r, np.where(pub, n, 0))
    hi = np.where(hm, g.hi_r, np.where(pub, n, 0))
    lo, hi, src_lo, src_hi = _tighten(g, lo, hi, n)
    narrow = hm & (hi - lo < protection)
    # proficient (p) and not proficient (q) counts: forced to 0 only where truly 0
    top = np.where(hm, hi, 0)
    _, p_hi, _, p_src = _tighten(
        g, np.where(pub, g.p_lo, 0), np.where(hm, top, np.where(pub, g.p_hi, 0)), g.p
    )
    _, q_hi, _, q_src = _tighten(
        g, np.where(pub, n - g.p_hi, 0), np.where(hm, top, np.where(pub, n - g.p_lo, 0)), n - g.p
    )
    zero = hm & (p_hi <= 0) & ~narrow
    everyone = hm & (q_hi <= 0) & ~narrow & ~zero
    # the bound to widen: the upper one where it was tightened, else the lower one
    n_code = np.where(src_hi[0] > 0, src_hi[0], src_lo[0])
    n_dim = np.where(src_hi[0] > 0, src_hi[1], src_lo[1])
    code = np.select([narrow, zero, everyone], [n_code, p_src[0], q_src[0]], 0)
    code_d = np.select([narrow, zero, everyone], [n_dim, p_src[1], q_src[1]], 0)
    fail = narrow | zero | everyone
    return fail, _binding(g, h, fail, code, code_d, src_hi)


def _binding(g: _Grid, h, fail, code, code_d, src_hi) -> tuple:
    """The lines where one more hidden cell widens each failing cell's bound.

    Propagation records which line last tightened each bound (1 family line, 2 grade line
    as a member; 3 family line, 4 grade line as its total). That line, if it still has a
    published cell; else the line that bounds its total (a member's bound comes from the
    total's), up to three steps; else the failing cell's line with the fewest hidden cells.
    """
    pub = g.exists & ~h
    pub_f = g.fsum(pub) > 0  # published members (hiding a total comes last)
    pub_g = pub[:, :-1, :].any(axis=1) & g.grade_lines
    col_dim = np.repeat(np.arange(-1, len(g.starts) - 1), g.sizes)
    need_f = np.zeros(pub_f.shape, dtype=bool)
    need_g = np.zeros(pub_g.shape, dtype=bool)
    b, gr, c = np.nonzero(fail)
    origin = np.arange(len(b))
    resolved = np.zeros(len(b), dtype=bool)
    first = (b, gr, c)
    cd, dd = code[b, gr, c], code_d[b, gr, c]
    for _ in range(3):
        if not b.size:
            break
        fam_d = np.where(cd == 3, dd, col_dim[c])
        is_f = (cd == 1) | (cd == 3)
        is_g = (cd == 2) | (cd == 4)
        ok_f = is_f & (fam_d >= 0) & pub_f[b, gr, np.maximum(fam_d, 0)]
        ok_g = is_g & pub_g[b, c]
        need_f[b[ok_f], gr[ok_f], fam_d[ok_f]] = True
        need_g[b[ok_g], c[ok_g]] = True
        resolved[origin[ok_f | ok_g]] = True
        # not fixable there: follow the total of that line (members only)
        go = ~(ok_f | ok_g) & ((cd == 1) | (cd == 2))
        was_f = cd[go] == 1
        b, c, origin = b[go], c[go], origin[go]
        gr = np.where(was_f, gr[go], h.shape[1] - 1)
        c = np.where(was_f, 0, c)
        cd, dd = src_hi[0][b, gr, c], src_hi[1][b, gr, c]
    # anything left: the cheapest cell next to it (one per block)
    left = np.zeros_like(fail)
    keep = ~resolved
    left[first[0][keep], first[1][keep], first[2][keep]] = True
    return need_f, need_g, left


def _fewest(g: _Grid, h: np.ndarray, fail: np.ndarray) -> tuple:
    """For each failing cell, its line with the fewest hidden cells (family line on ties)."""
    deg_f, deg_g = _degrees(g, h)
    big = np.iinfo(np.int32).max
    in_f = np.full(h.shape, big, dtype=np.int32)
    in_f[:, :, 1:] = g.fspread(deg_f)
    in_g = np.full(h.shape, big, dtype=np.int32)
    in_g[:, :-1, :] = np.where(g.grade_lines, deg_g, big)[:, None, :]
    use_f = fail & (in_f <= in_g) & (in_f < big)
    use_g = fail & ~use_f & (in_g < big)
    # a failing cell in no line as a member (the school total): its grade line's total
    lonely = fail & ~use_f & ~use_g
    need_f = g.fsum(use_f) > 0
    need_g = use_g.any(axis=1) | (lonely.any(axis=1) & g.grade_lines)
    return need_f, need_g


def _tighten(g: _Grid, lo: np.ndarray, hi: np.ndarray, true: np.ndarray):
    """Bound tightening over both kinds of line. ``true`` gives virtual totals (known sums).

    Returns the bounds and, for each, which line last tightened it: ``(code, dimension)``
    with code 0 the rule, 1 family line and 2 grade line (the cell a member), 3 family line
    (the cell its total; ``dimension`` says which) and 4 grade line (the cell its total).
    """
    lo, hi = lo.copy(), hi.copy()
    src_lo, src_hi = np.zeros(lo.shape, np.int8), np.zeros(lo.shape, np.int8)
    dim_lo, dim_hi = np.zeros(lo.shape, np.int16), np.zeros(lo.shape, np.int16)
    ex = g.exists
    has_total_f = ex[:, :, :1]
    has_members_f = g.fsum(ex) > 0
    virtual_f = g.fsum(np.where(ex, true, 0))
    on = g.grade_lines
    has_total_g = ex[:, -1, :]
    virtual_g = _Grid.gsum(np.where(ex, true, 0))

    def mark(where, src, code, dims=None, dim_value=None):
        src[where] = code
        if dims is not None:
            dims[where] = dim_value[where]

    for _ in range(_TIGHTEN_ROUNDS):
        # family lines
        s_lo, s_hi = g.fsum(lo), g.fsum(hi)
        t_lo = np.where(has_total_f, lo[:, :, :1], virtual_f)
        t_hi = np.where(has_total_f, hi[:, :, :1], virtual_f)
        cand_lo = np.where(has_members_f, s_lo, 0)
        cand_hi = np.where(has_members_f, s_hi, _BIG)
        if cand_lo.shape[2]:
            best_lo, best_hi = cand_lo.argmax(axis=2), cand_hi.argmin(axis=2)
            new_lo = np.take_along_axis(cand_lo, best_lo[:, :, None], axis=2)[:, :, 0]
            new_hi = np.take_along_axis(cand_hi, best_hi[:, :, None], axis=2)[:, :, 0]
            up = ex[:, :, 0] & (new_lo > lo[:, :, 0])
            down = ex[:, :, 0] & (new_hi < hi[:, :, 0])
            mark(up, src_lo[:, :, 0], 3, dim_lo[:, :, 0], best_lo)
            mark(down, src_hi[:, :, 0], 3, dim_hi[:, :, 0], best_hi)
            lo[:, :, 0] = np.where(up, new_lo, lo[:, :, 0])
            hi[:, :, 0] = np.where(down, new_hi, hi[:, :, 0])
        m_lo = g.fspread(t_lo - s_hi) + hi[:, :, 1:]
        m_hi = g.fspread(t_hi - s_lo) + lo[:, :, 1:]
        up = ex[:, :, 1:] & (m_lo > lo[:, :, 1:])
        down = ex[:, :, 1:] & (m_hi < hi[:, :, 1:])
        mark(up, src_lo[:, :, 1:], 1)
        mark(down, src_hi[:, :, 1:], 1)
        lo[:, :, 1:] = np.where(up, m_lo, lo[:, :, 1:])
        hi[:, :, 1:] = np.where(down, m_hi, hi[:, :, 1:])
        if not on.any():
            continue
        # grade lines
        s_lo, s_hi = _Grid.gsum(lo), _Grid.gsum(hi)
        t_lo = np.where(has_total_g, lo[:, -1, :], virtual_g)
        t_hi = np.where(has_total_g, hi[:, -1, :], virtual_g)
        m_lo = (t_lo - s_hi)[:, None, :] + hi[:, :-1, :]
        m_hi = (t_hi - s_lo)[:, None, :] + lo[:, :-1, :]
        keep = ex[:, :-1, :] & on[:, None, :]
        up = keep & (m_lo > lo[:, :-1, :])
        down = keep & (m_hi < hi[:, :-1, :])
        mark(up, src_lo[:, :-1, :], 2)
        mark(down, src_hi[:, :-1, :], 2)
        lo[:, :-1, :] = np.where(up, m_lo, lo[:, :-1, :])
        hi[:, :-1, :] = np.where(down, m_hi, hi[:, :-1, :])
        keep = has_total_g & on
        up = keep & (s_lo > lo[:, -1, :])
        down = keep & (s_hi < hi[:, -1, :])
        mark(up, src_lo[:, -1, :], 4)
        mark(down, src_hi[:, -1, :], 4)
        lo[:, -1, :] = np.where(up, s_lo, lo[:, -1, :])
        hi[:, -1, :] = np.where(down, s_hi, hi[:, -1, :])
    return lo, hi, (src_lo, dim_lo), (src_hi, dim_hi)


# ------------------------------------------------------------------------------------------
# From rows to grids and back


def _labelled_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a column and the text of each code (missing values are ``""``)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        labels = [str(c) for c in values.cat.categories]
        if (codes < 0).any():
            codes = np.where(codes < 0, len(labels), codes)
            labels.append("")
        return codes, np.array(labels, dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    labels = ["" if pd.isna(u) else str(u) for u in uniques]
    return codes.astype(np.int64), np.array(labels, dtype=object)


def _text_rank(labels: np.ndarray) -> np.ndarray:
    """Rank of each label in plain string order."""
    rank = np.empty(len(labels), dtype=np.int64)
    rank[np.argsort(np.asarray(labels, dtype=str), kind="stable")] = np.arange(len(labels))
    return rank


def _grade_rank(labels: np.ndarray) -> np.ndarray:
    """Grades in school order (PK, K, 1-12, then others by name); ``All`` last."""
    known = {g: i for i, g in enumerate(GRADE_ORDER)}
    order = sorted(
        range(len(labels)),
        key=lambda i: (labels[i] == ALL_GRADE, known.get(labels[i], len(known)), labels[i]),
    )
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels))
    return rank


def _layout(
    table: pd.DataFrame,
    family: list[str],
    group: str,
    linked: bool,
    n: np.ndarray,
    n_prof: np.ndarray,
    min_n: int,
    top_code: float,
    bottom_code: float,
) -> tuple[_Grid, np.ndarray]:
    """The dense grids of ``table`` and each row's position in them (flat index)."""
    rows = len(table)
    if linked:
        block_cols = [c for c in family if c not in (GRADE, DIMENSION)]
        block = _family_codes(table, block_cols) if block_cols else np.zeros(rows, np.int64)
        g_codes, g_labels = _labelled_codes(table[GRADE])
        g_rank = _grade_rank(g_labels)[g_codes]  # All ranks last
        is_all = (g_labels == ALL_GRADE)[g_codes]
        # each block's own grades, in order, then the All row last: grids stay small
        width = len(g_labels) + 1
        present = np.zeros((int(block.max()) + 1) * width, dtype=bool)
        present[(block * width + g_rank)[~is_all]] = True
        present = present.reshape(-1, width)
        slot_of = np.cumsum(present, axis=1) - 1
        n_grades = int(present.sum(axis=1).max(initial=0)) + 1
        g_slot = np.where(is_all, n_grades - 1, slot_of[block, g_rank])
        d_codes, d_labels = _labelled_codes(table[DIMENSION])
        k_codes, k_labels = _labelled_codes(table[group])
        n_k = len(k_labels)
        pair = d_codes * n_k + k_codes
        pairs = np.flatnonzero(np.bincount(pair, minlength=len(d_labels) * n_k))
        pair_d, pair_k = pairs // n_k, pairs % n_k
        is_total = d_labels[pair_d] == TOTAL_DIMENSION
        if is_total.sum() > 1:
            names = sorted(k_labels[pair_k[is_total]])
            raise BltError(
                f"the {TOTAL_DIMENSION!r} dimension must have a single group (All Students); "
                f"found {', '.join(names)}"
            )
        order = np.lexsort((_text_rank(k_labels)[pair_k], _text_rank(d_labels)[pair_d], ~is_total))
        offset = 0 if is_total.any() else 1  # no All Students rows: a virtual column 0
        column_of = np.full(len(d_labels) * n_k, -1, dtype=np.int64)
        column_of[pairs[order]] = offset + np.arange(len(pairs))
        column = column_of[pair]
        n_cols = offset + len(pairs)
        col_dims = np.r_[np.full(offset, -1), np.where(is_total[order], -1, pair_d[order])]
        starts = np.flatnonzero(np.r_[True, col_dims[1:] != col_dims[:-1]])
    else:
        block = _family_codes(table, family) if family else np.zeros(rows, np.int64)
        rank = _name_rank(table[group])
        order = np.lexsort((rank, block))
        first = np.r_[True, block[order][1:] != block[order][:-1]]
        run_start = np.maximum.accumulate(np.where(first, np.arange(rows), 0))
        column = np.empty(rows, dtype=np.int64)
        column[order] = 1 + np.arange(rows) - run_start
        n_cols = int(column.max()) + 1
        n_grades = 2
        g_slot = np.zeros(rows, dtype=np.int64)
        starts = np.array([0, 1])
    used = np.zeros(int(block.max()) + 1, dtype=bool)
    used[block] = True
    if not used.all():  # number the blocks that have rows 0..B-1
        block = (np.cumsum(used) - 1)[block]
        if linked:
            g_slot = g_slot  # slots are per block already
    n_blocks = int(block.max()) + 1
    shape = (n_blocks, n_grades, n_cols)
    flat = (block * n_grades + g_slot) * n_cols + column
    seen = np.bincount(flat, minlength=n_blocks * n_grades * n_cols)
    if seen.max() > 1:
        row = table.index[np.flatnonzero(seen[flat] > 1)[0]]
        raise BltError(
            f"row {row!r}: the same group appears twice in one family "
            f"({', '.join(family)}, {group}); each group needs one row"
        )

    def dense(values, fill=0, dtype=np.int32):
        out = np.full(n_blocks * n_grades * n_cols, fill, dtype=dtype)
        out[flat] = values
        return out.reshape(shape)

    exists = dense(True, False, bool)
    n32, p32 = n.astype(np.int32), n_prof.astype(np.int32)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(n > 0, 100.0 * n_prof / np.maximum(n, 1), np.nan)
    p_lo = np.where(pct >= top_code, np.ceil(top_code / 100.0 * n - 1e-9), n_prof)
    p_hi = np.where(pct <= bottom_code, np.floor(bottom_code / 100.0 * n + 1e-9), n_prof)
    primary = n < min_n
    grid = _Grid(
        n=dense(n32),
        p=dense(p32),
        exists=exists,
        p_lo=dense(p_lo.astype(np.int32)),
        p_hi=dense(p_hi.astype(np.int32)),
        lo_r=dense(np.where(primary, 1, min_n).astype(np.int32)),
        hi_r=dense(np.where(primary, min_n - 1, _BIG).astype(np.int32)),
        primary=dense(primary, False, bool),
        grade_lines=np.zeros((n_blocks, n_cols), dtype=bool),
        starts=starts,
    )
    if linked:
        grid.grade_lines = exists[:, -1, :].any(axis=1)[:, None] & exists[:, :-1, :].any(axis=1)
    return grid, flat


# ------------------------------------------------------------------------------------------
# The exact check and the repair loop

_AUDIT_BLOCK = ("school_id", "school_year", "term", "subject")
_REPAIR_ROUNDS = 12


def _repair(
    table: pd.DataFrame,
    family: list[str],
    group: str,
    grid: _Grid,
    flat: np.ndarray,
    hidden: np.ndarray,
    min_n: int,
    protection: int,
    top_code: float,
    bottom_code: float,
    everything: bool = False,
) -> np.ndarray:
    """Check blocks with the exact audit; hide more where it fails.

    ``everything``: every block with a hidden group; else the suspicious ones
    (:func:`_suspicious`).

    The audit (:func:`bltanalytics.metrics.audit.audit`) solves the attacker's linear programmes.
    For
    each group it finds narrowed below ``protection`` or with a forced proficient count, one
    more cell is hidden in its line with the fewest hidden cells (the smallest published one),
    the local rules run again on that block, and only the blocks that changed are checked
    again. A line with nothing left to hide hides every published cell of the group's lines.
    """
    if sorted(family) != sorted((*_AUDIT_BLOCK, GRADE, DIMENSION)):
        return hidden
    try:
        from bltanalytics.metrics.audit import audit as exact_audit
    except ImportError:  # pragma: no cover - the audit ships with the package
        return hidden
    config = Config(min_n=min_n, protection=protection, top_code=top_code, bottom_code=bottom_code)
    shape = grid.n.shape
    row_block = flat // (shape[1] * shape[2])
    dense = np.zeros(grid.n.size, dtype=bool)
    dense[flat] = hidden
    dense = dense.reshape(shape)
    blocks = np.flatnonzero(dense.any(axis=(1, 2)))
    if not everything and blocks.size:
        blocks = blocks[_suspicious(grid.take(blocks), dense[blocks], protection)]
    for _ in range(_REPAIR_ROUNDS):
        if not blocks.size:
            break
        wanted = np.zeros(shape[0], dtype=bool)
        wanted[blocks] = True
        rows = np.flatnonzero(wanted[row_block])
        hidden = dense.reshape(-1)[flat]
        frame = _as_published(table.iloc[rows], group, hidden[rows], config)
        verdict = exact_audit(frame, config).groups
        bad = verdict.loc[~verdict["protected"].to_numpy(dtype=bool)]
        if bad.empty:
            break
        keys = [*_AUDIT_BLOCK, GRADE, DIMENSION, "group"]
        where = (
            frame[keys]
            .astype(str)
            .assign(_row=rows)
            .merge(bad[keys].astype(str), on=keys, how="inner")["_row"]
            .to_numpy()
        )
        fail = np.zeros(grid.n.size, dtype=bool)
        fail[flat[where]] = True
        fail = fail.reshape(shape)
        failing = np.unique(row_block[where])
        sub, h = grid.take(failing), dense[failing]
        added = _neighbour_choice(sub, h, fail[failing], min_n)
        stuck = np.flatnonzero(~added.any(axis=(1, 2)))
        if stuck.size:  # nothing published next to them: every published cell of the block
            added[stuck] = sub.exists[stuck] & ~h[stuck]
        dense[failing] = h | added
        moved = failing[added.any(axis=(1, 2))]
        dense = _protect(grid, protection, min_n, hidden=dense, active=moved)
        blocks = moved
    return dense.reshape(-1)[flat]


def _neighbour_choice(g: _Grid, h: np.ndarray, fail: np.ndarray, min_n: int) -> np.ndarray:
    """One cell per block, for failing cells whose own lines have nothing left to hide.

    The attacker then combines lines: the failing cell's lines, the other hidden cells in
    them, and *their* lines. The smallest published member of those next lines is hidden
    (with the same costs as :func:`_choose`), one per block and round.
    """
    hm = h & g.exists
    # the failing cells' lines (as member or as total)
    lf = (g.fsum(fail) > 0) | fail[:, :, :1]
    lg = fail.any(axis=1)
    # hidden cells in those lines, and the lines those cells are in
    in_lf = np.zeros_like(h)
    in_lf[:, :, 1:] = g.fspread(lf)
    in_lf[:, :, 0] = lf.any(axis=2)
    hf = hm & in_lf
    hg = hm & lg[:, None, :]
    ng = (hf | hg).any(axis=1) & g.grade_lines
    nf = (g.fsum(hf | hg) > 0) | (hf | hg)[:, :, :1]
    pub = g.exists & ~h
    cand = np.zeros_like(h)
    cand[:, :, 1:] = g.fspread(nf)
    cand[:, :-1, :] |= ng[:, None, :]
    cand &= pub
    open_grade, open_family = _opening_costs(g, h)
    _, n_grades, n_cols = h.shape
    tie = n_grades * n_cols + 1
    order = np.arange(tie - 1).reshape(n_grades, n_cols)
    cost = np.where(cand, (g.n + open_grade + open_family) * tie + order, np.inf)
    cost = cost.reshape(len(h), -1)
    best = cost.argmin(axis=1)
    ok = np.isfinite(cost[np.arange(len(h)), best])
    added = np.zeros(cost.shape, dtype=bool)
    added[np.flatnonzero(ok), best[ok]] = True
    return added.reshape(h.shape)


def _suspicious(g: _Grid, h: np.ndarray, protection: int) -> np.ndarray:
    """Blocks the exact check should read first: a grade's All Students hidden (its lines mix
    every dimension), or a hidden count the lines read together narrow below ``protection``
    (propagation is an outer bound: the attacker may do better elsewhere too)."""
    hm = h & g.exists
    pub = g.exists & ~h
    lo = np.where(hm, g.lo_r, np.where(pub, g.n, 0))
    hi = np.where(hm, g.hi_r, np.where(pub, g.n, 0))
    lo, hi, _, _ = _tighten(g, lo, hi, g.n)
    close = (hm & (hi - lo < protection)).any(axis=(1, 2))
    return close | hm[:, :, 0].any(axis=1)


def _as_published(
    rows: pd.DataFrame, group: str, hidden: np.ndarray, config: Config
) -> pd.DataFrame:
    """What a reader of the export sees of ``rows`` once ``hidden`` ones are suppressed."""
    n = rows["n_tested"].to_numpy(dtype=float)
    p = rows["n_proficient"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(n > 0, 100.0 * p / np.maximum(n, 1), np.nan)
    coded = ~hidden & ((pct >= config.top_code) | (pct <= config.bottom_code))
    reason = np.where(hidden, np.where(n < config.min_n, 0, 1), -1)
    frame = pd.DataFrame(
        {
            **{c: rows[c].to_numpy() for c in (*_AUDIT_BLOCK, GRADE, DIMENSION)},
            "group": rows[group].to_numpy(),
            "n_tested": np.where(hidden, np.nan, n),
            "n_proficient": np.where(hidden | coded, np.nan, p),
            "pct_proficient": np.where(hidden | coded, np.nan, pct),
            "suppressed": hidden,
            "suppression_reason": strings(REASONS, reason).to_numpy(),
            "display": display_labels(
                pct, hidden, top_code=config.top_code, bottom_code=config.bottom_code
            ).to_numpy(),
        }
    )
    return frame


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
    return strings(labels, code)


def shown_pct(
    display: pd.Series,
    pct: pd.Series,
    *,
    top_code: float = _DEFAULTS.top_code,
    bottom_code: float = _DEFAULTS.bottom_code,
) -> pd.Series:
    """The percentage a reader can rank by: the published one, or the bound a code gives.

    ``≥95%`` ranks as 95 and ``≤5%`` as 5 (their exact values are not published); a hidden
    group (``*``) is empty. A coded gap ranks by its bound the same way:
    ``shown_pct(group) - shown_pct(All Students)``.

    >>> shown_pct(pd.Series(["≥95%", "63%", "≤5%", "*"]),
    ...           pd.Series([float("nan"), 62.5, float("nan"), float("nan")])).tolist()
    [95.0, 62.5, 5.0, nan]
    """
    text = display.astype("str").to_numpy()
    value = pd.to_numeric(pct, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    value = np.where(text == f"≥{top_code:g}%", top_code, value)
    value = np.where(text == f"≤{bottom_code:g}%", bottom_code, value)
    value = np.where(text == SUPPRESSED_MARK, np.nan, value)
    return pd.Series(value, index=display.index, name="shown_pct")


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
