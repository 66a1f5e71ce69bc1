"""A block that hiding cannot protect is withheld: only its All Students rows are published, in
achievement and in scale scores alike, and the audit then passes (docs/achievement.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.metrics.achievement import achievement
from bltanalytics.metrics.audit import audit, audit_scale
from bltanalytics.metrics.scale_scores import scale_scores
from bltanalytics.metrics.suppression import withheld_mask

BLOCK = ["school_id", "school_year", "term", "subject"]


def _tiny_and_large():
    """School 0001: grades 3-9 with two students each (one F, one M): every figure hidden, yet
    each grade's F is pinned to 1..3 by the rows that exist. School 0002: 60 students."""
    rows = []
    for k, grade in enumerate("3456789"):
        for j, sex in enumerate("FM"):
            rows.append(("0001", f"a{k}{j}", grade, sex, (k + j) % 2 == 0, 200.0 + k + j))
    rng = np.random.default_rng(7)
    for i in range(60):
        rows.append(("0002", f"b{i:02d}", "4", "FM"[i % 2], bool(rng.random() < 0.5), 190.0 + i))
    frame = pd.DataFrame(rows, columns=["school_id", "student_id", "grade", "sex", "p", "score"])
    tests = frame.assign(school_year="2025-26", term="Spring", subject="Math")
    tests = tests.assign(
        proficient=pd.array(frame["p"], dtype="boolean"), scale_score=frame["score"]
    )
    students = frame[["student_id", "school_id", "grade", "sex"]].assign(school_year="2025-26")
    return tests.drop(columns=["p", "score", "sex"]), students


def test_an_unprotectable_block_keeps_only_all_students_and_the_audit_passes():
    tests, students = _tiny_and_large()
    every_row = achievement(tests, students, withhold_blocks=False)
    assert not audit(every_row).protected  # hiding every figure of 0001 is not enough
    out = achievement(tests, students)
    assert audit(out).protected
    tiny = out[out["school_id"] == "0001"]
    assert set(tiny["dimension"]) == {"all"} and tiny["suppressed"].all()
    # the other school loses nothing
    large = every_row[every_row["school_id"] == "0002"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        out[out["school_id"] == "0002"].reset_index(drop=True), large, check_dtype=False
    )


def test_scale_scores_withhold_the_same_rows_and_pass_their_audit():
    tests, students = _tiny_and_large()
    every_row = achievement(tests, students, withhold_blocks=False)
    kept = withheld_mask(every_row, Config())
    published = every_row[kept]
    scores = scale_scores(tests, students, achievement=every_row, kept=kept)
    keys = ["school_id", "school_year", "term", "subject", "grade", "dimension", "group"]
    assert set(map(tuple, scores[keys].to_numpy())) <= set(map(tuple, published[keys].to_numpy()))
    assert set(scores.loc[scores["school_id"] == "0001", "dimension"]) == {"all"}
    assert audit_scale(scores, achievement=published).protected
    # computed on its own, it withholds the same
    alone = scale_scores(tests, students)
    pd.testing.assert_frame_equal(alone, scores)


def test_a_block_under_min_n_keeps_its_school_total_only_with_or_without_true_counts():
    """Seven grades of one student each: even the grades' All Students rows pin each grade to
    1..3 (a school total under 10 over 7 rows of at least 1), so only the grade All row stays.
    Given the true counts, withheld_mask finds that by the lines alone (no programme, and a
    block of All Students rows has no family line): the same rows either way."""
    rows = []
    for grade, sex in zip("3456789", "FMFMFMF", strict=True):
        rows += [(grade, "all", "All Students", 1, 1), (grade, "sex", sex, 1, 1)]
    rows += [("All", "all", "All Students", 7, 7), ("All", "sex", "F", 4, 4)]
    rows += [("All", "sex", "M", 3, 3)]
    table = pd.DataFrame(rows, columns=["grade", "dimension", "group", "n_tested", "n_proficient"])
    table = table.assign(school_id="0001", school_year="2025-26", term="Spring", subject="Math")
    from bltanalytics.metrics.suppression import suppress

    published = suppress(table)
    assert published["suppressed"].all()
    counts = {c: table[c].to_numpy() for c in ("n_tested", "n_proficient")}
    plain, given = withheld_mask(published, Config()), withheld_mask(published, Config(), counts)
    assert plain.tolist() == given.tolist()
    kept = published[given]
    assert kept[["grade", "dimension"]].values.tolist() == [["All", "all"]]
