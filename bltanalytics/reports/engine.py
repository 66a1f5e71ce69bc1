"""The papermill engine that runs a notebook on a warm kernel (``bltanalytics-warm``).

papermill finds it through its ``papermill.engine`` entry point (pyproject.toml), like any
third-party engine: ``papermill.execute_notebook(..., engine_name="bltanalytics-warm",
warm_kernel=kernel)``. It is papermill's own :class:`~papermill.engines.NBClientEngine` with
two changes: the cells run on the :class:`~bltanalytics.reports.kernels.WarmKernel` passed in
(never a new kernel), and the output notebook is written once, when the run ends or is cut
short, not after every cell.

>>> from papermill.engines import papermill_engines
>>> from bltanalytics.reports import engine
>>> papermill_engines.get_engine(WARM_ENGINE_NAME) is engine.WarmKernelEngine
True
"""

from __future__ import annotations

import logging

#: The engine's name, as registered in pyproject.toml's ``papermill.engine`` entry points.
WARM_ENGINE_NAME = "bltanalytics-warm"


def __getattr__(name: str):
    """``WarmKernelEngine`` is built on first use (PEP 562), not at import.

    Importing ``papermill.engines`` loads every ``papermill.engine`` entry point, this one
    included, before that import has finished; a class defined at this module's top level
    (below ``from papermill.engines import ...``) would not exist yet when papermill asks for it.
    """
    if name == "WarmKernelEngine":
        return _engine_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _engine_class() -> type:
    from papermill.engines import NBClientEngine, NotebookExecutionManager
    from papermill.iorw import write_ipynb
    from papermill.utils import merge_kwargs, remove_args

    built = globals().get("WarmKernelEngine")
    if built is not None:  # the import above loaded the entry point, which built it
        return built

    class WarmKernelEngine(NBClientEngine):
        """papermill's nbclient engine, on the ``warm_kernel`` passed in."""

        @classmethod
        def execute_notebook(
            cls, nb, kernel_name, output_path=None, progress_bar=False, log_output=False, **kw
        ):
            kw = remove_args(["autosave_cell_every"], **kw)
            nb_man = NotebookExecutionManager(
                nb, output_path=None, progress_bar=progress_bar, log_output=log_output
            )
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kw)
            except BaseException:
                nb_man.notebook_complete()
                if output_path:
                    write_ipynb(nb_man.nb, output_path)
                raise
            nb_man.notebook_complete()
            return nb_man.nb

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            warm_kernel=None,
            **kwargs,
        ):
            from bltanalytics.reports.kernels import WarmKernel

            if not isinstance(warm_kernel, WarmKernel):
                raise TypeError(f"the {WARM_ENGINE_NAME} engine needs warm_kernel=WarmKernel")
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            client_kwargs = merge_kwargs(
                kwargs,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logging.getLogger("papermill"),
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            return warm_kernel._execute_managed(nb_man, **client_kwargs)

    globals()["WarmKernelEngine"] = WarmKernelEngine
    return WarmKernelEngine
