"""The audit's solver: HiGHS linear programmes over many small blocks at once, witnesses, and
the integer check where an optimum is fractional (:func:`solve_chunk`, run in worker processes).
"""

from __future__ import annotations

import os

import numpy as np

from bltanalytics.errors import BltError

#: upper bound on any count (keeps every programme bounded; far above any school).
BIG = 1_000_000
EPS = 1e-6
_RANDOM_ROUNDS = 1  # random objectives (each with its opposite) before per-group objectives
_RANDOM_PAIR = True  # each random objective also solved with its opposite
_WITNESS_ROUNDS = 6  # rounds pushing every unproven group at once


def propagate(con, var, val, con_lo, con_hi, lower, upper, rounds: int = 20):
    """Implied bounds of integral unknowns from ``con_lo <= A x <= con_hi`` (interval rounds).

    Every entry's variable gets ``(row bound - the others' extreme sum) / coefficient``; the
    result contains every feasible point, so a width below the protection level is a failure.
    Coefficients are +1 or -1.
    """
    lower, upper = lower.copy(), upper.copy()
    n_cons = len(con_lo)
    con_lo = np.maximum(con_lo, -10.0 * BIG)
    by_var = np.argsort(var, kind="stable")
    starts = np.flatnonzero(np.r_[True, var[by_var][1:] != var[by_var][:-1]])
    present = var[by_var][starts]
    positive = val > 0
    for _ in range(rounds):
        lo_part = np.where(positive, lower[var], -upper[var])
        hi_part = np.where(positive, upper[var], -lower[var])
        row_lo = np.bincount(con, weights=lo_part, minlength=n_cons)
        row_hi = np.bincount(con, weights=hi_part, minlength=n_cons)
        a = con_lo[con] - (row_hi[con] - hi_part)
        b = con_hi[con] - (row_lo[con] - lo_part)
        new_lo = np.where(positive, a, -b)
        new_hi = np.where(positive, b, -a)
        best_lo = np.ceil(np.maximum.reduceat(new_lo[by_var], starts) - EPS)
        best_hi = np.floor(np.minimum.reduceat(new_hi[by_var], starts) + EPS)
        grow_lo = best_lo > lower[present]
        shrink_hi = best_hi < upper[present]
        if not (grow_lo.any() or shrink_hi.any()):
            break
        lower[present[grow_lo]] = best_lo[grow_lo]
        upper[present[shrink_hi]] = best_hi[shrink_hi]
    if (lower > upper).any():
        raise BltError(
            "the published figures are inconsistent: some hidden count has no possible value "
            "(groups do not add up to All Students, or a grade does not add up to 'All')"
        )
    return lower, upper


_BANNER_SHOWN = False


def _highs():
    """A quiet ``highspy.Highs`` (HiGHS 1.16 prints a banner on a process's first one)."""
    import highspy

    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        import sys

        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


def _tightened(chunk: dict):
    """A chunk's bounds tightened by propagation, and its constraint matrix (CSC)."""
    from scipy.sparse import csc_matrix

    lower, upper = propagate(
        chunk["entry_con"],
        chunk["entry_var"],
        chunk["entry_val"],
        chunk["con_lower"],
        chunk["con_upper"],
        chunk["lower"],
        chunk["upper"],
    )
    shape = (len(chunk["con_lower"]), len(chunk["lower"]))
    matrix = csc_matrix((chunk["entry_val"], (chunk["entry_con"], chunk["entry_var"])), shape)
    return lower, upper, matrix


def _lp(sub, col_lower, col_upper, row_lower, row_upper):
    """A zero-cost HiGHS programme of the CSC matrix ``sub`` and its bounds."""
    import highspy

    n_rows, n_cols = sub.shape
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = np.zeros(n_cols)
    lp.col_lower_, lp.col_upper_ = col_lower, col_upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = (
        sub.indptr,
        sub.indices,
        sub.data,
    )
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_cols, n_rows
    return lp


