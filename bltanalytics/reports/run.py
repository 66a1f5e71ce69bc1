"""The batch report runner behind ``bltanalytics reports``: one notebook run per school.

:func:`run_reports` takes a list of :class:`ReportJob` (one per school) and an output folder,
and for every job writes

- ``<out>/<key>.ipynb``: the executed notebook, with its parameters (the audit record);
- ``<out>/<key>.html``: the report, self-contained and offline (see :mod:`bltanalytics.export`);

then ``<out>/index.html`` (every report with its status) and ``<out>/run.json`` (the same,
machine-readable). A job that fails does not stop the others: its notebook is kept as
``<out>/failed/<key>.ipynb`` and the summary says why it failed. Every file appears whole or not
at all (written to a temporary file in the same folder, then renamed).

Resume: a job whose report exists and whose fingerprint (notebook, parameters, input files,
title, package version and code) matches the one recorded in ``<out>/.fingerprints/<key>.json`` is
skipped, unless ``force=True``.

Where the notebooks run:

- default: ``workers`` threads on this machine, each with its own warm kernel
  (:class:`bltanalytics.kernels.WarmKernel`, reset between schools, recycled every
  ``recycle_every`` schools and after any failure);
- ``fresh_kernels=True``: plain papermill, a new kernel per school;
- ``scheduler="tcp://HOST:PORT"`` (or a ``distributed.Client``): the same per-job function on a
  Dask cluster, each Dask worker thread with its own warm kernel. Notebooks, inputs and ``out``
  must be on a filesystem every worker sees at the same path.

>>> job = ReportJob("school_0101", "notebooks/reports/school_report.ipynb",
...                 {"school_id": "0101"}, inputs=["metrics/achievement.csv"],
...                 title="Oak Elementary: BLT report")
>>> summary = run_reports([job], Path("reports"))  # doctest: +SKIP
>>> summary.exit_code  # doctest: +SKIP
0
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import jinja2
import nbformat
from distributed import Client
from distributed.diagnostics.plugin import WorkerPlugin
from papermill.exceptions import PapermillExecutionError
from tqdm.auto import tqdm

from bltanalytics import __version__
from bltanalytics.export import notebook_to_html
from bltanalytics.kernels import KernelPool, WarmKernel, run_fresh

__all__ = [
    "InputHashes",
    "JobResult",
    "ReportJob",
    "RunSummary",
    "WarmKernelsPlugin",
    "atomic_write_text",
    "execute_job",
    "failure_reason",
    "index_html",
    "job_fingerprint",
    "run_json",
    "run_reports",
]

log = logging.getLogger(__name__)

#: Bump when the fingerprint's contents change, so old records no longer match. 2: the
#: fingerprint covers the package's own code (:func:`package_code_digest`); pages written by
#: version 1 (whose warm kernels could lose the chart theme) are redone.
FINGERPRINT_VERSION = 2
#: papermill gives the cell it injects a random id; it is set to this so that two runs of the
#: same report give the same page.
INJECTED_CELL_ID = "injected-parameters"
FINGERPRINT_DIR = ".fingerprints"
FAILED_DIR = "failed"
RUNNING_DIR = ".running"
INPUT_HASHES_FILE = "_input_hashes.json"
WORKER_PLUGIN_NAME = "bltanalytics-warm-kernels"

#: What a report key (its file stem) may be.
REPORT_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,149}")
_RESERVED_KEYS = {"index", "run"}

Status = Literal["ok", "failed", "skipped"]


# --------------------------------------------------------------------------------------------
# Jobs, results, summary
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportJob:
    """One report to produce.

    ``key``: the output file stem (``school_0101``: letters, digits, ``.``, ``_``, ``-``).
    ``notebook``: the parameterized notebook. ``parameters``: injected by papermill as they are
    (ids stay strings). ``inputs``: the files whose content the report depends on (a change
    re-runs it). ``title``: the HTML page title (default: the key). ``timeout``: seconds allowed
    per cell (None: no limit).

    >>> ReportJob("school_0101", "report.ipynb", {"school_id": "0101"}).title
    'school_0101'
    >>> ReportJob("../x", "report.ipynb")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: report key '../x' cannot be a file name: use letters, digits, ...
    """

    key: str
    notebook: Path
    parameters: Mapping[str, Any] = field(default_factory=dict)
    inputs: Sequence[Path] = ()
    title: str = ""
    timeout: float | None = 600.0

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not REPORT_KEY.fullmatch(self.key):
            raise ValueError(
                f"report key {self.key!r} cannot be a file name: use letters, digits, '.', '_' "
                "and '-', starting with a letter or digit"
            )
        if self.key.lower() in _RESERVED_KEYS:
            raise ValueError(f"report key {self.key!r} is reserved (the run's own files use it)")
        object.__setattr__(self, "notebook", Path(self.notebook).absolute())
        object.__setattr__(self, "parameters", dict(self.parameters))
        object.__setattr__(self, "inputs", tuple(Path(p).absolute() for p in self.inputs))
        object.__setattr__(self, "title", self.title or self.key)


@dataclass(frozen=True)
class JobResult:
    """What happened to one job. Paths are absolute; None when the file was not written."""

    key: str
    title: str
    status: Status
    reason: str | None = None
    notebook: Path | None = None
    html: Path | None = None
    failed_notebook: Path | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class RunSummary:
    """The outcome of :func:`run_reports`, one :class:`JobResult` per job, in job order."""

    out: Path
    results: tuple[JobResult, ...]
    started_at: datetime
    seconds: float
    mode: str
    workers: int | None
    scheduler: str | None = None

    def _with(self, status: Status) -> tuple[JobResult, ...]:
        return tuple(r for r in self.results if r.status == status)

    @property
    def ok(self) -> tuple[JobResult, ...]:
        """Jobs run and written in this run."""
        return self._with("ok")

    @property
    def failed(self) -> tuple[JobResult, ...]:
        return self._with("failed")

    @property
    def skipped(self) -> tuple[JobResult, ...]:
        """Jobs whose reports were already up to date."""
        return self._with("skipped")

    @property
    def exit_code(self) -> int:
        """0 when no job failed, else 1 (for the command line)."""
        return 1 if self.failed else 0

    def describe(self) -> str:
        """A few lines for a person: the counts, then each failure with its reason and file.

        >>> RunSummary(Path("out"), (JobResult("a", "A", "ok"),), datetime.now(UTC), 1.0,
        ...            "warm", 2).describe()
        '1 report: 1 written, 0 up to date, 0 failed (1.0 s) -> out/index.html'
        """
        n = len(self.results)
        lines = [
            f"{n} report{'s' if n != 1 else ''}: {len(self.ok)} written, "
            f"{len(self.skipped)} up to date, {len(self.failed)} failed "
            f"({self.seconds:.1f} s) -> {self.out / 'index.html'}"
        ]
        for result in self.failed:
            where = f" (notebook: {result.failed_notebook})" if result.failed_notebook else ""
            lines.append(f"  FAILED {result.key}: {result.reason}{where}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Files: atomic writes, fingerprints
# --------------------------------------------------------------------------------------------


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so the file appears whole or not at all.

    The text goes to a temporary file in the same folder, which then replaces ``path``
    (``os.replace`` is atomic within one filesystem).

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "a.txt"
    >>> atomic_write_text(target, "whole")
    >>> target.read_text()
    'whole'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        # mode "x": a new file with the usual permissions (readable by colleagues per umask)
        with open(tmp, "x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class InputHashes:
    """Content hashes of input files, remembered by (size, mtime_ns) between runs.

    Many reports share the same inputs (a district's metric tables), and those can be large:
    each file is hashed once per run, and not again in a later run while its size and
    modification time are unchanged.

    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "achievement.csv"
    >>> _ = f.write_text("school_id,n\\n0101,12\\n")
    >>> InputHashes().sha256(f) == hashlib.sha256(f.read_bytes()).hexdigest()
    True
    """

    def __init__(self, cache_file: Path | None = None) -> None:
        self.cache_file = cache_file
        self._known: dict[str, list] = {}
        if cache_file is not None and cache_file.exists():
            try:
                self._known = json.loads(cache_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._known = {}

    def sha256(self, path: Path) -> str:
        """sha256 of the file's content (raises FileNotFoundError for a missing file)."""
        stat = Path(path).stat()
        known = self._known.get(str(path))
        if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
            return known[2]
        digest = _sha256_file(path)
        self._known[str(path)] = [stat.st_size, stat.st_mtime_ns, digest]
        return digest

    def save(self) -> None:
        if self.cache_file is not None:
            atomic_write_text(self.cache_file, json.dumps(self._known, indent=0, sort_keys=True))


def _package_root() -> Path:
    """The top folder of the installed ``bltanalytics`` package (wherever this module sits)."""
    import bltanalytics

    return Path(bltanalytics.__file__).resolve().parent


@functools.cache
def package_code_digest() -> str:
    """sha256 over the package's own files (code and templates), computed once per process.

    The notebooks and the sample a wheel carries (``_bundled/``) are left out: a report's
    notebook and inputs are fingerprinted on their own.

    Part of every fingerprint, so a report made by other code (a new release, or a change
    while developing) is made again rather than kept as up to date.

    >>> len(package_code_digest())
    64
    """
    root = _package_root()
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if path.is_file() and "__pycache__" not in parts and parts[0] != "_bundled":
            digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
            digest.update(_sha256_file(path).encode("ascii"))
    return digest.hexdigest()


def job_fingerprint(job: ReportJob, hashes: InputHashes | None = None) -> str:
    """sha256 over what decides a report's content: notebook, parameters, inputs, title, and
    the package (its version and :func:`package_code_digest`).

    Raises FileNotFoundError if the notebook or an input file is missing.

    >>> import tempfile
    >>> nb = Path(tempfile.mkdtemp()) / "r.ipynb"
    >>> _ = nb.write_text("{}")
    >>> a = job_fingerprint(ReportJob("s", nb, {"school_id": "0101"}))
    >>> a == job_fingerprint(ReportJob("s", nb, {"school_id": "0101"}))
    True
    >>> a == job_fingerprint(ReportJob("s", nb, {"school_id": "101"}))
    False
    """
    hashes = hashes or InputHashes()
    record = {
        "format": FINGERPRINT_VERSION,
        "package_version": __version__,
        "package_code": package_code_digest(),
        "notebook": hashes.sha256(job.notebook),
        "parameters": job.parameters,
        "inputs": sorted((str(p), hashes.sha256(p)) for p in job.inputs),
        "title": job.title,
    }
    text = json.dumps(record, sort_keys=True, default=repr, ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Paths:
    """Where one job's files go."""

    out: Path
    key: str

    @property
    def notebook(self) -> Path:
        return self.out / f"{self.key}.ipynb"

    @property
    def html(self) -> Path:
        return self.out / f"{self.key}.html"

    @property
    def pdf(self) -> Path:
        """The printed page, when ``bltanalytics reports --pdf`` made one."""
        return self.out / f"{self.key}.pdf"

    @property
    def failed(self) -> Path:
        return self.out / FAILED_DIR / f"{self.key}.ipynb"

    @property
    def fingerprint(self) -> Path:
        return self.out / FINGERPRINT_DIR / f"{self.key}.json"

    def scratch(self) -> Path:
        return self.out / RUNNING_DIR / f"{self.key}.{uuid.uuid4().hex[:12]}.ipynb"


def _is_up_to_date(paths: _Paths, fingerprint: str) -> bool:
    if not (paths.notebook.exists() and paths.html.exists() and paths.fingerprint.exists()):
        return False
    try:
        record = json.loads(paths.fingerprint.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return record.get("fingerprint") == fingerprint


# --------------------------------------------------------------------------------------------
# One job (the same function locally and on a Dask worker)
# --------------------------------------------------------------------------------------------


def failure_reason(exc: BaseException) -> str:
    """One line saying why a job failed: the exception line from the failing cell if any.

    >>> failure_reason(PapermillExecutionError(3, 4, "raise ValueError", "ValueError",
    ...                                        "no data for school FAIL", []))
    'ValueError: no data for school FAIL (cell In [4])'
    >>> failure_reason(TimeoutError("A cell timed out after 5 seconds.\\nmore"))
    'TimeoutError: A cell timed out after 5 seconds.'
    """
    if isinstance(exc, PapermillExecutionError):
        evalue = (str(exc.evalue).strip().splitlines() or [""])[0]
        return f"{exc.ename}: {evalue} (cell In [{exc.exec_count}])"
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _keep_failed_notebook(scratch: Path, paths: _Paths, reason: str) -> Path | None:
    """Move the notebook of a failed run to ``failed/<key>.ipynb``, noting the reason.

    Returns None (and removes an older run's failed notebook) when the run left no notebook,
    e.g. when its kernel could not start.
    """
    if not scratch.exists():
        paths.failed.unlink(missing_ok=True)
        return None
    try:
        nb = nbformat.read(scratch, as_version=4)
        nb.metadata.setdefault("papermill", {})["output_path"] = str(paths.failed)
        nb.metadata["bltanalytics"] = {"status": "failed", "reason": reason}
        atomic_write_text(paths.failed, nbformat.writes(nb))
    except Exception as exc:  # an unreadable partial notebook: keep the bytes as they are
        log.warning("failed notebook for %s could not be annotated: %s", paths.key, exc)
        paths.failed.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch, paths.failed)
    return paths.failed


def _stable_injected_cell_id(nb: nbformat.NotebookNode) -> None:
    """Give papermill's injected-parameters cell a fixed id (papermill draws a random one).

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    >>> nb.cells[0].metadata["tags"] = ["injected-parameters"]
    >>> _stable_injected_cell_id(nb); nb.cells[0].id
    'injected-parameters'
    """
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", ()):
            cell["id"] = INJECTED_CELL_ID
            return


def execute_job(
    job: ReportJob, out: Path, fingerprint: str, kernel: WarmKernel | None
) -> JobResult:
    """Run one job and write its files; never raises for a failing notebook.

    ``kernel``: the warm kernel to run on, or None for a fresh papermill kernel.
    """
    started = time.perf_counter()
    paths = _Paths(Path(out), job.key)
    scratch = paths.scratch()
    scratch.parent.mkdir(parents=True, exist_ok=True)
    paths.fingerprint.unlink(missing_ok=True)  # until this run succeeds, nothing is current
    try:
        run = kernel.run_notebook if kernel is not None else run_fresh
        nb = run(job.notebook, scratch, job.parameters, timeout=job.timeout)
        nb.metadata.papermill["output_path"] = str(paths.notebook)
        _stable_injected_cell_id(nb)
        page = notebook_to_html(nb, title=job.title)
        atomic_write_text(paths.notebook, nbformat.writes(nb))
        atomic_write_text(paths.html, page)
        record = {
            "key": job.key,
            "fingerprint": fingerprint,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "package_version": __version__,
        }
        atomic_write_text(paths.fingerprint, json.dumps(record, indent=2))
    except Exception as exc:
        reason = failure_reason(exc)
        log.info("report %s failed: %s", job.key, reason)
        failed = _keep_failed_notebook(scratch, paths, reason)
        for stale in (paths.notebook, paths.html, paths.pdf):  # no longer matches its data
            stale.unlink(missing_ok=True)
        return JobResult(
            job.key,
            job.title,
            "failed",
            reason=reason,
            failed_notebook=failed,
            seconds=time.perf_counter() - started,
        )
    finally:
        scratch.unlink(missing_ok=True)
    paths.failed.unlink(missing_ok=True)
    return JobResult(
        job.key,
        job.title,
        "ok",
        notebook=paths.notebook,
        html=paths.html,
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------------------------
# Dask: the per-worker kernels
# --------------------------------------------------------------------------------------------

_WORKER_POOL: KernelPool | None = None


def _worker_pool(recycle_every: int) -> KernelPool:
    global _WORKER_POOL
    if _WORKER_POOL is None:
        _WORKER_POOL = KernelPool(recycle_every=recycle_every)
    _WORKER_POOL.recycle_every = recycle_every
    return _WORKER_POOL


def _close_worker_pool() -> None:
    global _WORKER_POOL
    pool, _WORKER_POOL = _WORKER_POOL, None
    if pool is not None:
        pool.close()


class WarmKernelsPlugin(WorkerPlugin):
    """Dask worker plugin: shuts the worker's warm kernels down when it is removed or closes."""

    name = WORKER_PLUGIN_NAME

    def teardown(self, worker: Any) -> None:
        _close_worker_pool()


def _execute_job_on_worker(
    job: ReportJob, out: str, fingerprint: str, fresh: bool, recycle_every: int
) -> JobResult:
    """The Dask task: :func:`execute_job` with this worker thread's warm kernel."""
    kernel = None
    if not fresh:
        kernel = _worker_pool(recycle_every).kernel()
        kernel.recycle_every = recycle_every
    return execute_job(job, Path(out), fingerprint, kernel)


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def _check_jobs(jobs: Sequence[ReportJob]) -> None:
    counts = Counter(job.key for job in jobs)
    duplicates = sorted(key for key, n in counts.items() if n > 1)
    if duplicates:
        raise ValueError(f"report keys must be unique; repeated: {', '.join(duplicates)}")


def _failed_before_running(job: ReportJob, exc: BaseException) -> JobResult:
    return JobResult(job.key, job.title, "failed", reason=failure_reason(exc))


def _run_local(
    todo: list[tuple[ReportJob, str]],
    out: Path,
    workers: int,
    fresh: bool,
    recycle_every: int,
    bar: Any,
) -> Iterable[JobResult]:
    pool = None if fresh else KernelPool(recycle_every=recycle_every)

    def one(job: ReportJob, fingerprint: str) -> JobResult:
        return execute_job(job, out, fingerprint, pool.kernel() if pool else None)

    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bltreport")
    finished = False
    try:
        futures: dict[Future, ReportJob] = {
            executor.submit(one, job, fingerprint): job for job, fingerprint in todo
        }
        for future in as_completed(futures):
            yield _result_of(future, futures[future], bar)
        finished = True
    finally:
        if pool is not None and not finished:
            pool.kill()  # interrupted: stop the running notebooks now, not at their time-out
        executor.shutdown(wait=True, cancel_futures=True)
        if pool is not None:
            pool.close()


def _result_of(future: Any, job: ReportJob, bar: Any) -> JobResult:
    try:
        result = future.result()
    except Exception as exc:  # the machinery failed (a lost Dask worker, say), not the notebook
        result = _failed_before_running(job, exc)
    bar.update(1)
    if result.status == "failed":
        bar.set_postfix_str(f"{result.key} failed")
    return result


def _run_dask(
    todo: list[tuple[ReportJob, str]],
    out: Path,
    scheduler: str | Client,
    fresh: bool,
    recycle_every: int,
    bar: Any,
) -> Iterable[JobResult]:
    from distributed import as_completed as dask_as_completed

    owns_client = not isinstance(scheduler, Client)
    client = Client(scheduler) if owns_client else scheduler
    try:
        if not fresh:
            client.register_plugin(WarmKernelsPlugin(), name=WORKER_PLUGIN_NAME)
        run_id = uuid.uuid4().hex[:8]
        futures = {
            client.submit(
                _execute_job_on_worker,
                job,
                str(out),
                fingerprint,
                fresh,
                recycle_every,
                key=f"bltanalytics-report-{job.key}-{run_id}",
                pure=False,
            ): job
            for job, fingerprint in todo
        }
        for future in dask_as_completed(futures):
            yield _result_of(future, futures[future], bar)
    finally:
        if not fresh:
            try:  # stop the workers' kernels now (teardown), not when the cluster ends
                client.unregister_worker_plugin(WORKER_PLUGIN_NAME)
            except Exception as exc:
                log.warning("could not stop the Dask workers' kernels: %s", exc)
        if owns_client:
            client.close()


def run_reports(
    jobs: Sequence[ReportJob],
    out: Path,
    *,
    workers: int = 2,
    force: bool = False,
    fresh_kernels: bool = False,
    scheduler: str | Client | None = None,
    progress: bool = True,
    recycle_every: int = 25,
) -> RunSummary:
    """Run every job (see the module docs); return what happened to each.

    ``workers``: notebooks run at once on this machine (ignored with ``scheduler``: the
    cluster's worker threads decide). ``force``: re-run up-to-date jobs too. ``fresh_kernels``:
    a new papermill kernel per job instead of warm kernels. ``scheduler``: a Dask scheduler
    address or ``distributed.Client``. ``progress``: show a progress bar. ``recycle_every``:
    jobs per warm kernel before it is replaced.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, found {workers!r}")
    if recycle_every < 1:
        raise ValueError(f"recycle_every must be at least 1, found {recycle_every!r}")
    jobs = list(jobs)
    _check_jobs(jobs)
    out = Path(out).absolute()
    out.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(UTC)
    clock = time.perf_counter()

    hashes = InputHashes(out / FINGERPRINT_DIR / INPUT_HASHES_FILE)
    results: dict[str, JobResult] = {}
    todo: list[tuple[ReportJob, str]] = []
    for job in jobs:
        paths = _Paths(out, job.key)
        try:
            fingerprint = job_fingerprint(job, hashes)
        except OSError as exc:  # a missing notebook or input: this job cannot run
            results[job.key] = _failed_before_running(job, exc)
            for stale in (paths.notebook, paths.html, paths.pdf, paths.fingerprint):
                stale.unlink(missing_ok=True)  # as for any failure: no report that is not current
            continue
        if not force and _is_up_to_date(paths, fingerprint):
            results[job.key] = JobResult(
                job.key, job.title, "skipped", notebook=paths.notebook, html=paths.html
            )
        else:
            todo.append((job, fingerprint))
    hashes.save()

    with tqdm(total=len(jobs), desc="Reports", unit="report", disable=not progress) as bar:
        bar.update(len(results))
        if todo:
            if scheduler is not None:
                ran = _run_dask(todo, out, scheduler, fresh_kernels, recycle_every, bar)
            else:
                ran = _run_local(todo, out, workers, fresh_kernels, recycle_every, bar)
            for result in ran:
                results[result.key] = result
    _remove_empty_dir(out / RUNNING_DIR)

    summary = RunSummary(
        out=out,
        results=tuple(results[job.key] for job in jobs),
        started_at=started_at,
        seconds=time.perf_counter() - clock,
        mode="fresh" if fresh_kernels else "warm",
        workers=None if scheduler is not None else workers,
        scheduler=_scheduler_name(scheduler),
    )
    atomic_write_text(out / "run.json", run_json(summary))
    atomic_write_text(out / "index.html", index_html(summary))
    return summary


def _scheduler_name(scheduler: str | Client | None) -> str | None:
    if scheduler is None or isinstance(scheduler, str):
        return scheduler
    return getattr(scheduler.scheduler, "address", None) or repr(scheduler)


def _remove_empty_dir(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass  # absent, or still holding another run's files


# --------------------------------------------------------------------------------------------
# run.json and index.html
# --------------------------------------------------------------------------------------------


def _relative(path: Path | None, out: Path) -> str | None:
    if path is None:
        return None
    try:
        return path.relative_to(out).as_posix()
    except ValueError:
        return str(path)


def run_json(summary: RunSummary) -> str:
    """The run as JSON: settings, counts, and each report's status, reason and files."""
    reports = []
    for result in summary.results:
        record = asdict(result)
        for name in ("notebook", "html", "failed_notebook"):
            record[name] = _relative(record[name], summary.out)
        record["seconds"] = round(result.seconds, 3)
        reports.append(record)
    document = {
        "format": 1,
        "package_version": __version__,
        "started_at": summary.started_at.isoformat(timespec="seconds"),
        "seconds": round(summary.seconds, 3),
        "mode": summary.mode,
        "workers": summary.workers,
        "scheduler": summary.scheduler,
        "counts": {
            "total": len(summary.results),
            "ok": len(summary.ok),
            "skipped": len(summary.skipped),
            "failed": len(summary.failed),
        },
        "reports": reports,
    }
    return json.dumps(document, indent=2) + "\n"


_STATUS_LABEL = {"ok": "ok", "failed": "failed", "skipped": "up to date (skipped)"}

#: The index page's template (Jinja, autoescaped: a school name or failure reason is text).
_INDEX = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    keep_trailing_newline=True,
).get_template("run_index.html.j2")


def index_html(summary: RunSummary) -> str:
    """A self-contained page listing every report with its status (no scripts, no assets).

    Readers get the HTML reports; a failed report shows its reason and its failed notebook."""
    rows = [
        {
            "key": r.key,
            "title": r.title,
            "status": r.status,
            "label": _STATUS_LABEL[r.status],
            "html": _relative(r.html, summary.out) if r.status != "failed" else None,
            "reason": r.reason or "" if r.status == "failed" else "",
            "failed_notebook": _relative(r.failed_notebook, summary.out),
        }
        for r in summary.results
    ]
    counts = (
        f"{len(summary.results)} reports: {len(summary.ok)} written, "
        f"{len(summary.skipped)} up to date, {len(summary.failed)} failed"
    )
    return _INDEX.render(
        rows=rows,
        counts=counts,
        when=summary.started_at.strftime("%Y-%m-%d %H:%M UTC"),
        mode=summary.mode,
    )
