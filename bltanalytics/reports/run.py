"""The batch report runner behind ``bltanalytics reports``: one notebook run per school.

:func:`run_reports` takes a list of :class:`ReportJob` (one per school) and an output folder,
and for every job writes

- ``<out>/<key>.ipynb``: the executed notebook, with its parameters (the audit record);
- ``<out>/<key>.html``: the report, self-contained and offline (:mod:`bltanalytics.reports.html`);

then ``<out>/index.html`` (every report with its status) and ``<out>/run.json`` (the same,
machine-readable). A job that fails does not stop the others: its notebook is kept as
``<out>/failed/<key>.ipynb`` and the summary says why it failed. Every file appears whole or not
at all (written to a temporary file in the same folder, then renamed).

Resume: a job whose report exists and whose fingerprint (notebook, parameters, input files,
title, package version and code) matches the one recorded in ``<out>/.fingerprints/<key>.json`` is
skipped, unless ``force=True``.

Where the notebooks run:

- default: ``workers`` threads on this machine, each with its own warm kernel
  (:class:`bltanalytics.reports.kernels.WarmKernel`, reset between schools, recycled every
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

import json
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
from distributed import Client
from distributed.diagnostics.plugin import WorkerPlugin
from papermill.exceptions import PapermillExecutionError
from tqdm.auto import tqdm

from bltanalytics import __version__
from bltanalytics.reports.html import notebook_to_html
from bltanalytics.reports.jobs import (
    FINGERPRINT_DIR,
    INJECTED_CELL_ID,
    INPUT_HASHES_FILE,
    RUNNING_DIR,
    WORKER_PLUGIN_NAME,
    InputHashes,
    JobPaths,
    JobResult,
    ReportJob,
    RunSummary,
    atomic_write_text,
    index_html,
    is_up_to_date,
    job_fingerprint,
    run_json,
)
from bltanalytics.reports.kernels import KernelPool, WarmKernel, run_fresh

log = logging.getLogger(__name__)

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


def _keep_failed_notebook(scratch: Path, paths: JobPaths, reason: str) -> Path | None:
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
    paths = JobPaths(Path(out), job.key)
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
        paths = JobPaths(out, job.key)
        try:
            fingerprint = job_fingerprint(job, hashes)
        except OSError as exc:  # a missing notebook or input: this job cannot run
            results[job.key] = _failed_before_running(job, exc)
            for stale in (paths.notebook, paths.html, paths.pdf, paths.fingerprint):
                stale.unlink(missing_ok=True)  # as for any failure: no report that is not current
            continue
        if not force and is_up_to_date(paths, fingerprint):
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