def feasible_chunk(chunk: dict) -> np.ndarray:
    """One consistent table of a chunk: a value of every unknown, nan in each part whose
    solution is not whole (a vertex of these programmes nearly always is)."""
    import highspy

    lower, upper, sub = _tightened(chunk)
    h = _highs()
    h.setOptionValue("simplex_scale_strategy", 0)
    lp = _lp(sub, lower, upper, chunk["con_lower"], chunk["con_upper"])
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise BltError(
            "the published figures of a school, year, term and subject are inconsistent "
            f"(the audit's linear programme is {h.modelStatusToString(h.getModelStatus())})"
        )
    x = np.asarray(h.getSolution().col_value, dtype=float)
    var_block = chunk["var_block"]
    frac = ~(np.abs(x - np.round(x)) <= EPS)
    bad = np.bincount(var_block[frac], minlength=int(var_block.max()) + 1) > 0
    return np.where(bad[var_block], np.nan, np.round(x))


def solve_chunk(chunk: dict) -> dict:  # noqa: C901  (one HiGHS session; its steps share state)
    import highspy

    lower, upper, matrix = _tightened(chunk)
    n_cons, n_vars = matrix.shape
    chunk = {**chunk, "lower": lower, "upper": upper}
    var_block = chunk["var_block"]
    n_blocks = int(var_block.max()) + 1
    cell_block, cell_n, cell_p = chunk["cell_block"], chunk["cell_n"], chunk["cell_p"]
    n_cells = len(cell_n)
    protection = chunk["protection"]
    has_p = cell_p >= 0
    con_block = np.zeros(n_cons, dtype=np.int64)
    con_block[chunk["entry_con"]] = var_block[chunk["entry_var"]]
    csr = matrix.tocsr()
    state = {}

    def select(parts: np.ndarray) -> None:
        """A fresh programme holding only the given parts (the others are finished)."""
        cols = np.flatnonzero(parts[var_block])
        rows = np.flatnonzero(parts[con_block])
        sub = csr[rows][:, cols].tocsc()
        h = _highs()
        h.setOptionValue("presolve", "off")
        # measured on the benchmark district: devex pricing and no scaling (the matrix is
        # all +-1) make these many small independent parts about 4x faster
        h.setOptionValue("dual_simplex_cost_perturbation_multiplier", 0.0)
        h.setOptionValue("simplex_dual_edge_weight_strategy", 1)
        h.setOptionValue("simplex_scale_strategy", 0)
        lp = _lp(sub, lower[cols], upper[cols], chunk["con_lower"][rows], chunk["con_upper"][rows])
        h.passModel(lp)
        state.update(h=h, cols=cols, parts=parts, idx=np.arange(len(cols), dtype=np.int32))

    def run(cost: np.ndarray) -> np.ndarray:
        h, cols = state["h"], state["cols"]
        h.changeColsCost(len(cols), state["idx"], cost[cols])
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise BltError(
                f"the published figures of a school, year, term and subject are inconsistent "
                f"(the audit's linear programme is {h.modelStatusToString(status)})"
            )
        x = np.full(n_vars, np.nan)
        x[cols] = np.asarray(h.getSolution().col_value)
        return x

    select(np.ones(n_blocks, dtype=bool))

    # witnesses: integral feasible points, per block
    w_min = np.full(n_cells, np.inf)
    w_max = np.full(n_cells, -np.inf)
    w_p = np.zeros(n_cells, dtype=bool)  # a point with p >= 1
    w_q = np.zeros(n_cells, dtype=bool)  # a point with n - p >= 1

    def witness(x: np.ndarray) -> None:
        frac = ~(np.abs(x - np.round(x)) <= EPS)  # a part not solved (nan) is no witness
        bad = np.bincount(var_block[frac], minlength=n_blocks) > 0
        ok = ~bad[cell_block]
        nv = np.round(x[cell_n])
        np.minimum(w_min, np.where(ok, nv, np.inf), out=w_min)
        np.maximum(w_max, np.where(ok, nv, -np.inf), out=w_max)
        pv = np.where(has_p, np.round(x[np.maximum(cell_p, 0)]), 0.0)
        w_p[:] |= ok & has_p & (pv >= 1)
        w_q[:] |= ok & has_p & (nv - pv >= 1)

    rng = np.random.default_rng(chunk["seed"])
    if chunk.get("x0") is not None:
        # a known consistent table, and what moves from it proved: no random rounds
        witness(chunk["x0"])
        c_lo, c_hi, c_p, c_q = chunk["cert"]
        np.minimum(w_min, c_lo, out=w_min)
        np.maximum(w_max, c_hi, out=w_max)
        w_p |= c_p.astype(bool)
        w_q |= c_q.astype(bool)
    for _ in range(_RANDOM_ROUNDS if chunk.get("x0") is None else 0):
        cost = rng.choice([-1.0, 1.0], size=n_vars) * rng.uniform(0.5, 1.5, size=n_vars)
        witness(run(cost))
        if _RANDOM_PAIR:
            witness(run(-cost))

    # exact results of per-group objectives (nan = not solved)
    lp_min = np.full(n_cells, np.nan)
    lp_max = np.full(n_cells, np.nan)
    lp_p = np.full(n_cells, np.nan)  # max p
    lp_q = np.full(n_cells, np.nan)  # max n - p

    # decided by the implied bounds alone: a certain failure needs no programme
    n_lo, n_hi = lower[cell_n], upper[cell_n]
    certain = n_hi - n_lo < protection
    p_zero = has_p & (upper[np.maximum(cell_p, 0)] < 1)
    p_all = has_p & ~p_zero & (n_hi - lower[np.maximum(cell_p, 0)] < 1)
    p_open = has_p & ~p_zero & ~p_all

    def pending() -> np.ndarray:
        """Task code per cell: 0 none, 1 max n, 2 min n, 3 max p, 4 max n-p."""
        narrow = (w_max - w_min < protection) & ~certain
        task = np.zeros(n_cells, dtype=np.int8)
        task = np.where(p_open & ~w_q & np.isnan(lp_q), 4, task)
        task = np.where(p_open & ~w_p & np.isnan(lp_p), 3, task)
        task = np.where(narrow & np.isnan(lp_min), 2, task)
        task = np.where(narrow & np.isnan(lp_max), 1, task)
        return task

    # Witness rounds: every group still short of proof is pushed at once, away from the middle
    # of what has been witnessed so far (a group at its witnessed low end is maximised, at its
    # high end minimised); groups lacking p >= 1 or n - p >= 1 push p up or down. Any optimum
    # is a feasible point, so whatever it reaches is proof; groups that stay narrow get exact
    # programmes of their own below.
    last = np.full(n_cells, np.nan)
    for _ in range(_WITNESS_ROUNDS):
        task = pending()
        todo = np.flatnonzero(task > 0)
        if todo.size == 0 or todo.size < 0.02 * n_cells:
            break
        busy = np.zeros(n_blocks, dtype=bool)
        busy[cell_block[todo]] = True
        if busy.sum() < 0.7 * state["parts"].sum():
            select(busy)
        cost = np.zeros(n_vars)
        narrow_todo = todo[task[todo] <= 2]
        seen_any = np.isfinite(w_min[narrow_todo])
        with np.errstate(invalid="ignore"):  # inf + -inf where nothing was seen yet
            middle = np.where(seen_any, (w_min[narrow_todo] + w_max[narrow_todo]) / 2, 0.0)
        here = np.where(np.isnan(last[narrow_todo]) | ~seen_any, middle, last[narrow_todo])
        up = np.where(here == middle, rng.random(len(narrow_todo)) < 0.5, here < middle)
        cost[cell_n[narrow_todo]] = np.where(up, -1.0, 1.0) * rng.uniform(
            0.5, 1.5, len(narrow_todo)
        )
        p_todo = todo[task[todo] >= 3]
        np.add.at(
            cost,
            cell_p[p_todo],
            np.where(task[p_todo] == 3, -1.0, 1.0) * rng.uniform(0.5, 1.5, len(p_todo)),
        )
        x = run(cost)
        witness(x)
        seen = ~np.isnan(x[cell_n])
        last[seen] = np.round(x[cell_n][seen])

    stats = chunk.get("stats")
    if stats is not None:
        t0 = pending()
        stats.append(
            (
                n_cells,
                int(certain.sum()),
                int((p_zero | p_all).sum()),
                *[int((t0 == k).sum()) for k in (1, 2, 3, 4)],
            )
        )
    while True:
        task = pending()
        todo = np.flatnonzero(task > 0)
        if stats is not None:
            stats.append(("round", int(todo.size), len(np.unique(cell_block[todo]))))
        if todo.size == 0:
            break
        busy = np.zeros(n_blocks, dtype=bool)
        busy[cell_block[todo]] = True
        if busy.sum() < 0.7 * state["parts"].sum():
            select(busy)
        # one task per block: the first pending cell of each block
        first = np.r_[True, cell_block[todo][1:] != cell_block[todo][:-1]]
        chosen = todo[first]
        cost = np.zeros(n_vars)
        t = task[chosen]
        # minimise: -n for max n, +n for min n, -p for max p, +p - n for max n - p
        n_idx, p_idx = cell_n[chosen], cell_p[chosen]
        cost[n_idx] += np.select([t == 1, t == 2, t == 4], [-1.0, 1.0, -1.0], 0.0)
        np.add.at(cost, p_idx[t >= 3], np.where(t[t >= 3] == 3, -1.0, 1.0))
        x = run(cost)
        witness(x)
        nv = x[n_idx]
        pv = np.where(p_idx >= 0, x[np.maximum(p_idx, 0)], 0.0)
        lp_max[chosen[t == 1]] = nv[t == 1]
        lp_min[chosen[t == 2]] = nv[t == 2]
        lp_p[chosen[t == 3]] = pv[t == 3]
        lp_q[chosen[t == 4]] = (nv - pv)[t == 4]

    # verdicts
    narrow = (w_max - w_min < protection) & ~certain
    hi = np.where(certain, n_hi, np.where(narrow, np.floor(lp_max + EPS), w_max))
    lo = np.where(certain, n_lo, np.where(narrow, np.ceil(lp_min - EPS), w_min))
    # 0 exact, 1 inner (witnessed: the attacker cannot narrow it), 2 outer (implied or rounded
    # bounds: the attacker knows at least this much, which already fails)
    bound = np.where(narrow | certain, np.where((w_min == lo) & (w_max == hi), 0, 2), 1).astype(
        np.int8
    )
    forced = np.zeros(n_cells, dtype=np.int8)
    forced[p_zero | (p_open & ~w_p & (lp_p < 1 - EPS))] = 1
    forced[p_all | (p_open & ~w_q & (lp_q < 1 - EPS))] = 2
    # Not settled by a witness or a certain failure: decide with integer programmes.
    unsure = (narrow & (hi - lo >= protection)) | (
        p_open & ((~w_p & (lp_p >= 1 - EPS)) | (~w_q & (lp_q >= 1 - EPS)))
    )
    redo = np.flatnonzero(unsure)
    if redo.size:
        for k, (mn, mx, pz, pa) in _integer_check(chunk, matrix, redo).items():
            lo[k], hi[k], bound[k] = mn, mx, 0
            forced[k] = 1 if pz else (2 if pa else 0)
    return {"n_min": lo, "n_max": hi, "bound": bound, "forced": forced}


