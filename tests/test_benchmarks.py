"""The benchmark harness works (quick mode's functions on a tiny district); no timing asserted.

Benchmarks are not tests: ``python -m benchmarks`` times things. This test only shows the
harness runs end to end and that its independent DuckDB query of the achievement table gives
exactly what :func:`bltanalytics.metrics.achievement.achievement` gives.
"""

from __future__ import annotations

import pandas as pd

from benchmarks import render
from benchmarks.districts import describe, ensure_district, table_files
from benchmarks.duckdb_achievement import agrees, compare, run_query, write_cleaned
from benchmarks.harness import machine, python_child, run_child
from benchmarks.metrics_bench import bench_achievement, bench_metrics
from bltanalytics.config import Config
from bltanalytics.metrics.achievement import achievement


def test_the_quick_harness_runs_and_its_duckdb_query_agrees_with_achievement(tmp_path):
    district = ensure_district(4, 40, root=tmp_path / "districts", log=lambda _: None)
    assert ensure_district(4, 40, root=tmp_path / "districts") == district  # reused
    assert {p.stem for p in table_files(district)} >= {"schools", "students", "assessments"}
    assert describe(district)["rows"]["assessments"] > 0

    # the measured children: wall time, peak memory and a figure the child reports itself
    child = run_child(python_child("import json; print(json.dumps({'seconds': 0.5}))"))
    assert child.ok and child.reported == {"seconds": 0.5} and child.peak_rss > 0

    work = tmp_path / "work"
    work.mkdir()
    metrics = bench_metrics(district, 1, work, log=lambda _: None)
    assert metrics["files_written"][:2] == ["achievement.csv", "blended_cycle.csv"]
    assert metrics["metrics"]["runs"] == metrics["read_floor"]["runs"] == 1
    result = bench_achievement(district, 1, work, min_n=5, log=lambda _: None)
    assert result["agrees"], result["check"]
    assert result["check"]["rows_ours"] > 0 and result["check"]["suppressed"] > 0

    page = render.markdown(
        {
            "machine": machine(),
            "quick": True,
            "started": "now",
            "minutes": 0.1,
            "load": "not sampled",
            "metrics_district": (4, 40),
            "metrics": metrics,
            "achievement": result,
        }
    )
    assert "| `bltanalytics metrics`" in page and "Same result: yes" in page

    # a messy district (variant spellings, movers between schools) and students without a
    # row: the SQL and achievement() still give the same groups, counts and suppression
    from bltanalytics.sample import generate_district

    generate_district(tmp_path / "d", schools=3, students_per_school=50, seed=11, messy=True)
    paths = write_cleaned(tmp_path / "d", tmp_path / "cleaned")
    assessments = pd.read_parquet(paths["assessments"])
    students = pd.read_parquet(paths["students"])
    # a test whose student has no students row counts as Not reported in every dimension
    students = students.iloc[5:]
    students.to_parquet(paths["students"], index=False)
    for min_n in (3, 10):
        ours = achievement(assessments, students, Config(min_n=min_n))
        check = compare(ours, run_query(paths["assessments"], paths["students"], min_n))
        assert agrees(check), check
        assert check["complementary"] > 0
