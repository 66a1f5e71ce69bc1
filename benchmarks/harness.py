"""Measuring: child processes with their wall time and peak memory, alternated, medians.

Every measured thing runs in its own child process, so its peak resident memory is its own
(read from ``os.wait4``, the kernel's account of that child) and nothing cached by an earlier
measurement helps a later one. Variants and their references run in turn (A, B, A, B, ...), so
a burst of load on a shared machine hits both, and the figures reported are medians.

>>> m = run_child([sys.executable, "-c", "print('hello')"])
>>> m.ok, m.stdout.strip(), m.wall > 0, m.peak_rss > 0
(True, 'hello', True, True)
"""

from __future__ import annotations

import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GIB = 1024**3


@dataclass
class Measured:
    """One run of a child process."""

    argv: list[str]
    wall: float  # seconds, measured by the parent from start to exit
    peak_rss: int  # bytes, largest resident set of the child (or of its largest descendant)
    user: float  # CPU seconds
    system: float
    returncode: int
    stdout: str
    stderr: str
    reported: dict = field(default_factory=dict)  # the JSON line a child printed last, if any

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_child(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 3600,
) -> Measured:
    """Run ``argv`` to its end; wall time, peak RSS and CPU time of that child alone.

    The child is reaped with ``os.wait4``, whose resource figures are that child's own (its
    ``ru_maxrss`` is the largest resident set of the child or of one of its own children).
    A child that prints a JSON object as its last stdout line reports figures of its own
    (``Measured.reported``), e.g. the seconds of one call inside it.
    """
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(argv), env=full_env, cwd=cwd, stdout=out, stderr=err, start_new_session=True
        )
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
            time.sleep(0.005)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    reported = {}
    lines = [line for line in stdout.strip().splitlines() if line.startswith("{")]
    if lines:
        try:
            reported = json.loads(lines[-1])
        except json.JSONDecodeError:
            reported = {}
    return Measured(
        argv=list(argv),
        wall=wall,
        peak_rss=usage.ru_maxrss * 1024,  # Linux reports KiB
        user=usage.ru_utime,
        system=usage.ru_stime,
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
        reported=reported,
    )


def python_child(code: str, *args: str) -> list[str]:
    """``argv`` running ``code`` with this Python (``sys.argv[1:]`` = ``args``)."""
    return [sys.executable, "-c", code, *map(str, args)]


def alternate(
    variants: dict[str, Callable[[], Measured]], repeats: int, *, log: Callable = print
) -> dict[str, list[Measured]]:
    """Run every variant ``repeats`` times, in turn (A, B, C, A, B, C, ...).

    The order of the variants rotates each round, so none always runs right after another
    (a child's after-effects, like memory the system is still reclaiming, fall on each).
    A failed run stops the benchmark with its output: a failing command has no speed.
    """
    results: dict[str, list[Measured]] = {name: [] for name in variants}
    names = list(variants)
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            measured = variants[name]()
            if not measured.ok:
                raise RuntimeError(
                    f"{name} failed (exit {measured.returncode}):\n{measured.stderr[-4000:]}"
                )
            results[name].append(measured)
            log(
                f"  {name}: {measured.wall:.2f} s wall, {measured.peak_rss / GIB:.2f} GiB peak"
                + (f", reported {measured.reported}" if measured.reported else "")
            )
    return results


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def summary(runs: Sequence[Measured], key: str | None = None) -> dict:
    """Median, minimum and maximum of the runs' wall time (or of a reported figure ``key``)
    and their median peak RSS."""
    values = [run.reported[key] if key else run.wall for run in runs]
    return {
        "median": median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
        "values": list(values),
        "peak_rss": median([run.peak_rss for run in runs]),
        "peak_rss_max": max(run.peak_rss for run in runs),
    }


# --------------------------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------------------------


def machine() -> dict:
    """Cores, memory, CPU model, OS, Python and library versions, and the load right now."""
    import duckdb
    import numpy
    import pandas
    import pyarrow

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory / GIB, 1),
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "numpy": numpy.__version__,
        "duckdb": duckdb.__version__,
        "load": load_average(),
    }


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages (runnable processes; 2.0 = both cores busy)."""
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        return (float("nan"),) * 3


class LoadMonitor:
    """Samples the 1-minute load average during the run (what else the machine was doing)."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    def sample(self) -> None:
        self.samples.append(load_average()[0])

    def describe(self) -> str:
        if not self.samples:
            return "not sampled"
        return (
            f"1-minute load average {min(self.samples):.1f} to {max(self.samples):.1f} "
            f"(median {median(self.samples):.1f}) over {len(self.samples)} samples"
        )
