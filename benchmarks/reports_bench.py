"""Benchmark 1b: per-school reports, amortized seconds per school, against plain papermill.

The district's metrics are computed once (:func:`bltanalytics.reports.plan.plan_reports`, not
timed); then the school report of every school is produced by three ways of running it, each a
whole child process timed from start to exit and divided by the number of schools:

- ``warm``: ours by default (``bltanalytics reports``): warm kernels, 2 workers;
- ``fresh``: ``--fresh-kernels``: a new kernel per school, with our start-up fixes;
- ``papermill``: the floor, plain ``papermill.execute_notebook`` with a new kernel per school
  (no start-up fixes), the same HTML export, 2 workers.

Only the school reports are timed (the district summary job is left out of every variant).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from benchmarks.harness import Measured, alternate, median, summary
from benchmarks.metrics_bench import source_child

#: issue 12: six times faster than plain papermill (was 4x)
TARGET_SPEEDUP = 6.0
MODES = ("warm", "papermill", "fresh")


def plan(district: Path, work: Path, schools: int | None = None) -> Path:
    """The school report jobs of the district (metrics computed once), saved as JSON. Planning
    runs the privacy audit, as a user's run does: a district that fails it is not timed."""
    from bltanalytics.reports.plan import SUMMARY_KEY, plan_reports

    jobs = [j for j in plan_reports(district, work / "plan") if j.key != SUMMARY_KEY]
    if schools is not None:
        jobs = jobs[:schools]
    path = work / "jobs.json"
    path.write_text(
        json.dumps(
            [
                {
                    "key": j.key,
                    "notebook": str(j.notebook),
                    "parameters": dict(j.parameters),
                    "inputs": [str(p) for p in j.inputs],
                    "title": j.title,
                }
                for j in jobs
            ],
            indent=1,
        )
    )
    return path


def bench_reports(
    district: Path,
    repeats: int,
    work: Path,
    *,
    schools: int | None = None,
    modes: tuple[str, ...] = MODES,
    log=print,
    baseline: Path | None = None,
) -> dict:
    """Alternating runs of each mode (and of ``warm`` with an older source tree
    ``baseline``); amortized seconds per school and the speed-up over plain papermill."""
    jobs_file = plan(district, work, schools)
    n = len(json.loads(jobs_file.read_text()))
    counter = {"run": 0}

    def variant(mode: str, source: Path | None = None):
        def run() -> Measured:
            counter["run"] += 1
            out = work / f"out-{mode}-{counter['run']}"
            argv = [sys.executable, "-m", "benchmarks.child", "reports", jobs_file, out, mode]
            measured = source_child([str(a) for a in argv], source)
            if measured.ok:
                htmls = list(out.glob("school_*.html"))
                if len(htmls) != n:
                    measured.returncode = 99
                    measured.stderr += f"\nexpected {n} HTML reports, found {len(htmls)}"
            shutil.rmtree(out, ignore_errors=True)
            return measured

        return run

    variants = {mode: variant(mode) for mode in modes}
    if baseline:
        variants["warm_baseline"] = variant("warm", baseline)
    runs = alternate(variants, repeats, log=log)
    result: dict = {"schools": n}
    for mode in variants:
        stats = summary(runs[mode])
        stats["per_school"] = stats["median"] / n
        stats["per_school_runs"] = [r.wall / n for r in runs[mode]]
        result[mode] = stats
    if "warm" in modes and "papermill" in modes:
        result["speedup"] = result["papermill"]["median"] / result["warm"]["median"]
        result["paired_speedups"] = [
            p.wall / w.wall for w, p in zip(runs["warm"], runs["papermill"], strict=True)
        ]
    if "fresh" in modes and "papermill" in modes:
        result["fresh_speedup"] = result["papermill"]["median"] / result["fresh"]["median"]
    result["target_speedup"] = TARGET_SPEEDUP
    result["median_paired_speedup"] = (
        median(result["paired_speedups"]) if "paired_speedups" in result else None
    )
    return result
