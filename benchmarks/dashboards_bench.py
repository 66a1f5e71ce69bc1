"""Benchmark 1c: the explorer dashboard in a real browser, on the sample district.

``bltanalytics dashboard explorer --port P`` serves the sample district (the real Voilà
server, with its pool of preheated kernels); Playwright drives Debian's chromium
(``/usr/bin/chromium``) with every non-local request aborted. Two figures:

- **first chart**: seconds from asking for the page to the first bar of the achievement chart
  being on screen. Each load is a new browser context (no cache), and the benchmark waits for
  the server's kernel pool to refill between loads, as it would between two visitors.
- **update**: seconds from choosing another student-group dimension in the drop-down to the
  chart showing it (its ``aria-label`` names the dimension's groups).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from benchmarks.harness import REPO, median
from bltanalytics.dashboards.serve import CHROMIUM, CHROMIUM_ARGS, free_port

BARS = ".blt-bars svg .mark-rect path"
FIGURE = ".blt-bars figure"
DIMENSION = ".blt-dimension select"
TARGET_FIRST_CHART = 5.0
TARGET_UPDATE = 0.3
LOCAL = {"127.0.0.1", "localhost"}


class Server:
    """``bltanalytics dashboard explorer --port P`` in its own process group."""

    def __init__(self, log: Path, pool_size: int | None = None, extra=()) -> None:
        self.port = free_port()
        self.log = log
        argv = [sys.executable, "-c", "from bltanalytics.cli import app; app()"]
        argv += ["dashboard", "explorer", "--port", str(self.port)]
        if pool_size is not None:
            argv += ["--pool-size", str(pool_size)]
        argv += list(extra)
        self.url = f"http://127.0.0.1:{self.port}/"
        with log.open("w") as out:
            self.process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True
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


def bench_dashboard(work: Path, loads: int, changes: int, log=print) -> dict:
    """``loads`` page loads (first chart) and ``changes`` dimension changes per load."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make browser`")
    server = Server(work / "explorer.log")
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
