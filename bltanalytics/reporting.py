"""The district's reports: compute the metrics once, then one notebook run per school.

:func:`plan_reports` loads the district, writes its metrics export into
``<out>/_metrics/`` (the notebooks read it instead of recomputing), runs the privacy audit on
it (:class:`~bltanalytics.audit.AuditFailure` when it fails: no report is made) and returns one
:class:`~bltanalytics.batch.ReportJob` per school plus one for the district summary;
:func:`bltanalytics.batch.run_reports` runs them.

>>> jobs = plan_reports("data/sample", Path("reports"))          # doctest: +SKIP
>>> [j.key for j in jobs][:2]                                     # doctest: +SKIP
['school_0101', 'school_0102']
"""

from __future__ import annotations

from pathlib import Path

import bltanalytics
from bltanalytics.audit import audit, require_protected
from bltanalytics.batch import ReportJob
from bltanalytics.config import Config
from bltanalytics.district import load_district
from bltanalytics.errors import BltError
from bltanalytics.metrics import compute_metrics, write_metrics

NOTEBOOKS = Path(bltanalytics.__file__).resolve().parents[1] / "notebooks" / "reports"
SCHOOL_NOTEBOOK = NOTEBOOKS / "school_report.ipynb"
SUMMARY_NOTEBOOK = NOTEBOOKS / "district_summary.ipynb"
METRICS_DIR = "_metrics"
SUMMARY_KEY = "district_summary"


def plan_reports(
    folder: str | Path,
    out: Path,
    *,
    schools: list[str] | None = None,
    year: str | None = None,
    config: Config | None = None,
) -> list[ReportJob]:
    """Compute the metrics once and return the report jobs (schools first, then the summary).

    ``schools``: ids to report on (default: every school); an unknown id is an error naming
    it. ``year``: the school year to report (default: each school's latest year).
    """
    config = config or Config()
    folder = Path(folder).resolve()
    district = load_district(folder)
    metrics = compute_metrics(district, config)
    known = metrics.schools.set_index("school_id")["school_name"]
    if schools:
        unknown = [s for s in schools if s not in known.index]
        if unknown:
            raise BltError(
                f"no school {', '.join(map(repr, unknown))} in {folder.name}/schools "
                f"(ids are text, e.g. {known.index[0]!r}; known: {', '.join(known.index[:10])})"
            )
        selected = list(dict.fromkeys(schools))
    else:
        selected = known.index.tolist()
    if year is not None and year not in metrics.school_years:
        raise BltError(
            f"no school year {year!r} in the district (years: {', '.join(metrics.school_years)})"
        )
    metrics_dir = Path(out).resolve() / METRICS_DIR
    write_metrics(metrics, metrics_dir)
    # no report is made from an export that fails the privacy audit
    require_protected(audit(metrics.achievement, config), metrics_dir)
    inputs = sorted(metrics_dir.glob("*.parquet"))
    shared = {
        "school_year": year or "",
        "data_dir": str(folder),
        "metrics_dir": str(metrics_dir),
        "min_n": config.min_n,
    }
    jobs = [
        ReportJob(
            key=f"school_{school_id}",
            notebook=SCHOOL_NOTEBOOK,
            parameters={"school_id": str(school_id), **shared},
            inputs=inputs,
            title=f"{known[school_id]} ({school_id}): BLT evidence report",
        )
        for school_id in selected
    ]
    jobs.append(
        ReportJob(
            key=SUMMARY_KEY,
            notebook=SUMMARY_NOTEBOOK,
            parameters=shared,
            inputs=inputs,
            title="District summary: all schools side by side",
        )
    )
    return jobs
