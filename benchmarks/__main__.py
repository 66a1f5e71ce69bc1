"""``python -m benchmarks``: run every benchmark and write ``docs/benchmarks.md``.

    python -m benchmarks                 # the full run (about 20-30 minutes on 2 cores)
    python -m benchmarks --quick         # small district, few schools (a minute or two)
    python -m benchmarks --only metrics  # metrics, achievement, suppression, reports, dashboards
                                         # (a partial run writes benchmarks/_districts/
                                         #  benchmarks-only.md, not docs/benchmarks.md)
    python -m benchmarks --only room     # 30 visitors at a dashboard (only when asked: 5 min)
    python -m benchmarks --baseline /tmp/before   # also time an older source tree

``--baseline DIR``: a source tree of another version (``git archive REV bltanalytics
notebooks | tar -x -C DIR``); its ``metrics`` command and warm-kernel reports run in the same
alternation, for a before/after measured in the same conditions.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks import render
from benchmarks.harness import REPO, LoadMonitor, machine

PARTS = ("metrics", "achievement", "suppression", "reports", "dashboards", "room")
#: parts run when none is chosen (the room is written up by hand in benchmarks/notes.md)
DEFAULT_PARTS = ("metrics", "achievement", "suppression", "reports", "dashboards")
FULL = {
    "metrics_district": (1000, 1000),
    "reports_district": (50, 300),
    "reports_schools": None,
    "repeats": 3,
    "report_repeats": 3,
    "loads": 5,
    "changes": 6,
    "dashboards_district": (1000, 1000),
    "visitors": 10,
}
QUICK = {
    "metrics_district": (20, 100),
    "reports_district": (4, 60),
    "reports_schools": 3,
    "repeats": 1,
    "report_repeats": 1,
    "loads": 1,
    "changes": 3,
    "dashboards_district": (20, 100),
    "visitors": 3,
}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small district, few schools")
    parser.add_argument("--only", action="append", choices=PARTS, help="run only these parts")
    parser.add_argument("--repeats", type=int, help="alternating rounds (default 3; quick 1)")
    parser.add_argument("--out", type=Path, help="markdown file to write")
    parser.add_argument("--baseline", type=Path, help="an older source tree to time as well")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="only write the page again from a saved run (benchmarks/_districts/*.json)",
    )
    return parser.parse_args(argv)


def default_out(*, quick: bool, partial: bool) -> Path:
    """Where the page goes without ``--out``: only a full run writes ``docs/benchmarks.md``.

    A quick or partial (``--only``) run writes beside the districts, so it never replaces
    the figures of the other parts on the published page.

    >>> default_out(quick=False, partial=False).relative_to(REPO).as_posix()
    'docs/benchmarks.md'
    >>> default_out(quick=False, partial=True).name
    'benchmarks-only.md'
    """
    if not quick and not partial:
        return REPO / "docs" / "benchmarks.md"
    name = "benchmarks-quick.md" if quick else "benchmarks-only.md"
    return REPO / "benchmarks" / "_districts" / name


def main(argv: list[str] | None = None) -> dict:
    args = parse(sys.argv[1:] if argv is None else argv)
    settings = dict(QUICK if args.quick else FULL)
    if args.repeats:
        settings["repeats"] = settings["report_repeats"] = args.repeats
    parts = args.only or list(DEFAULT_PARTS)
    out = args.out or default_out(quick=args.quick, partial=bool(args.only))
    if args.render:
        results = json.loads(args.render.read_text())
    else:
        results = run(parts, settings, baseline=args.baseline, quick=args.quick)
        saved = (
            REPO / "benchmarks" / "_districts" / f"last-run{'-quick' if args.quick else ''}.json"
        )
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(results, indent=1, default=str))
        print(
            f"figures saved to {saved} (`python -m benchmarks --render {saved}` writes the "
            "page again)"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render.markdown(results), encoding="utf-8")
    print(f"wrote {out}")
    return results


def run(parts, settings: dict, *, baseline: Path | None = None, quick: bool = False, log=print):
    """Run the chosen parts; returns every figure (what :func:`render.markdown` writes)."""
    from benchmarks.districts import ensure_district
    from benchmarks.metrics_bench import bench_achievement, bench_metrics, scratch

    monitor = LoadMonitor()
    monitor.sample()
    started = time.time()
    results: dict = {
        "machine": machine(),
        "settings": {k: v for k, v in settings.items()},
        "quick": quick,
        "started": time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(started)),
        "baseline": str(baseline) if baseline else None,
    }

    def note(message: str) -> None:
        monitor.sample()
        log(message)

    work = scratch()
    if "metrics" in parts or "achievement" in parts or "suppression" in parts:
        district = ensure_district(*settings["metrics_district"], log=log)
        results["metrics_district"] = settings["metrics_district"]
        if "metrics" in parts:
            note("metrics command vs read floor")
            results["metrics"] = bench_metrics(
                district, settings["repeats"], work, log=note, baseline=baseline
            )
        if "achievement" in parts:
            note("achievement() vs DuckDB")
            results["achievement"] = bench_achievement(
                district, settings["repeats"], work, log=note
            )
        if "suppression" in parts:
            from benchmarks.suppression_bench import bench_suppression

            note("achievement(): linked suppression vs the family rule")
            cleaned = work / "cleaned"
            if not (cleaned / "students.parquet").exists():
                from benchmarks.duckdb_achievement import write_cleaned

                write_cleaned(district, cleaned)
            results["suppression"] = bench_suppression(
                cleaned, settings["repeats"], work, repo=REPO, baseline=baseline, log=note
            )
    if "reports" in parts:
        from benchmarks.reports_bench import bench_reports

        district = ensure_district(*settings["reports_district"], log=log)
        results["reports_district"] = settings["reports_district"]
        note("school reports: warm kernels vs fresh kernels vs plain papermill")
        results["reports"] = bench_reports(
            district,
            settings["report_repeats"],
            work,
            schools=settings["reports_schools"],
            log=note,
            baseline=baseline,
        )
    if "dashboards" in parts:
        from benchmarks.dashboards_bench import run_dashboards

        note("dashboards: explorer in chromium, kernels, visitors at once")
        results.update(run_dashboards(settings, work, baseline=baseline, log=note))
    if "room" in parts:
        from benchmarks.room_bench import bench_room

        note("a room of 30 visitors at the explorer dashboard")
        results["room"] = bench_room(work / "room", log=note)
    monitor.sample()
    results["load"] = monitor.describe()
    results["load_samples"] = monitor.samples
    results["minutes"] = (time.time() - started) / 60
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return results


if __name__ == "__main__":
    main()
