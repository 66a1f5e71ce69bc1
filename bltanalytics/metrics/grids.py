"""Dense grids of the linked structure: one block (school, year, term, subject) per slab.

A block (school, year, term, subject) is a grid: grades (the grade ``All`` row last) x
columns (All Students first, then the groups of each dimension, one contiguous slice per
dimension, groups in name order). Two kinds of line, each an equation "the members add up
to the total": a *family line* (one grade and dimension: its groups add up to the grade's
All Students) and a *grade line* (one column: the grades add up to the grade-All row).
A total the table lacks is *virtual*: taken as known to the reader and never hidden.

A :class:`Grid` holds (blocks, grades, columns) arrays, the layout the callers index by
block. The fast pass (:mod:`bltanalytics.metrics.linked`) works on the same arrays turned
column-major, (columns, grades, blocks) (:class:`Lines`): a family line's sum is then the
sum of a few whole (grades, blocks) slabs and a grade line's a sum over the middle axis, each
one pass over contiguous memory, where the block-major layout sums runs of 1-7 numbers
(``reduceat``) one call at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BIG", "LINE_ARRAYS", "Grid", "Lines", "blocks_with", "cut_blocks", "flip"]

BIG = 1 << 24  # no upper bound: far above any school; sums of 64 still fit in int32


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

    def buckets(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Blocks grouped by their number of grades: (blocks, grade slots and the ``All``
        row) per group, so each can be worked on a grid just tall enough (most blocks have
        far fewer grades than the tallest)."""
        used = self.exists[:, :-1, :].any(axis=2).sum(axis=1)
        last = self.n.shape[1] - 1
        return [(np.flatnonzero(used == k), np.r_[0:k, last]) for k in np.unique(used)]

    @property
    def sizes(self) -> np.ndarray:
        """Columns of each dimension (All Students first, one column)."""
        return np.diff(np.r_[self.starts, self.n.shape[2]])


_GRID_ARRAYS = ("n", "p", "exists", "p_lo", "p_hi", "lo_r", "hi_r", "primary", "grade_lines")


def flip(x: np.ndarray) -> np.ndarray:
    """(blocks, grades, columns) <-> (columns, grades, blocks), contiguous."""
    return np.ascontiguousarray(x.transpose(2, 1, 0))


#: the arrays of a Grid that :class:`Lines` holds column-major
LINE_ARRAYS = ("n", "p", "exists", "p_lo", "p_hi", "lo_r", "hi_r")


@dataclass
class Lines:
    """A :class:`Grid`'s arrays column-major: (columns, grades, blocks); ``grade_lines`` and
    each grade line's values (columns, blocks), each family line's (dimensions, grades,
    blocks) with ``dimension`` 0 the first after All Students.

    >>> n = np.array([[[9, 4, 5, 9], [9, 4, 5, 9]]])  # All Students, F, M, one-group dimension
    >>> g = Grid(n=n, p=n, exists=n > 0, p_lo=n, p_hi=n, lo_r=n, hi_r=n, primary=n < 0,
    ...          grade_lines=np.ones((1, 4), bool), starts=np.array([0, 1, 3]))
    >>> lines = Lines.of(g)
    >>> lines.n.shape, lines.fsum(lines.n)[:, 0, 0].tolist()   # each family line's members
    ((4, 2, 1), [9, 9])
    >>> lines.fspread(lines.fsum(lines.n))[:, 0, 0].tolist()   # on each member
    [9, 9, 9]
    """

    n: np.ndarray | None
    p: np.ndarray | None
    q: np.ndarray | None  # n - p: not proficient
    exists: np.ndarray
    p_lo: np.ndarray | None
    p_hi: np.ndarray | None
    lo_r: np.ndarray | None
    hi_r: np.ndarray | None
    grade_lines: np.ndarray  # (columns, blocks)
    spans: tuple[tuple[int, int], ...]  # each dimension's columns [s, e)
    member_dim: np.ndarray  # the dimension of each member column (1..)

    @classmethod
    def of(
        cls,
        g: Grid,
        names: tuple[str, ...] = LINE_ARRAYS,
        blocks: np.ndarray | None = None,
        rows: np.ndarray | None = None,
    ) -> Lines:
        """``g`` column-major: only the arrays in ``names`` (the others ``None``); only
        ``blocks`` (and of those, only the grade slots ``rows``) when given."""

        def cut(x):
            if blocks is None:
                return x
            return x[blocks] if rows is None else x[np.ix_(blocks, rows)]

        arrays = {f: (flip(cut(getattr(g, f))) if f in names else None) for f in LINE_ARRAYS}
        both = arrays["n"] is not None and arrays["p"] is not None
        q = arrays["n"] - arrays["p"] if both else None
        ends = np.r_[g.starts[1:], g.n.shape[2]]
        spans = tuple((int(s), int(e)) for s, e in zip(g.starts[1:], ends[1:], strict=True))
        member_dim = np.repeat(np.arange(len(spans)), [e - s for s, e in spans])
        lines = g.grade_lines if blocks is None else g.grade_lines[blocks]
        return cls(
            **arrays,
            q=q,
            grade_lines=np.ascontiguousarray(lines.T),
            spans=spans,
            member_dim=member_dim,
        )

    def take(self, blocks: np.ndarray, names: tuple[str, ...] = (*LINE_ARRAYS, "q")) -> Lines:
        """Some blocks; only the arrays in ``names`` (and ``grade_lines``), the others ``None``."""

        def cut(f):
            x = getattr(self, f)
            return None if x is None or f not in names else cut_blocks(x, blocks)

        return Lines(
            **{f: cut(f) for f in (*LINE_ARRAYS, "q")},
            grade_lines=cut_blocks(self.grade_lines, blocks),
            spans=self.spans,
            member_dim=self.member_dim,
        )

    def fsum(self, x: np.ndarray) -> np.ndarray:
        """Sum over the members of each family line: (dimensions, grades, blocks).

        ``x`` has every column, or the members only (one column fewer); column 0 (All
        Students) is never summed in. Booleans are counted."""
        shift = x.shape[0] - self.exists.shape[0]
        out = np.empty((len(self.spans), *x.shape[1:]), np.int32 if x.dtype == bool else x.dtype)
        for d, (s, e) in enumerate(self.spans):
            np.add.reduce(x[s + shift : e + shift], axis=0, out=out[d])
        return out

    def fspread(self, y: np.ndarray) -> np.ndarray:
        """A family-line value on each member cell: (columns - 1, grades, blocks)."""
        return np.take(y, self.member_dim, axis=0)

    @staticmethod
    def gsum(x: np.ndarray) -> np.ndarray:
        """Sum over the members (every grade but the last) of each grade line."""
        return x[:, :-1].sum(axis=1, dtype=np.int32 if x.dtype == bool else x.dtype)


def cut_blocks(x: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """Some blocks (the last axis) of ``x``, contiguous (``x[..., blocks]`` is not)."""
    return np.take(x, blocks, axis=-1)


def blocks_with(x: np.ndarray) -> np.ndarray:
    """Which blocks (last axis) hold a True anywhere."""
    return x.any(axis=(0, 1))