def _integer_check(chunk: dict, matrix, cells: np.ndarray) -> dict:
    """Exact integer answers for the given suppressed groups (scipy's milp, block by block)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    out = {}
    var_block = chunk["var_block"]
    cell_block, cell_n, cell_p = chunk["cell_block"], chunk["cell_n"], chunk["cell_p"]
    rows_all = matrix.tocsr()
    coo = matrix.tocoo()
    con_block = np.full(matrix.shape[0], -1)
    con_block[coo.row] = var_block[coo.col]
    for b in np.unique(cell_block[cells]):
        cols = np.flatnonzero(var_block == b)
        rows = np.flatnonzero(con_block == b)
        constraint = LinearConstraint(
            rows_all[rows][:, cols], chunk["con_lower"][rows], chunk["con_upper"][rows]
        )
        bounds = Bounds(chunk["lower"][cols], chunk["upper"][cols])
        integrality = np.ones(len(cols))
        local = {v: i for i, v in enumerate(cols)}

        def best(c, constraint=constraint, bounds=bounds, integrality=integrality) -> float:
            res = milp(c, constraints=constraint, bounds=bounds, integrality=integrality)
            if res.status != 0:
                raise BltError(f"the audit's integer programme did not solve: {res.message}")
            return float(res.fun)

        for k in cells[cell_block[cells] == b]:
            c = np.zeros(len(cols))
            c[local[cell_n[k]]] = 1.0
            mn, mx = round(best(c)), round(-best(-c))
            c[:] = 0.0
            c[local[cell_p[k]]] = -1.0
            zero = -best(c) < 0.5  # max p is 0
            c[local[cell_n[k]]] = -1.0
            c[local[cell_p[k]]] = 1.0
            everyone = -best(c) < 0.5  # max n - p is 0
            out[int(k)] = (mn, mx, zero, everyone)
    return out
