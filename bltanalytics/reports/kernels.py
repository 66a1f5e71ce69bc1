"""Warm kernels: run notebook after notebook on one long-lived IPython kernel.

papermill starts a fresh kernel for every notebook (it has no kernel reuse: papermill#326, #583,
#616) and start-up dominates a per-school report: ~1.5 s of interpreter, imports and kernel
start-up against ~0.1 s of work. A :class:`WarmKernel` is started once, runs many notebooks, and
between two notebooks puts the kernel back into the state it had right after start-up
(:func:`bltanalytics.reports.state.restore_kernel_state` lists exactly what is restored). It is
recycled (shut down and started afresh) every ``recycle_every`` notebooks and after any
failure, time-out or crash, which bounds any state the reset cannot reach.

Notebooks still run through papermill (:mod:`bltanalytics.reports.engine` is a papermill engine), so
parameters are injected and recorded exactly as papermill does, and a failing cell raises
``papermill.PapermillExecutionError`` with the failed notebook written out.

The kernels this module starts also skip a ~1 s import tax: :func:`defer_rfc3987_grammar`.

This module is imported inside every kernel it starts, before anything else, so it only imports
the standard library and ``jupyter_client`` (which ipykernel imports anyway) at module level;
papermill, nbclient and nbformat are imported where they are used.

>>> with WarmKernel(recycle_every=25) as kernel:  # doctest: +SKIP
...     nb = kernel.run_notebook("report.ipynb", "out/0101.ipynb", {"school_id": "0101"})
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import zmq
from jupyter_client import AsyncKernelManager
from traitlets import default

from bltanalytics.reports.state import DEFAULT_PRELOAD

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "FastStartKernelManager",
    "KernelPool",
    "KernelResetError",
    "WarmKernel",
    "defer_rfc3987_grammar",
    "run_fresh",
]

log = logging.getLogger(__name__)


T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Start-up fix: jsonschema -> rfc3987_syntax builds a parser grammar at import (~1 s)
# --------------------------------------------------------------------------------------------


class _DeferredGrammarFinder(importlib.abc.MetaPathFinder):
    """Import ``rfc3987_syntax`` as a stand-in that builds its grammar on first use.

    ``rfc3987_syntax`` (an optional dependency of jsonschema, used only for the ``iri`` and
    ``iri-reference`` formats) compiles three Lark parsers when imported, ~1 s in every process
    that imports jsonschema (jsonschema#1428). The stand-in is the same package (its
    ``__path__`` is the real one, so its submodules load from the installed files) but its
    ``__init__`` does not run; ``is_valid_syntax`` and every other attribute load the real
    ``rfc3987_syntax.syntax_helpers`` on first use, so validation gives the same answers.
    """

    name = "rfc3987_syntax"

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        real = importlib.machinery.PathFinder.find_spec(fullname)
        if real is None or not real.submodule_search_locations:
            return None  # not installed: jsonschema skips the two formats, as without us
        spec = importlib.util.spec_from_loader(fullname, _DeferredGrammarLoader(), is_package=True)
        spec.submodule_search_locations = list(real.submodule_search_locations)
        return spec


class _DeferredGrammarLoader(importlib.abc.Loader):
    def create_module(self, spec):
        return None

    def exec_module(self, module):
        def helpers():
            return importlib.import_module("rfc3987_syntax.syntax_helpers")

        def is_valid_syntax(term: str, value: str) -> bool:
            return helpers().is_valid_syntax(term, value)

        def __getattr__(name: str):
            if name.startswith("__"):
                raise AttributeError(name)
            try:
                return getattr(helpers(), name)
            except AttributeError:
                raise AttributeError(f"module 'rfc3987_syntax' has no attribute {name!r}") from None

        module.is_valid_syntax = is_valid_syntax
        module.__getattr__ = __getattr__


def defer_rfc3987_grammar() -> bool:
    """Make ``import rfc3987_syntax`` cheap in this process; True if the hook is (now) active.

    Call it before anything imports jsonschema (nbformat, papermill, altair, ...). It does
    nothing if ``rfc3987_syntax`` is already imported. Kernels started by this module call it
    first thing (see :class:`FastStartKernelManager`).

    >>> defer_rfc3987_grammar() in (True, False)
    True
    """
    if any(isinstance(finder, _DeferredGrammarFinder) for finder in sys.meta_path):
        return True
    if _DeferredGrammarFinder.name in sys.modules:
        return False
    sys.meta_path.insert(0, _DeferredGrammarFinder())
    return True


#: What a fast-start kernel runs instead of ``python -m ipykernel_launcher``: the same thing
#: (ipykernel_launcher drops the working directory from sys.path while it imports), plus the
#: deferred grammar.
_LAUNCHER = (
    "import sys\n"
    "if sys.path and sys.path[0] in ('', '.'): del sys.path[0]\n"
    "from bltanalytics.reports.kernels import defer_rfc3987_grammar\n"
    "defer_rfc3987_grammar()\n"
    "from ipykernel import kernelapp\n"
    "kernelapp.launch_new_instance()\n"
)


def _fast_launch_command(cmd: Sequence[str]) -> list[str]:
    """Swap ``-m ipykernel_launcher`` for the launcher above, for this same interpreter only.

    >>> _fast_launch_command([sys.executable, "-m", "ipykernel_launcher", "-f", "c.json"])[1]
    '-c'
    >>> _fast_launch_command(["/other/python", "-m", "ipykernel_launcher", "-f", "c.json"])[1]
    '-m'
    """
    cmd = list(cmd)
    same_python = cmd and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable)
    for i in range(len(cmd) - 1):
        if same_python and cmd[i] == "-m" and cmd[i + 1] == "ipykernel_launcher":
            return [*cmd[:i], "-c", _LAUNCHER, *cmd[i + 2 :]]
    return cmd


class FastStartKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose Python kernels start with :func:`defer_rfc3987_grammar`.

    nbclient's default manager class, with one change to the launch command; any kernel that is
    not this interpreter's ipykernel is launched unchanged. Pass it to papermill as
    ``kernel_manager_class=FastStartKernelManager``.
    """

    @default("transport_encryption")
    def _transport_encryption_default(self) -> str:
        # The python3 kernelspec declares CurveZMQ support: use it when pyzmq has it (no
        # plain-text warning from every kernel, and no plain text on the loopback either).
        return "auto" if zmq.has("curve") else "disabled"

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return _fast_launch_command(super().format_kernel_cmd(extra_arguments))


