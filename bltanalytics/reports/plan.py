"""The district's reports: compute the metrics once, then one notebook run per school.

:func:`plan_reports` loads the district, writes its metrics export into
``<out>/_metrics/`` (the notebooks read it instead of recomputing), runs the privacy audit on
it (:class:`~bltanalytics.metrics.audit.AuditFailure` when it fails: no report is made) and returns
one
:class:`~bltanalytics.reports.run.ReportJob` per school plus one for the district summary;
:func:`bltanalytics.reports.run.run_reports` runs them.

>>> jobs = plan_reports("data/sample", Path("reports"))          # doctest: +SKIP
>>> [j.key for j in jobs][:2]                                     # doctest: +SKIP
['school_0101', 'school_0102']
"""

from __future__ import annotations

from pathlib import Path

from bltanalytics import resources
from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.load import load_district, school_year_text
from bltanalytics.metrics import compute_metrics, write_metrics
from bltanalytics.metrics.audit import audit_export, require_protected
from bltanalytics.reports.jobs import REPORT_KEY, ReportJob, RunSummary
from bltanalytics.reports.source import school_key

NOTEBOOKS = resources.notebooks_dir() / "reports"
SCHOOL_NOTEBOOK = NOTEBOOKS / "school_report.ipynb"
SUMMARY_NOTEBOOK = NOTEBOOKS / "district_summary.ipynb"
METRICS_DIR = "_metrics"
SUMMARY_KEY = "district_summary"


def _school_year(year: str, known: list[str]) -> str:
    """The school year ``year`` names, spelled as the loader spells it (``2025-26``).

    ``2025-26``, ``2025-2026`` and ``2026`` (the spring it ends in) name the same year, as in
    the district's files.

    >>> _school_year("2025-2026", ["2024-25", "2025-26"]), _school_year("2026", ["2025-26"])
    ('2025-26', '2025-26')
    >>> _school_year("2030", ["2025-26"])
    Traceback (most recent call last):
    ...
    bltanalytics.errors.BltError: no school year '2030' (2029-30) in the district (years: 2025-26)
    """
    canonical = school_year_text(str(year))
    if canonical is None:
        raise BltError(
            f"--year {year!r} is not a school year: write it as 2025-26, 2025-2026 or 2026"
        )
    if canonical not in known:
        spelled = f" ({canonical})" if canonical != year else ""
        raise BltError(
            f"no school year {year!r}{spelled} in the district (years: {', '.join(known)})"
        )
    return canonical


def _check_report_ids(district, school_ids: list[str]) -> None:
    """Every school reported on must give a report file name (``school_<id>``)."""
    bad = [s for s in school_ids if not REPORT_KEY.fullmatch(school_key(s))]
    if not bad:
        return
    schools = district.tables["schools"]
    rows = schools.loc[schools["school_id"].isin(bad), ["source_row", "school_id"]]
    where = {r.school_id: r.source_row for r in rows.itertuples()}
    source = district.files.get("schools")
    name = source.name if source is not None else "schools"
    listed = "; ".join(f"{s!r} ({name} row {where[s]})" if s in where else repr(s) for s in bad[:5])
    raise BltError(
        f"school id {listed} cannot name a report file: a report needs ids made of letters, "
        "digits, '.', '_' and '-' (no spaces); correct the id in the schools table "
        "(or map it in mapping.yaml, see docs/data.md)"
    )


def plan_reports(
    folder: str | Path,
    out: Path,
    *,
    schools: list[str] | None = None,
    year: str | None = None,
    config: Config | None = None,
) -> list[ReportJob]:
    """Compute the metrics once and return the report jobs (schools first, then the summary).

    ``schools``: ids to report on (default: every school); an unknown id, or one that cannot
    name a report file (a space in it), is an error naming it. ``year``: the school year to
    report, spelled as in the files (``2025-26``, ``2025-2026``, ``2026``; default: each
    school's latest year).
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
    _check_report_ids(district, selected)
    if year is not None:
        year = _school_year(year, metrics.school_years)
    metrics_dir = Path(out).resolve() / METRICS_DIR
    write_metrics(metrics, metrics_dir)
    # no report is made from an export that fails the privacy audit
    require_protected(audit_export(metrics.achievement, metrics.scale_scores, config), metrics_dir)
    inputs = sorted(metrics_dir.glob("*.parquet"))
    shared = {
        "school_year": year or "",
        "data_dir": str(folder),
        "metrics_dir": str(metrics_dir),
        "min_n": config.min_n,
    }
    jobs = [
        ReportJob(
            key=school_key(school_id),
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
            parameters={**shared, "school_reports": [str(s) for s in selected]},
            inputs=inputs,
            title="District summary: all schools side by side",
        )
    )
    return jobs


def write_pdfs(summary: RunSummary) -> list[Path]:
    """Print every current page of a run (written or up to date) to a PDF beside it.

    A PDF newer than its page is kept. Returns the PDFs (see
    :func:`bltanalytics.reports.html.html_to_pdf`).
    """
    from bltanalytics.reports.html import html_to_pdf

    pdfs = []
    for result in summary.results:
        if result.html is None or not result.html.exists():
            continue
        pdf = result.html.with_suffix(".pdf")
        if not pdf.exists() or pdf.stat().st_mtime_ns < result.html.stat().st_mtime_ns:
            html_to_pdf(result.html, pdf)
        pdfs.append(pdf)
    return pdfs
