"""Serve one dashboard with standalone Voilà (``bltanalytics dashboard NAME``).

Voilà runs as its own process (never as a Jupyter server extension), serving exactly one
notebook of ``notebooks/dashboards/``: bound to 127.0.0.1 unless asked otherwise, code and
tracebacks hidden, no browser opened unless asked, the page template stripped of CDN assets
(``share/voila/templates/bltdash``) so it renders with no network, and kernels preheated so a
page answers from a kernel that has already read the data. Voilà runs through
:mod:`bltanalytics.dashboards.voila_app`, which frees a kernel when its page closes and tells
visitors past a ceiling (:func:`default_max_kernels`, or ``--max-kernels``) to come back.

>>> args = voila_arguments("explorer", port=8866, max_kernels=12)
>>> "--Voila.ip=127.0.0.1" in args and "--show_tracebacks=False" in args
True
>>> "--DashboardVoila.max_kernels=12" in args
True
>>> voila_environment(data="/srv/d", mask_names=True, environ={})["BLT_MASK_NAMES"]
'1'
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from bltanalytics import resources
from bltanalytics.config import Config
from bltanalytics.errors import BltError

#: Environment variables the launcher sets for Voilà and so for its kernels.
DATA_ENV = "BLT_DATA"
MASK_ENV = "BLT_MASK_NAMES"
MIN_N_ENV = "BLT_MIN_N"
METRICS_ENV = "BLT_METRICS"

#: dashboard name -> notebook file in :data:`NOTEBOOK_DIR`
DASHBOARDS: dict[str, str] = {
    "explorer": "explorer.ipynb",
    "rubric": "rubric_board.ipynb",
    "presenter": "presenter.ipynb",
}
NOTEBOOK_DIR = resources.notebooks_dir() / "dashboards"
#: The synthetic district shipped with the package: the default, so a dashboard runs anywhere.
SAMPLE_DISTRICT = resources.sample_district()
#: a Jupyter data directory holding the ``bltdash`` Voilà template (found through JUPYTER_PATH)
TEMPLATE_ROOT = Path(__file__).resolve().parent / "share"
TEMPLATE = "bltdash"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8866
#: preheated kernels kept ready (each has read the index and drawn the first chart)
DEFAULT_POOL_SIZE = 2
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: the only front-end extensions a dashboard needs (Voilà's widget manager and ipywidgets'
#: controls); others installed for JupyterLab (jupytext...) are not loaded into the page
FRONTEND_EXTENSIONS = ("@voila-dashboards/widgets-manager8", "@jupyter-widgets/jupyterlab-manager")
#: a kernel with no page connected is shut down after this many idle seconds (``--cull-idle``)
CULL_IDLE_SECONDS = 120
#: a visitor's kernel whose page disconnected is shut down this many seconds later, unless the
#: page reconnects (a page closed normally frees it at once through Voilà's shutdown request)
RELEASE_AFTER_SECONDS = 10
#: memory one visitor's kernel takes (explorer, first chart drawn): ~200 MB of its own (USS;
#: PSS 210 MB, RSS 315 MB of which ~100 MB shared libraries), plus room for the selections it
#: keeps rendered. The same on a 1,000-school district: kernels read per-school slices
#: (:mod:`bltanalytics.dashboards.slices`), so the figure is the libraries', not the data's
KERNEL_MB = 250
#: memory left to the system, the browser and the launcher when sizing the ceiling; visitors
#: are also told to wait whenever less than this is available
MEMORY_RESERVE_MB = 2048
#: seconds a visitor past the ceiling is told to wait (the page retries by itself)
RETRY_AFTER_SECONDS = 60

PRIVACY_WARNING = (
    "WARNING: the dashboard is reachable by anyone who can reach {url} on this network, "
    "with no password. It shows suppressed aggregates only, but school names are visible unless "
    "you pass --mask-names. Stop it (Ctrl-C) when the session ends."
)


def notebook_path(name: str) -> Path:
    """The notebook of dashboard ``name`` (``explorer``, ``rubric`` or ``presenter``)."""
    if name not in DASHBOARDS:
        raise BltError(f"no dashboard named {name!r}; choose one of: {', '.join(DASHBOARDS)}")
    path = NOTEBOOK_DIR / DASHBOARDS[name]
    if not path.is_file():
        raise BltError(
            f"the dashboard notebook {path} is missing: reinstall the package (its wheel "
            "carries the notebooks) or run from a checkout (pip install -e .)"
        )
    return path


#: Debian's chromium and the flags to run it headless on a closed network (no background
#: requests, no sandbox as root), as the browser tests and the dashboard benchmark drive it
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port that is free on ``host`` right now (for tests and ``--port 0``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def default_max_kernels(
    pool_size: int = DEFAULT_POOL_SIZE,
    *,
    available_mb: float | None = None,
    kernel_mb: float = KERNEL_MB,
    reserve_mb: float = MEMORY_RESERVE_MB,
) -> tuple[int, str]:
    """How many visitors the machine's memory can hold at once, and the reason in words.

    The memory available now, less :data:`MEMORY_RESERVE_MB` for the system and browser, is
    shared by the ``pool_size`` preheated kernels and one kernel per visitor
    (:data:`KERNEL_MB` each). Never less than 1.

    >>> n, why = default_max_kernels(2, available_mb=20 * 1024)
    >>> n
    71
    >>> why
    '20.0 GB of memory available, 2.0 GB kept for the system, ~250 MB per kernel, 2 for the pool'
    >>> default_max_kernels(2, available_mb=1024)[0]
    1
    """
    if available_mb is None:
        available_mb = psutil.virtual_memory().available / 2**20
    kernels = int((available_mb - reserve_mb) // kernel_mb)
    ceiling = max(1, kernels - max(pool_size, 0))
    why = (
        f"{available_mb / 1024:.1f} GB of memory available, {reserve_mb / 1024:.1f} GB kept for "
        f"the system, ~{kernel_mb:.0f} MB per kernel, {max(pool_size, 0)} for the pool"
    )
    return ceiling, why


def voila_arguments(
    name: str,
    *,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    open_browser: bool = False,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_kernels: int = 0,
    cull_idle: int = CULL_IDLE_SECONDS,
    memory_floor_mb: int = MEMORY_RESERVE_MB,
) -> list[str]:
    """The command line that serves dashboard ``name`` with standalone Voilà.

    ``max_kernels``: most visitors at once (0: no ceiling); ``cull_idle``: seconds before a
    kernel with no page connected is shut down; ``memory_floor_mb``: visitors are told to wait
    while less memory is available (0: never).
    """
    notebook = NOTEBOOK_DIR / DASHBOARDS[name] if name in DASHBOARDS else notebook_path(name)
    args = [
        sys.executable,
        "-m",
        "bltanalytics.dashboards.voila_app",
        str(notebook),
        f"--port={port}",
        f"--Voila.ip={host}",
        "--Voila.port_retries=0",
        f"--Voila.root_dir={NOTEBOOK_DIR}",
        f"--template={TEMPLATE}",
        "--theme=light",
        "--show_tracebacks=False",
        "--strip_sources=True",
        f"--Voila.open_browser={open_browser}",
        *[f"--VoilaConfiguration.extension_allowlist={name}" for name in FRONTEND_EXTENSIONS],
        f"--MappingKernelManager.cull_idle_timeout={int(cull_idle)}",
        f"--MappingKernelManager.cull_interval={max(5, min(30, int(cull_idle) // 4))}",
        f"--DashboardKernelManager.release_after={RELEASE_AFTER_SECONDS}",
        f"--DashboardVoila.max_kernels={int(max_kernels)}",
        f"--DashboardVoila.memory_floor_mb={int(memory_floor_mb)}",
        f"--DashboardVoila.retry_after={RETRY_AFTER_SECONDS}",
    ]
    if pool_size > 0:
        args += ["--preheat_kernel=True", f"--pool_size={pool_size}"]
    if not open_browser:
        args.append("--no-browser")
    return args


def voila_environment(
    *,
    data: str | Path | None = None,
    mask_names: bool = False,
    min_n: int | None = None,
    metrics: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of the Voilà process; its kernels inherit it.

    ``BLT_DATA`` (absolute path, or unset for the sample district), ``BLT_MASK_NAMES``,
    ``BLT_MIN_N``, ``BLT_METRICS`` (the prepared metrics, if any) and ``JUPYTER_PATH`` with the
    template directory first.
    """
    env = dict(os.environ if environ is None else environ)
    for name in (DATA_ENV, MIN_N_ENV, METRICS_ENV):
        env.pop(name, None)
    if data is not None:
        env[DATA_ENV] = str(Path(data).expanduser().resolve())
    if metrics is not None:
        env[METRICS_ENV] = str(Path(metrics).resolve())
    env[MASK_ENV] = "1" if mask_names else "0"
    if min_n is not None:
        env[MIN_N_ENV] = str(int(min_n))
    paths = [str(TEMPLATE_ROOT), *[p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]]
    # Voilà's and the widgets' own files, when Jupyter would not find them (a venv made with
    # --system-site-packages): last, so nothing the user set is shadowed
    paths += [str(p) for p in resources.extra_jupyter_paths() if str(p) not in paths]
    env["JUPYTER_PATH"] = os.pathsep.join(paths)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


