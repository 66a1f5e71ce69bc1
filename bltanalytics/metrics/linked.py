"""Secondary suppression over the linked structure of a block, on a dense grid: the fast pass.

Each block (school, year, term, subject) is a grid of grades by groups whose lines add up
(contract section 2). :func:`protect` hides, line by line and vectorized over every block at
once, the fewest students that leave every hidden figure uncertain by ``protection`` and no
hidden proficient count forced to none or all; :mod:`bltanalytics.metrics.blocks` builds the
grids and runs the exact check after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# ------------------------------------------------------------------------------------------
# Secondary suppression over the linked structure, on dense grids.
#
# A block (school, year, term, subject) is a grid: grades (the grade ``All`` row last) x
# columns (All Students first, then the groups of each dimension, one contiguous slice per
# dimension, groups in name order). Two kinds of line, each an equation "the members add up
# to the total": a *family line* (one grade and dimension: its groups add up to the grade's
# All Students) and a *grade line* (one column: the grades add up to the grade-All row).
# A total the table lacks is *virtual*: taken as known to the reader and never hidden.


BIG = 1 << 24  # no upper bound: far above any school; sums of 64 still fit in int32
_MAX_ROUNDS = 80
_TIGHTEN_ROUNDS = 3


@dataclass
class Grid:
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

    def take(self, blocks: np.ndarray) -> Grid:
        return Grid(*(getattr(self, f)[blocks] for f in _GRID_ARRAYS), starts=self.starts)

    def grades(self, k: int) -> Grid:
        """The first ``k`` grade slots and the grade ``All`` row (blocks with at most ``k``)."""
        rows = np.r_[0:k, self.n.shape[1] - 1]
        arrays = {f: getattr(self, f) for f in _GRID_ARRAYS}
        cut = {f: (v if f == "grade_lines" else v[:, rows]) for f, v in arrays.items()}
        return Grid(**cut, starts=self.starts)

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


def protect(
    grid: Grid,
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
            added[others] = neighbour_choice(sub.take(others), h[others], rest[others], min_n)
        hidden[blocks] = h | added
        active = blocks[added.any(axis=(1, 2))]
        to_check.append(active)
    return hidden


def protect_by_size(
    grid: Grid, protection: int, min_n: int, hidden: np.ndarray | None = None
) -> np.ndarray:
    """:func:`protect` on blocks grouped by their number of grades, each group on grids just
    tall enough (most blocks have far fewer grades than the tallest): the same cells hidden,
    on about half the cells. ``hidden``: cells hidden from the start (as :func:`protect`)."""
    used = grid.exists[:, :-1, :].any(axis=2).sum(axis=1)
    out = np.zeros(grid.n.shape, dtype=bool)
    for k in np.unique(used):
        blocks = np.flatnonzero(used == k)
        rows = np.r_[0:k, grid.n.shape[1] - 1]
        sub = grid.take(blocks).grades(int(k))
        start = None if hidden is None else hidden[np.ix_(blocks, rows)]
        out[np.ix_(blocks, rows)] = protect(sub, protection, min_n, hidden=start)
    return out


def _degrees(g: Grid, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hidden cells (members and total) of each family line and each grade line."""
    hm = h & g.exists
    deg_f = g.fsum(hm) + hm[:, :, :1]
    deg_g = np.where(g.grade_lines, Grid.gsum(hm.astype(np.int32)) + hm[:, -1, :], 0)
    return deg_f, deg_g


def _line_needs(g: Grid, h: np.ndarray, protection: int, kinds: str) -> tuple:
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
        hidden_m = Grid.gsum(hm.astype(np.int32))
        t_hidden = hm[:, -1, :]
        deg = hidden_m + t_hidden
        t_pub = ~t_hidden
        rem = Grid.gsum(n * hm)
        s_lo, s_hi = Grid.gsum(lo), Grid.gsum(hi)
        width = _local_width(
            lo[:, :-1, :], hi[:, :-1, :], rem[:, None, :], s_lo[:, None, :], s_hi[:, None, :]
        )
        narrow = (hm[:, :-1, :] & (width < protection)).any(axis=1)
        rp = Grid.gsum(p * hm) + Grid.gsum(down_p) + up_p[:, -1, :]
        rq = Grid.gsum(q * hm) + Grid.gsum(up_p) + down_p[:, -1, :]
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


def _choose(g: Grid, h: np.ndarray, need_f, need_g, min_n: int) -> np.ndarray:
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
    open_grade, open_family = opening_costs(
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


def opening_costs(g: Grid, h: np.ndarray, which: str = "gf") -> tuple:
    """What hiding each published cell would cost in its *other* line, as float arrays.

    ``open_grade`` (``"g"`` in ``which``): for a cell picked by its family line, the cost in
    its grade line; ``open_family`` (``"f"``): for a cell picked by its grade line, the cost
    in its family line(s). 0 where that line already holds a hidden cell; else its smallest
    other published member, or its total counted twice (a total opens lines of its own).
    """
    pub = g.exists & ~h
    deg_f, deg_g = _degrees(g, h)
    size = np.where(pub, g.n, np.inf).astype(np.float64)
    no_total = 4.0 * BIG  # a line with a single member and a virtual total: avoid
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


def _failing(g: Grid, h: np.ndarray, protection: int) -> tuple[np.ndarray, tuple]:
    """Hidden cells the lines read together (interval propagation: outer bounds) narrow
    below ``protection`` or whose proficient count they force to 0 or to n_tested, and the
    lines to hide one more cell in (see :func:`_binding`)."""
    hm = h & g.exists
    pub = g.exists & ~h
    n = g.n
    lo = np.where(hm, g.lo_r, np.where(pub, n, 0))
    hi = np.where(hm, g.hi_r, np.where(pub, n, 0))
    lo, hi, src_lo, src_hi = tighten(g, lo, hi, n)
    narrow = hm & (hi - lo < protection)
    # proficient (p) and not proficient (q) counts: forced to 0 only where truly 0
    top = np.where(hm, hi, 0)
    _, p_hi, _, p_src = tighten(
        g, np.where(pub, g.p_lo, 0), np.where(hm, top, np.where(pub, g.p_hi, 0)), g.p
    )
    _, q_hi, _, q_src = tighten(
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


def _binding(g: Grid, h, fail, code, code_d, src_hi) -> tuple:
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


def _fewest(g: Grid, h: np.ndarray, fail: np.ndarray) -> tuple:
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


def tighten(g: Grid, lo: np.ndarray, hi: np.ndarray, true: np.ndarray):
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
    virtual_g = Grid.gsum(np.where(ex, true, 0))

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
        cand_hi = np.where(has_members_f, s_hi, BIG)
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
        s_lo, s_hi = Grid.gsum(lo), Grid.gsum(hi)
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


def neighbour_choice(g: Grid, h: np.ndarray, fail: np.ndarray, min_n: int) -> np.ndarray:
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
    open_grade, open_family = opening_costs(g, h)
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
