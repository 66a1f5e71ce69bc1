"""Moves between consistent tables as maximum flows: the part of the proof
:mod:`bltanalytics.metrics.certify` hands over when its rectangles are not enough.

In one dimension's table of a block (grades x groups, the grade ``All`` row included, a
grade's All Students fixed) a move is a circulation in a small network (:class:`_Network`):
the largest move of one kind through a cell is a maximum flow, and a second flow of the other
kind from the table the first one reached adds to it. Moves of hidden grade totals are a flow
in every dimension's network at once; swaps of a proficient for a not-proficient student open
a count nobody passed in. The flows of every cell are solved together, as disjoint copies in
one graph, by scipy's compiled ``maximum_flow``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_flow

from bltanalytics.metrics.grids import Grid

__all__ = ["MOVE_KEYS", "flow_moves", "largest_fall"]

#: the move sizes found per cell: up/down (``dn``) by a ``q``- or ``p``-move, ``up_n`` the
#: largest rise of either kind, ``dn_n`` a fall by a flow of each kind
MOVE_KEYS = ("up_q", "up_p", "up_n", "dn_q", "dn_p", "dn_n")


def largest_fall(best: dict) -> np.ndarray:
    """The largest move down found: of one kind, or a flow of each kind (``dn_n``)."""
    return np.maximum(np.maximum(best["dn_q"], best["dn_p"]), best["dn_n"])


#: copies of a network solved in one ``maximum_flow`` call (bounds the graph's memory)
_FLOW_BATCH = 40_000
#: partner totals tried for a move of totals, the roomiest first
_PARTNERS = 3


def flow_moves(g: Grid, hm: np.ndarray, targets: np.ndarray, protection: int, best: dict) -> None:
    """Raise the move sizes ``best`` (of :class:`_Moves`: arrays like ``g.n``) of the
    ``targets`` cells by maximum flows, in place.

    For each target, direction (up, down) and kind (``q``, ``p``): the largest move of that
    kind through the cell, at most ``protection`` (a flow in its dimension's network without
    the cell's own arc, :class:`_Network`); then, from the table that move reaches, the
    largest move of the other kind on top (``up_n`` / ``dn_n``: one table holds both).
    A target with nobody proficient (or everybody) that no move opens gets a *swap*: one
    student proficient instead of not (or the reverse) in it, the counts unchanged, balanced
    along a cycle of hidden cells and published ones whose coding leaves room
    (``≥95%``, ``≤5%``). Cells of column 0 (a grade's All Students, shared by every
    dimension) do not move.

    Six hidden cells in a cycle over three grades and three groups (no rectangle of four):

    >>> import numpy as np
    >>> from bltanalytics.metrics.grids import BIG, Grid
    >>> n = np.array([[[27, 2, 15, 10], [27, 10, 11, 6], [37, 13, 10, 14], [91, 25, 36, 30]]])
    >>> p = np.array([[[12, 0, 7, 5], [13, 5, 5, 3], [18, 6, 5, 7], [43, 11, 17, 15]]])
    >>> g = Grid(n=n, p=p, exists=n > 0, p_lo=p, p_hi=p, lo_r=np.where(n < 10, 1, 10),
    ...          hi_r=np.where(n < 10, 9, BIG), primary=n < 10,
    ...          grade_lines=np.ones((1, 4), bool), starts=np.array([0, 1]))
    >>> hidden = np.zeros(n.shape, bool)
    >>> for row, col in [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (2, 1)]:
    ...     hidden[0, row, col] = True
    >>> best = {k: np.zeros(n.shape, np.int64) for k in MOVE_KEYS}
    >>> flow_moves(g, hidden, hidden, 3, best)
    >>> int(best["up_n"][0, 0, 1]), int(best["up_p"][0, 0, 1])  # grade 1's 2 can be 5
    (3, 3)
    >>> from bltanalytics.metrics.certify import certify
    >>> certify(g, hidden, 3).proved[hidden].all()
    np.True_
    """
    flat = {key: value.reshape(-1) for key, value in best.items()}
    _cell_flows(g, hm, targets, protection, flat)
    _total_moves(g, hm, targets, protection, best)
    _swaps(g, hm, targets, flat)


def _cell_flows(g: Grid, hm: np.ndarray, targets: np.ndarray, protection: int, flat) -> None:
    """The flows of each target cell in its own dimension's network (``flat``: ``best``
    flattened)."""
    net = _Network(g, hm)
    t = np.flatnonzero(targets.reshape(-1)[net.cell])
    if not t.size:
        return
    caps = net.rooms(protection)
    cell = net.cell[t]
    lacking_up = flat["up_n"][cell] < np.minimum(caps["up"][t], protection)
    lacking_dn = largest_fall(flat)[cell] < np.minimum(net.n[t] - net.lo[t], protection)
    for kind in ("q", "p"):
        closed = (net.count(kind)[t] == 0) & (flat[f"up_{kind}"][cell] < 1)
        for arcs, going_up in (
            (t[(caps["up"][t] > 0) & (lacking_up | closed)], True),
            (t[(caps[kind][t] > 0) & lacking_dn], False),
        ):
            for start in range(0, arcs.size, _FLOW_BATCH):
                batch = arcs[start : start + _FLOW_BATCH]
                _two_flows(net, caps, batch, going_up, kind, protection, flat)


def _two_flows(net, caps, t, going_up: bool, kind: str, protection: int, best: dict) -> None:
    """One kind's flow through each target arc ``t``, then the other kind's from there."""
    other = "p" if kind == "q" else "q"
    way = "up" if going_up else "dn"
    cell = net.cell[t]
    need = caps["up" if going_up else kind][t]
    pairs = net.pairs(net.net[t], t)
    a = pairs.arc
    ends = net.ends(t, going_up)
    got, delta = net.flow(*ends, need, pairs, caps["up"][a], caps[kind][a])
    np.maximum.at(best[f"{way}_{kind}"], cell, got)
    if going_up:
        np.maximum.at(best["up_n"], cell, got)
    # the second flow, from the table the first reached (networks without a free node)
    n_t = net.n[t] + (got if going_up else -got)
    if going_up:
        room = np.minimum(net.hi[t] - n_t, protection - got)
    else:
        room = np.minimum(np.minimum(n_t - net.lo[t], net.count(other)[t]), protection - got)
    again = (got > 0) & (room > 0) & ~net.has_free[net.net[t]]
    if not again.any():
        return
    j = np.flatnonzero(again)
    keep = again[pairs.copy]
    sub = pairs.select(keep, j)
    moved = delta[keep]
    p = net.p[sub.arc] + (moved if kind == "p" else 0)
    second = net.rooms(protection, sub.arc, n=net.n[sub.arc] + moved, p=p)
    got2, _ = net.flow(ends[0][j], ends[1][j], room[j], sub, second["up"], second[other])
    np.maximum.at(best[f"{way}_n"], cell[j], got[j] + got2)
    if going_up:
        np.maximum.at(best[f"up_{other}"], cell[j], got2)


def _swaps(g: Grid, hm: np.ndarray, targets: np.ndarray, best: dict) -> None:
    """Open the proficient (or not-proficient) count of targets still closed by a swap."""
    coded = g.exists & ~hm & ((g.p_hi > g.p) | (g.p_lo < g.p))
    net = _Network(g, hm | coded)
    hidden = hm.reshape(-1)[net.cell]
    p, q = net.count("p"), net.count("q")
    # raising p (and lowering q) along an arc: what the hidden count or the coding allows
    up = np.where(hidden, q, net.p_hi - p)
    down = np.where(hidden, p, p - net.p_lo)
    open_p, open_q = best["up_p"][net.cell] >= 1, best["up_q"][net.cell] >= 1
    target = targets.reshape(-1)[net.cell] & hidden
    for key, closed, going_up in (
        ("up_p", (p == 0) & ~open_p, True),
        ("up_q", (q == 0) & ~open_q, False),
    ):
        t = np.flatnonzero(target & closed)
        if t.size:
            ends = net.ends(t, going_up)
            need = np.minimum((up if going_up else down)[t], 1)
            got = _flows(net, {"up": up, "swap": down}, "swap", net.net[t], *ends, need, t)
            np.maximum.at(best[key], net.cell[t], got)


def _total_moves(g: Grid, hm: np.ndarray, targets: np.ndarray, protection: int, best) -> None:
    """Moves that change hidden grade totals (column 0), for targets in blocks that have them.

    A grade's All Students is in every dimension's table, so a move that raises it by ``d``
    is a flow of ``d`` into that grade's row in *every* dimension's network, from a partner
    row: another hidden grade whose total falls by ``d``, or the ``All`` row when the
    school's total is hidden and rises. A target cell of a dimension rides on such a move
    when the flow of its own dimension passes through it. Up to :data:`_PARTNERS` partners
    per row and role are tried, the roomiest first, each kind on its own.
    """
    blocks = np.flatnonzero(hm[:, :, 0].any(axis=1) & targets.any(axis=(1, 2)))
    if not blocks.size:
        return
    g, hm, targets = g.take(blocks), hm[blocks], targets[blocks]
    part = {key: value[blocks] for key, value in best.items()}
    flat = {key: value.reshape(-1) for key, value in part.items()}
    rows = g.n.shape[1]
    net = _Network(g, hm)
    caps = net.rooms(protection)
    # room of each row's total to give a flow (supply) or take one (demand): a grade gives
    # when its total falls, the All row when the school's total rises
    n0, p0 = g.n[:, :, 0].astype(np.int64), g.p[:, :, 0].astype(np.int64)
    hid0 = hm[:, :, 0]
    rise = np.where(hid0, np.minimum(g.hi_r[:, :, 0] - n0, protection), 0)
    room0 = n0 - g.lo_r[:, :, 0]
    is_top = np.arange(rows) == rows - 1  # the All row
    supply, demand = {}, {}
    for kind, count in (("q", n0 - p0), ("p", p0)):
        fall = np.where(hid0, np.minimum(np.minimum(room0, count), protection), 0)
        supply[kind] = np.where(is_top, rise, fall)
        demand[kind] = np.where(is_top, fall, rise)
    give_room = np.maximum(supply["q"], supply["p"])
    take_room = np.maximum(demand["q"], demand["p"])
    givers, takers = _others_by_room(give_room), _others_by_room(take_room)
    for rank in range(min(_PARTNERS, rows - 1)):
        if rank:  # the next partner, for what is still narrow
            targets = targets & (part["up_n"] + largest_fall(part) < protection)
        giver, taker = givers[:, :, rank], takers[:, :, rank]
        for blk, a, b, arc, own_src, own_snk, going_up, cells in _total_candidates(
            net, hid0 & targets[:, :, 0], targets, giver, taker
        ):
            way = "up" if going_up else "dn"
            for kind in ("q", "p"):
                room = np.minimum(supply[kind][blk, a], demand[kind][blk, b])
                own = arc >= 0
                room[own] = np.minimum(room[own], caps["up" if going_up else kind][arc[own]])
                use = np.flatnonzero((room > 0) & (a != b))
                if not use.size:
                    continue
                got = _total_flows(
                    net,
                    caps,
                    kind,
                    blk[use],
                    a[use],
                    b[use],
                    room[use],
                    arc[use],
                    own_src[use],
                    own_snk[use],
                )
                np.maximum.at(flat[f"{way}_{kind}"], cells[use], got)
                if going_up:
                    np.maximum.at(flat["up_n"], cells[use], got)
    _shared_moves(net, caps, supply, demand, targets, flat, protection)
    for key, value in part.items():
        best[key][blocks] = value


def _total_candidates(net, totals: np.ndarray, targets: np.ndarray, giver, taker) -> list:
    """Moves of totals to try: (block, giving row, taking row, target arc or -1, the ends of
    the flow in the target's own dimension, up, target cell) for hidden totals (``totals``,
    blocks x rows) and target cells, with the partners ``giver`` / ``taker`` of each row."""
    rows = totals.shape[1]
    top = rows - 1  # the All row
    b0, r0 = np.nonzero(totals)
    at_top = r0 == top
    none = np.full(b0.size, -1)
    cell0 = np.ravel_multi_index((b0, r0, np.zeros_like(r0)), targets.shape)
    up_a, up_b = np.where(at_top, r0, giver[b0, r0]), np.where(at_top, taker[b0, r0], r0)
    dn_a, dn_b = np.where(at_top, giver[b0, r0], r0), np.where(at_top, r0, taker[b0, r0])
    out = [
        (b0, up_a, up_b, none, none, none, True, cell0),
        (b0, dn_a, dn_b, none, none, none, False, cell0),
    ]
    t = np.flatnonzero(targets.reshape(-1)[net.cell])
    tb = net.net[t] // net.dims
    head, tail = net.head[t], net.tail[t]
    in_grade = head < rows  # a grade's cell (its head is its row); else an All row cell
    row = np.where(in_grade, head, top)
    # rising: a grade's cell takes from a giver, an All row cell gives to a taker
    a = np.where(in_grade, giver[tb, row], top)
    b = np.where(in_grade, row, taker[tb, top])
    out.append(
        (tb, a, b, t, np.where(in_grade, a, head), np.where(in_grade, tail, b), True, net.cell[t])
    )
    # falling: a grade's cell gives to a taker, an All row cell takes from a giver
    a = np.where(in_grade, row, giver[tb, top])
    b = np.where(in_grade, taker[tb, row], top)
    out.append(
        (tb, a, b, t, np.where(in_grade, tail, a), np.where(in_grade, b, head), False, net.cell[t])
    )
    return out


def _others_by_room(room: np.ndarray) -> np.ndarray:
    """For each block and row, the other rows, the roomiest first (blocks x rows x rows)."""
    rows = room.shape[1]
    others = np.where(np.eye(rows, dtype=bool)[None], -1, room[:, None, :])
    return np.argsort(-others, axis=2, kind="stable")


def _total_flows(net, caps, kind, blk, a, b, need, arc, own_src, own_snk) -> np.ndarray:
    """How far each move of totals (row ``a`` gives, row ``b`` takes, at most ``need``) goes:
    the least flow from ``a`` to ``b`` over the dimensions, the target arc's own dimension
    (when ``arc >= 0``) by the flow from ``own_src`` to ``own_snk`` without the arc."""
    dims, rows = net.dims, net.rows
    key = (blk * rows + a) * rows + b
    unique, inverse = np.unique(key, return_inverse=True)
    u_need = np.zeros(unique.size, np.int64)
    np.maximum.at(u_need, inverse, need)
    u_blk, u_a, u_b = unique // (rows * rows), unique // rows % rows, unique % rows
    members = np.arange(1, dims)
    if not members.size:  # All Students alone: only the totals' grade line to keep
        return need
    nets = (u_blk[:, None] * dims + members).reshape(-1)
    each = members.size
    flows = _flows(
        net,
        caps,
        kind,
        nets,
        np.repeat(u_a, each),
        np.repeat(u_b, each),
        np.repeat(u_need, each),
        np.full(nets.size, -1),
    )
    per_dim = flows.reshape(-1, each)
    # a dimension with no group in either row has no line there to keep
    lined = (
        net.lined[u_blk[:, None], u_a[:, None], members]
        | net.lined[u_blk[:, None], u_b[:, None], members]
    )
    per_dim = np.where(lined, per_dim, u_need[:, None])[inverse]
    own = np.flatnonzero(arc >= 0)
    if own.size:
        own_dim = net.net[arc[own]] % dims - 1
        per_dim[own, own_dim] = _flows(
            net, caps, kind, net.net[arc[own]], own_src[own], own_snk[own], need[own], arc[own]
        )
    return np.minimum(need, per_dim.min(axis=1))


def _flows(
    net, caps, kind, nets, source, sink, need, without, source_cap=None, sink_cap=None
) -> np.ndarray:
    """Flows of one kind in copies of networks, in batches (see :meth:`_Network.flow`)."""
    out = np.zeros(nets.size, np.int64)
    for start in range(0, nets.size, _FLOW_BATCH):
        part = slice(start, start + _FLOW_BATCH)
        pairs = net.pairs(nets[part], without[part])
        got, _ = net.flow(
            source[part],
            sink[part],
            need[part],
            pairs,
            caps["up"][pairs.arc],
            caps[kind][pairs.arc],
            None if source_cap is None else source_cap[part],
            None if sink_cap is None else sink_cap[part],
        )
        out[part] = got
    return out


def _shared_moves(net, caps, supply, demand, targets, flat, protection) -> None:
    """Moves of totals shared out, for what one partner could not move far enough: a grade's
    total (or a cell of it) rises by ``m`` while the ``m`` roomiest other hidden grade totals
    fall by one each, or falls by ``m`` while ``m`` others rise by one each. Each dimension
    must carry all of it (a flow of ``m`` from the ``m`` rows to the grade, or back). A table
    of All Students rows alone (no dimension) gets none: the programmes decide there."""
    if net.dims < 2:
        return
    blocks, rows, _ = targets.shape
    top = rows - 1
    fall = largest_fall(flat).reshape(targets.shape)
    rise = flat["up_n"].reshape(targets.shape)
    t = np.flatnonzero(targets.reshape(-1)[net.cell])
    in_grade = net.head[t] < top  # a grade's cell (its head is its grade row)
    t = t[in_grade]
    b0, r0 = np.nonzero(targets[:, :top, 0])
    cells = np.r_[np.ravel_multi_index((b0, r0, np.zeros_like(r0)), targets.shape), net.cell[t]]
    blk = np.r_[b0, net.net[t] // net.dims]
    row = np.r_[r0, net.head[t]]
    arc = np.r_[np.full(b0.size, -1), t]
    cb, cr, cc = np.unravel_index(cells, targets.shape)
    dims = np.arange(1, net.dims)
    for going_up in (True, False):
        m_all = protection - np.where(going_up, fall, rise)[cb, cr, cc]
        for kind in ("q", "p"):
            partner_room = (supply if going_up else demand)[kind][:, :top]
            own_room = (demand if going_up else supply)[kind][blk, row]
            room = own_room.copy()
            has = arc >= 0
            room[has] = caps["up" if going_up else kind][arc[has]]
            for m in range(2, protection + 1):
                pick = np.flatnonzero((m_all == m) & (np.minimum(room, own_room) >= m))
                if not pick.size or top - 1 < m:
                    continue
                others = np.where(
                    np.arange(top)[None, :] == row[pick, None], -1, partner_room[blk[pick]]
                )
                order = np.argsort(-others, axis=1, kind="stable")[:, :m]
                ok = np.take_along_axis(others, order, axis=1).min(axis=1) >= 1
                pick, order = pick[ok], order[ok]
                if not pick.size:
                    continue
                nets = (blk[pick, None] * net.dims + dims).reshape(-1)
                each = dims.size
                here = np.repeat(row[pick], each)[:, None]
                them = np.repeat(order, each, axis=0)
                need = np.full(nets.size, m)
                got = _one_each(net, caps, kind, nets, here, them, need, None, going_up)
                per_dim = got.reshape(-1, each)
                lined = net.lined[blk[pick, None], row[pick, None], dims]
                for j in range(m):
                    lined = lined | net.lined[blk[pick, None], order[:, j : j + 1], dims]
                per_dim = np.where(lined, per_dim, m)
                own = np.flatnonzero(arc[pick] >= 0)
                if own.size:
                    a = arc[pick][own]
                    tail = net.tail[a][:, None]
                    need = np.full(own.size, m)
                    f = _one_each(net, caps, kind, net.net[a], tail, order[own], need, a, going_up)
                    per_dim[own, net.net[a] % net.dims - 1] = f
                done = pick[per_dim.min(axis=1) >= m]
                way = "up" if going_up else "dn"
                np.maximum.at(flat[f"{way}_{kind}"], cells[done], m)
                if going_up:
                    np.maximum.at(flat["up_n"], cells[done], m)


def _one_each(net, caps, kind, nets, one, many, need, without, going_up: bool) -> np.ndarray:
    """Flows between node ``one`` and the nodes ``many`` of each copy, one unit from (or to)
    each of ``many``: into ``one`` when ``going_up``, else out of it."""
    without = np.full(nets.size, -1) if without is None else without
    ones = np.ones(many.shape, np.int64)
    if going_up:
        return _flows(net, caps, kind, nets, many, one, need, without, ones, None)
    return _flows(net, caps, kind, nets, one, many, need, without, None, ones)


@dataclass
class _Pairs:
    """The arcs of each copy's network but the copy's own (``copy``: which copy, sorted)."""

    copy: np.ndarray
    arc: np.ndarray

    def select(self, keep: np.ndarray, copies: np.ndarray) -> _Pairs:
        """The pairs of some copies, renumbered 0.. in the order of ``copies``."""
        renumber = np.full(int(self.copy.max(initial=-1)) + 1, -1)
        renumber[copies] = np.arange(copies.size)
        return _Pairs(copy=renumber[self.copy[keep]], arc=self.arc[keep])


class _Network:
    """Each dimension's table of each block as a network whose circulations are the moves.

    Nodes: the rows (grade slots, the grade ``All`` row last), the dimension's groups, and a
    free node for cells outside any grade line. A cell of ``cells`` is an arc: a grade's cell
    from its group to its grade (a grade line takes in what its ``All`` row cell gives), an
    ``All`` row cell from the ``All`` row to its group. Raising a cell is a flow along its
    arc, so the cell can rise by the largest flow from the arc's head back to its tail
    without it; it can fall by the largest flow the other way. Other cells are fixed, and so
    is column 0, which is in every dimension's table.
    """

    def __init__(self, g: Grid, cells: np.ndarray):
        blocks, rows, cols = g.n.shape
        sizes = g.sizes
        dims = len(sizes)
        dim_of = np.repeat(np.arange(dims), sizes)
        local = np.arange(cols) - np.repeat(g.starts, sizes)
        self.rows, self.dims = rows, dims
        #: (blocks, rows, dimensions): the row has a group of the dimension (a line)
        self.lined = np.logical_or.reduceat(g.exists, g.starts, axis=2)
        self.nodes = rows + int(sizes[1:].max(initial=1)) + 1
        free = self.nodes - 1
        moving = cells.copy()
        moving[:, :, 0] = False
        b, r, c = np.nonzero(moving)
        self.cell = np.flatnonzero(moving)
        self.n = g.n[b, r, c].astype(np.int64)
        self.p = g.p[b, r, c].astype(np.int64)
        self.p_lo, self.p_hi = g.p_lo[b, r, c].astype(np.int64), g.p_hi[b, r, c].astype(np.int64)
        self.lo, self.hi = g.lo_r[b, r, c].astype(np.int64), g.hi_r[b, r, c].astype(np.int64)
        line = g.grade_lines[b, c]
        group = rows + local[c]
        all_row = r == rows - 1
        self.tail = np.where(all_row, rows - 1, np.where(line, group, free))
        self.head = np.where(all_row, np.where(line, group, free), r)
        self.net = b * dims + dim_of[c]
        self.has_free = np.bincount(self.net, weights=~line, minlength=blocks * dims) > 0
        self.order = np.argsort(self.net, kind="stable")  # arcs grouped by network
        self.size = np.bincount(self.net, minlength=blocks * dims)
        self.first = np.r_[0, np.cumsum(self.size)[:-1]]

    def count(self, kind: str, arcs=slice(None)) -> np.ndarray:
        """Proficient (``p``) or not-proficient (``q``) count of arcs."""
        return self.p[arcs] if kind == "p" else self.n[arcs] - self.p[arcs]

    def rooms(self, protection: int, arcs=slice(None), n=None, p=None) -> dict:
        """Room of hidden ``arcs`` (at most ``protection``) in the table, or in one with
        counts ``n`` and proficient counts ``p``: ``up`` to rise, ``q`` / ``p`` to fall by
        that kind."""
        n = self.n[arcs] if n is None else n
        p = self.p[arcs] if p is None else p
        room = n - self.lo[arcs]
        return {
            "up": np.minimum(self.hi[arcs] - n, protection),
            "q": np.minimum(np.minimum(room, n - p), protection),
            "p": np.minimum(np.minimum(room, p), protection),
        }

    def pairs(self, nets: np.ndarray, without: np.ndarray) -> _Pairs:
        """For each copy of a network (``nets``), its arcs but ``without`` (-1: all)."""
        size = self.size[nets]
        copy = np.repeat(np.arange(nets.size), size)
        within = np.arange(size.sum()) - np.repeat(np.r_[0, np.cumsum(size)[:-1]], size)
        arc = self.order[np.repeat(self.first[nets], size) + within]
        keep = arc != without[copy]
        return _Pairs(copy=copy[keep], arc=arc[keep])

    def ends(self, t: np.ndarray, going_up: bool) -> tuple[np.ndarray, np.ndarray]:
        """Where a flow that moves arcs ``t`` up (or down) starts and ends."""
        return (self.head[t], self.tail[t]) if going_up else (self.tail[t], self.head[t])

    def flow(
        self, source, sink, need, pairs: _Pairs, cap_up, cap_down, source_cap=None, sink_cap=None
    ):
        """Largest flows (at most ``need``) from node ``source`` to node ``sink`` of each copy,
        solved as disjoint copies of the networks in one graph; ``cap_up`` / ``cap_down``:
        each pair's room along and against its arc. Several sources (or sinks) per copy: a
        (copies, k) array of distinct nodes, with ``source_cap`` (``sink_cap``) what each may
        give (take). Returns the flow per copy and each pair's change."""
        copies, nodes = len(need), self.nodes
        base = pairs.copy * nodes
        tail, head = base + self.tail[pairs.arc], base + self.head[pairs.arc]
        first = (np.arange(copies) * nodes)[:, None]
        source = (first + np.asarray(source).reshape(copies, -1)).ravel()
        sink = (first + np.asarray(sink).reshape(copies, -1)).ravel()
        give = np.broadcast_to(
            need[:, None] if source_cap is None else source_cap,
            (copies, source.size // max(copies, 1)),
        )
        take = np.broadcast_to(
            need[:, None] if sink_cap is None else sink_cap, (copies, sink.size // max(copies, 1))
        )
        s, z = copies * nodes, copies * nodes + 1
        src = np.concatenate([tail, head, np.full(source.size, s), sink])
        dst = np.concatenate([head, tail, source, np.full(sink.size, z)])
        cap = np.concatenate([cap_up, cap_down, give.ravel(), take.ravel()])
        use = cap > 0
        size = copies * nodes + 2
        graph = csr_array(
            (cap[use].astype(np.int32), (src[use].astype(np.int32), dst[use].astype(np.int32))),
            shape=(size, size),
        )
        flows = maximum_flow(graph, s, z).flow
        flows.sort_indices()
        key = np.repeat(np.arange(size, dtype=np.int64), np.diff(flows.indptr)) * size
        key += flows.indices

        def at(u, v):
            want = u.astype(np.int64) * size + v
            i = np.minimum(np.searchsorted(key, want), key.size - 1)
            return np.where(key[i] == want, flows.data[i], 0).astype(np.int64)

        given = at(np.full(source.size, s), source).reshape(copies, -1).sum(axis=1)
        return given, at(tail, head)