def dashboard_url(host: str, port: int) -> str:
    """Where to point a browser (``0.0.0.0`` is shown as this machine's name)."""
    shown = socket.gethostname() if host in ("0.0.0.0", "::") else host
    return f"http://{shown}:{port}/"


@dataclass
class RunningDashboard:
    """A Voilà process started by :func:`start`, and the folder of metrics prepared for it."""

    name: str
    url: str
    process: subprocess.Popen
    workdir: Path
    problem: str | None = None
    #: most visitors served at once, and why that number (printed by :func:`serve`)
    max_kernels: int = 0
    ceiling: str = ""

    def stop(self, timeout: float = 15) -> int:
        """Stop Voilà (it shuts its kernels down) and remove the prepared metrics."""
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
            return self.process.wait()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)


def config_for(min_n: int | None) -> Config:
    """The policy settings of a served dashboard (the launcher and its kernels agree on them)."""
    return Config() if min_n is None else Config(min_n=int(min_n))


def start(
    name: str,
    *,
    data: str | Path | None = None,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    mask_names: bool = False,
    min_n: int | None = None,
    open_browser: bool = False,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_kernels: int | None = None,
    cull_idle: int = CULL_IDLE_SECONDS,
    quiet: bool = False,
) -> RunningDashboard:
    """Read the district once, then start Voilà for dashboard ``name`` in the background.

    The metrics are computed here and written to a private temporary folder that the kernels
    re-load (``$BLT_METRICS``); a folder whose tables fail validation still starts, and every
    page shows the plain message (also in :attr:`RunningDashboard.problem`). ``data`` defaults
    to the sample district; ``port=0`` picks a free port. ``max_kernels`` (most visitors at
    once) defaults to what the memory available now holds (:func:`default_max_kernels`).
    Call ``.stop()`` when done.
    """
    from bltanalytics.dashboards.common import prepare_metrics

    notebook = notebook_path(name)
    if max_kernels is not None and max_kernels < 1:
        raise BltError(f"--max-kernels must be at least 1, not {max_kernels}")
    folder = SAMPLE_DISTRICT if data is None else Path(data).expanduser()
    if not folder.is_dir():
        raise BltError(f"the data folder {folder} does not exist or is not a folder")
    config = config_for(min_n)
    workdir = Path(tempfile.mkdtemp(prefix="bltanalytics-dashboard-"))
    prepared: Path | None = workdir / "metrics"
    problem = None
    try:
        prepare_metrics(folder, config, prepared)
    except BltError as exc:
        problem, prepared = str(exc), None
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    if port == 0:
        port = free_port(DEFAULT_HOST if host in ("0.0.0.0", "::") else host)
    if max_kernels is None:
        max_kernels, why = default_max_kernels(pool_size)
        ceiling = f"up to {max_kernels} visitors at once ({why}; --max-kernels to change)"
    else:
        ceiling = f"up to {max_kernels} visitors at once (--max-kernels)"
    args = voila_arguments(
        name,
        port=port,
        host=host,
        open_browser=open_browser,
        pool_size=pool_size,
        max_kernels=max_kernels,
        cull_idle=cull_idle,
    )
    env = voila_environment(data=folder, mask_names=mask_names, min_n=min_n, metrics=prepared)
    output = subprocess.DEVNULL if quiet else None
    try:
        process = subprocess.Popen(args, cwd=notebook.parent, env=env, stdout=output, stderr=output)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return RunningDashboard(
        name, dashboard_url(host, port), process, workdir, problem, max_kernels, ceiling
    )


def serve(name: str, **options) -> int:
    """Start dashboard ``name`` and wait until Voilà stops (Ctrl-C or SIGTERM); exit code."""
    host = options.get("host", DEFAULT_HOST)
    running = start(name, **options)
    if running.problem:
        print(f"warning: {running.problem}\n(the page will show this message)", flush=True)
    print(f"serving the {name} dashboard at {running.url} (Ctrl-C to stop)", flush=True)
    print(f"{running.ceiling}; a visitor past it is asked to try again in a minute", flush=True)
    if host not in LOCAL_HOSTS:
        print(PRIVACY_WARNING.format(url=running.url), flush=True)

    def on_sigterm(signum, frame):  # stop Voilà (and its kernels), then let wait() return
        running.process.terminate()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        return running.process.wait()
    except KeyboardInterrupt:
        return running.stop()
    finally:
        running.stop()
        signal.signal(signal.SIGTERM, previous)
