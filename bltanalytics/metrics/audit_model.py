"""The attacker's system of a published achievement table: one unknown per hidden count (and per
coded proficient count), one equation per published sum, bounds from the rule and the codes.

:class:`Model` builds it for every block (school, year, term, subject) at once; its solve runs
:func:`bltanalytics.metrics.audit_solve.solve_chunk` on chunks of independent parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.metrics.audit_solve import BIG, EPS, feasible_chunk, solve_chunk
from bltanalytics.metrics.workers import default_workers, mapped

BLOCK = ("school_id", "school_year", "term", "subject")
GROUP_COLUMNS = [
    *BLOCK,
    "grade",
    "dimension",
    "group",
    "reason",
    "n_min",
    "n_max",
    "bound",
    "p_forced",
    "protected",
]
NEEDED = (*BLOCK, "grade", "dimension", "group", "n_tested", "n_proficient", "suppressed")
ALL_DIMENSION = "all"
ALL_STUDENTS = "All Students"
ALL_GRADES = "All"
REASON_MIN_N = "min_n"
CHUNK_VARIABLES = 6000


def _bool(values: pd.Series, csv_name: str = "suppressed") -> np.ndarray:
    if pd.api.types.is_bool_dtype(values.dtype) and not values.isna().any():
        return values.to_numpy(dtype=bool)
    text = values.astype("str").str.strip().str.lower()
    known = text.isin(["true", "false", "1", "0"])
    if not known.all():
        raise BltError(
            f"{csv_name} must be true or false, found {values[~known.to_numpy()].iloc[0]!r} "
            f"in row {int(np.flatnonzero(~known.to_numpy())[0])}"
        )
    return text.isin(["true", "1"]).to_numpy()


def _number(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return (
        pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan).copy()
    )


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype="str")
    return frame[column].astype("str").fillna("")


def _position(values, value) -> int:
    """Position of ``value`` among factorized ``values``, or -2 (matches no code)."""
    found = pd.Index(values).get_indexer([value])[0]
    return int(found) if found >= 0 else -2


def _codes(frame: pd.DataFrame, columns) -> np.ndarray:
    key = np.zeros(len(frame), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(frame[column].astype("str"), use_na_sentinel=False)
        key = key * (len(uniques) + 1) + codes
        key = pd.factorize(key)[0].astype(np.int64)
    return key


@dataclass
class Model:
    """Unknowns, linear constraints and tasks of every block, block-contiguous."""

    cells: pd.DataFrame  # the suppressed groups: identity, reason, n-var, p-var
    n_cells: int
    n_vars: int
    var_block: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    con_block: np.ndarray
    con_lower: np.ndarray
    con_upper: np.ndarray
    entry_con: np.ndarray
    entry_var: np.ndarray
    entry_val: np.ndarray
    config: Config
    coded_exact: int
    var_row: np.ndarray | None = None  # the row of each unknown
    var_kind: np.ndarray | None = None  # 0 its n_tested, 1 its n_proficient
    row_n: np.ndarray | None = None  # what is known of each row (nan: unknown)
    row_p: np.ndarray | None = None
    start: np.ndarray | None = None  # a consistent table's value of every unknown

    @classmethod
    def build(cls, achievement: pd.DataFrame, config: Config, start: dict | None = None) -> Model:
        """The system of ``achievement``. ``start`` (optional): a consistent table, as arrays
        aligned with the rows: ``n`` and ``p`` (every row's counts), and what moves from it
        proved (:mod:`bltanalytics.metrics.certify`): ``n_lo``, ``n_hi``, ``p_open``,
        ``q_open`` (read on suppressed rows)."""
        missing = [c for c in NEEDED if c not in achievement.columns]
        if missing:
            raise BltError(
                f"audit() needs the achievement column(s) {', '.join(missing)}; "
                f"the table has {', '.join(map(str, achievement.columns))}"
            )
        a = achievement.reset_index(drop=True)
        rows = len(a)
        suppressed = _bool(a["suppressed"])
        reason = _text(a, "suppression_reason")
        reason_code, reasons = pd.factorize(reason)
        min_n_reason = reason_code == _position(reasons, REASON_MIN_N)
        display = _text(a, "display")
        n = _number(a, "n_tested")
        p = _number(a, "n_proficient")
        pct = _number(a, "pct_proficient")
        gap = _number(a, "gap_pp")
        for values in (n, p, pct, gap):
            values[suppressed] = np.nan
        display_code, displays = pd.factorize(display)
        displays = list(displays)
        top = f"≥{config.top_code:g}%"
        bottom = f"≤{config.bottom_code:g}%"
        is_top = (display_code == (displays.index(top) if top in displays else -2)) & ~suppressed
        is_bottom = (
            display_code == (displays.index(bottom) if bottom in displays else -2)
        ) & ~suppressed
        coded_exact = int(((is_top | is_bottom) & ~np.isnan(p)).sum())

        block = _codes(a, BLOCK)
        n_blocks = int(block.max()) + 1 if rows else 0
        grade, grades = pd.factorize(a["grade"].astype("str"))
        dimension, dimensions = pd.factorize(a["dimension"].astype("str"))
        group, groups = pd.factorize(a["group"].astype("str"))
        is_all_dim = dimension == _position(dimensions, ALL_DIMENSION)
        is_all_grade = grade == _position(grades, ALL_GRADES)

        # What the attacker can recompute: p from a published percentage, or from gap_pp and
        # the published All Students percentage of the same grade.
        cell_key = block * len(grades) + grade
        all_rows = np.flatnonzero(is_all_dim)
        all_pct = np.full(n_blocks * len(grades), np.nan)
        all_pct[cell_key[all_rows]] = pct[all_rows]
        pct = np.where(np.isnan(pct), gap + all_pct[cell_key], pct)
        derived = np.isnan(p) & ~np.isnan(pct) & ~np.isnan(n)
        p[derived] = np.round(pct[derived] * n[derived] / 100.0)

        n_unknown = np.isnan(n)
        p_unknown = np.isnan(p)
        # bounds of the unknown counts
        n_lo = np.where(min_n_reason, 1.0, float(config.min_n))
        n_hi = np.where(min_n_reason, float(config.min_n - 1), float(BIG))
        n_lo[~suppressed] = 1.0
        n_hi[~suppressed] = BIG
        p_lo = np.zeros(rows)
        p_hi = np.where(n_unknown, float(BIG), n)
        known_n = ~n_unknown & p_unknown
        p_lo = np.where(known_n & is_top, np.ceil(config.top_code / 100.0 * n - EPS), p_lo)
        p_hi = np.where(known_n & is_bottom, np.floor(config.bottom_code / 100.0 * n + EPS), p_hi)
        # an ordinary whole-number display of a published group whose count is not given
        shown = np.flatnonzero(known_n & ~is_top & ~is_bottom)
        if shown.size:
            text = display.iloc[shown]
            whole = text.str.fullmatch(r"\d{1,3}%").to_numpy(dtype=bool, na_value=False)
            shown = shown[whole]
            k = pd.to_numeric(text[whole].str[:-1]).to_numpy(dtype=float)
            p_lo[shown] = np.maximum(np.ceil((k - 0.5) * n[shown] / 100.0 - EPS), 0)
            p_hi[shown] = np.minimum(np.floor((k + 0.5) * n[shown] / 100.0 + EPS), n[shown])

        # Lines: (1) the groups of a dimension in a grade = that grade's All Students;
        # (2) the grades of a group = its grade-All row. Members +1, the total -1.
        row = np.arange(rows)
        total1 = np.full(n_blocks * len(grades), -1)
        total1[cell_key[all_rows]] = all_rows
        m1 = np.flatnonzero(~is_all_dim & (total1[cell_key] >= 0))
        key1 = cell_key[m1] * len(dimensions) + dimension[m1]
        key2 = (block * len(dimensions) + dimension) * len(groups) + group
        total2 = pd.Series(row[is_all_grade], index=key2[is_all_grade])
        found2 = total2.index.get_indexer(key2)
        m2 = np.flatnonzero(~is_all_grade & (found2 >= 0))
        line1 = pd.factorize(key1)[0]
        n1 = int(line1.max()) + 1 if len(line1) else 0
        line2 = pd.factorize(key2[m2])[0] + n1
        n_lines = int(line2.max()) + 1 if len(line2) else n1
        line_of = np.r_[line1, line2]
        member = np.r_[m1, m2]
        total = np.r_[total1[cell_key[m1]], total2.to_numpy()[found2[m2]]]
        line_total = np.zeros(n_lines, dtype=np.int64)
        line_total[line_of] = total
        e_line = np.r_[line_of, np.arange(n_lines)]
        e_row = np.r_[member, line_total]
        e_val = np.r_[np.ones(len(member)), -np.ones(n_lines)]

        # Only blocks with a suppressed group need a programme.
        wanted = np.zeros(n_blocks, dtype=bool)
        wanted[block[suppressed]] = True

        # Variables: n of rows with unknown n, p of rows with unknown p, in wanted blocks,
        # numbered block by block.
        n_rows = np.flatnonzero(n_unknown & wanted[block])
        p_rows = np.flatnonzero(p_unknown & wanted[block])
        v_row = np.r_[n_rows, p_rows]
        v_kind = np.r_[np.zeros(len(n_rows), np.int8), np.ones(len(p_rows), np.int8)]
        order = np.lexsort((v_row, v_kind, block[v_row]))
        v_row, v_kind = v_row[order], v_kind[order]
        n_vars = len(v_row)
        n_var_of = np.full(rows, -1, dtype=np.int64)
        p_var_of = np.full(rows, -1, dtype=np.int64)
        n_var_of[v_row[v_kind == 0]] = np.flatnonzero(v_kind == 0)
        p_var_of[v_row[v_kind == 1]] = np.flatnonzero(v_kind == 1)
        lower = np.where(v_kind == 0, n_lo[v_row], p_lo[v_row])
        upper = np.where(v_kind == 0, n_hi[v_row], p_hi[v_row])

        # Constraints: each line for n and for p (known values to the right-hand side), and
        # p - n <= 0 where both are unknown.
        keep_entry = wanted[block[e_row]]
        e_line, e_row, e_val = e_line[keep_entry], e_row[keep_entry], e_val[keep_entry]
        parts_con, parts_var, parts_val, rhs_parts = [], [], [], []
        for kind, var_of, known in ((0, n_var_of, n), (1, p_var_of, p)):
            var = var_of[e_row]
            unknown = var >= 0
            rhs = -np.bincount(
                e_line[~unknown],
                weights=e_val[~unknown] * np.nan_to_num(known[e_row[~unknown]]),
                minlength=n_lines,
            )
            used = np.zeros(n_lines, dtype=bool)
            used[e_line[unknown]] = True
            parts_con.append(e_line[unknown] * 2 + kind)
            parts_var.append(var[unknown])
            parts_val.append(e_val[unknown])
            rhs_parts.append((np.flatnonzero(used) * 2 + kind, rhs[used]))
        con_ids = np.r_[rhs_parts[0][0], rhs_parts[1][0]]
        con_rhs = np.r_[rhs_parts[0][1], rhs_parts[1][1]]
        both = np.flatnonzero((n_var_of >= 0) & (p_var_of >= 0))
        link_ids = 2 * n_lines + np.arange(len(both))
        all_con = np.r_[con_ids, link_ids]
        all_lo = np.r_[con_rhs, np.full(len(both), -np.inf)]
        all_hi = np.r_[con_rhs, np.zeros(len(both))]
        e_con = np.r_[*parts_con, link_ids, link_ids]
        e_var = np.r_[*parts_var, p_var_of[both], n_var_of[both]]
        e_v = np.r_[*parts_val, np.ones(len(both)), -np.ones(len(both))]
        # Constraints numbered 0..C-1; implied bounds by propagation (outer bounds: what the
        # attacker knows at least); then independent parts (connected components), each of
        # which is a programme of its own, numbered and sorted part by part.
        e_con = pd.Index(all_con).get_indexer(e_con)
        part = _components(e_con, e_var, len(all_con), n_vars)
        var_order = np.lexsort((np.arange(n_vars), part))
        var_new = np.empty(n_vars, dtype=np.int64)
        var_new[var_order] = np.arange(n_vars)
        con_part = np.zeros(len(all_con), dtype=np.int64)
        con_part[e_con] = part[e_var]
        con_order = np.argsort(con_part, kind="stable")
        con_new = np.empty(len(all_con), dtype=np.int64)
        con_new[con_order] = np.arange(len(all_con))
        entry_con, entry_var = con_new[e_con], var_new[e_var]
        eorder = np.lexsort((entry_var, entry_con))

        hidden = np.flatnonzero(suppressed)
        cells = a.iloc[hidden][[*BLOCK, "grade", "dimension", "group"]].astype("str")
        cells["reason"] = reason.iloc[hidden].to_numpy()
        cell_n = var_new[n_var_of[suppressed]]
        cells = cells.assign(
            _block=part[n_var_of[suppressed]],
            _nvar=cell_n,
            _pvar=var_new[p_var_of[suppressed]],
            _row=np.flatnonzero(suppressed),
        )
        cells = cells.sort_values(["_block", "_nvar"], kind="stable")
        return cls(
            cells=cells,
            n_cells=len(cells),
            n_vars=n_vars,
            var_block=part[var_order],
            lower=lower[var_order].astype(float),
            upper=upper[var_order].astype(float),
            con_block=con_part[con_order],
            con_lower=all_lo[con_order],
            con_upper=all_hi[con_order],
            entry_con=entry_con[eorder],
            entry_var=entry_var[eorder],
            entry_val=e_v[eorder],
            config=config,
            coded_exact=coded_exact,
            var_row=v_row[var_order],
            var_kind=v_kind[var_order],
            row_n=n,
            row_p=p,
        ).attach(start)

    # ---------------------------------------------------------------------------------------
    def chunks(self) -> list[dict]:
        """Groups of whole blocks, each a self-contained programme of a few thousand unknowns."""
        blocks, var_start = np.unique(self.var_block, return_index=True)
        var_end = np.r_[var_start[1:], self.n_vars]
        con_start = np.searchsorted(self.con_block, blocks, side="left")
        con_end = np.searchsorted(self.con_block, blocks, side="right")
        out = []
        i = 0
        while i < len(blocks):
            j = i
            while j < len(blocks) and var_end[j] - var_start[i] < CHUNK_VARIABLES:
                j += 1
            j = max(j, i + 1)
            v0, v1 = var_start[i], var_end[j - 1]
            c0, c1 = con_start[i], con_end[j - 1]
            e0, e1 = np.searchsorted(self.entry_con, [c0, c1])
            cell = self.cells["_block"].to_numpy()
            k0, k1 = np.searchsorted(cell, [blocks[i], blocks[j - 1] + 1])
            out.append(
                {
                    "var_block": self.var_block[v0:v1] - blocks[i],
                    "lower": self.lower[v0:v1],
                    "upper": self.upper[v0:v1],
                    "con_lower": self.con_lower[c0:c1],
                    "con_upper": self.con_upper[c0:c1],
                    "entry_con": self.entry_con[e0:e1] - c0,
                    "entry_var": self.entry_var[e0:e1] - v0,
                    "entry_val": self.entry_val[e0:e1],
                    "cell_block": cell[k0:k1] - blocks[i],
                    "cell_n": self.cells["_nvar"].to_numpy()[k0:k1] - v0,
                    "cell_p": self.cells["_pvar"].to_numpy()[k0:k1] - v0,
                    "protection": self.config.protection,
                    "seed": int(i),
                    **self._start(v0, v1, k0, k1),
                    "cells": (k0, k1),
                }
            )
            i = j
        return out

    def attach(self, start: dict | None) -> Model:
        """Take a consistent table and what moves from it proved (see :meth:`build`)."""
        if start is None:
            return self
        values = np.where(self.var_kind == 0, start["n"][self.var_row], start["p"][self.var_row])
        self.start = np.asarray(values, dtype=float)
        rows = self.cells["_row"].to_numpy()
        self.cells = self.cells.assign(
            **{f"_{k}": np.asarray(start[k])[rows] for k in ("n_lo", "n_hi", "p_open", "q_open")}
        )
        return self

    def feasible(self, workers: int | None = None) -> np.ndarray:
        """One consistent table: a value for every unknown (nan in parts whose programme's
        solution is not whole)."""
        results = self._map(feasible_chunk, self.chunks(), workers)
        return np.concatenate(results) if results else np.zeros(0)

    def _map(self, function, chunks: list, workers: int | None) -> list:
        if workers is None:
            workers = default_workers(len(chunks) >= 8)
        return list(mapped(function, chunks, workers))

    def _start(self, v0: int, v1: int, k0: int, k1: int) -> dict:
        if self.start is None:
            return {}
        c = self.cells
        return {
            "x0": self.start[v0:v1],
            "cert": tuple(
                c[f"_{k}"].to_numpy()[k0:k1] for k in ("n_lo", "n_hi", "p_open", "q_open")
            ),
        }

    def solve(self, workers: int | None = None) -> pd.DataFrame:
        results = self._map(solve_chunk, self.chunks(), workers)
        n_min = np.concatenate([r["n_min"] for r in results])
        n_max = np.concatenate([r["n_max"] for r in results])
        bound = np.concatenate([r["bound"] for r in results])
        forced = np.concatenate([r["forced"] for r in results])
        out = self.cells[[c for c in self.cells.columns if not c.startswith("_")]].copy()
        out["n_min"] = n_min.astype("int64")
        out["n_max"] = n_max.astype("int64")
        out["bound"] = pd.Series(np.array(["exact", "inner", "outer"])[bound], dtype="str").array
        out["p_forced"] = pd.Series(np.array(["none", "zero", "all"])[forced], dtype="str").array
        out["protected"] = (out["n_max"] - out["n_min"] >= self.config.protection) & (
            out["p_forced"] == "none"
        )
        out = out.iloc[np.argsort(self.cells["_row"].to_numpy(), kind="stable")]
        return out[GROUP_COLUMNS].reset_index(drop=True)


def _components(con, var, n_cons: int, n_vars: int) -> np.ndarray:
    """The independent part of each unknown: unknowns linked through a shared constraint."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    size = n_vars + n_cons
    graph = coo_matrix((np.ones(len(con)), (var, n_vars + con)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    return pd.factorize(labels[:n_vars])[0].astype(np.int64)


def empty_groups() -> pd.DataFrame:
    types = {"n_min": "int64", "n_max": "int64", "protected": "bool"}
    return pd.DataFrame({c: pd.Series([], dtype=types.get(c, "str")) for c in GROUP_COLUMNS})
