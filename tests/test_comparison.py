"""The district figure beside a school's group: a recount of the schools' exactly shown figures,
blind to every hidden or coded one (bltanalytics.metrics.comparison)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from bltanalytics.metrics.comparison import KEYS, district_achievement
from bltanalytics.metrics.suppression import suppress

CELL = ["school_id", "school_year", "term", "subject", "grade", "dimension"]


@st.composite
def districts(draw):
    """Published achievement of 2-6 schools, one cell, three groups: some hidden, some coded."""
    rows = []
    for k in range(draw(st.integers(2, 6))):
        sizes = draw(st.lists(st.integers(1, 40), min_size=2, max_size=2))
        for group, n in zip(("Yes", "No"), sizes, strict=True):
            p = draw(st.integers(0, n))
            rows.append((f"{k:04d}", "2025-26", "Spring", "ELA", "All", "flag", group, n, p))
        total_n = sum(sizes)
        rows.append(
            (f"{k:04d}", "2025-26", "Spring", "ELA", "All", "all", "All Students", total_n, 0)
        )
    frame = pd.DataFrame(rows, columns=[*CELL, "group", "n_tested", "n_proficient"])
    return frame


def _published(raw: pd.DataFrame) -> pd.DataFrame:
    return suppress(raw, family=CELL)


@settings(max_examples=60, deadline=None)
@given(districts())
def test_the_district_figure_is_the_recount_of_exactly_shown_school_figures(raw):
    shown = _published(raw)
    out = district_achievement(shown).set_index(KEYS)
    exact = shown[~shown["suppressed"] & shown["n_proficient"].notna()]
    exact = exact[~exact["display"].isin(["≥95%", "≤5%"])]
    expected = exact.groupby(KEYS).agg(
        n_schools=("school_id", "size"),
        n_tested=("n_tested", "sum"),
        n_proficient=("n_proficient", "sum"),
    )
    assert sorted(out.index) == sorted(expected.index)
    for key, row in expected.iterrows():
        got = out.loc[key]
        assert got["n_schools"] == row["n_schools"]
        assert got["n_tested"] == row["n_tested"]
        assert got["n_proficient"] == row["n_proficient"]
        assert np.isclose(got["pct_proficient"], 100 * row["n_proficient"] / row["n_tested"])
        assert got["of_schools"] == shown.set_index(KEYS).loc[[key]]["school_id"].nunique()


@settings(max_examples=60, deadline=None)
@given(districts(), st.integers(0, 1000))
def test_hidden_and_coded_figures_never_reach_the_district_figure(raw, seed):
    """Even a frame that still carries the true counts of its hidden and coded rows gives the
    same district figures as the shared export: they are never read."""
    shown = _published(raw)
    leaky = shown.copy()
    hidden = (leaky["suppressed"] | leaky["display"].isin(["≥95%", "≤5%"])).to_numpy()
    rng = np.random.default_rng(seed)
    n = rng.integers(1, 50, hidden.sum())
    leaky.loc[hidden, "n_tested"] = n
    leaky.loc[hidden, "n_proficient"] = rng.integers(0, n + 1)
    pd.testing.assert_frame_equal(district_achievement(leaky), district_achievement(shown))


def test_no_exact_figure_gives_an_empty_table_with_the_columns():
    raw = pd.DataFrame(
        [("0001", "2025-26", "Spring", "ELA", "All", "all", "All Students", 4, 2)],
        columns=[*CELL, "group", "n_tested", "n_proficient"],
    )
    out = district_achievement(_published(raw))
    assert out.empty and list(out.columns)[: len(KEYS)] == KEYS
