"""The privacy audit: can a hidden figure be worked out from what the export publishes?

The data contract (section 2) states the protection test. An attacker reads an achievement
table *as published* and knows the rules: the groups of a dimension add up to All Students in
each grade, the grade ``All`` row of a group adds up that group over the grades, a ``min_n``
group has 1 to ``min_n - 1`` students (a group with nobody tested has no row), any other
suppressed group has at least ``min_n``, ``0 <= n_proficient <= n_tested``, and a ``≥95%`` /
``≤5%`` display means ``n_proficient >= 0.95 n_tested`` / ``<= 0.05 n_tested``.

For every suppressed group the audit finds the smallest and largest ``n_tested`` consistent with
all of that (integral counts), and whether ``n_proficient`` is forced to 0 or to ``n_tested``.
A group is *protected* when the two ends differ by at least ``Config.protection`` and
``n_proficient`` is forced to neither.

Every school, year, term and subject is a *block*: one small linear programme (HiGHS), with the
suppressed counts as unknowns. Blocks are solved many at a time (one block-diagonal programme
whose objective is the sum of one objective per block), and every solution is a feasible point:
points found along the way prove most groups protected without a programme of their own.

>>> import pandas as pd
>>> rows = [("3", "all", "All Students", 30, 12), ("3", "sex", "F", 12, 6),
...         ("3", "sex", "M", 15, 5), ("3", "sex", "X", 3, 1)]
>>> a = pd.DataFrame([("01", "2025-26", "Spring", "Math", *r) for r in rows] +
...                  [("01", "2025-26", "Spring", "Math", "All", *r[1:]) for r in rows],
...     columns=["school_id", "school_year", "term", "subject", "grade", "dimension",
...              "group", "n_tested", "n_proficient"])
>>> from bltanalytics.metrics.suppression import suppress
>>> result = audit(suppress(a))                    # X is small, F hides with it: F + X = 15
>>> result.groups[["grade", "group", "reason", "n_min", "n_max", "p_forced", "protected"]]
  grade group         reason  n_min  n_max p_forced  protected
0     3     F  complementary     10     14     none       True
1     3     X          min_n      1      5     none       True
2   All     F  complementary     10     14     none       True
3   All     X          min_n      1      5     none       True
>>> result.protected
True
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.errors import BltError

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

#: upper bound on any count (keeps every programme bounded; far above any school).
BIG = 1_000_000
_EPS = 1e-6
_RANDOM_ROUNDS = 1  # random objectives (each with its opposite) before per-group objectives
_RANDOM_PAIR = True  # each random objective also solved with its opposite
_WITNESS_ROUNDS = 6  # rounds pushing every unproven group at once
_CHUNK_VARIABLES = 6000


@dataclass(frozen=True)
class AuditResult:
    """What the audit found.

    ``groups``: one row per suppressed group (:data:`GROUP_COLUMNS`). ``n_min``/``n_max``: the
    attacker's interval for ``n_tested``; ``bound`` says how it was found: ``exact`` (solved),
    ``inner`` (two consistent tables with these counts were found, so the attacker cannot narrow
    it further; the true interval may be wider) or ``outer`` (the attacker knows at least this
    much, which already fails the test). ``p_forced``: ``zero``, ``all`` or ``none``.
    ``coded_exact``: coded (``≥95%``/``≤5%``) groups whose exact ``n_proficient`` is
    published, which the contract forbids in shared exports.
    """

    groups: pd.DataFrame
    protection: int
    coded_exact: int = 0

    @property
    def n_suppressed(self) -> int:
        return len(self.groups)

    @property
    def n_below_protection(self) -> int:
        return int((self.groups["n_max"] - self.groups["n_min"] < self.protection).sum())

    @property
    def n_attribute_disclosures(self) -> int:
        return int((self.groups["p_forced"] != "none").sum())

    @property
    def protected(self) -> bool:
        return bool(self.groups["protected"].all()) and self.coded_exact == 0

    def worst(self, k: int = 10) -> pd.DataFrame:
        """The ``k`` least protected groups: narrowest interval first, disclosures next."""
        g = self.groups[~self.groups["protected"]]
        width = g["n_max"] - g["n_min"]
        order = np.lexsort(((g["p_forced"] == "none").to_numpy(), width.to_numpy()))
        return g.iloc[order[:k]].reset_index(drop=True)

    def summary(self) -> str:
        """A few plain lines: counts and the worst examples. Never a student row."""
        lines = [
            f"suppressed groups: {self.n_suppressed:,}",
            f"below the protection level (interval narrower than {self.protection}): "
            f"{self.n_below_protection:,}",
            f"attribute disclosures (n_proficient forced to 0 or to n_tested): "
            f"{self.n_attribute_disclosures:,}",
        ]
        if self.coded_exact:
            lines.append(
                f"coded groups (≥95%/≤5%) publishing their exact n_proficient: {self.coded_exact:,}"
            )
        if self.protected:
            lines.append("protected: no hidden figure can be worked out from the export")
            return "\n".join(lines)
        lines.append("worst examples (school, year, term, subject, grade, dimension, group):")
        for r in self.worst().itertuples(index=False):
            interval = (
                f"n_tested exactly {r.n_min}"
                if r.n_min == r.n_max
                else f"n_tested in {r.n_min}..{r.n_max}"
            )
            forced = {"zero": "; none proficient", "all": "; all proficient"}.get(r.p_forced, "")
            lines.append(
                f"  {r.school_id}, {r.school_year}, {r.term}, {r.subject}, grade {r.grade}, "
                f"{r.dimension}, {r.group}: {interval}{forced}"
            )
        return "\n".join(lines)


def audit(
    achievement: pd.DataFrame, config: Config | None = None, *, workers: int | None = None
) -> AuditResult:
    """Audit an achievement table *as published* (suppressed counts empty or ignored).

    ``achievement`` has the columns of ``achievement.csv`` (at least :data:`NEEDED`, plus
    ``suppression_reason`` and ``display`` when present). Returns an :class:`AuditResult`.
    ``workers``: processes for the programmes (default: 2 when there are many blocks).

    >>> import pandas as pd
    >>> a = pd.DataFrame({"school_id": "01", "school_year": "2025-26", "term": "Spring",
    ...     "subject": "Math", "grade": ["3", "3", "3"], "dimension": ["all", "sex", "sex"],
    ...     "group": ["All Students", "F", "M"], "n_tested": [20, 15, None],
    ...     "n_proficient": [10, 9, None], "suppressed": [False, False, True],
    ...     "suppression_reason": [None, None, "min_n"]})
    >>> audit(a).groups[["group", "n_min", "n_max", "protected"]]   # 20 - 15 = 5
      group  n_min  n_max  protected
    0     M      5      5      False
    """
    config = config or Config()
    model = _Model.build(achievement, config)
    if model.n_cells == 0:
        return AuditResult(_empty_groups(), config.protection, model.coded_exact)
    verdict = model.solve(workers=workers)
    return AuditResult(verdict, config.protection, model.coded_exact)


def export_file(path: str | Path) -> Path:
    """The achievement file of an export folder, or of a reports folder's ``_metrics``."""
    path = Path(path)
    if path.is_file():
        return path
    for folder in (path, path / "_metrics"):
        if (folder / "achievement.csv").is_file():
            return folder / "achievement.csv"
    if not path.exists():
        raise BltError(f"{path} does not exist")
    raise BltError(
        f"{path} is not a metrics export: {path / 'achievement.csv'} (or "
        f"{path / '_metrics' / 'achievement.csv'}) is missing; write one with "
        f"`bltanalytics metrics DISTRICT_FOLDER --out {path}`"
    )


