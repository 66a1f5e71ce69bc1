"""Reports: the sections a school's report and the district summary are made of.

The notebooks under ``notebooks/reports/`` call :func:`load`, :func:`resolve_year`, then one
builder per section; each returns a :class:`Section` (reading, chart, table, notes), which the
notebook displays. Every figure comes from a :class:`~bltanalytics.metrics.Metrics`
(aggregates only, suppression applied) and every word from :mod:`bltanalytics.present`.

>>> from bltanalytics import reports
>>> metrics = reports.load()                          # the bundled sample district
>>> year = reports.resolve_year(metrics, "0101", "")  # "" = the latest year with data
>>> reports.achievement(metrics, "0101", year).title
'Achievement by student group, 2025-26'
"""

from bltanalytics.reports.district import (
    district_achievement,
    district_data_quality,
    district_gaps,
    district_learning,
    district_overview,
    district_scorecard,
)
from bltanalytics.reports.practice import learning, scorecard, walkthroughs
from bltanalytics.reports.school import achievement, data_quality, overview, team_cycles, trend
from bltanalytics.reports.section import Section
from bltanalytics.reports.source import SAMPLE_DIR, load, resolve_year, sample_dir

__all__ = [
    "SAMPLE_DIR",
    "Section",
    "achievement",
    "data_quality",
    "district_achievement",
    "district_data_quality",
    "district_gaps",
    "district_learning",
    "district_overview",
    "district_scorecard",
    "learning",
    "load",
    "overview",
    "resolve_year",
    "sample_dir",
    "scorecard",
    "team_cycles",
    "trend",
    "walkthroughs",
]
