"""Blocks of the linked structure: rows to grids and back, and the exact check with its repair.

A block is one school, year, term and subject. :func:`layout` lays a table's rows out as the
grids :mod:`bltanalytics.metrics.linked` works on; :func:`repair` runs the attacker's audit
(:mod:`bltanalytics.metrics.audit`) on the blocks that need it and hides one more group in a
line of every group it finds unprotected, until none is left.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.metrics.certify import Certificate, certify
from bltanalytics.metrics.codes import family_codes, name_rank, strings
from bltanalytics.metrics.coding import REASONS, display_labels
from bltanalytics.metrics.grids import BIG, Grid
from bltanalytics.metrics.linked import neighbour_choice, protect
from bltanalytics.metrics.propagation import tighten

#: Names of the linked structure (contract section 2).
GRADE, DIMENSION = "grade", "dimension"
ALL_GRADE, TOTAL_DIMENSION = "All", "all"
GRADE_ORDER: tuple[str, ...] = ("PK", "K", *map(str, range(1, 13)))


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


def layout(
    table: pd.DataFrame,
    family: list[str],
    group: str,
    linked: bool,
    n: np.ndarray,
    n_prof: np.ndarray,
    min_n: int,
    top_code: float,
    bottom_code: float,
) -> tuple[Grid, np.ndarray]:
    """The dense grids of ``table`` and each row's position in them (flat index)."""
    rows = len(table)
    if linked:
        block_cols = [c for c in family if c not in (GRADE, DIMENSION)]
        block = family_codes(table, block_cols) if block_cols else np.zeros(rows, np.int64)
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
        block = family_codes(table, family) if family else np.zeros(rows, np.int64)
        rank = name_rank(table[group])
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
    grid = Grid(
        n=dense(n32),
        p=dense(p32),
        exists=exists,
        p_lo=dense(p_lo.astype(np.int32)),
        p_hi=dense(p_hi.astype(np.int32)),
        lo_r=dense(np.where(primary, 1, min_n).astype(np.int32)),
        hi_r=dense(np.where(primary, min_n - 1, BIG).astype(np.int32)),
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


def repair(
    table: pd.DataFrame,
    family: list[str],
    group: str,
    grid: Grid,
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
    Blocks with every figure hidden are not read: nothing is left to hide there.
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
    blocks = _can_hide_more(grid, dense, np.flatnonzero(dense.any(axis=(1, 2))))
    if not everything and blocks.size:
        blocks = blocks[_suspicious(grid.take(blocks), dense[blocks], protection)]
    n_true = table["n_tested"].to_numpy(dtype=np.int64)
    p_true = table["n_proficient"].to_numpy(dtype=np.int64)
    for _ in range(_REPAIR_ROUNDS):
        if not blocks.size:
            break
        # moves from the true table prove most blocks; the programmes read only the rest
        cert = certify(grid.take(blocks), dense[blocks], protection)
        open_blocks = (dense[blocks] & grid.exists[blocks] & ~cert.proved).any(axis=(1, 2))
        blocks, cert = blocks[open_blocks], _take(cert, open_blocks)
        if not blocks.size:
            break
        wanted = np.zeros(shape[0], dtype=bool)
        wanted[blocks] = True
        rows = np.flatnonzero(wanted[row_block])
        hidden = dense.reshape(-1)[flat]
        frame = _as_published(table.iloc[rows], group, hidden[rows], config)
        where_cell = _cell_index(flat[rows], shape, blocks)
        start = {"n": n_true[rows], "p": p_true[rows]}
        for key in ("n_lo", "n_hi", "p_open", "q_open"):
            start[key] = getattr(cert, key).reshape(-1)[where_cell]
        verdict = exact_audit(frame, config, start=start).groups
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
        added = neighbour_choice(sub, h, fail[failing], min_n)
        stuck = np.flatnonzero(~added.any(axis=(1, 2)))
        if stuck.size:  # nothing published next to them: every published cell of the block
            added[stuck] = sub.exists[stuck] & ~h[stuck]
        dense[failing] = h | added
        moved = failing[added.any(axis=(1, 2))]
        dense = protect(grid, protection, min_n, hidden=dense, active=moved)
        blocks = _can_hide_more(grid, dense, moved)
    return dense.reshape(-1)[flat]


def _can_hide_more(grid: Grid, dense: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """Those of ``blocks`` with a published figure left: a block with every figure hidden has
    nothing more to hide, so the repair leaves it to ``withhold()``."""
    return blocks[(grid.exists[blocks] & ~dense[blocks]).any(axis=(1, 2))]


def _take(cert: Certificate, keep: np.ndarray) -> Certificate:
    return Certificate(*(getattr(cert, f)[keep] for f in Certificate.__dataclass_fields__))


def _cell_index(flat: np.ndarray, shape: tuple, blocks: np.ndarray) -> np.ndarray:
    """Flat positions in the grids of ``blocks`` (in that order) of cells at ``flat``."""
    per_block = shape[1] * shape[2]
    position = np.full(shape[0], -1, dtype=np.int64)
    position[blocks] = np.arange(len(blocks))
    return position[flat // per_block] * per_block + flat % per_block


def _suspicious(g: Grid, h: np.ndarray, protection: int) -> np.ndarray:
    """Blocks the exact check should read first: a grade's All Students hidden (its lines mix
    every dimension), or a hidden count the lines read together narrow below ``protection``
    (propagation is an outer bound: the attacker may do better elsewhere too)."""
    hm = h & g.exists
    pub = g.exists & ~h
    lo = np.where(hm, g.lo_r, np.where(pub, g.n, 0))
    hi = np.where(hm, g.hi_r, np.where(pub, g.n, 0))
    lo, hi, _, _ = tighten(g, lo, hi, g.n)
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