def read_published(path: str | Path) -> pd.DataFrame:
    """Read ``achievement.csv`` as an attacker would: text ids, numbers where given."""
    csv = export_file(path)
    try:
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False, na_values=[""], engine="pyarrow")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise BltError(f"{csv} cannot be read as CSV: {exc}") from None
    missing = [c for c in NEEDED if c not in frame.columns]
    if missing:
        raise BltError(
            f"{csv} is not an achievement export: it lacks the column(s) {', '.join(missing)}"
        )
    return frame


def audit_folder(
    path: str | Path, config: Config | None = None, *, workers: int | None = None
) -> AuditResult:
    """Audit the export in ``path`` (a metrics export, or a reports folder's ``_metrics``)."""
    return audit(read_published(path), config, workers=workers)


# --------------------------------------------------------------------------------------------
# The linked system


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
class _Model:
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

    @classmethod
    def build(cls, achievement: pd.DataFrame, config: Config) -> _Model:
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
        p_lo = np.where(known_n & is_top, np.ceil(config.top_code / 100.0 * n - _EPS), p_lo)
        p_hi = np.where(known_n & is_bottom, np.floor(config.bottom_code / 100.0 * n + _EPS), p_hi)
        # an ordinary whole-number display of a published group whose count is not given
        shown = np.flatnonzero(known_n & ~is_top & ~is_bottom)
        if shown.size:
            text = display.iloc[shown]
            whole = text.str.fullmatch(r"\d{1,3}%").to_numpy(dtype=bool, na_value=False)
            shown = shown[whole]
            k = pd.to_numeric(text[whole].str[:-1]).to_numpy(dtype=float)
            p_lo[shown] = np.maximum(np.ceil((k - 0.5) * n[shown] / 100.0 - _EPS), 0)
            p_hi[shown] = np.minimum(np.floor((k + 0.5) * n[shown] / 100.0 + _EPS), n[shown])

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
        )

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
            while j < len(blocks) and var_end[j] - var_start[i] < _CHUNK_VARIABLES:
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
                    "cells": (k0, k1),
                }
            )
            i = j
        return out

    def solve(self, workers: int | None = None) -> pd.DataFrame:
        chunks = self.chunks()
        if workers is None:
            workers = min(2, os.cpu_count() or 1) if len(chunks) >= 8 else 1
        if workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(_solve_chunk, chunks))
        else:
            results = [_solve_chunk(c) for c in chunks]
        n_min = np.concatenate([r["n_min"] for r in results])
        n_max = np.concatenate([r["n_max"] for r in results])
        bound = np.concatenate([r["bound"] for r in results])
        forced = np.concatenate([r["forced"] for r in results])
        out = self.cells.drop(columns=["_block", "_nvar", "_pvar", "_row"]).copy()
        out["n_min"] = n_min.astype("int64")
        out["n_max"] = n_max.astype("int64")
        out["bound"] = pd.Series(np.array(["exact", "inner", "outer"])[bound], dtype="str").array
        out["p_forced"] = pd.Series(np.array(["none", "zero", "all"])[forced], dtype="str").array
        out["protected"] = (out["n_max"] - out["n_min"] >= self.config.protection) & (
            out["p_forced"] == "none"
        )
        out = out.iloc[np.argsort(self.cells["_row"].to_numpy(), kind="stable")]
        return out[GROUP_COLUMNS].reset_index(drop=True)


