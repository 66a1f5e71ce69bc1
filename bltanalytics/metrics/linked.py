"""Secondary suppression over the linked structure of a block, on a dense grid: the fast pass.

Each block (school, year, term, subject) is a grid of grades by groups whose lines add up
(contract section 2). :func:`protect` hides, line by line and vectorized over every block at
once, the fewest students that leave every hidden figure uncertain by ``protection`` and no
hidden proficient count forced to none or all; :mod:`bltanalytics.metrics.blocks` builds the
grids and runs the exact check after it.
"""

from __future__ import annotations

import numpy as np

from bltanalytics.metrics.grids import (
    BIG,
    Grid,
    Lines,
    blocks_with,
    cut_blocks,
    flip,
)
from bltanalytics.metrics.propagation import tighten_lines

_MAX_ROUNDS = 80
_NO_CELL = (1 << 31) - 1  # the cost of no cell: above every real one (at most ~9 BIG)
_PART_CELLS = 1 << 18  # cells (blocks x grades x columns) protected at a time


#: the arrays choosing cells reads (:func:`_choose`, :func:`_neighbour_choice`)
_CHOICE_ARRAYS = ("n", "exists")


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
    ``hidden``: cells hidden from the start (updated in place); ``active``: the blocks to
    look at (default: every block with a hidden cell; the others are left as they are).
    """
    hidden = grid.primary.copy() if hidden is None else hidden
    if active is None:
        active = np.flatnonzero(hidden.any(axis=(1, 2)))
    if not active.size:
        return hidden
    h = hidden[active]
    _protect_parts(grid, h, active, None, protection, min_n)
    hidden[active] = h
    return hidden


def _protect_parts(
    grid: Grid,
    hidden: np.ndarray,
    blocks: np.ndarray,
    rows: np.ndarray | None,
    protection: int,
    min_n: int,
) -> None:
    """:func:`_protect` on ``grid``'s ``blocks`` (only the grade slots ``rows``, if given),
    whose hidden cells are ``hidden`` (updated in place), a part of the blocks at a time.

    Blocks are protected each on its own, so the parts change nothing; parts of about
    ``_PART_CELLS`` cells keep the temporaries small (a few hundred kB to 2 MB: they stay in
    the processor's cache and the allocator reuses them; about 10 % less CPU than the
    largest bucket of the 1,000-school district in one part).
    """
    if not len(blocks):
        return
    for part in _parts(len(blocks), hidden.shape[1] * hidden.shape[2]):
        h = flip(hidden[part])
        _protect(Lines.of(grid, blocks=blocks[part], rows=rows), h, protection, min_n)
        hidden[part] = flip(h)


def _parts(blocks: int, cells_per_block: int) -> list[np.ndarray]:
    """Positions ``0..blocks-1`` cut into parts of about ``_PART_CELLS`` cells each."""
    per_part = max(1, _PART_CELLS // max(1, cells_per_block))
    return np.array_split(np.arange(blocks), -(-blocks // per_part))


def _protect(g: Lines, hidden: np.ndarray, protection: int, min_n: int) -> None:
    """:func:`protect` on every block of ``g`` (column-major ``hidden``, updated in place)."""
    n_blocks = hidden.shape[2]
    active = np.arange(n_blocks)
    to_check = [active]
    for _ in range(_MAX_ROUNDS):
        if active.size:
            whole = active.size == n_blocks
            sub = g if whole else g.take(active)
            h = hidden if whole else cut_blocks(hidden, active)
            need_f, _ = _line_needs(sub, h, protection, kinds="f")
            added = _choose(sub, h, need_f, None, min_n)
            h |= added
            _, need_g = _line_needs(sub, h, protection, kinds="g")
            more = _choose(sub, h, None, need_g, min_n)
            h |= more
            if not whole:
                hidden[..., active] = h
            moved = blocks_with(added | more)
            active = active[moved]
            to_check.append(active)
            continue
        check = np.unique(np.concatenate(to_check))
        to_check = []
        if not check.size:
            break
        whole = check.size == n_blocks
        sub = g if whole else g.take(check)
        h = hidden if whole else cut_blocks(hidden, check)
        fail, (need_f, need_g, left) = _failing(sub, h, protection)
        failing = np.flatnonzero(blocks_with(fail))
        if not failing.size:
            break
        blocks = check[failing]
        sub = sub.take(failing, _CHOICE_ARRAYS)
        h = cut_blocks(h, failing)
        added = _choose(sub, h, cut_blocks(need_f, failing), cut_blocks(need_g, failing), min_n)
        rest = cut_blocks(left, failing)
        others = np.flatnonzero(blocks_with(rest) & ~blocks_with(added))
        if others.size:
            added[..., others] = _neighbour_choice(
                sub.take(others), cut_blocks(h, others), cut_blocks(rest, others)
            )
        hidden[..., blocks] = h | added
        active = blocks[blocks_with(added)]
        to_check.append(active)


def protect_by_size(
    grid: Grid, protection: int, min_n: int, hidden: np.ndarray | None = None
) -> np.ndarray:
    """:func:`protect` on blocks grouped by their number of grades, each group on grids just
    tall enough (most blocks have far fewer grades than the tallest): the same cells hidden,
    on about half the cells. ``hidden``: cells hidden from the start (as :func:`protect`)."""
    out = np.zeros(grid.n.shape, dtype=bool)
    for blocks, rows in grid.buckets():
        start = (grid.primary if hidden is None else hidden)[np.ix_(blocks, rows)]
        busy = start.any(axis=(1, 2))  # the others have nothing to protect
        lost = np.zeros_like(busy)
        lost[busy] = hopeless(grid, blocks[busy], rows, protection)
        start[lost] = grid.exists[np.ix_(blocks[lost], rows)]
        busy &= ~lost
        h = start[busy]
        _protect_parts(grid, h, blocks[busy], rows, protection, min_n)
        start[busy] = h
        out[np.ix_(blocks, rows)] = start
    return out


def hopeless(
    grid: Grid, blocks: np.ndarray, rows: np.ndarray | None, protection: int
) -> np.ndarray:
    """Which ``blocks`` (bool, one each) fail even with every figure hidden.

    Hiding more only ever takes figures away from a reader, so a block whose lines, read
    together with every figure hidden, still narrow a count below ``protection`` (or force
    a proficient count to none or all) fails whatever is hidden: :func:`protect_by_size`
    hides all of it at once and leaves it to ``withhold()`` (the repair would hide it one
    cell per round only to reach the same end). The lines are read as :func:`protect` reads
    them (interval propagation: outer bounds, so a block found here fails the exact audit
    too). ``rows``: the grade slots to read (``None``: all).

    >>> one = np.array([[2, 1, 1]] * 7 + [[14, 7, 7]])  # 7 grades, then grade All
    >>> n = np.stack([one, 10 * one])  # All Students, F, M of a tiny block and a larger one
    >>> g = Grid(n=n, p=n // 2, exists=n > 0, p_lo=n // 2, p_hi=n // 2, primary=n < 10,
    ...          lo_r=np.where(n < 10, 1, 10), hi_r=np.where(n < 10, 9, BIG),
    ...          grade_lines=np.ones((2, 3), bool), starts=np.array([0, 1]))
    >>> hopeless(g, np.array([0, 1]), None, protection=3).tolist()  # F under 10 in 7 grades
    [True, False]
    """
    out = np.zeros(len(blocks), dtype=bool)
    if not len(blocks):
        return out
    slots = grid.n.shape[1] if rows is None else len(rows)
    for part in _parts(len(blocks), slots * grid.n.shape[2]):
        lines = Lines.of(grid, blocks=blocks[part], rows=rows)
        fail, _ = _failing(lines, lines.exists.copy(), protection, lines=False)
        out[part] = blocks_with(fail)
    return out


def _degrees(g: Lines, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hidden cells (members and total) of each family line and each grade line."""
    hm = h & g.exists
    deg_f = g.fsum(hm) + hm[:1]
    deg_g = np.where(g.grade_lines, g.gsum(hm) + hm[:, -1], 0)
    return deg_f, deg_g


