"""Benchmark 1c: the explorer dashboard in a real browser, on the sample and a large district.

The real Voilà server with its pool of preheated kernels serves the district: for the sample,
``bltanalytics dashboard explorer --port P`` as a data lead starts it; for a generated district
(1,000 schools), Voilà is started the way the launcher starts it but on an export prepared once
and kept (:func:`ensure_prepared`: ``prepare_metrics`` takes minutes there, and is not what is
measured). Playwright drives Debian's chromium (``/usr/bin/chromium``) with every non-local
request aborted. Two figures:

- **first chart**: seconds from asking for the page to the first bar of the achievement chart
  being on screen. Each load is a new browser context (no cache), and the benchmark waits for
  the server's kernel pool to refill between loads, as it would between two visitors.
- **update**: seconds from choosing another student-group dimension in the drop-down to the
  chart showing it (its ``aria-label`` names the dimension's groups).

:func:`bench_kernels` (benchmark 1e) measures the kernels themselves, outside the browser:
memory of one page's kernel, seconds to build the page, milliseconds per widget change, for
this tree and the ``--baseline`` one on the same prepared export
(:mod:`benchmarks.dashboard_kernel`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from benchmarks.harness import REPO, median, run_child
from bltanalytics.dashboards.serve import CHROMIUM, CHROMIUM_ARGS, free_port

KERNEL_SCRIPT = Path(__file__).resolve().parent / "dashboard_kernel.py"
#: the issue's targets (issue 12, item 3)
TARGET_PAGE_MB = 150
TARGET_KERNEL_FIRST_CHART = 1.0
TARGET_KERNEL_UPDATE = 0.150

BARS = ".blt-bars svg .mark-rect path"
FIGURE = ".blt-bars figure"
DIMENSION = ".blt-dimension select"
TARGET_FIRST_CHART = 5.0
TARGET_UPDATE = 0.3
LOCAL = {"127.0.0.1", "localhost"}


def ensure_prepared(district: Path, root: Path | None = None, log=print) -> Path:
    """The launcher's prepared export of ``district`` (figures + dashboard slices), kept.

    ``root/prepared-NAME``, made once by :func:`bltanalytics.dashboards.common.prepare_metrics`
    into a temporary folder renamed when complete; an export kept from before the slices
    existed gets them added (:func:`~bltanalytics.dashboards.slices.write_slices`).
    """
    from bltanalytics.dashboards.common import SOURCE_FILE, prepare_metrics
    from bltanalytics.dashboards.serve import config_for
    from bltanalytics.dashboards.slices import SLICES_DIR, has_slices, write_slices
    from bltanalytics.metrics import read_metrics

    root = Path(root or district.parent)
    target = root / f"prepared-{Path(district).name}"
    if (target / SOURCE_FILE).is_file():
        if not has_slices(target / SLICES_DIR):
            write_slices(read_metrics(target), target / SLICES_DIR)
        return target
    log(f"preparing the dashboards' export of {Path(district).name} (once; reused afterwards)")
    tmp = root / f".preparing-{Path(district).name}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        prepare_metrics(district, config_for(None), tmp)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


class Server:
    """A dashboard's Voilà server in its own process group.

    Without ``prepared``: ``bltanalytics dashboard NAME --port P`` (the sample district, or
    ``--data`` in ``extra``). With ``prepared`` (from :func:`ensure_prepared`): Voilà started
    as :func:`bltanalytics.dashboards.serve.start` starts it, on that export of ``district``.
    """

    def __init__(
        self,
        log: Path,
        pool_size: int | None = None,
        extra=(),
        *,
        name: str = "explorer",
        district: Path | None = None,
        prepared: Path | None = None,
        max_kernels: int = 0,
        voila_extra=(),
    ) -> None:
        from bltanalytics.dashboards import serve

        self.port = free_port()
        self.log = log
        env = None
        if prepared is None:
            argv = [sys.executable, "-c", "from bltanalytics.cli import app; app()"]
            argv += ["dashboard", name, "--port", str(self.port)]
            if pool_size is not None:
                argv += ["--pool-size", str(pool_size)]
            argv += list(extra)
            cwd = REPO
        else:
            argv = serve.voila_arguments(
                name,
                port=self.port,
                pool_size=serve.DEFAULT_POOL_SIZE if pool_size is None else pool_size,
                max_kernels=max_kernels,
            ) + list(voila_extra)
            env = serve.voila_environment(data=district, metrics=prepared)
            env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
            cwd = serve.NOTEBOOK_DIR
        self.url = f"http://127.0.0.1:{self.port}/"
        with log.open("w") as out:
            self.process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env, start_new_session=True
            )

    def pool_fills(self) -> int:
        return self.log.read_text(errors="replace").count("is filled with")

    def wait_ready(self, fills: int = 1, timeout: float = 180) -> float:
        """Wait until the kernel pool has been filled ``fills`` times; seconds waited."""
        start = time.perf_counter()
        while self.pool_fills() < fills:
            if self.process.poll() is not None:
                raise RuntimeError(f"the dashboard exited:\n{self.log.read_text()[-4000:]}")
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"the dashboard did not get ready:\n{self.log.read_text()}")
            time.sleep(0.1)
        return time.perf_counter() - start

    def close(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


def _offline(context, blocked: list[str]) -> None:
    from urllib.parse import urlparse

    def route(r):
        parsed = urlparse(r.request.url)
        if parsed.scheme in ("data", "blob", "about") or parsed.hostname in LOCAL:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)


def bench_dashboard(
    work: Path,
    loads: int,
    changes: int,
    log=print,
    *,
    district: Path | None = None,
    prepared: Path | None = None,
) -> dict:
    """``loads`` page loads (first chart) and ``changes`` dimension changes per load (the
    sample district, or ``district`` served from its ``prepared`` export)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make browser`")
    work.mkdir(parents=True, exist_ok=True)
    server = Server(work / "explorer.log", district=district, prepared=prepared)
    first_chart: list[float] = []
    updates: list[float] = []
    blocked: list[str] = []
    try:
        started = server.wait_ready()
        log(f"  server ready (kernel pool filled) after {started:.1f} s")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for load in range(loads):
                # a full pool, as for a visitor arriving at a quiet server
                server.wait_ready(fills=load + 1)
                time.sleep(1.0)
                context = browser.new_context(viewport={"width": 1400, "height": 1800})
                _offline(context, blocked)
                page = context.new_page()
                start = time.perf_counter()
                page.goto(server.url, wait_until="commit")
                page.wait_for_selector(BARS, timeout=120_000)
                first_chart.append(time.perf_counter() - start)
                options = page.locator(f"{DIMENSION} option").all_inner_texts()
                for i in range(changes):
                    label = options[(i + 1) % len(options)].replace("\xa0", " ")
                    before = page.get_attribute(FIGURE, "aria-label")
                    start = time.perf_counter()
                    page.locator(DIMENSION).select_option(label=label)
                    page.wait_for_function(
                        """([selector, before]) => {
                            const el = document.querySelector(selector);
                            const now = el && el.getAttribute('aria-label');
                            return now !== null && now !== before;
                        }""",
                        arg=[FIGURE, before],
                        timeout=60_000,
                    )
                    updates.append(time.perf_counter() - start)
                log(
                    f"  load {load + 1}: first chart {first_chart[-1]:.2f} s, updates "
                    + ", ".join(f"{u * 1000:.0f} ms" for u in updates[-changes:])
                )
                context.close()
            browser.close()
    finally:
        server.close()
    return {
        "first_chart": {
            "median": median(first_chart),
            "min": min(first_chart),
            "max": max(first_chart),
            "runs": first_chart,
        },
        "update": {
            "median": median(updates),
            "min": min(updates),
            "max": max(updates),
            "runs": updates,
        },
        "server_ready_s": started,
        "district": str(district.name) if district else "data/sample",
        "external_requests": blocked,
        "target_first_chart": TARGET_FIRST_CHART,
        "target_update": TARGET_UPDATE,
    }


def server_url_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def bench_kernels(
    district: Path,
    prepared: Path,
    *,
    changes: int = 12,
    baseline: Path | None = None,
    names=("explorer", "rubric", "presenter"),
    log=print,
) -> dict:
    """Benchmark 1e: each dashboard's kernel on ``prepared``, this tree (and ``baseline``)."""
    trees = {"now": REPO, **({"before": Path(baseline)} if baseline else {})}
    found: dict = {"district": Path(district).name, "changes": changes, "trees": {}}
    for tree, source in trees.items():
        found["trees"][tree] = {}
        for name in names:
            argv = [sys.executable, str(KERNEL_SCRIPT), name, str(district), str(prepared)]
            measured = run_child(
                [*argv, str(changes)], env={"PYTHONPATH": str(source)}, cwd="/tmp", timeout=900
            )
            if not measured.ok:
                raise RuntimeError(f"{tree} {name} kernel failed:\n{measured.stderr[-3000:]}")
            r = measured.reported
            r["change_ms_median"] = median(r["changes_ms"])
            found["trees"][tree][name] = r
            log(
                f"  {tree} {name}: built in {r['build_s']:.2f} s, "
                f"USS {r['memory_after_changes']['uss']:.0f} MB "
                f"(imports {r['memory_imports']['uss']:.0f} MB), change median "
                f"{r['change_ms_median']:.0f} ms"
            )
    return found


def dashboard_lines(results: dict) -> tuple[list[str], list[str]]:
    """Summary-table rows and a details section for ``docs/benchmarks.md`` (benchmarks 1c-1f)."""
    rows: list[str] = []
    details: list[str] = []
    for key in ("dashboards", "dashboards_large"):
        if key not in results:
            continue
        r = results[key]
        where = r.get("district", "data/sample")
        rows.append(
            f"| explorer ({where}): request to first chart, preheated kernel | "
            f"{seconds(r['first_chart']['median'])} | | | under {TARGET_KERNEL_FIRST_CHART:g} s | "
            f"{met(r['first_chart']['median'] <= TARGET_KERNEL_FIRST_CHART)} |"
        )
        rows.append(
            f"| explorer ({where}): widget change to updated chart | "
            f"{seconds(r['update']['median'])} | | | under {seconds(TARGET_KERNEL_UPDATE)} | "
            f"{met(r['update']['median'] <= TARGET_KERNEL_UPDATE)} |"
        )
        details += [
            f"## 1c. The explorer dashboard in a browser ({where})",
            "",
            "The real Voilà server (`bltanalytics dashboard explorer` on the sample; on a "
            "generated district, Voilà started as the launcher starts it, on an export "
            "prepared once), driven by Playwright with Debian's chromium, every non-local "
            f"request aborted ({len(r['external_requests'])} were attempted). First chart: "
            "from asking for the page to the first bar of the chart on screen, a fresh browser "
            "context each time, the server's preheated kernel pool full (the benchmark waits "
            "for it to refill between loads). Update: from choosing another dimension in the "
            "drop-down to the chart naming the new groups.",
            "",
            "| | median | all |",
            "|---|---|---|",
            f"| first chart | {seconds(r['first_chart']['median'])} | "
            f"{seconds_list(r['first_chart']['runs'])} |",
            f"| update after a change | {seconds(r['update']['median'])} | "
            f"{seconds_list(r['update']['runs'])} |",
            "",
            f"The server was ready (pool filled) {seconds(r['server_ready_s'])} after it started.",
            "",
        ]
    for key in ("dashboard_kernels", "dashboard_kernels_sample"):
        if key in results:
            details += _kernel_section(results[key])
    for key in ("visitors", "visitors_room"):
        if key in results:
            from benchmarks.room_bench import visitors_lines

            more_rows, more = visitors_lines(results[key])
            rows += more_rows
            details += more
    return rows, details


def met(ok: bool) -> str:
    """The page's verdict on a target.

    >>> met(True), met(False)
    ('**yes**', '**no**')
    """
    return "**yes**" if ok else "**no**"


def seconds(value: float) -> str:
    """Seconds as the page writes them.

    >>> seconds(0.1234), seconds(2.345), seconds(44.2)
    ('123 ms', '2.35 s', '44.2 s')
    """
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def seconds_list(values) -> str:
    return ", ".join(seconds(v) for v in values)


def _kernel_section(k: dict) -> list[str]:
    lines = [
        f"## 1e. One dashboard kernel, outside the browser ({k['district']})",
        "",
        "`python benchmarks/dashboard_kernel.py NAME ...` in a child per dashboard and source "
        "tree, as a Voilà kernel runs the notebook, on the same prepared export: build = what "
        "a preheated kernel has done before its visitor arrives (data read, first chart "
        f"rendered); then {k['changes']} widget changes (explorer: the dimension, every fourth "
        "the school; rubric: the school; presenter: Next, every fourth the school), each "
        "timed in the kernel (the chart rendered). Memory is the process's own (USS) and its "
        "PSS, in MB, after its imports (ipykernel, ipywidgets), after the build and after "
        "the changes.",
        "",
        "| tree | dashboard | data held | build | change (median) | USS imports | USS built "
        "| USS after changes | PSS after changes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for tree, by_name in k["trees"].items():
        for name, r in by_name.items():
            lines.append(
                f"| {tree} | {name} | {r['data']} | {r['build_s']:.2f} s | "
                f"{r['change_ms_median']:.0f} ms | {r['memory_imports']['uss']:.0f} | "
                f"{r['memory_built']['uss']:.0f} | {r['memory_after_changes']['uss']:.0f} | "
                f"{r['memory_after_changes']['pss']:.0f} |"
            )
    return [*lines, ""]


def run_dashboards(settings: dict, work: Path, *, baseline: Path | None = None, log=print):
    """What ``python -m benchmarks`` runs for the dashboards: 1c on the sample and on the
    ``dashboards_district``, 1e on both (with ``baseline``), 1f on the large district."""
    from benchmarks.districts import DISTRICTS, ensure_district
    from benchmarks.room_bench import bench_visitors

    district = ensure_district(*settings["dashboards_district"], log=log)
    prepared = ensure_prepared(district, log=log)
    sample = REPO / "data" / "sample"
    sample_prepared = ensure_prepared(sample, DISTRICTS, log=log)
    loads, changes = settings["loads"], settings["changes"]
    found = {
        "dashboards": bench_dashboard(
            work / "1c", loads, changes, log, district=sample, prepared=sample_prepared
        ),
        "dashboards_large": bench_dashboard(
            work / "1c-large", loads, changes, log, district=district, prepared=prepared
        ),
        "dashboard_kernels": bench_kernels(district, prepared, baseline=baseline, log=log),
        "dashboard_kernels_sample": bench_kernels(
            sample, sample_prepared, baseline=baseline, log=log
        ),
    }
    # the launcher's default pool, then a pool as large as the room (--pool-size N)
    found["visitors"] = bench_visitors(
        work / "1f", district, prepared, visitors=settings["visitors"], log=log
    )
    found["visitors_room"] = bench_visitors(
        work / "1f",
        district,
        prepared,
        visitors=settings["visitors"],
        pool_size=settings["visitors"],
        log=log,
    )
    return found


def main(argv: list[str] | None = None) -> dict:
    """``python -m benchmarks.dashboards_bench``: benchmarks 1c, 1e and 1f (10 visitors) on
    the sample and a generated district; figures to a JSON file (``--render`` of
    ``python -m benchmarks`` writes them into the page with the rest)."""
    import argparse

    from benchmarks.districts import DISTRICTS, ensure_district

    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboards_bench")
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--baseline", type=Path, help="an older source tree (kernels, before)")
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--changes", type=int, default=6)
    parser.add_argument("--visitors", type=int, default=10)
    parser.add_argument("--skip", action="append", default=[], help="kernels, browser, visitors")
    parser.add_argument("--out", type=Path, default=DISTRICTS / "dashboards.json")
    args = parser.parse_args(argv)
    district = ensure_district(args.schools, args.students)
    prepared = ensure_prepared(district)
    sample = REPO / "data" / "sample"
    sample_prepared = ensure_prepared(sample, DISTRICTS)
    work = DISTRICTS / "dashboards-work"
    found: dict = json.loads(args.out.read_text()) if args.out.exists() else {}
    if "kernels" not in args.skip:
        print("dashboard kernels (1e)")
        found["dashboard_kernels"] = bench_kernels(district, prepared, baseline=args.baseline)
        found["dashboard_kernels_sample"] = bench_kernels(
            sample, sample_prepared, baseline=args.baseline
        )
    if "browser" not in args.skip:
        print("explorer in chromium, sample (1c)")
        found["dashboards"] = bench_dashboard(
            work, args.loads, args.changes, district=sample, prepared=sample_prepared
        )
        print(f"explorer in chromium, {district.name} (1c)")
        found["dashboards_large"] = bench_dashboard(
            work, args.loads, args.changes, district=district, prepared=prepared
        )
    if "visitors" not in args.skip:
        from benchmarks.room_bench import bench_visitors

        print(f"{args.visitors} visitors at once, {district.name} (1f)")
        found["visitors"] = bench_visitors(work, district, prepared, visitors=args.visitors)
        found["visitors_room"] = bench_visitors(
            work, district, prepared, visitors=args.visitors, pool_size=args.visitors
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(found, indent=1, default=str))
    print(f"figures saved to {args.out}")
    return found


if __name__ == "__main__":
    main()
