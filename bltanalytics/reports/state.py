"""Inside a warm kernel: the state it returns to between two notebooks.

:func:`snapshot_kernel_state` runs once, right after the kernel starts (and its preloaded
modules are imported); :func:`restore_kernel_state` runs before every notebook and puts back
what the snapshot recorded. The client side (:mod:`bltanalytics.reports.kernels`) calls them
through the kernel; this module imports only the standard library at module level, so
importing it in a kernel changes nothing a report could see.
"""

from __future__ import annotations

import builtins
import gc
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Modules a warm kernel imports at start-up, so their settings are part of the baseline that
#: :func:`restore_kernel_state` returns to (and the first report does not pay their import).
DEFAULT_PRELOAD = ("pandas", "altair")

log = logging.getLogger(__name__)


@dataclass
class _Baseline:
    user_ns: dict[str, Any]
    builtins: dict[str, Any]
    sys_path: list[str]
    sys_argv: list[str]
    sys_streams: dict[str, Any]
    environ: dict[str, str]
    warning_filters: list[Any]
    compiler_flags: int
    events: dict[str, list[Any]]
    transformers: dict[str, list[Any]]
    magics: dict[str, dict[str, Any]]
    pandas_options: dict[str, Any]
    altair_registries: dict[str, tuple[str, dict[str, Any]]]


_BASELINE: _Baseline | None = None
_SYS_STREAMS = ("stdin", "stdout", "stderr", "displayhook", "excepthook")
_TRANSFORMER_LISTS = ("ast_transformers", "input_transformers_cleanup", "input_transformers_post")


