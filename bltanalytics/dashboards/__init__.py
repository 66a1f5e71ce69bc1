"""Voilà dashboards: achievement explorer, rubric board and presenter mode.

Each dashboard is one call that returns an ipywidgets widget; the notebooks in
``notebooks/dashboards/`` display it and ``bltanalytics dashboard NAME`` serves it with Voilà
(:mod:`bltanalytics.dashboards.serve`). Charts are SVG rendered in the kernel, so a page needs
no network. See ``docs/dashboards.md``.

>>> from bltanalytics.dashboards import build_explorer
>>> widget = build_explorer("data/sample")          # doctest: +SKIP

The builders are imported on first use, so the launcher does not pay for pandas and altair.
"""

from __future__ import annotations

import importlib

_BUILDERS = {
    "build_explorer": "bltanalytics.dashboards.explorer",
    "build_rubric_board": "bltanalytics.dashboards.rubric_board",
    "build_presenter": "bltanalytics.dashboards.presenter",
}

__all__ = sorted(_BUILDERS)


def _defer_import_tax() -> None:
    """Skip jsonschema's ~1 s rfc3987 grammar build in this process (PERFORMANCE_NOTES, Voilà).

    Runs before altair (and so jsonschema) is imported by a dashboard kernel; a no-op where the
    hook is unavailable or jsonschema's optional grammar is already loaded.
    """
    try:
        from bltanalytics.reports.kernels import defer_rfc3987_grammar
    except ImportError:  # pragma: no cover - the kernels module is optional here
        return
    defer_rfc3987_grammar()


_defer_import_tax()


def __getattr__(name: str):
    if name in _BUILDERS:
        return getattr(importlib.import_module(_BUILDERS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
