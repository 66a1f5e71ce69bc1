"""Interval propagation over the lines of a block: outer bounds of every hidden count.

Each line says "the members add up to the total" (:mod:`bltanalytics.metrics.grids`); read
one at a time, a hidden member is at least the total's lower bound minus the other members'
upper bounds, and at most the total's upper bound minus their lower bounds (and a total lies
between its members' sums). A few rounds over both kinds of line give bounds the exact
programme can only narrow further: the fast pass (:mod:`bltanalytics.metrics.linked`) uses
them to find cells that certainly fail, the repair to pick the blocks to check first.
"""

from __future__ import annotations

import numpy as np

from bltanalytics.metrics.grids import BIG, Grid, Lines, blocks_with, cut_blocks, flip

_TIGHTEN_ROUNDS = 3


def tighten(g: Grid, lo: np.ndarray, hi: np.ndarray, true: np.ndarray):
    """Bound tightening over both kinds of line. ``true`` gives virtual totals (known sums).

    Returns the bounds and, for each, which line last tightened it: ``(code, dimension)``
    with code 0 the rule, 1 family line and 2 grade line (the cell a member), 3 family line
    (the cell its total; ``dimension`` says which) and 4 grade line (the cell its total).
    Arrays like ``g.n``; ``lo`` and ``hi`` are not modified.

    >>> n = np.array([[[9, 4, 5], [9, 4, 5]]])  # All Students, F, M; grade 3 and grade All
    >>> g = Grid(n=n, p=n, exists=n > 0, p_lo=n, p_hi=n, lo_r=n, hi_r=n, primary=n < 0,
    ...          grade_lines=np.zeros((1, 3), bool), starts=np.array([0, 1]))
    >>> lo, hi = n.copy(), n.copy()
    >>> lo[0, 0, 1:], hi[0, 0, 1:] = 1, 9      # F and M hidden in grade 3: each 1..9
    >>> lo, hi, _, (src, _) = tighten(g, lo, hi, n)
    >>> lo[0, 0].tolist(), hi[0, 0].tolist(), src[0, 0].tolist()   # 9 - M and 9 - F
    ([9, 1, 1], [9, 8, 8], [0, 1, 1])
    """
    lines = Lines.of(g, names=("exists",))
    lo, hi, (src_lo, dim_lo), (src_hi, dim_hi) = tighten_lines(
        lines, flip(lo), flip(hi), flip(true)
    )
    return flip(lo), flip(hi), (flip(src_lo), flip(dim_lo)), (flip(src_hi), flip(dim_hi))


def tighten_lines(g: Lines, lo: np.ndarray, hi: np.ndarray, true: np.ndarray, lower: bool = True):
    """:func:`tighten` on column-major arrays; ``lo`` and ``hi`` are tightened in place.
    ``lower``: record which line tightened each lower bound (else ``(None, None)``).

    A block that a round did not change is settled (the next round would read the same
    bounds): once fewer than half the blocks moved, a round looks only at those that did."""
    src_hi, dim_hi = np.zeros(lo.shape, np.int8), np.zeros(lo.shape, np.int16)
    src_lo, dim_lo = (
        (np.zeros(lo.shape, np.int8), np.zeros(lo.shape, np.int16)) if lower else (None, None)
    )
    bounds = [lo, hi, src_lo, dim_lo, src_hi, dim_hi]
    ex, on = g.exists, g.grade_lines
    known = [
        g.fsum(ex) > 0,  # family lines with members
        g.fsum(np.where(ex, true, 0)),  # virtual family totals
        g.gsum(np.where(ex, true, 0)),  # virtual grade totals
        ex[:, :-1] & on[:, None],  # members of grade lines
        ex[:, -1] & on,  # totals of grade lines
    ]
    moving = None  # the blocks still moving (None: all)
    for r in range(_TIGHTEN_ROUNDS):
        track = r < _TIGHTEN_ROUNDS - 1
        if moving is None:
            moved = _tighten_round(g, *known, *bounds, track)
        else:
            sub = [None if x is None else cut_blocks(x, moving) for x in bounds]
            moved = _tighten_round(
                g.take(moving, ("exists",)), *(cut_blocks(x, moving) for x in known), *sub, track
            )
            for x, y in zip(bounds, sub, strict=True):
                if x is not None:
                    x[..., moving] = y
        if track and 2 * moved.sum() < moved.size:  # worth gathering the few still moving
            moving = np.flatnonzero(moved) if moving is None else moving[moved]
            if not moving.size:
                break
    return lo, hi, (src_lo, dim_lo), (src_hi, dim_hi)


