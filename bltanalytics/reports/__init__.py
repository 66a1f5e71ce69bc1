"""Reports: the sections of a school's report and of the district summary, and the batch runner.

The notebooks under ``notebooks/reports/`` call :func:`load`, :func:`resolve_year`, then one
builder per section; each returns a :class:`Section` (reading, chart, table, notes), which the
notebook displays. Every figure comes from a :class:`~bltanalytics.metrics.Metrics`
(aggregates only, suppression applied) and every word from :mod:`bltanalytics.present`.

The room, in the order a batch runs:

- :mod:`.plan`: compute the district's metrics once, plan one job per school;
- :mod:`.run`: run the jobs (warm kernels, fresh kernels or Dask), resume, index.html;
- :mod:`.kernels`: warm kernels, their reset between schools, the papermill engine;
- :mod:`.html`: an executed notebook to a self-contained, offline page (and PDF);
- :mod:`.source`, :mod:`.section`, :mod:`.school`, :mod:`.practice`, :mod:`.district`: what a
  report notebook calls.

Names are loaded on first use, so a kernel that imports :mod:`.kernels` at start-up (before
anything else, see there) does not import pandas, altair or the metrics through this door.

>>> from bltanalytics import reports
>>> metrics = reports.load()                          # the bundled sample district
>>> year = reports.resolve_year(metrics, "0101", "")  # "" = the latest year with data
>>> reports.achievement(metrics, "0101", year).title
'Achievement by student group, 2025-26'
"""

from importlib import import_module

#: the door's names, by the module of the room that defines them
_NAMES = {
    "district": (
        "district_achievement",
        "district_data_quality",
        "district_gaps",
        "district_learning",
        "district_overview",
        "district_scorecard",
    ),
    "practice": ("learning", "scorecard", "walkthroughs"),
    "school": ("achievement", "data_quality", "overview", "team_cycles", "trend"),
    "scores": ("scale_scores",),
    "section": ("Section",),
    "source": ("SAMPLE_DIR", "load", "resolve_year", "sample_dir", "school_pages"),
}
_MODULE_OF = {name: module for module, names in _NAMES.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'bltanalytics.reports' has no attribute {name!r}")
    value = getattr(import_module(f"bltanalytics.reports.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