# --------------------------------------------------------------------------------------------
# Client side: one warm kernel
# --------------------------------------------------------------------------------------------


class KernelResetError(RuntimeError):
    """A warm kernel could not be put back into its start-up state (it is then recycled)."""


_KERNEL_MODULE = "__import__('bltanalytics.reports.state').reports.state"


class WarmKernel:
    """One IPython kernel kept alive across notebooks, reset between them.

    The kernel, its manager and its client live on a private event loop, so a WarmKernel can be
    driven from any thread (one at a time; a lock serialises calls). nbclient is handed both the
    kernel manager and the kernel client, so nothing is opened per notebook (papermill's own
    ``km=`` argument opens a new client per notebook and leaks its sockets).

    ``recycle_every``: the kernel is replaced after this many notebooks, and after any notebook
    that fails, times out or kills the kernel. ``preload``: modules imported at kernel start.
    """

    def __init__(
        self,
        kernel_name: str = "python3",
        *,
        recycle_every: int = 25,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        startup_timeout: float = 60.0,
    ) -> None:
        if recycle_every < 1:
            raise ValueError(f"recycle_every must be at least 1, found {recycle_every!r}")
        self.kernel_name = kernel_name
        self.recycle_every = recycle_every
        self.preload = tuple(preload)
        self.startup_timeout = startup_timeout
        self.km: FastStartKernelManager | None = None
        self.kc: Any = None
        self.starts = 0  # kernels started so far (a new one after every recycle)
        self.jobs_on_kernel = 0  # notebooks run on the current kernel
        self._loop = asyncio.new_event_loop()
        self._lock = threading.RLock()

    # -- running coroutines on the private loop ----------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return self._loop.run_until_complete(coro)
            # Called from inside a running event loop (a Dask worker's, say): an event loop
            # cannot run inside another in one thread, so run ours in a helper thread.
            with concurrent.futures.ThreadPoolExecutor(1) as helper:
                return helper.submit(self._loop.run_until_complete, coro).result()

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self.km is not None

    def start(self) -> None:
        """Start a kernel (if none is running) and record its baseline state."""
        with self._lock:
            if self.km is None:
                self._run(self._start())

    async def _start(self) -> None:
        km = FastStartKernelManager(kernel_name=self.kernel_name)
        await km.start_kernel(extra_arguments=["--HistoryManager.hist_file=:memory:"])
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=self.startup_timeout)
            kc.allow_stdin = False
            self.km, self.kc = km, kc
            self.starts += 1
            self.jobs_on_kernel = 0
            await self._silent(f"{_KERNEL_MODULE}.snapshot_kernel_state({self.preload!r})")
        except BaseException:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
            self.km = self.kc = None
            raise

    def shutdown(self) -> None:
        """Stop the kernel at once (no graceful shutdown: it stalls, see PERFORMANCE_NOTES)."""
        with self._lock:
            if self.km is not None:
                self._run(self._shutdown())

    async def _shutdown(self) -> None:
        km, kc = self.km, self.kc
        self.km = self.kc = None
        try:
            kc.stop_channels()
        finally:
            try:
                await km.shutdown_kernel(now=True)
            except Exception as exc:  # already dead: nothing left to stop
                log.debug("warm kernel shutdown: %s", exc)

    def kill(self) -> None:
        """Kill the kernel process at once, from any thread, even while a notebook runs.

        The running notebook (if any) then fails with a dead kernel, and the kernel is
        recycled; use it to interrupt a run.
        """
        pid = self.pid
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        """Shut the kernel down and release the private event loop."""
        with self._lock:
            self.shutdown()
            if not self._loop.is_closed():
                self._loop.close()

    def __enter__(self) -> WarmKernel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """Process id of the running kernel (None when none is running)."""
        provisioner = getattr(self.km, "provisioner", None)
        return getattr(provisioner, "pid", None)

    # -- reset --------------------------------------------------------------------------------

    async def _silent(self, code: str, timeout: float = 60.0) -> None:
        """Run ``code`` without history or output; raise KernelResetError if it fails."""
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + timeout
        reply = None
        while reply is None:
            msg = await self.kc.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.01))
            if msg["parent_header"].get("msg_id") == msg_id:
                reply = msg
        # drain this request's iopub messages so the next notebook starts on an idle kernel
        while True:
            msg = await self.kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"
            ):
                break
        if reply["content"]["status"] != "ok":
            content = reply["content"]
            raise KernelResetError(f"{content.get('ename')}: {content.get('evalue')}")

    def prepare(self, cwd: str | Path) -> None:
        """Make the kernel ready for the next notebook: start or recycle it, reset, chdir."""
        with self._lock:
            if self.km is not None and (
                self.jobs_on_kernel >= self.recycle_every or not self._run(self.km.is_alive())
            ):
                self.shutdown()
            self.start()
            try:
                self._run(self._silent(f"{_KERNEL_MODULE}.restore_kernel_state({str(cwd)!r})"))
            except Exception as exc:
                log.warning("warm kernel reset failed (%s); starting a new kernel", exc)
                self.shutdown()
                self.start()
                self._run(self._silent(f"{_KERNEL_MODULE}.restore_kernel_state({str(cwd)!r})"))

    # -- running a notebook -------------------------------------------------------------------

    def run_notebook(
        self,
        notebook: str | Path,
        output: str | Path,
        parameters: Mapping[str, Any] | None = None,
        *,
        cwd: str | Path | None = None,
        timeout: float | None = None,
    ) -> NotebookNode:
        """Execute ``notebook`` with papermill on this kernel; return the executed notebook.

        ``output``: where papermill writes the notebook when a cell fails (with its error
        markers) or the run is cut short (time-out, dead kernel), and on success. ``cwd``: the
        notebook's working directory (default: the notebook's folder). ``timeout``: seconds
        allowed per cell. Any exception (a ``PapermillExecutionError`` for a failing cell,
        nbclient's ``CellTimeoutError`` or ``DeadKernelError``) recycles the kernel.
        """
        import papermill

        from bltanalytics.reports.engine import WARM_ENGINE_NAME

        notebook = Path(notebook)
        with self._lock:
            try:
                self.prepare(cwd if cwd is not None else notebook.resolve().parent)
                nb = papermill.execute_notebook(
                    str(notebook),
                    str(output),
                    parameters=dict(parameters or {}),
                    engine_name=WARM_ENGINE_NAME,
                    kernel_name=self.kernel_name,
                    progress_bar=False,
                    warm_kernel=self,
                    execution_timeout=timeout,
                )
            except BaseException:
                self.shutdown()
                raise
            self.jobs_on_kernel += 1
            return nb

    def _execute_managed(self, nb_man: Any, **client_kwargs: Any) -> NotebookNode:
        """Called by the warm papermill engine: run ``nb_man``'s cells on this kernel."""
        from papermill.clientwrap import PapermillNotebookClient

        client = PapermillNotebookClient(nb_man, km=self.km, **client_kwargs)
        client.kc = self.kc  # hand over the client too: no new sockets per notebook
        return self._run(_execute_cells(client))