def _line_needs(g: Lines, h: np.ndarray, protection: int, kinds: str) -> tuple:
    """Lines that need one more hidden cell, judged each on its own.

    A line needs one more when (1) it has exactly one hidden cell (the published ones give it
    away), (2) its total is published and one of its hidden members is narrowed below
    ``protection`` by the line alone (the hidden members add up to a known remainder; a
    ``min_n`` one is 1..min_n-1, a complementary one at least min_n), or (3) its total is
    published and the hidden members' proficient (or not proficient) remainder is 0.
    """
    hm = h & g.exists
    pub = g.exists & ~h
    lo = np.where(hm, g.lo_r, 0)
    hi = np.where(hm, g.hi_r, 0)
    n_hidden = np.where(hm, g.n, 0)
    # slack of a published cell's p for the reader (coding): p - p_lo and p_hi - p
    up_p = np.where(pub, g.p_hi - g.p, 0)  # p could be this much higher -> q lower
    down_p = np.where(pub, g.p - g.p_lo, 0)
    # what a line's proficient (not proficient) remainder takes from each member
    p_rest = np.where(hm, g.p, down_p)
    q_rest = np.where(hm, g.q, up_p)
    need_f = need_g = None
    if "f" in kinds:
        hidden_m = g.fsum(hm)
        t_hidden = hm[:1]
        deg = hidden_m + t_hidden
        rem = g.fsum(n_hidden)
        # a member's range: the others take the rest of the remainder
        low = np.maximum(lo[1:], hi[1:] + g.fspread(rem - g.fsum(hi)))
        high = np.minimum(hi[1:], lo[1:] + g.fspread(rem - g.fsum(lo)))
        narrow = g.fsum(hm[1:] & (high - low < protection))
        rp = g.fsum(p_rest) + up_p[:1]
        rq = g.fsum(q_rest) + down_p[:1]
        forced = (hidden_m > 0) & ((rp <= 0) | (rq <= 0))
        need_f = (deg == 1) | (~t_hidden & ((narrow > 0) | forced))
    if "g" in kinds:
        hidden_m = g.gsum(hm)
        t_hidden = hm[:, -1]
        deg = hidden_m + t_hidden
        rem = g.gsum(n_hidden)
        low = np.maximum(lo[:, :-1], hi[:, :-1] + (rem - g.gsum(hi))[:, None])
        high = np.minimum(hi[:, :-1], lo[:, :-1] + (rem - g.gsum(lo))[:, None])
        narrow = (hm[:, :-1] & (high - low < protection)).any(axis=1)
        rp = g.gsum(p_rest) + up_p[:, -1]
        rq = g.gsum(q_rest) + down_p[:, -1]
        forced = (hidden_m > 0) & ((rp <= 0) | (rq <= 0))
        need_g = g.grade_lines & ((deg == 1) | (~t_hidden & (narrow | forced)))
    return need_f, need_g


