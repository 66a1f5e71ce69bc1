"""A cheap, sound proof that hidden figures are protected: moves between consistent tables.

The exact audit solves the attacker's linear programme for every block. Most blocks need no
programme: given one table consistent with everything published (the true one, when
suppressing), a *move* -- adding ``+d`` and ``-d`` to hidden cells so that every line still
adds up -- gives another consistent table, as long as every moved cell stays within what the
rule tells of it (a ``min_n`` group 1..min_n-1, a ``complementary`` one at least min_n) and its
proficient and not-proficient counts stay non-negative. If a hidden cell can move up by ``u``
in one such table and down by ``d`` in another, the attacker's interval contains both ends: it
is at least ``u + d`` wide. If a move raises its proficient (or not-proficient) count from 0,
neither "nobody passed" nor "everybody passed" is forced. :func:`certify` finds such moves on
the dense grids of :mod:`bltanalytics.metrics.linked`, vectorized over every block; a cell it
cannot prove goes to the exact audit, which has the last word.

The moves are rectangles of four hidden cells in one dimension's table (grades x groups, the
grade ``All`` row included): two groups ``k, k'`` and two rows. With two real grades
``g, g'``: ``(g,k)+d, (g,k')-d, (g',k)-d, (g',k')+d``; with a grade and the ``All`` row:
``(g,k)+d, (g,k')-d, (All,k)+d, (All,k')-d``. Every family line (a grade's groups add up to its
All Students, which does not move) and every grade line (a group's grades add up to its
``All`` row) still adds up. A move changes ``n_tested`` together with either the
not-proficient count (``q``-move) or the proficient count (``p``-move).

What the rectangles leave unproved goes to :func:`bltanalytics.metrics.flows.flow_moves`:
every cycle of a dimension's table at once (maximum flows), moves of hidden grade totals, and
swaps of a proficient for a not-proficient student.

>>> import numpy as np
>>> from bltanalytics.metrics.grids import BIG, Grid
>>> n = np.array([[[30, 25, 2, 3], [30, 25, 2, 3]]])     # All Students, Yes, No, Not reported
>>> p = np.array([[[15, 12, 1, 2], [15, 12, 1, 2]]])     # grade 3, and the grade All row
>>> g = Grid(n=n, p=p, exists=n > 0, p_lo=p, p_hi=p, lo_r=np.where(n < 10, 1, 10),
...          hi_r=np.where(n < 10, 9, BIG), primary=n < 10,
...          grade_lines=np.ones((1, 4), bool), starts=np.array([0, 1]))
>>> hidden = np.array([[[False, False, True, True]] * 2])
>>> certify(g, hidden, protection=3).proved[hidden].tolist()   # No + NR = 5, each 1..4: proved
[True, True, True, True]
>>> certify(g, hidden, protection=5).proved[hidden].tolist()   # 1..4 is only 3 apart
[False, False, False, False]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bltanalytics.metrics.flows import MOVE_KEYS, flow_moves, largest_fall
from bltanalytics.metrics.grids import Grid
from bltanalytics.metrics.workers import default_workers, mapped

__all__ = ["Certificate", "certify", "unproved_blocks"]


@dataclass
class Certificate:
    """What the moves prove, per cell (arrays like ``Grid.n``): consistent tables put each
    hidden ``n_tested`` at ``n_lo`` and at ``n_hi`` (so the attacker's interval holds
    ``[n_lo, n_hi]``); ``p_open`` / ``q_open``: some consistent table has a proficient /
    not-proficient student in the cell. ``proved``: hidden, ``n_hi - n_lo >= protection`` and
    both open."""

    n_lo: np.ndarray
    n_hi: np.ndarray
    p_open: np.ndarray
    q_open: np.ndarray
    proved: np.ndarray


def certify(g: Grid, h: np.ndarray, protection: int, workers: int | None = None) -> Certificate:
    """Moves from the table in ``g``: which hidden cells (``h``) they prove protected.

    ``g.n`` and ``g.p`` must be a table consistent with everything published (every line
    adds up, every hidden count within its rule bounds). ``proved`` false is no verdict: the
    cell may still be protected (the exact audit decides).

    Blocks are certified in groups of the same number of grades, on grids cut to that many
    grade slots (a grid is padded to the block with the most grades), and in parts of at
    most :data:`PART_BLOCKS` blocks. Blocks are independent, so the parts run in ``workers``
    processes (default: 2 when there are many blocks, as the audit's programmes do); the
    certificate is the same either way.
    """
    tasks = [
        (blocks, rows)
        for bucket, rows in g.buckets()
        for blocks in np.array_split(bucket, -(-bucket.size // PART_BLOCKS))
    ]
    if len(tasks) == 1 and tasks[0][1].size == g.n.shape[1]:  # one part: the whole grid
        return _certify(g, h, protection)
    n = g.n.astype(np.int64)
    out = Certificate(
        n_lo=n.copy(),
        n_hi=n.copy(),
        p_open=np.zeros(n.shape, bool),
        q_open=np.zeros(n.shape, bool),
        proved=np.zeros(n.shape, bool),
    )
    if workers is None:
        workers = default_workers(len(g.n) >= 2 * PART_BLOCKS)
    args = ((g.take(b).grades(r.size - 1), h[b][:, r], protection) for b, r in tasks)
    _fill(out, tasks, mapped(_certify_part, args, workers))
    return out


#: blocks certified at a time (a part's grids and flows stay a few hundred MB at most)
PART_BLOCKS = 2000


def _certify_part(args: tuple) -> Certificate:
    return _certify(*args)


def _fill(out: Certificate, tasks: list, parts) -> None:
    for (blocks, rows), part in zip(tasks, parts, strict=True):
        for field in Certificate.__dataclass_fields__:
            getattr(out, field)[np.ix_(blocks, rows)] = getattr(part, field)


def _certify(g: Grid, h: np.ndarray, protection: int) -> Certificate:
    hm = h & g.exists
    moves = _Moves(g, hm)
    if h.shape[1] >= 2:
        moves.with_all_row()
    proved = moves.proved(protection)
    rest = np.flatnonzero((hm & ~proved).any(axis=(1, 2)))
    if rest.size and h.shape[1] >= 2:
        sub = _Moves(g.take(rest), hm[rest], moves, rest)
        sub.one_partner_group()
        if h.shape[1] >= 3:
            sub.two_grades()
        for key, value in sub.best.items():
            moves.best[key][rest] = value
        proved[rest] = sub.proved(protection)
    if (hm & ~proved).any():
        flow_moves(g, hm, hm & ~proved, protection, moves.best)
        proved = moves.proved(protection)
    b = moves.best
    n = g.n.astype(np.int64)
    return Certificate(
        n_lo=n - largest_fall(b),
        n_hi=n + b["up_n"],
        p_open=hm & ((moves.p >= 1) | (b["up_p"] >= 1)),
        q_open=hm & ((moves.q >= 1) | (b["up_q"] >= 1)),
        proved=proved,
    )


def unproved_blocks(g: Grid, h: np.ndarray, protection: int) -> np.ndarray:
    """Blocks (bool per block) with a hidden cell :func:`certify` cannot prove."""
    hm = h & g.exists
    return (hm & ~certify(g, h, protection).proved).any(axis=(1, 2))


def _sum_other(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """For each member cell, the sum over the *other* members of its dimension; column 0
    (All Students, a slice of its own) gets 0."""
    total = np.add.reduceat(x, starts, axis=-1)
    out = np.repeat(total, np.diff(np.r_[starts, x.shape[-1]]), axis=-1) - x
    out[..., 0] = 0
    return out


class _Moves:
    """Room to move of every hidden cell, and the best move up and down found so far."""

    def __init__(self, g: Grid, hm: np.ndarray, parent=None, rows=None):
        self.g, self.hm = g, hm
        n, p = g.n.astype(np.int64), g.p.astype(np.int64)
        self.p, self.q = p, n - p
        self.up = np.where(hm, g.hi_r - n, 0)  # room to grow
        down = np.where(hm, n - g.lo_r, 0)  # room to shrink
        self.down = {
            "q": np.minimum(down, np.where(hm, self.q, 0)),
            "p": np.minimum(down, np.where(hm, p, 0)),
        }
        if parent is None:
            self.best = {k: np.zeros(hm.shape, np.int64) for k in MOVE_KEYS}
        else:
            self.best = {k: v[rows] for k, v in parent.best.items()}

    def proved(self, protection: int) -> np.ndarray:
        b = self.best
        width = b["up_n"] + largest_fall(b)
        p_open = (self.p >= 1) | (b["up_p"] >= 1)  # a table with p >= 1
        q_open = (self.q >= 1) | (b["up_q"] >= 1)  # a table with n - p >= 1
        return self.hm & (width >= protection) & p_open & q_open

    def _keep(self, key: str, rows: slice, cell: np.ndarray) -> None:
        r = self.best[key][:, rows, :]
        np.maximum(r, cell, out=r)

    def with_all_row(self) -> None:
        """Rectangles of a grade and the ``All`` row: ``(g,k)+, (g,k')-, (All,k)+, (All,k')-``,
        summed over the partners ``k'`` (they share no cell but ``(g,k)`` and ``(All,k)``)."""
        s, up = self.g.starts, self.up
        pair_up = np.minimum(up[:, :-1, :], up[:, -1:, :])  # (g,k) and (All,k) both up
        others_up = _sum_other(pair_up, s)
        # one kind per sub-move: (g,k') and (All,k') go down in the same kind
        pair_dn = {k: np.minimum(dn[:, :-1, :], dn[:, -1:, :]) for k, dn in self.down.items()}
        pair_dn["n"] = np.maximum(pair_dn["q"], pair_dn["p"])
        for kind, dn in pair_dn.items():
            moves = [(f"up_{kind}", np.minimum(pair_up, _sum_other(dn, s)))]
            if kind != "n":  # (g,k) and (All,k) go down together: one kind
                moves.append((f"dn_{kind}", np.minimum(dn, others_up)))
            for key, cell in moves:
                self._keep(key, slice(0, -1), cell)
                # the same moves, one grade at a time, move the All row's cell the same way
                self._keep(key, slice(-1, None), cell.max(axis=1, keepdims=True))

    def one_partner_group(self) -> None:
        """One partner group ``k'`` and every other row at once: ``(g,k)+, (g,k')-`` balanced
        by ``(g',k)-, (g',k')+`` for each other grade ``g'`` and by ``(All,k)+, (All,k')-``
        (sub-moves that share no cell but ``(g,k)`` and ``(g,k')``, which take the total).
        For a cell of the ``All`` row: ``(All,k)+, (All,k')-`` balanced by ``(g,k)+, (g,k')-``
        over the grades."""
        s = self.g.starts
        width = self.up.shape[2]
        sizes = np.diff(np.r_[s, width])
        start_of = np.repeat(s, sizes)
        size_of = np.repeat(sizes, sizes)
        col = np.arange(width)
        u, ua = self.up[:, :-1, :], self.up[:, -1:, :]
        for shift in range(1, int(sizes[1:].max(initial=1))):
            ok = (size_of > shift) & (col > 0)
            partner = np.where(ok, start_of + (col - start_of + shift) % size_of, col)
            for kind in ("q", "p"):
                dn = self.down[kind]
                d, da = dn[:, :-1, :], dn[:, -1:, :]
                dp, up_ = d[:, :, partner], u[:, :, partner]
                dap, uap = da[:, :, partner], ua[:, :, partner]
                # (g,k) up, (g,k') down
                terms = np.minimum(d, up_)
                others = terms.sum(axis=1, keepdims=True) - terms + np.minimum(ua, dap)
                cell = np.where(ok, np.minimum(np.minimum(u, dp), others), 0)
                self._keep(f"up_{kind}", slice(0, -1), cell)
                self._keep("up_n", slice(0, -1), cell)
                terms = np.minimum(u, dp)
                others = terms.sum(axis=1, keepdims=True) - terms + np.minimum(da, uap)
                cell = np.where(ok, np.minimum(np.minimum(d, up_), others), 0)
                self._keep(f"dn_{kind}", slice(0, -1), cell)
                # the All row's cell: (All,k) up, (All,k') down; each grade (g,k)+, (g,k')-
                cell = np.minimum(np.minimum(ua, dap), np.minimum(u, dp).sum(axis=1, keepdims=True))
                cell = np.where(ok, cell, 0)
                self._keep(f"up_{kind}", slice(-1, None), cell)
                self._keep("up_n", slice(-1, None), cell)
                cell = np.minimum(
                    np.minimum(da, uap), np.minimum(d, up_).sum(axis=1, keepdims=True)
                )
                self._keep(f"dn_{kind}", slice(-1, None), np.where(ok, cell, 0))

    def two_grades(self) -> None:
        """Rectangles of two real grades: ``(g,k)+, (g,k')-, (g',k)-, (g',k')+``, summed over
        the partners ``k'`` for one ``g'`` at a time."""
        s = self.g.starts
        u = self.up[:, :-1, :]
        for kind in ("q", "p"):  # (g',k) goes down in every sub-move: one kind
            d = self.down[kind][:, :-1, :]
            for j in range(u.shape[1]):
                uj, dj = u[:, j : j + 1, :], d[:, j : j + 1, :]
                # (g,k) up: (g,k') down, (g',k) down, (g',k') up
                cell_up = np.minimum(np.minimum(u, dj), _sum_other(np.minimum(d, uj), s))
                cell_up[:, j, :] = 0
                self._keep(f"up_{kind}", slice(0, -1), cell_up)
                self._keep("up_n", slice(0, -1), cell_up)
                cell_dn = np.minimum(np.minimum(d, uj), _sum_other(np.minimum(u, dj), s))
                cell_dn[:, j, :] = 0
                self._keep(f"dn_{kind}", slice(0, -1), cell_dn)