def _tighten_round(
    g: Lines,
    has_members_f,
    virtual_f,
    virtual_g,
    members_g,
    totals_g,
    lo,
    hi,
    src_lo,
    dim_lo,
    src_hi,
    dim_hi,
    track: bool,
) -> np.ndarray | None:
    """One round of :func:`tighten_lines` (family lines, then grade lines), in place; with
    ``track``, which blocks it changed."""
    ex = g.exists
    moved = np.zeros(ex.shape[2], dtype=bool) if track else None
    # family lines
    s_lo, s_hi = g.fsum(lo), g.fsum(hi)
    t_lo = np.where(ex[0], lo[0], virtual_f)
    t_hi = np.where(ex[0], hi[0], virtual_f)
    if g.spans:
        cand_lo = np.where(has_members_f, s_lo, 0)
        cand_hi = np.where(has_members_f, s_hi, BIG)
        new_lo, new_hi = cand_lo.max(axis=0), cand_hi.min(axis=0)
        up = ex[0] & (new_lo > lo[0])
        down = ex[0] & (new_hi < hi[0])
        if src_lo is not None:
            np.copyto(src_lo[0], 3, where=up)
            np.copyto(dim_lo[0], cand_lo.argmax(axis=0), where=up)
        np.copyto(src_hi[0], 3, where=down)
        np.copyto(dim_hi[0], cand_hi.argmin(axis=0), where=down)
        np.copyto(lo[0], new_lo, where=up)
        np.copyto(hi[0], new_hi, where=down)
        if track:
            moved |= (up | down).any(axis=0)
    m_lo = g.fspread(t_lo - s_hi) + hi[1:]
    m_hi = g.fspread(t_hi - s_lo) + lo[1:]
    up = ex[1:] & (m_lo > lo[1:])
    down = ex[1:] & (m_hi < hi[1:])
    if src_lo is not None:
        np.copyto(src_lo[1:], 1, where=up)
    np.copyto(src_hi[1:], 1, where=down)
    np.copyto(lo[1:], m_lo, where=up)
    np.copyto(hi[1:], m_hi, where=down)
    if track:
        moved |= blocks_with(up | down)
    if not g.grade_lines.any():
        return moved
    # grade lines
    s_lo, s_hi = g.gsum(lo), g.gsum(hi)
    t_lo = np.where(ex[:, -1], lo[:, -1], virtual_g)
    t_hi = np.where(ex[:, -1], hi[:, -1], virtual_g)
    m_lo = (t_lo - s_hi)[:, None] + hi[:, :-1]
    m_hi = (t_hi - s_lo)[:, None] + lo[:, :-1]
    up = members_g & (m_lo > lo[:, :-1])
    down = members_g & (m_hi < hi[:, :-1])
    if src_lo is not None:
        np.copyto(src_lo[:, :-1], 2, where=up)
    np.copyto(src_hi[:, :-1], 2, where=down)
    np.copyto(lo[:, :-1], m_lo, where=up)
    np.copyto(hi[:, :-1], m_hi, where=down)
    if track:
        moved |= blocks_with(up | down)
    up = totals_g & (s_lo > lo[:, -1])
    down = totals_g & (s_hi < hi[:, -1])
    if src_lo is not None:
        np.copyto(src_lo[:, -1], 4, where=up)
    np.copyto(src_hi[:, -1], 4, where=down)
    np.copyto(lo[:, -1], s_lo, where=up)
    np.copyto(hi[:, -1], s_hi, where=down)
    if track:
        moved |= (up | down).any(axis=0)
    return moved
