"""The moves of ``certify`` are sound: every interval they claim lies inside the attacker's exact
interval (integer programmes over the audit's own system), and a cell they prove is one the
audit finds protected. Hidden patterns here are random (not what the suppression would choose),
so the moves meet every kind of line: hidden totals, hidden grade-All rows, tiny groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

from bltanalytics.config import Config
from bltanalytics.metrics.audit import audit
from bltanalytics.metrics.audit_model import Model
from bltanalytics.metrics.blocks import layout
from bltanalytics.metrics.certify import certify
from bltanalytics.metrics.suppression import FAMILY, display_labels

KEY = {"school_id": "01", "school_year": "2025-26", "term": "Spring", "subject": "Math"}
DIMS = {"sex": ["F", "M", "X"], "homeless": ["No", "Not reported", "Yes"]}


@st.composite
def hidden_blocks(draw):
    """One block: grades x (All Students, sex, homeless) with the grade-All rows, counts that
    add up, and a random set of hidden rows (some groups absent: no row)."""
    grades = [str(g) for g in range(3, 3 + draw(st.integers(1, 4)))]
    people = []  # (grade, sex, homeless, proficient) per student group of identical students
    for g in grades:
        for _ in range(draw(st.integers(1, 8))):
            people.append(
                (
                    g,
                    draw(st.sampled_from(DIMS["sex"])),
                    draw(st.sampled_from(DIMS["homeless"])),
                    draw(st.integers(0, 1)),
                    draw(st.sampled_from([1, 1, 2, 3, 5, 8, 13])),
                )
            )
    rows = {}
    for g, sex, home, prof, size in people:
        for grade in (g, "All"):
            for dim, grp in (("all", "All Students"), ("sex", sex), ("homeless", home)):
                n, p = rows.get((grade, dim, grp), (0, 0))
                rows[(grade, dim, grp)] = (n + size, p + prof * size)
    table = pd.DataFrame(
        [(*k, n, p) for k, (n, p) in rows.items()],
        columns=["grade", "dimension", "group", "n_tested", "n_proficient"],
    ).assign(**KEY)
    share = draw(st.floats(0.2, 0.9))
    seed = draw(st.integers(0, 2**31 - 1))
    hide = np.random.default_rng(seed).random(len(table)) < share
    hide |= table["n_tested"].to_numpy() < 10  # min_n cells are always hidden
    return table, hide


def published(table: pd.DataFrame, hide: np.ndarray, config: Config) -> pd.DataFrame:
    n = table["n_tested"].to_numpy(float)
    p = table["n_proficient"].to_numpy(float)
    pct = 100 * p / n
    coded = ~hide & ((pct >= config.top_code) | (pct <= config.bottom_code))
    return table.assign(
        n_tested=np.where(hide, np.nan, n),
        n_proficient=np.where(hide | coded, np.nan, p),
        pct_proficient=np.where(hide | coded, np.nan, pct),
        suppressed=hide,
        suppression_reason=np.where(hide, np.where(n < config.min_n, "min_n", "complementary"), ""),
        display=display_labels(pct, hide, top_code=config.top_code, bottom_code=config.bottom_code),
    )


def exact(model: Model, var: int, sign: float, other: int = -1) -> float:
    """max of sign * x[var] (minus x[other]) over the integer points of the model."""
    c = np.zeros(model.n_vars)
    c[var] = -sign
    if other >= 0:
        c[other] += sign
    a = csr_matrix(
        (model.entry_val, (model.entry_con, model.entry_var)),
        shape=(len(model.con_lower), model.n_vars),
    )
    res = milp(
        c,
        constraints=LinearConstraint(a, model.con_lower, model.con_upper),
        bounds=Bounds(model.lower, model.upper),
        integrality=np.ones(model.n_vars),
    )
    assert res.status == 0, res.message
    return -res.fun


def laid_out(table: pd.DataFrame, hide: np.ndarray, config: Config) -> tuple:
    """The table's grids, each row's place in them, and its hidden rows as a dense mask."""
    n = table["n_tested"].to_numpy(np.int64)
    p = table["n_proficient"].to_numpy(np.int64)
    grid, flat = layout(
        table, list(FAMILY), "group", True, n, p, config.min_n, config.top_code, config.bottom_code
    )
    dense = np.zeros(grid.n.size, dtype=bool)
    dense[flat] = hide
    return grid, flat, dense.reshape(grid.n.shape)


@settings(max_examples=25, deadline=None)
@given(hidden_blocks())
def test_certified_intervals_lie_inside_the_attackers_exact_ones(case):
    table, hide = case
    config = Config()
    n = table["n_tested"].to_numpy(np.int64)
    grid, flat, dense = laid_out(table, hide, config)
    cert = certify(grid, dense, config.protection)
    at = {k: getattr(cert, k).reshape(-1)[flat] for k in ("n_lo", "n_hi", "p_open", "q_open")}
    proved = cert.proved.reshape(-1)[flat]
    frame = published(table, hide, config)
    model = Model.build(frame, config)
    cells = model.cells
    for row, n_var, p_var in zip(cells["_row"], cells["_nvar"], cells["_pvar"], strict=True):
        lo, hi = -exact(model, n_var, -1.0), exact(model, n_var, 1.0)
        assert lo <= at["n_lo"][row] <= n[row] <= at["n_hi"][row] <= hi, row
        if at["p_open"][row]:
            assert exact(model, p_var, 1.0) >= 1, row
        if at["q_open"][row]:
            assert exact(model, n_var, 1.0, other=p_var) >= 1, row
    verdict = audit(frame, config).groups
    assert verdict["protected"].to_numpy()[proved[hide]].all()


def _one_block(rows: list[tuple], hide) -> tuple:
    table = pd.DataFrame(
        rows, columns=["grade", "dimension", "group", "n_tested", "n_proficient"]
    ).assign(**KEY)
    config = Config()
    hidden = np.asarray([hide(r) for r in rows])
    grid, flat, dense = laid_out(table, hidden, config)
    cert = certify(grid, dense, config.protection)
    verdict = audit(published(table, hidden, config), config).groups
    return cert.proved.reshape(-1)[flat][hidden], verdict["protected"].to_numpy()


def _sex_block(spec: dict) -> list[tuple]:
    """Rows of one block from ``{grade: ((F n, F p), (M n, M p))}``: each grade's All
    Students, and the grade ``All`` rows summed."""
    rows, all_row = [], {"F": [0, 0], "M": [0, 0]}
    for grade, (f, m) in spec.items():
        rows += [
            (grade, "all", "All Students", f[0] + m[0], f[1] + m[1]),
            (grade, "sex", "F", *f),
            (grade, "sex", "M", *m),
        ]
        for group, (n, p) in (("F", f), ("M", m)):
            all_row[group][0] += n
            all_row[group][1] += p
    (fn, fp), (mn, mp) = all_row["F"], all_row["M"]
    return [
        *rows,
        ("All", "all", "All Students", fn + mn, fp + mp),
        ("All", "sex", "F", fn, fp),
        ("All", "sex", "M", mn, mp),
    ]


def test_moves_of_hidden_grade_totals_prove_a_small_school():
    """Two small grades, their All Students hidden: only a move of both totals (a student of
    grade 4 counted in grade 3) leaves the cells uncertain, and the moves find it."""
    rows = _sex_block({"3": ((3, 1), (3, 2)), "4": ((4, 2), (4, 2))})
    proved, protected = _one_block(rows, lambda r: r[0] != "All")
    assert protected.all()
    assert proved.all()


def test_a_swap_opens_a_count_nobody_passed_in():
    """Nobody passed in grade 3's M, but a ``≤5%`` total leaves room for one who did: the
    audit finds the count open, and so does a swap along the hidden cells."""
    rows = _sex_block({"3": ((25, 1), (5, 0)), "4": ((24, 12), (6, 3))})
    proved, protected = _one_block(rows, lambda r: r[1] == "sex" and r[0] != "All")
    assert protected.all()
    assert proved.all()


def test_a_total_rises_with_several_partners_giving_one_each():
    """Grade 3's two students could be five: three other grades, each at its smallest but
    one, give a student each. No single partner can give three; together they can."""
    spec = {
        "3": ((1, 0), (1, 1)),
        "4": ((1, 1), (2, 1)),
        "5": ((2, 1), (1, 0)),
        "6": ((1, 0), (2, 2)),
    }
    proved, protected = _one_block(_sex_block(spec), lambda r: r[0] != "All")
    assert proved[0] and protected[0]  # grade 3's All Students
    assert protected[proved].all()


def _random_blocks(count: int, seed: int, grades: int | None = None) -> pd.DataFrame:
    """``count`` blocks (schools) of random groups that add up, as hidden_blocks draws one;
    each with 1-5 grades, or ``grades`` grades each."""
    rng = np.random.default_rng(seed)
    frames = []
    for school in range(count):
        rows: dict = {}
        k = grades or int(rng.integers(1, 6))
        for g in [str(g) for g in range(3, 3 + k)]:
            for _ in range(int(rng.integers(1, 9))):
                sex, home = rng.choice(DIMS["sex"]), rng.choice(DIMS["homeless"])
                size, prof = int(rng.choice([1, 2, 3, 5, 8, 13])), int(rng.integers(0, 2))
                for grade in (g, "All"):
                    for key in (("all", "All Students"), ("sex", sex), ("homeless", home)):
                        n, p = rows.get((grade, *key), (0, 0))
                        rows[(grade, *key)] = (n + size, p + prof * size)
        frame = pd.DataFrame(
            [(*k, n, p) for k, (n, p) in rows.items()],
            columns=["grade", "dimension", "group", "n_tested", "n_proficient"],
        )
        frames.append(frame.assign(**{**KEY, "school_id": f"{school:04d}"}))
    return pd.concat(frames, ignore_index=True)


def test_certificate_is_the_same_in_parts_and_in_worker_processes(monkeypatch):
    import bltanalytics.metrics.certify as certify_module

    table = _random_blocks(40, seed=7)
    config = Config()
    n = table["n_tested"].to_numpy(np.int64)
    hide = (np.random.default_rng(3).random(len(table)) < 0.6) | (n < config.min_n)
    grid, _, dense = laid_out(table, hide, config)
    whole = certify(grid, dense, config.protection, workers=1)
    assert whole.proved.any() and not whole.proved[dense & grid.exists].all()
    monkeypatch.setattr(certify_module, "PART_BLOCKS", 3)  # 40 blocks: many parts
    for workers in (1, 2):
        parts = certify(grid, dense, config.protection, workers=workers)
        for field in ("n_lo", "n_hi", "p_open", "q_open", "proved"):
            assert np.array_equal(getattr(parts, field), getattr(whole, field)), (workers, field)


def test_a_grid_certified_in_one_part_is_certified_in_place_as_in_parts(monkeypatch):
    """Blocks of one size in one part are certified on the grid itself (no copy): the same
    certificate as in parts, and the grid is left as it was."""
    import bltanalytics.metrics.certify as certify_module

    table = _random_blocks(12, seed=11, grades=3)
    config = Config()
    n = table["n_tested"].to_numpy(np.int64)
    hide = (np.random.default_rng(5).random(len(table)) < 0.6) | (n < config.min_n)
    grid, _, dense = laid_out(table, hide, config)
    assert len(grid.buckets()) == 1
    before = {f: getattr(grid, f).copy() for f in ("n", "p", "exists", "lo_r", "hi_r")}
    whole = certify(grid, dense, config.protection, workers=1)
    for field, value in before.items():
        assert np.array_equal(getattr(grid, field), value), field
    assert whole.proved.any()
    monkeypatch.setattr(certify_module, "PART_BLOCKS", 5)
    parts = certify(grid, dense, config.protection, workers=1)
    for field in ("n_lo", "n_hi", "p_open", "q_open", "proved"):
        assert np.array_equal(getattr(parts, field), getattr(whole, field)), field
        assert getattr(parts, field).dtype == getattr(whole, field).dtype, field
