"""Benchmark 1a: ``bltanalytics metrics`` on a large district, against two references.

- **metrics vs the read floor**: the whole ``bltanalytics metrics DISTRICT --out OUT`` process
  (start-up, read, clean, compute, write) against a process that merely reads the same files
  with ``pandas.read_csv`` (defaults). Wall time and peak memory of each process.
- **achievement vs DuckDB**: :func:`bltanalytics.metrics.achievement.achievement` on the cleaned
  frames (the call alone) against an independent DuckDB SQL query over the same cleaned data
  in Parquet (:mod:`benchmarks.duckdb_achievement`), whose result must equal ours.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks import duckdb_achievement as duck
from benchmarks.districts import describe, table_files
from benchmarks.harness import GIB, REPO, Measured, alternate, run_child, summary

TARGET_METRICS_RATIO = 3.0
TARGET_ACHIEVEMENT_RATIO = 1.5
TARGET_PEAK_GIB = 4.0


def child(*args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.child", *map(str, args)]


def _run(argv: list[str], source: Path | None = None) -> Measured:
    """Run a child with this source tree, or with ``source`` (an older one) for the package.

    The child starts in the tree whose package it runs: ``python -m`` puts the working
    directory first on the import path, ahead of ``PYTHONPATH``."""
    return source_child(argv, source)


def source_child(argv: list[str], source: Path | None = None) -> Measured:
    """:func:`run_child` importing ``bltanalytics`` from ``source`` (default: this tree) and
    ``benchmarks`` from this tree; fails if the child ran another package than asked."""
    tree = Path(source).resolve() if source else REPO
    measured = run_child(argv, cwd=tree, env={"PYTHONPATH": f"{tree}:{REPO}"})
    ran = measured.reported.get("package")
    if measured.ok and ran is not None and Path(ran) != tree:
        measured.returncode = 98
        measured.stderr += f"\nthe child ran the package of {ran}, not of {tree}"
    return measured


def bench_metrics(
    district: Path, repeats: int, work: Path, log=print, baseline: Path | None = None
) -> dict:
    """Alternating runs of the metrics command and the read floor; medians and the ratio.

    ``baseline``: an older source tree whose metrics command runs in the same alternation.
    """
    files = [str(p) for p in table_files(district)]
    out = work / "metrics-out"

    def metrics(source: Path | None = None):
        def run() -> Measured:
            shutil.rmtree(out, ignore_errors=True)
            return _run(child("metrics", district, out), source)

        return run

    variants = {"metrics": metrics(), "read_floor": lambda: _run(child("read-floor", *files))}
    if baseline:
        variants["metrics_baseline"] = metrics(baseline)
    runs = alternate(variants, repeats, log=log)
    ours, floor = summary(runs["metrics"]), summary(runs["read_floor"])
    # the ratio of medians, and the median of the per-round ratios (each pair ran back to back)
    paired = [m.wall / f.wall for m, f in zip(runs["metrics"], runs["read_floor"], strict=True)]
    written = sorted(p.name for p in out.glob("*.csv"))
    return {
        "district": describe(district),
        "metrics": ours,
        "read_floor": floor,
        "ratio": ours["median"] / floor["median"],
        "paired_ratios": paired,
        "files_written": written,
        "cpu_metrics": _cpu(runs["metrics"]),
        "cpu_read_floor": _cpu(runs["read_floor"]),
        "target_ratio": TARGET_METRICS_RATIO,
        "target_peak_gib": TARGET_PEAK_GIB,
        "peak_gib": ours["peak_rss_max"] / GIB,
        **(
            {
                "baseline": summary(runs["metrics_baseline"]),
                "cpu_baseline": _cpu(runs["metrics_baseline"]),
            }
            if baseline
            else {}
        ),
    }


def _cpu(runs: list[Measured]) -> dict:
    from benchmarks.harness import median

    return {
        "user": median([r.user for r in runs]),
        "system": median([r.system for r in runs]),
    }


def bench_achievement(
    district: Path, repeats: int, work: Path, *, min_n: int = 10, log=print
) -> dict:
    """achievement() on the cleaned frames vs the DuckDB query; equality checked on the
    results of the last runs."""
    cleaned = work / "cleaned"
    if not (cleaned / "students.parquet").exists():
        log("  writing the cleaned assessments and students to Parquet (once)")
        done = _run(child("write-cleaned", district, cleaned))
        if not done.ok:
            raise RuntimeError(f"writing the cleaned tables failed:\n{done.stderr[-4000:]}")
    ours_result, duck_result = work / "ours.parquet", work / "duckdb.parquet"
    runs = alternate(
        {
            "achievement": lambda: _run(child("achievement", cleaned, min_n, ours_result)),
            "duckdb": lambda: _run(child("duckdb", cleaned, min_n, duck_result)),
        },
        repeats,
        log=log,
    )
    check = duck.compare(pq.read_table(ours_result), pq.read_table(duck_result))
    ours, theirs = summary(runs["achievement"], "seconds"), summary(runs["duckdb"], "seconds")
    return {
        "achievement": ours,
        "duckdb": theirs,
        "ratio": ours["median"] / theirs["median"],
        "paired_ratios": [
            a.reported["seconds"] / d.reported["seconds"]
            for a, d in zip(runs["achievement"], runs["duckdb"], strict=True)
        ],
        "check": check,
        "agrees": duck.agrees(check),
        "min_n": min_n,
        "target_ratio": TARGET_ACHIEVEMENT_RATIO,
    }


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="blt-bench-"))
