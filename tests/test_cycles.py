"""Teacher-team cycles: matching, proficiency shares, min_n, targets."""

from __future__ import annotations

import pandas as pd
import pytest

from bltanalytics.config import Config
from bltanalytics.metrics.cycles import CYCLE_COLUMNS, team_cycles


def cycles_frame(rows):
    """rows: (cycle_id, team_id, school_id, proficiency_cut, target_pct)."""
    return pd.DataFrame(
        {
            "cycle_id": [r[0] for r in rows],
            "team_id": [r[1] for r in rows],
            "school_id": [r[2] for r in rows],
            "subject": ["Math"] * len(rows),
            "focus": ["fractions"] * len(rows),
            "strategy": ["number talks"] * len(rows),
            "start_date": pd.to_datetime(["2025-09-01"] * len(rows)),
            "end_date": pd.to_datetime(["2025-11-01"] * len(rows)),
            "school_year": ["2025-26"] * len(rows),
            "proficiency_cut": [r[3] for r in rows],
            "target_pct": [r[4] for r in rows],
        }
    )


def results_frame(cycle_id, scores):
    """scores: list of (pre, post); student ids 001, 002, ..."""
    return pd.DataFrame(
        {
            "cycle_id": [cycle_id] * len(scores),
            "student_id": [f"{k:03d}" for k in range(1, len(scores) + 1)],
            "pre_score": [s[0] for s in scores],
            "post_score": [s[1] for s in scores],
        }
    )


def test_cycle_at_min_n_is_shown_and_hand_computed():
    # 10 matched: pre proficient (>= 70) 3, post proficient 6, improved 7; 2 missing post;
    # 1 without a pre score (neither matched nor missing post).
    scores = [
        (60, 72),
        (65, 75),
        (68, 70),  # exactly the cut: proficient
        (50, 55),
        (55, 50),
        (40, 40),  # equal: not improved
        (71, 80),
        (75, 74),
        (80, 90),
        (45, 69),
        (50, None),
        (72, None),
        (None, 85),
    ]
    out = team_cycles(
        cycles_frame([("c1", "t1", "A", 70.0, 60.0)]), results_frame("c1", scores), Config()
    )
    row = out.iloc[0]
    assert list(out.columns) == CYCLE_COLUMNS
    assert (row["n_matched"], row["n_missing_post"]) == (10, 2)
    assert row["pre_pct_proficient"] == pytest.approx(30.0)
    assert row["post_pct_proficient"] == pytest.approx(60.0)
    assert row["change_pp"] == pytest.approx(30.0)
    assert row["pct_improved"] == pytest.approx(70.0)  # 72,75,70,55,80,90,69 > pre
    assert row["target_pct"] == 60.0
    assert bool(row["target_met"]) is True  # 60 >= 60 exactly
    assert (row["school_id"], row["school_year"], row["focus"]) == ("A", "2025-26", "fractions")


def test_cycle_below_min_n_hides_percentages_and_counts():
    scores = [(60, 80)] * 9 + [(60, None)]
    out = team_cycles(
        cycles_frame([("c1", "t1", "A", 70.0, 50.0)]), results_frame("c1", scores), Config()
    )
    row = out.iloc[0]
    assert bool(row["suppressed"])
    # n_matched is hidden, and so is n_missing_post (a roster size minus it gives n_matched)
    assert pd.isna(row["n_matched"]) and pd.isna(row["n_missing_post"])
    for column in ("pre_pct_proficient", "post_pct_proficient", "change_pp", "pct_improved"):
        assert pd.isna(row[column])
    assert pd.isna(row["target_met"])
    assert row["target_pct"] == 50.0  # the target itself is not a student figure
    shown = team_cycles(
        cycles_frame([("c1", "t1", "A", 70.0, 50.0)]), results_frame("c1", scores), Config(min_n=9)
    )
    assert shown.iloc[0]["post_pct_proficient"] == 100.0
    assert (shown.iloc[0]["n_matched"], shown.iloc[0]["n_missing_post"]) == (9, 1)
    assert not shown.iloc[0]["suppressed"]


def test_target_not_met_and_float_exact_target():
    # 7 of 10 proficient = 70%: a target of exactly 70 is met, 71 is not.
    scores = [(50, 90)] * 7 + [(50, 60)] * 3
    cycles = cycles_frame([("c1", "t1", "A", 70.0, 70.0), ("c2", "t2", "A", 70.0, 71.0)])
    results = pd.concat([results_frame("c1", scores), results_frame("c2", scores)])
    out = team_cycles(cycles, results, Config()).set_index("cycle_id")
    assert out.loc["c1", "post_pct_proficient"] == pytest.approx(70.0)
    assert bool(out.loc["c1", "target_met"]) is True
    assert bool(out.loc["c2", "target_met"]) is False


def test_each_cycle_uses_its_own_cut_and_unknown_cycles_are_ignored():
    scores = [(60, 65)] * 10
    cycles = cycles_frame([("c1", "t1", "A", 60.0, 50.0), ("c2", "t2", "B", 65.5, 50.0)])
    results = pd.concat(
        [results_frame("c1", scores), results_frame("c2", scores), results_frame("zz", scores)]
    )
    out = team_cycles(cycles, results, Config()).set_index("cycle_id")
    assert list(out.index) == ["c1", "c2"]
    assert out.loc["c1", "post_pct_proficient"] == 100.0
    assert out.loc["c2", "post_pct_proficient"] == 0.0
    assert out.loc["c1", "pre_pct_proficient"] == 100.0  # 60 >= 60


def test_cycle_without_results_and_absent_tables():
    cycles = cycles_frame([("c1", "t1", "A", 70.0, 50.0), ("c2", "t1", "A", 70.0, 50.0)])
    results = results_frame("c1", [(60, 80)] * 10)
    out = team_cycles(cycles, results, Config()).set_index("cycle_id")
    # nobody matched is fewer than min_n: suppressed like any small group
    assert out.loc["c2", "suppressed"] and pd.isna(out.loc["c2", "n_matched"])
    assert pd.isna(out.loc["c2", "post_pct_proficient"])
    assert out.loc["c1", "n_matched"] == 10 and not out.loc["c1", "suppressed"]
    none = team_cycles(cycles, None, Config())
    assert none["suppressed"].all() and none["n_matched"].isna().all()
    empty = team_cycles(None, results, Config())
    assert empty.empty and list(empty.columns) == CYCLE_COLUMNS


def test_duplicate_student_rows_count_once_and_ids_stay_strings():
    results = pd.DataFrame(
        {
            "cycle_id": ["c1"] * 3,
            "student_id": ["007", "007", "7"],
            "pre_score": [60.0, None, 60.0],
            "post_score": [None, 80.0, 80.0],
        }
    )
    out = team_cycles(cycles_frame([("c1", "t1", "A", 70.0, 50.0)]), results, Config(min_n=1))
    # "007" has pre 60 and post 80 over two rows; "7" is another student.
    assert (out.iloc[0]["n_matched"], out.iloc[0]["n_missing_post"]) == (2, 0)
    assert out["cycle_id"].dtype == "str"


def test_inputs_not_mutated():
    cycles = cycles_frame([("c1", "t1", "A", 70.0, 50.0)])
    results = results_frame("c1", [(60, 80)] * 10)
    before = cycles.copy(), results.copy()
    team_cycles(cycles, results, Config())
    pd.testing.assert_frame_equal(cycles, before[0])
    pd.testing.assert_frame_equal(results, before[1])