async def _execute_cells(client: Any) -> NotebookNode:
    """``PapermillNotebookClient.execute`` + ``papermill_execute_cells``, as one coroutine.

    papermill's versions are synchronous wrappers that run each step on the calling thread's
    event loop; the warm kernel's sockets live on its own loop, so the same steps run here.
    """
    from jupyter_core.utils import ensure_async
    from nbclient.exceptions import CellExecutionError

    nb_man = client.nb_man
    client.reset_execution_trackers()
    async with client.async_setup_kernel():
        for index, cell in enumerate(client.nb.cells):
            try:
                nb_man.cell_start(cell, index)
                await client.async_execute_cell(cell, index)
            except CellExecutionError as exc:
                nb_man.cell_exception(client.nb.cells[index], cell_index=index, exception=exc)
                break
            finally:
                nb_man.cell_complete(client.nb.cells[index], cell_index=index)
        info = await client.async_wait_for_reply(await ensure_async(client.kc.kernel_info()))
        client.nb.metadata["language_info"] = info["content"]["language_info"]
        client.set_widgets_metadata()
    return client.nb


# --------------------------------------------------------------------------------------------
# Fresh kernels (plain papermill) and a pool of warm kernels
# --------------------------------------------------------------------------------------------


def run_fresh(
    notebook: str | Path,
    output: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    cwd: str | Path | None = None,
    timeout: float | None = None,
) -> NotebookNode:
    """Execute ``notebook`` with plain papermill on a fresh kernel (started, then killed).

    The two measured fixes apply: the kernel starts with :func:`defer_rfc3987_grammar`, and is
    stopped with ``shutdown_kernel="immediate"``. The kernel's working directory is ``cwd``
    (default: the notebook's folder), set without changing this process's directory.
    """
    import papermill

    notebook = Path(notebook)
    cwd = Path(cwd) if cwd is not None else notebook.resolve().parent
    return papermill.execute_notebook(
        str(notebook),
        str(output),
        parameters=dict(parameters or {}),
        progress_bar=False,
        execution_timeout=timeout,
        kernel_manager_class=FastStartKernelManager,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(cwd)}},
    )


