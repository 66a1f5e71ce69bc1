"""Mean scale scores and Hedges' g: every published figure recounted in plain pandas/numpy
(sample, hand-made frames, Hypothesis districts), and the privacy rule (P1 ∪ P2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.load import load_district
from bltanalytics.metrics.achievement import DIMENSIONS, achievement, group_layout
from bltanalytics.metrics.audit import audit_scale
from bltanalytics.metrics.scale_scores import SCALE_SCORE_COLUMNS, hedges_g, scale_scores
from bltanalytics.metrics.shapes import ScaleScores, check_tables
from bltanalytics.metrics.suppression import FAMILY, suppress

SAMPLE = __import__("pathlib").Path(__file__).parents[1] / "data" / "sample"
EVERYONE = Config(min_n=1, top_code=101.0, bottom_code=-1.0)  # nothing hidden
BLOCK = ["school_id", "school_year", "term", "subject"]
KEYS = [*BLOCK, "grade", "dimension", "group"]


# --- the plain reference ------------------------------------------------------------------------


def joined(a: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    """Each test with its student's groups: the students row of the testing school, else the
    one with the lowest school_id (first in table order); none is ``Not reported``."""
    s = s.reset_index(drop=True).reset_index(names="order")
    same = s.sort_values("order").drop_duplicates(["student_id", "school_year", "school_id"])
    lowest = s.sort_values(["school_id", "order"]).drop_duplicates(["student_id", "school_year"])
    a = a.reset_index(drop=True)
    on_same = a.merge(
        same, on=["student_id", "school_year", "school_id"], how="left", suffixes=("", "_s")
    )
    fallback = a.merge(
        lowest.drop(columns="school_id"),
        on=["student_id", "school_year"],
        how="left",
        suffixes=("", "_s"),
    )
    matched = on_same["order"].notna()
    out = a.copy()
    for d in DIMENSIONS[1:]:
        mine = on_same[d] if d in on_same else pd.Series(np.nan, index=a.index)
        other = fallback[d] if d in fallback else pd.Series(np.nan, index=a.index)
        out[d] = mine.where(matched, other).astype(object).fillna("Not reported").astype(str)
    out["all"] = "All Students"
    return out


def recount(a: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    """n, mean, sd and g of every group with a scale score, the obvious way: the scores of
    the group and of the rest of its cell, numpy's mean and std (two-pass), g by its formula."""
    rows = joined(a, s)
    rows = rows[rows["scale_score"].notna()]
    out = []
    for grade_keys in ([*BLOCK, "grade"], BLOCK):
        for key, cell in rows.groupby(grade_keys, sort=False):
            key = dict(zip(grade_keys, key, strict=True))
            key.setdefault("grade", "All")
            x_all = cell["scale_score"].to_numpy(dtype=float)
            prof_all = cell["proficient"].to_numpy(dtype=bool)
            for d in DIMENSIONS:
                labels = cell[d].to_numpy()
                for group in np.unique(labels):
                    mine = labels == group
                    x, y = x_all[mine], x_all[~mine]
                    g = np.nan
                    if d != "all" and len(x) >= 2 and len(y) >= 2:
                        ss = ((x - x.mean()) ** 2).sum() + ((y - y.mean()) ** 2).sum()
                        pooled = np.sqrt(ss / (len(x) + len(y) - 2))
                        if pooled > 0:
                            j = 1 - 3 / (4 * (len(x) + len(y)) - 9)
                            g = j * (x.mean() - y.mean()) / pooled
                    out.append(
                        {
                            **key,
                            "dimension": d,
                            "group": group,
                            "n": len(x),
                            "n_proficient": int(prof_all[mine].sum()),
                            "mean": x.mean(),
                            "sd": x.std(ddof=1) if len(x) >= 2 else np.nan,
                            "g": g,
                        }
                    )
    return pd.DataFrame(out)


