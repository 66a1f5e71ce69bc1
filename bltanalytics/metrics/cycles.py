"""Teacher-team five-step cycles: pre/post results of each cycle (``cycles.csv``).

A cycle (``team_cycles``) sets a proficiency cut score and a target share proficient; its
students' pre and post scores are in ``cycle_results``. Per cycle:

- ``n_matched``: students with both a pre and a post score; ``n_missing_post``: students with a
  pre score and no post score;
- ``pre_pct_proficient`` / ``post_pct_proficient``: share (0-100) of the matched students scoring
  at or above the cycle's ``proficiency_cut``; ``change_pp`` = post - pre (percentage points);
- ``pct_improved``: share (0-100) of matched students whose post score is above their pre score;
- ``target_met``: ``post_pct_proficient >= target_pct``.

A cycle is a group of students like any other published figure, so it goes through
:func:`bltanalytics.metrics.suppression.suppress` (each cycle its own family: only ``min_n``
applies).
A suppressed cycle (``n_matched < Config.min_n``, ``suppressed`` true) shows neither its
percentages and ``target_met`` nor ``n_matched`` and ``n_missing_post`` (together with a roster
size they would give the hidden count back).

>>> import pandas as pd
>>> cycles = pd.DataFrame({"cycle_id": ["c1"], "team_id": ["t1"], "school_id": ["A"],
...     "subject": ["Math"], "proficiency_cut": [70.0], "target_pct": [50.0]})
>>> results = pd.DataFrame({"cycle_id": ["c1"] * 3, "student_id": ["1", "2", "3"],
...     "pre_score": [60.0, 72.0, 65.0], "post_score": [75.0, 68.0, None]})
>>> out = team_cycles(cycles, results, Config(min_n=2))
>>> out[["n_matched", "n_missing_post", "pre_pct_proficient", "post_pct_proficient"]]
   n_matched  n_missing_post  pre_pct_proficient  post_pct_proficient
0          2               1                50.0                 50.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.metrics.shapes import Cycles, columns
from bltanalytics.metrics.suppression import suppress

#: Columns of ``cycles.csv``, in order: from its shape (:mod:`bltanalytics.metrics.shapes`).
CYCLE_COLUMNS: list[str] = columns(Cycles)
COUNT_COLUMNS = ["n_matched", "n_missing_post"]
PERCENT_COLUMNS = ["pre_pct_proficient", "post_pct_proficient", "change_pp", "pct_improved"]
TOLERANCE = 1e-9
"""Allowance for float rounding when comparing a percentage to its target."""


def _per_student(cycle_results: pd.DataFrame) -> pd.DataFrame:
    """One row per cycle and student: a student listed twice keeps the first score given."""
    scores = cycle_results[["cycle_id", "student_id", "pre_score", "post_score"]]
    scores = scores[scores["cycle_id"].notna() & scores["student_id"].notna()]
    scores = scores.astype({"cycle_id": "str", "student_id": "str"}).astype(
        {"pre_score": "float64", "post_score": "float64"}
    )
    return scores.groupby(["cycle_id", "student_id"], as_index=False, sort=False).first()


def team_cycles(
    team_cycles: pd.DataFrame | None,
    cycle_results: pd.DataFrame | None,
    config: Config | None = None,
) -> pd.DataFrame:
    """Pre/post summary of every teacher-team cycle (one row per ``team_cycles`` row).

    Columns: cycle_id, team_id, school_id, school_year, subject, focus, strategy, n_matched,
    n_missing_post (nullable ``Int64``), pre_pct_proficient, post_pct_proficient, change_pp,
    pct_improved, target_pct, target_met (nullable boolean), suppressed. ``team_cycles`` absent:
    an empty frame. ``cycle_results`` absent, or a cycle without results: nobody matched, so the
    cycle is suppressed. Results of a cycle_id that is not in ``team_cycles`` are ignored.
    Where ``suppressed``, the counts, percentages and ``target_met`` are empty.

    >>> import pandas as pd
    >>> cycles = pd.DataFrame({"cycle_id": ["c1"], "team_id": ["t1"], "school_id": ["A"],
    ...     "subject": ["ELA"], "proficiency_cut": [70.0], "target_pct": [60.0]})
    >>> team_cycles(cycles, None)[["n_matched", "post_pct_proficient", "target_met", "suppressed"]]
       n_matched  post_pct_proficient  target_met  suppressed
    0       <NA>                  NaN        <NA>        True
    """
    config = config or Config()
    if team_cycles is None:
        return _empty_cycles()
    cycles = team_cycles.reset_index(drop=True)
    out = pd.DataFrame(
        {
            column: (
                cycles[column].astype("str")
                if column in cycles.columns
                else pd.Series(pd.NA, index=cycles.index, dtype="str")
            )
            for column in CYCLE_COLUMNS[:7]
        }
    )
    out["target_pct"] = cycles["target_pct"].astype("float64")
    cut = cycles[["cycle_id", "proficiency_cut"]].astype(
        {"cycle_id": "str", "proficiency_cut": "float64"}
    )
    cut = cut.drop_duplicates("cycle_id")

    if cycle_results is None or cycle_results.empty:
        per_cycle = pd.DataFrame(
            {"n_matched": [], "n_missing_post": [], "pre": [], "post": [], "improved": []},
            index=pd.Index([], name="cycle_id", dtype="str"),
        )
    else:
        scores = _per_student(cycle_results).merge(cut, on="cycle_id", how="inner")
        pre, post = scores["pre_score"], scores["post_score"]
        matched = (pre.notna() & post.notna()).to_numpy()
        flags = pd.DataFrame(
            {
                "cycle_id": scores["cycle_id"],
                "n_matched": matched,
                "n_missing_post": (pre.notna() & post.isna()).to_numpy(),
                "pre": matched & (pre >= scores["proficiency_cut"]).fillna(False).to_numpy(),
                "post": matched & (post >= scores["proficiency_cut"]).fillna(False).to_numpy(),
                "improved": matched & (post > pre).fillna(False).to_numpy(),
            }
        )
        per_cycle = flags.groupby("cycle_id").sum()

    out = out.merge(per_cycle, left_on="cycle_id", right_index=True, how="left")
    counts = ["n_matched", "n_missing_post", "pre", "post", "improved"]
    out[counts] = out[counts].fillna(0).astype("int64")
    # the contract's rule, through the one function that guards every published figure
    checked = suppress(
        pd.DataFrame(
            {
                "cycle_id": np.arange(len(out)),
                "n_tested": out["n_matched"].to_numpy(),
                "n_proficient": out["post"].to_numpy(),
            }
        ),
        min_n=config.min_n,
        family=["cycle_id"],
        group="cycle_id",
    )
    hidden = checked["suppressed"].to_numpy(dtype=bool) | (out["n_matched"] == 0).to_numpy()
    n = out["n_matched"].where(~hidden).astype("float64")
    out["pre_pct_proficient"] = 100.0 * out["pre"] / n
    out["post_pct_proficient"] = 100.0 * out["post"] / n
    out["change_pp"] = out["post_pct_proficient"] - out["pre_pct_proficient"]
    out["pct_improved"] = 100.0 * out["improved"] / n
    # compare counts, not rounded percentages: post/n*100 >= target  <=>  post*100 >= target*n
    met = out["post"] * 100.0 >= out["target_pct"] * n - TOLERANCE
    known = n.notna() & out["target_pct"].notna()
    out["target_met"] = pd.array(np.where(known, met, pd.NA), dtype="boolean")
    out["suppressed"] = checked["suppressed"].to_numpy(dtype=bool)
    for column in COUNT_COLUMNS:
        out[column] = out[column].astype("Int64").mask(out["suppressed"])
    return out[CYCLE_COLUMNS].reset_index(drop=True)


def _empty_cycles() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in CYCLE_COLUMNS[:7]})
    for column in COUNT_COLUMNS:
        frame[column] = pd.Series(dtype="Int64")
    for column in [*PERCENT_COLUMNS, "target_pct"]:
        frame[column] = pd.Series(dtype="float64")
    frame["target_met"] = pd.Series(dtype="boolean")
    frame["suppressed"] = pd.Series(dtype="bool")
    return frame[CYCLE_COLUMNS]