class KernelPool:
    """Warm kernels for the threads of one process: each thread gets its own kernel.

    >>> with KernelPool(recycle_every=25) as pool:  # doctest: +SKIP
    ...     nb = pool.kernel().run_notebook("report.ipynb", "out.ipynb", {"school_id": "0101"})
    """

    def __init__(self, recycle_every: int = 25, kernel_name: str = "python3") -> None:
        self.recycle_every = recycle_every
        self.kernel_name = kernel_name
        self._local = threading.local()
        self._kernels: list[WarmKernel] = []
        self._lock = threading.Lock()

    def kernel(self) -> WarmKernel:
        """The calling thread's kernel (created, not yet started, on first use)."""
        kernel = getattr(self._local, "kernel", None)
        if kernel is None:
            kernel = WarmKernel(self.kernel_name, recycle_every=self.recycle_every)
            self._local.kernel = kernel
            with self._lock:
                self._kernels.append(kernel)
        return kernel

    @property
    def kernels(self) -> tuple[WarmKernel, ...]:
        with self._lock:
            return tuple(self._kernels)

    def kill(self) -> None:
        """Kill every kernel of the pool at once (see :meth:`WarmKernel.kill`)."""
        for kernel in self.kernels:
            kernel.kill()

    def close(self) -> None:
        """Shut every kernel of the pool down."""
        with self._lock:
            kernels, self._kernels = self._kernels, []
        for kernel in kernels:
            try:
                kernel.close()
            except Exception as exc:
                log.warning("could not shut a warm kernel down: %s", exc)

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