def _propagate(con, var, val, con_lo, con_hi, lower, upper, rounds: int = 20):
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
        best_lo = np.ceil(np.maximum.reduceat(new_lo[by_var], starts) - _EPS)
        best_hi = np.floor(np.minimum.reduceat(new_hi[by_var], starts) + _EPS)
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


def _components(con, var, n_cons: int, n_vars: int) -> np.ndarray:
    """The independent part of each unknown: unknowns linked through a shared constraint."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    size = n_vars + n_cons
    graph = coo_matrix((np.ones(len(con)), (var, n_vars + con)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    return pd.factorize(labels[:n_vars])[0].astype(np.int64)


def _empty_groups() -> pd.DataFrame:
    types = {"n_min": "int64", "n_max": "int64", "protected": "bool"}
    return pd.DataFrame({c: pd.Series([], dtype=types.get(c, "str")) for c in GROUP_COLUMNS})


# --------------------------------------------------------------------------------------------
# Solving one chunk (runs in a worker process)


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


def _solve_chunk(chunk: dict) -> dict:  # noqa: C901  (one HiGHS session; its steps share state)
    import highspy
    from scipy.sparse import csc_matrix

    n_vars = len(chunk["lower"])
    n_cons = len(chunk["con_lower"])
    lower, upper = _propagate(
        chunk["entry_con"],
        chunk["entry_var"],
        chunk["entry_val"],
        chunk["con_lower"],
        chunk["con_upper"],
        chunk["lower"],
        chunk["upper"],
    )
    chunk = {**chunk, "lower": lower, "upper": upper}
    matrix = csc_matrix(
        (chunk["entry_val"], (chunk["entry_con"], chunk["entry_var"])), shape=(n_cons, n_vars)
    )
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
        lp = highspy.HighsLp()
        lp.num_col_ = len(cols)
        lp.num_row_ = len(rows)
        lp.col_cost_ = np.zeros(len(cols))
        lp.col_lower_ = lower[cols]
        lp.col_upper_ = upper[cols]
        lp.row_lower_ = chunk["con_lower"][rows]
        lp.row_upper_ = chunk["con_upper"][rows]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = sub.indptr
        lp.a_matrix_.index_ = sub.indices
        lp.a_matrix_.value_ = sub.data
        lp.a_matrix_.num_col_ = len(cols)
        lp.a_matrix_.num_row_ = len(rows)
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
        frac = ~(np.abs(x - np.round(x)) <= _EPS)  # a part not solved (nan) is no witness
        bad = np.bincount(var_block[frac], minlength=n_blocks) > 0
        ok = ~bad[cell_block]
        nv = np.round(x[cell_n])
        np.minimum(w_min, np.where(ok, nv, np.inf), out=w_min)
        np.maximum(w_max, np.where(ok, nv, -np.inf), out=w_max)
        pv = np.where(has_p, np.round(x[np.maximum(cell_p, 0)]), 0.0)
        w_p[:] |= ok & has_p & (pv >= 1)
        w_q[:] |= ok & has_p & (nv - pv >= 1)

    rng = np.random.default_rng(chunk["seed"])
    for _ in range(_RANDOM_ROUNDS):
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
    hi = np.where(certain, n_hi, np.where(narrow, np.floor(lp_max + _EPS), w_max))
    lo = np.where(certain, n_lo, np.where(narrow, np.ceil(lp_min - _EPS), w_min))
    # 0 exact, 1 inner (witnessed: the attacker cannot narrow it), 2 outer (implied or rounded
    # bounds: the attacker knows at least this much, which already fails)
    bound = np.where(narrow | certain, np.where((w_min == lo) & (w_max == hi), 0, 2), 1).astype(
        np.int8
    )
    forced = np.zeros(n_cells, dtype=np.int8)
    forced[p_zero | (p_open & ~w_p & (lp_p < 1 - _EPS))] = 1
    forced[p_all | (p_open & ~w_q & (lp_q < 1 - _EPS))] = 2
    # Not settled by a witness or a certain failure: decide with integer programmes.
    unsure = (narrow & (hi - lo >= protection)) | (
        p_open & ((~w_p & (lp_p >= 1 - _EPS)) | (~w_q & (lp_q >= 1 - _EPS)))
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


class AuditFailure(BltError):
    """An export that fails the privacy audit; its message is the audit summary and advice."""

    def __init__(self, result: AuditResult, where: str | Path):
        self.result = result
        super().__init__(
            f"privacy audit FAILED for {where}: hidden figures can be worked out from it.\n"
            f"{result.summary()}\n"
            f"Do not share these files. `bltanalytics audit {where}` lists the groups; the "
            "suppression did not protect them (see docs/audit.md) "
            "and this should be reported as a bug of bltanalytics."
        )


def require_protected(result: AuditResult, where: str | Path) -> AuditResult:
    """Raise :class:`AuditFailure` unless ``result`` is protected; return it otherwise."""
    if not result.protected:
        raise AuditFailure(result, where)
    return result