def check_published(out: pd.DataFrame, want: pd.DataFrame) -> None:
    """Every published figure of ``out`` equals the recount; every row of ``out`` is one of
    the recount's and every recounted group has its row."""
    got = out.astype({k: str for k in KEYS}).merge(
        want.astype({k: str for k in KEYS}), on=KEYS, how="outer", indicator=True
    )
    assert (got["_merge"] == "both").all(), got.loc[got["_merge"] != "both", KEYS].head()
    shown = got[~got["suppressed"]]
    assert (shown["n_tested"].astype("int64") == shown["n"]).all()
    np.testing.assert_allclose(shown["mean_scale_score"], shown["mean"], rtol=1e-12)
    np.testing.assert_allclose(shown["sd_scale_score"], shown["sd"], rtol=1e-9, atol=1e-9)
    # effect sizes: empty exactly where the recount has none or All Students is hidden
    all_hidden = got[got["dimension"] == "all"].set_index(KEYS[:5])["suppressed"]
    hidden_all = all_hidden.reindex(pd.MultiIndex.from_frame(shown[KEYS[:5]])).to_numpy()
    expected_g = np.where(hidden_all, np.nan, shown["g"])
    # g divides by a pooled SD that the recount builds from two separate np.std calls: with
    # near-equal scores the two ways round differ by a few parts in a billion (Hypothesis found
    # 8/19 against 8/19 - 1.6e-9), far below the two decimals a reader sees
    np.testing.assert_allclose(shown["effect_size"], expected_g, rtol=1e-7, atol=1e-9)
    hidden = got[got["suppressed"]]
    assert (
        hidden[["n_tested", "mean_scale_score", "sd_scale_score", "effect_size"]]
        .isna()
        .all(axis=None)
    )


# --- hand-made frames ---------------------------------------------------------------------------


def tiny(scores, sexes, proficient=None, grade="3"):
    n = len(scores)
    ids = [f"s{i:03d}" for i in range(n)]
    a = pd.DataFrame(
        {
            "student_id": ids,
            "school_id": "0101",
            "school_year": "2025-26",
            "term": "Spring",
            "subject": "Math",
            "grade": grade,
            "scale_score": pd.array(scores, dtype="float64"),
            "proficient": pd.array(proficient or [i % 2 == 0 for i in range(n)], "boolean"),
        }
    )
    s = pd.DataFrame(
        {"student_id": ids, "school_id": "0101", "school_year": "2025-26", "sex": sexes}
    )
    return a.astype({c: "str" for c in ("student_id", "school_id", "grade")}), s.astype("str")


def test_hand_computed_mean_sd_and_g():
    # F: 1, 2, 3 (mean 2, ss 2); M: 3, 4, 5 (mean 4, ss 2); pooled sd 1, d = -2, J = 1 - 3/15
    a, s = tiny([1.0, 2.0, 3.0, 3.0, 4.0, 5.0], ["F"] * 3 + ["M"] * 3)
    out = scale_scores(a, s, EVERYONE)
    sex = out[(out["grade"] == "3") & (out["dimension"] == "sex")].set_index("group")
    assert sex["n_tested"].tolist() == [3, 3]
    assert sex["mean_scale_score"].tolist() == [2.0, 4.0]
    assert sex["sd_scale_score"].tolist() == [1.0, 1.0]
    assert sex["effect_size"].round(12).tolist() == [-1.6, 1.6]
    everyone = out[(out["grade"] == "3") & (out["dimension"] == "all")].iloc[0]
    assert everyone["mean_scale_score"] == 3.0 and np.isnan(everyone["effect_size"])
    assert list(out.columns) == SCALE_SCORE_COLUMNS
    check_tables({"scale_scores": out})


def test_rows_follow_achievement_and_skip_groups_without_a_score():
    a, s = tiny([10.0, 12.0, np.nan, np.nan], ["F", "F", "M", "X"])
    ach = achievement(a, s, EVERYONE)
    out = scale_scores(a, s, EVERYONE)
    assert len(out) < len(ach)
    assert set(out["group"]) >= {"All Students", "F"} and not {"M", "X"} & set(out["group"])
    # the order is achievement's, restricted to the rows kept
    ach_keys = ach[KEYS].astype(str).apply(tuple, axis=1).tolist()
    kept = [ach_keys.index(k) for k in out[KEYS].astype(str).apply(tuple, axis=1)]
    assert kept == sorted(kept)
    # F against nobody (no other score in the cell): no g; one score: no sd
    f = out[(out["grade"] == "3") & (out["group"] == "F")].iloc[0]
    assert np.isnan(f["effect_size"]) and f["sd_scale_score"] == pytest.approx(np.sqrt(2))