def _choose(g: Lines, h: np.ndarray, need_f, need_g, min_n: int) -> np.ndarray:
    """One more hidden cell in each line that needs one: its cheapest published member.

    The cost of a member is its ``n_tested`` plus, when hiding it opens its other line (one
    with no hidden cell yet), the cheapest cell that line would then need: its smallest
    other published member, or its total counted twice (a total opens lines of its own).
    Ties go by name (grade) order. Only a line with no published member hides its total.
    """
    added = np.zeros_like(h)
    if need_f is None and need_g is None:
        return added
    wanted = np.zeros(h.shape[2], dtype=bool)
    if need_f is not None:
        wanted |= blocks_with(need_f)
    if need_g is not None:
        wanted |= need_g.any(axis=0)
    if not wanted.any():
        return added
    if not wanted.all():  # only the blocks with a line that needs one
        rows = np.flatnonzero(wanted)
        added[..., rows] = _choose(
            g.take(rows, _CHOICE_ARRAYS),
            cut_blocks(h, rows),
            None if need_f is None else cut_blocks(need_f, rows),
            None if need_g is None else cut_blocks(need_g, rows),
            min_n,
        )
        return added
    pub = g.exists & ~h
    open_grade, open_family = opening_costs(
        g, h, ("g" if need_f is not None else "") + ("f" if need_g is not None else "")
    )
    # the cheapest; on ties the first (argmin), in name (grade) order
    if need_f is not None and need_f.any():
        cand = np.zeros_like(h)
        cand[1:] = g.fspread(need_f) & pub[1:]
        cost = np.where(cand, g.n + open_grade, _NO_CELL)
        for d, (s, e) in enumerate(g.spans):
            part = cost[s:e]
            j = part.argmin(axis=0)
            found = part.min(axis=0) < _NO_CELL
            gr, b = np.nonzero(found)
            added[s + j[gr, b], gr, b] = True
            # no published member: the total (All Students of that grade)
            gr, b = np.nonzero(need_f[d] & ~found & pub[0])
            added[0, gr, b] = True
    if need_g is not None and need_g.any():
        cand = pub & need_g[:, None, :]
        cand[:, -1] = False
        cost = np.where(cand, g.n + open_family, _NO_CELL)
        j = cost.argmin(axis=1)
        found = cost.min(axis=1) < _NO_CELL
        c, b = np.nonzero(found)
        added[c, j[c, b], b] = True
        c, b = np.nonzero(need_g & ~found & pub[:, -1])
        added[c, -1, b] = True
    return added & ~h