def _pandas_option_keys(node: Any, prefix: str = "") -> list[str]:
    """Every option key below ``pd.options`` (walked through the public options object)."""
    keys = []
    for name in dir(node):
        value = getattr(node, name)
        if type(value).__name__ == "DictWrapper":
            keys.extend(_pandas_option_keys(value, f"{prefix}{name}."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


def _pandas_options() -> dict[str, Any]:
    pd = sys.modules.get("pandas")
    if pd is None:
        return {}
    return {key: pd.get_option(key) for key in _pandas_option_keys(pd.options)}


def _altair_registries() -> dict[str, tuple[str, dict[str, Any]]]:
    alt = sys.modules.get("altair")
    if alt is None:
        return {}
    found = {}
    for name in ("renderers", "data_transformers", "theme"):
        registry = getattr(alt, name, None)
        if registry is not None and hasattr(registry, "enable") and hasattr(registry, "active"):
            found[name] = (registry.active, dict(getattr(registry, "options", {}) or {}))
    return found


def snapshot_kernel_state(preload: Sequence[str] = DEFAULT_PRELOAD) -> None:
    """Inside a kernel: import ``preload`` and record the state to restore between notebooks.

    Runs once, right after the kernel has started (a :class:`WarmKernel` does it).
    """
    global _BASELINE
    from IPython import get_ipython

    for module in preload:
        try:
            importlib.import_module(module)
        except ImportError:
            log.info("warm kernel: %s is not installed; not preloaded", module)
    shell = get_ipython()
    _BASELINE = _Baseline(
        user_ns=dict(shell.user_ns),
        builtins=dict(vars(builtins)),
        sys_path=list(sys.path),
        sys_argv=list(sys.argv),
        sys_streams={name: getattr(sys, name) for name in _SYS_STREAMS},
        environ=dict(os.environ),
        warning_filters=list(warnings.filters),
        compiler_flags=shell.compile.flags,
        events={name: list(callbacks) for name, callbacks in shell.events.callbacks.items()},
        transformers={name: list(getattr(shell, name, [])) for name in _TRANSFORMER_LISTS},
        magics={kind: dict(table) for kind, table in shell.magics_manager.magics.items()},
        pandas_options=_pandas_options(),
        altair_registries=_altair_registries(),
    )
    # Keep start-up objects out of later collections: restore_kernel_state's gc.collect() then
    # only walks what the notebooks created (0.15 s -> a few ms with pandas and altair loaded).
    gc.collect()
    gc.freeze()


def _restore_dict(current: dict, baseline: dict) -> None:
    """Make ``current`` equal to ``baseline`` in place: drop added keys, restore rebound ones."""
    for name in [name for name in current if name not in baseline]:
        del current[name]
    missing = object()
    for name, value in baseline.items():
        if current.get(name, missing) is not value:
            current[name] = value


def restore_kernel_state(cwd: str) -> None:
    """Inside a kernel: return to the state recorded by :func:`snapshot_kernel_state`.

    Restored: every name in the user namespace (names added since are deleted, names rebound
    are put back, so variables, functions, classes and imported names all go), ``builtins``,
    the input/output history (``In``, ``Out``, ``_``, ``_N``, ``_iN``) and the execution
    count, ``from __future__`` compiler flags, IPython event callbacks, input/AST transformers
    and magics, ``sys.path``, ``sys.argv``, the ``sys`` streams and hooks, ``os.environ``, the
    warning filters and "once" registries, pandas options and altair's renderer, theme and data
    transformer; then the working directory is set to ``cwd`` and garbage is collected.

    Not restored (recycling the kernel bounds these): attributes user code sets on imported
    modules other than the settings above, modules imported since start-up (they stay loaded,
    which is what makes the kernel warm), random-number generator state, threads, open files.
    """
    from IPython import get_ipython

    if _BASELINE is None:
        raise RuntimeError("restore_kernel_state() called before snapshot_kernel_state()")
    base = _BASELINE
    shell = get_ipython()

    os.chdir(cwd)
    _restore_process(base)
    _restore_dict(vars(builtins), base.builtins)
    _restore_dict(shell.user_ns, base.user_ns)
    _restore_shell(shell, base)
    warnings.resetwarnings()  # also invalidates every module's __warningregistry__
    warnings.filters[:] = base.warning_filters
    warnings.onceregistry.clear()
    _restore_libraries(base)
    gc.collect()


def _restore_process(base: _Baseline) -> None:
    """``sys.path``, ``sys.argv``, the ``sys`` streams and hooks, ``os.environ``."""
    sys.path[:] = base.sys_path
    sys.argv[:] = base.sys_argv
    for name, stream in base.sys_streams.items():
        if getattr(sys, name) is not stream:
            setattr(sys, name, stream)
    if dict(os.environ) != base.environ:
        for name in [name for name in os.environ if name not in base.environ]:
            del os.environ[name]
        for name, value in base.environ.items():
            if os.environ.get(name) != value:
                os.environ[name] = value


def _restore_shell(shell: Any, base: _Baseline) -> None:
    """IPython's history and execution count, compiler flags, events, transformers, magics."""
    history = shell.history_manager
    history.input_hist_parsed[:] = [""]
    history.input_hist_raw[:] = [""]
    history.output_hist.clear()
    history.dir_hist[:] = [Path.cwd()]
    history._i00 = history._i = history._ii = history._iii = ""
    shell.displayhook._, shell.displayhook.__, shell.displayhook.___ = "", "", ""
    shell.execution_count = 1
    shell.last_execution_succeeded = True
    shell.last_execution_result = None
    shell.compile.flags = base.compiler_flags
    for name, callbacks in base.events.items():
        shell.events.callbacks[name][:] = callbacks
    for name, transformers in base.transformers.items():
        getattr(shell, name)[:] = transformers
    for kind, table in base.magics.items():
        _restore_dict(shell.magics_manager.magics[kind], table)


def _restore_libraries(base: _Baseline) -> None:
    """pandas options and altair's renderer, theme and data transformer."""
    pd = sys.modules.get("pandas")
    if pd is not None:
        for key, value in base.pandas_options.items():
            if pd.get_option(key) != value:
                pd.set_option(key, value)
    alt = sys.modules.get("altair")
    if alt is not None:
        for name, (active, options) in base.altair_registries.items():
            registry = getattr(alt, name)
            if registry.active != active or dict(registry.options or {}) != options:
                registry.enable(active, **options)