def test_equal_scores_have_no_effect_size_and_far_scores_do_not_cancel():
    a, s = tiny([7.0] * 6, ["F"] * 3 + ["M"] * 3)
    out = scale_scores(a, s, EVERYONE)
    assert out.loc[out["dimension"] == "sex", "effect_size"].isna().all()
    assert (out.loc[out["dimension"] == "sex", "sd_scale_score"] == 0).all()
    # scores near 1e9 with a spread of 1: the naive sum of squares would lose every digit
    base = 1e9
    a, s = tiny([base + v for v in (1.0, 2.0, 3.0, 3.0, 4.0, 5.0)], ["F"] * 3 + ["M"] * 3)
    out = scale_scores(a, s, EVERYONE)
    sex = out[(out["grade"] == "3") & (out["dimension"] == "sex")]
    assert sex["sd_scale_score"].tolist() == pytest.approx([1.0, 1.0], rel=1e-9)
    assert sex["effect_size"].tolist() == pytest.approx([-1.6, 1.6], rel=1e-9)


def test_hedges_g_guards():
    g = hedges_g(np.array([1, 3]), np.array([1.0, 1.0]), np.array([0.0, 0.0]),
                 np.array([5, 3]), np.array([2.0, 1.0]), np.array([4.0, 0.0]))  # fmt: skip
    assert np.isnan(g).all()  # n1 < 2; pooled SD 0


def test_an_achievement_of_other_tables_is_refused():
    a, s = tiny([1.0, 2.0, 3.0], ["F", "M", "F"])
    other = achievement(*tiny([1.0, 2.0], ["F", "M"]), EVERYONE)
    with pytest.raises(BltError, match="pass the achievement of the same tables"):
        scale_scores(a, s, EVERYONE, achievement=other)


def test_hidden_in_achievement_stays_hidden_and_the_scale_counts_get_their_own_pass():
    # achievement: F 12, M 12, X 1 -> X min_n, one of F/M complementary.
    # scale: two M without a score -> M 10; P2 of the scale counts is run (counts differ)
    sexes = ["F"] * 12 + ["M"] * 12 + ["X"]
    scores = [float(200 + i) for i in range(25)]
    scores[12] = scores[13] = np.nan
    a, s = tiny(scores, sexes)
    config = Config()
    ach = achievement(a, s, config)
    out = scale_scores(a, s, config)
    merged = ach.merge(out, on=KEYS, suffixes=("_a", "_s"))
    assert (merged["suppressed_s"] | ~merged["suppressed_a"]).all()
    shown = out[~out["suppressed"]]
    assert (shown["n_tested"] >= config.min_n).all()
    assert audit_scale(out, config).protected


# --- the sample ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    district = load_district(SAMPLE)
    return district.tables["assessments"], district.tables["students"], district.codes


def test_sample_every_published_figure_recounts(sample):
    a, s, codes = sample
    config = Config()
    layout = group_layout(a, s, codes=codes)
    # every row (no block of the sample is withheld, so this is also the published table)
    ach = achievement(a, s, config, layout=layout, withhold_blocks=False)
    out = scale_scores(a, s, config, layout=layout, achievement=ach)
    assert (~out["suppressed"]).sum() > 1000
    check_published(out, recount(a, s))
    check_tables({"scale_scores": out})
    merged = ach.merge(out, on=KEYS, suffixes=("_a", "_s"))
    assert len(merged) == len(out)
    assert (merged["suppressed_s"] | ~merged["suppressed_a"]).all()  # P1 hidden stays hidden
    assert audit_scale(out, config, achievement=ach).protected


def test_sample_with_missing_scores_p1_union_full_p2_and_the_audit(sample):
    a, s, codes = sample
    a = a.copy()
    rng = np.random.default_rng(7)
    blank = rng.random(len(a)) < 0.15
    blank &= a["school_id"].isin(["0101", "0102"]).to_numpy()  # other schools: P2 = P1
    a["scale_score"] = a["scale_score"].mask(blank)
    config = Config()
    ach = achievement(a, s, config, withhold_blocks=False)
    out = scale_scores(a, s, config, achievement=ach)
    want = recount(a, s)
    check_published(out, want)
    # the rule, against suppress() run on every block's scale counts with P1 forced (no
    # shortcut for the blocks whose counts equal achievement's)
    full = want.astype({k: str for k in KEYS}).merge(
        ach[[*KEYS, "suppressed"]].astype({k: str for k in KEYS}), on=KEYS
    )
    table = full[KEYS].copy()
    table["n_tested"], table["n_proficient"] = full["n"], full["n_proficient"]
    p1 = full["suppressed"].to_numpy()
    full["expected"] = suppress(table, min_n=config.min_n, family=FAMILY, forced=p1)["suppressed"]
    got = out.astype({k: str for k in KEYS}).merge(full, on=KEYS, suffixes=("", "_a"))
    assert len(got) == len(out)
    assert (got["suppressed"] == got["expected"]).all()
    assert (got["suppressed"] | ~got["suppressed_a"]).all()  # P1 hidden stays hidden
    reason = np.where(got["n"] < config.min_n, "min_n", "complementary")
    assert (got["suppression_reason"].fillna("") == np.where(got["suppressed"], reason, "")).all()
    assert (got["suppressed"] & ~got["suppressed_a"]).any()  # P2 hid something P1 did not
    elsewhere = ~got["school_id"].isin(["0101", "0102"])  # same counts: P2 = P1 exactly
    assert (got.loc[elsewhere, "suppressed"] == got.loc[elsewhere, "suppressed_a"]).all()
    result = audit_scale(out, config)  # every block, not only those that differ
    assert result.protected and result.n_below_protection == 0, result.summary()