def _two_smallest(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The smallest and the second smallest (the same when it occurs twice) along axis 0,
    :data:`_NO_CELL` where there are too few.

    >>> [m.tolist() for m in _two_smallest(np.array([[3, 1], [2, 1], [5, 4]]))]
    [[2, 1], [3, 1]]
    >>> [m.tolist() for m in _two_smallest(np.array([[3, 1]]))] == [[3, 1], [_NO_CELL] * 2]
    True
    """
    m1 = np.full(x.shape[1:], _NO_CELL, dtype=x.dtype)
    m2 = np.full(x.shape[1:], _NO_CELL, dtype=x.dtype)
    for row in x:
        m2 = np.minimum(m2, np.maximum(m1, row))
        m1 = np.minimum(m1, row)
    return m1, m2


def opening_costs(g: Lines, h: np.ndarray, which: str = "gf") -> tuple:
    """What hiding each published cell would cost in its *other* line (integer arrays).

    ``open_grade`` (``"g"`` in ``which``): for a cell picked by its family line, the cost in
    its grade line; ``open_family`` (``"f"``): for a cell picked by its grade line, the cost
    in its family line(s). 0 where that line already holds a hidden cell; else its smallest
    other published member, or its total counted twice (a total opens lines of its own).
    """
    pub = g.exists & ~h
    deg_f, deg_g = _degrees(g, h)
    size = np.where(pub, g.n, _NO_CELL)
    no_total = 4 * BIG  # a line with a single member and a virtual total: avoid
    open_grade = open_family = None
    if "f" in which:
        other_f = np.full(h.shape, _NO_CELL, dtype=size.dtype)
        first_f = np.full(deg_f.shape, _NO_CELL, dtype=size.dtype)
        for d, (s, e) in enumerate(g.spans):
            part = size[s:e]
            m1, m2 = _two_smallest(part)
            first_f[d] = m1
            other_f[s:e] = np.where(part == m1, m2, m1)
        total_f = np.where(pub[:1], 2 * g.n[:1], no_total)
        other_f = np.where(other_f == _NO_CELL, total_f, other_f)
        open_family = np.zeros(h.shape, dtype=other_f.dtype)
        open_family[1:] = np.where(g.fspread(deg_f) == 0, other_f[1:], 0)
        # an All Students cell opens every family line of its grade without a hidden cell
        open_family[0] = np.where((deg_f == 0) & (first_f < _NO_CELL), first_f, 0).sum(axis=0)
    if "g" in which:
        part = size[:, :-1]
        m1, m2 = _two_smallest(part.transpose(1, 0, 2))
        other_g = np.full(h.shape, _NO_CELL, dtype=size.dtype)
        other_g[:, :-1] = np.where(part == m1[:, None], m2[:, None], m1[:, None])
        total_g = np.where(pub[:, -1], 2 * g.n[:, -1], no_total)
        other_g = np.where(other_g == _NO_CELL, total_g[:, None], other_g)
        other_g[:, -1] = np.where(m1 < _NO_CELL, m1, no_total)  # the All row opens it
        open_grade = np.where(((deg_g == 0) & g.grade_lines)[:, None], other_g, 0)
    return open_grade, open_family


def _failing(
    g: Lines, h: np.ndarray, protection: int, lines: bool = True
) -> tuple[np.ndarray, tuple | None]:
    """Hidden cells the lines read together (interval propagation: outer bounds) narrow
    below ``protection`` or whose proficient count they force to 0 or to n_tested, and the
    lines to hide one more cell in (see :func:`_binding`; ``None`` without ``lines``)."""
    hm = h & g.exists
    pub = g.exists & ~h
    n_pub = np.where(pub, g.n, 0)
    lo, hi, src_lo, src_hi = tighten_lines(
        g, np.where(hm, g.lo_r, n_pub), np.where(hm, g.hi_r, n_pub), g.n
    )
    narrow = hm & (hi - lo < protection)
    # proficient (p) and not proficient (q) counts: forced to 0 only where truly 0
    _, p_hi, _, p_src = tighten_lines(
        g, np.where(pub, g.p_lo, 0), np.where(hm, hi, np.where(pub, g.p_hi, 0)), g.p, False
    )
    _, q_hi, _, q_src = tighten_lines(
        g,
        np.where(pub, g.n - g.p_hi, 0),
        np.where(hm, hi, np.where(pub, g.n - g.p_lo, 0)),
        g.q,
        False,
    )
    zero = hm & (p_hi <= 0) & ~narrow
    everyone = hm & (q_hi <= 0) & ~narrow & ~zero
    fail = narrow | zero | everyone
    if not lines:
        return fail, None
    cells = np.nonzero(fail)
    # the bound to widen: the upper one where it was tightened, else the lower one
    by_n, by_p = narrow[cells], zero[cells]
    n_hi = src_hi[0][cells] > 0
    n_code = np.where(n_hi, src_hi[0][cells], src_lo[0][cells])
    n_dim = np.where(n_hi, src_hi[1][cells], src_lo[1][cells])
    code = np.where(by_n, n_code, np.where(by_p, p_src[0][cells], q_src[0][cells]))
    code_d = np.where(by_n, n_dim, np.where(by_p, p_src[1][cells], q_src[1][cells]))
    return fail, _binding(g, h, cells, code, code_d, src_hi)


def _binding(g: Lines, h, cells, code, code_d, src_hi) -> tuple:
    """The lines where one more hidden cell widens each failing cell's bound.

    ``cells``: the failing cells (indices); ``code``, ``code_d``: for each, the line that
    tightened the bound to widen. Propagation records which line last tightened each bound
    (1 family line, 2 grade line as a member; 3 family line, 4 grade line as its total). That
    line, if it still has a published cell; else the line that bounds its total (a member's
    bound comes from the total's), up to three steps; else the failing cell's line with the
    fewest hidden cells.
    """
    pub = g.exists & ~h
    pub_f = g.fsum(pub) > 0  # published members (hiding a total comes last)
    pub_g = pub[:, :-1].any(axis=1) & g.grade_lines
    col_dim = np.r_[-1, g.member_dim]
    need_f = np.zeros(pub_f.shape, dtype=bool)
    need_g = np.zeros(pub_g.shape, dtype=bool)
    c, gr, b = cells
    origin = np.arange(len(b))
    resolved = np.zeros(len(b), dtype=bool)
    cd, dd = code, code_d
    for _ in range(3):
        if not b.size:
            break
        fam_d = np.where(cd == 3, dd, col_dim[c])
        is_f = (cd == 1) | (cd == 3)
        is_g = (cd == 2) | (cd == 4)
        ok_f = is_f & (fam_d >= 0) & pub_f[np.maximum(fam_d, 0), gr, b]
        ok_g = is_g & pub_g[c, b]
        need_f[fam_d[ok_f], gr[ok_f], b[ok_f]] = True
        need_g[c[ok_g], b[ok_g]] = True
        resolved[origin[ok_f | ok_g]] = True
        # not fixable there: follow the total of that line (members only)
        go = ~(ok_f | ok_g) & ((cd == 1) | (cd == 2))
        was_f = cd[go] == 1
        b, c, origin = b[go], c[go], origin[go]
        gr = np.where(was_f, gr[go], h.shape[1] - 1)
        c = np.where(was_f, 0, c)
        cd, dd = src_hi[0][c, gr, b], src_hi[1][c, gr, b]
    # anything left: the cheapest cell next to it (one per block)
    left = np.zeros_like(h)
    keep = ~resolved
    left[cells[0][keep], cells[1][keep], cells[2][keep]] = True
    return need_f, need_g, left


def neighbour_choice(g: Grid, h: np.ndarray, fail: np.ndarray, min_n: int) -> np.ndarray:
    """One cell per block, for failing cells whose own lines have nothing left to hide.

    The attacker then combines lines: the failing cell's lines, the other hidden cells in
    them, and *their* lines. The smallest published member of those next lines is hidden
    (with the same costs as :func:`_choose`), one per block and round. ``min_n`` is not
    read (the costs are the cells' sizes).
    """
    return flip(_neighbour_choice(Lines.of(g), flip(h), flip(fail)))


def _neighbour_choice(g: Lines, h: np.ndarray, fail: np.ndarray) -> np.ndarray:
    """:func:`neighbour_choice` on column-major arrays."""
    hm = h & g.exists
    # the failing cells' lines (as member or as total)
    lf = (g.fsum(fail) > 0) | fail[:1]
    lg = fail.any(axis=1)
    # hidden cells in those lines, and the lines those cells are in
    in_lf = np.zeros_like(h)
    in_lf[1:] = g.fspread(lf)
    in_lf[0] = lf.any(axis=0)
    near = hm & (in_lf | lg[:, None])
    ng = near.any(axis=1) & g.grade_lines
    nf = (g.fsum(near) > 0) | near[:1]
    pub = g.exists & ~h
    cand = np.zeros_like(h)
    cand[1:] = g.fspread(nf)
    cand[:, :-1] |= ng[:, None]
    cand &= pub
    open_grade, open_family = opening_costs(g, h)
    n_cols, n_grades, n_blocks = h.shape
    cost = np.where(cand, g.n + open_grade + open_family, _NO_CELL)
    # the cheapest; on ties the first in (grade, column) order
    cost = cost.transpose(1, 0, 2).reshape(-1, n_blocks)
    best = cost.argmin(axis=0)
    ok = np.flatnonzero(cost[best, np.arange(n_blocks)] < _NO_CELL)
    added = np.zeros_like(h)
    added[best[ok] % n_cols, best[ok] // n_cols, ok] = True
    return added