# --- Hypothesis ---------------------------------------------------------------------------------


@st.composite
def districts(draw):
    n = draw(st.integers(1, 120))
    offset = draw(st.sampled_from([0.0, 250.0, 1e7]))
    spread = draw(st.sampled_from([1, 3, 40]))
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["01", "02"]),
                st.sampled_from(["Fall", "Spring"]),
                st.sampled_from(["K", "3", "4"]),
                st.booleans(),
                st.one_of(st.none(), st.integers(0, spread)),
                st.sampled_from(["F", "M", "X", "Not reported"]),
                st.sampled_from(["Yes", "No"]),
            ),
            min_size=n,
            max_size=n,
        )
    )
    ids = [f"{i:03d}" for i in range(n)]
    a = pd.DataFrame(
        {
            "student_id": ids,
            "school_id": [r[0] for r in rows],
            "school_year": "2025-26",
            "term": [r[1] for r in rows],
            "subject": "Math",
            "grade": [r[2] for r in rows],
            "proficient": pd.array([r[3] for r in rows], dtype="boolean"),
            "scale_score": [np.nan if r[4] is None else offset + r[4] for r in rows],
        }
    ).astype({c: "str" for c in ("student_id", "school_id", "school_year", "term", "grade")})
    s = pd.DataFrame(
        {
            "student_id": ids,
            "school_id": [r[0] for r in rows],
            "school_year": "2025-26",
            "sex": [r[5] for r in rows],
            "english_learner": [r[6] for r in rows],
        }
    ).astype("str")
    return a, s


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(districts())
def test_every_figure_recounts_on_random_districts(district):
    a, s = district
    out = scale_scores(a, s, EVERYONE)
    if a["scale_score"].notna().any():
        check_published(out, recount(a, s))
    else:
        assert out.empty
    check_tables({"scale_scores": out})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(districts(), st.integers(8, 12))
def test_no_hidden_scale_count_is_narrowed_on_random_districts(district, min_n):
    a, s = district
    config = Config(min_n=min_n)
    ach = achievement(a, s, config)  # as published: unprotectable blocks withheld
    out = scale_scores(a, s, config, achievement=achievement(a, s, config, withhold_blocks=False))
    merged = ach.merge(out, on=KEYS, suffixes=("_a", "_s"))
    assert len(merged) == len(out)
    assert (merged["suppressed_s"] | ~merged["suppressed_a"]).all()
    assert (out.loc[~out["suppressed"], "n_tested"] >= min_n).all()
    result = audit_scale(out, config)
    # below protection only where nothing is left to hide (1 to min_n - 1 students in a few
    # groups: the limit of any suppression, achievement's too)
    narrow = result.groups[result.groups["n_max"] - result.groups["n_min"] < config.protection]
    open_blocks = out.loc[~out["suppressed"], BLOCK].drop_duplicates()
    assert narrow[BLOCK].merge(open_blocks).empty, result.summary()
    if a["scale_score"].notna().any():
        # the rows of blocks withheld from achievement are withheld here too (test_withhold.py)
        want = recount(a, s).astype({k: str for k in KEYS})
        check_published(out, want.merge(ach[KEYS].astype({k: str for k in KEYS}), on=KEYS))


def test_shape_rejects_a_hidden_mean():
    a, s = tiny([1.0, 2.0, 3.0], ["F", "M", "F"])
    out = scale_scores(a, s, Config()).copy()
    out.loc[out.index[0], "mean_scale_score"] = 2.0
    with pytest.raises(Exception, match="mean_scale_score"):
        check_tables({"scale_scores": out})
    assert list(ScaleScores.columns) == SCALE_SCORE_COLUMNS
