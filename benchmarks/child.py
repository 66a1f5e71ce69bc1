"""What each measured child process runs: ``python -m benchmarks.child WHAT ARGS...``.

Each prints one JSON line last (the harness reads it), with the seconds of the measured call
where the child times something inside itself. Whole-process figures (wall time from start to
exit, peak memory) are taken by the parent.

- ``read-floor FILE...``: ``pandas.read_csv`` of every file, defaults (the reference).
- ``metrics DISTRICT OUT``: ``bltanalytics metrics DISTRICT --out OUT``, as the console
  command runs it.
- ``achievement CLEANED MIN_N RESULT``: :func:`bltanalytics.metrics.achievement.achievement` on the
  cleaned frames read from ``CLEANED`` (timed alone), result written to ``RESULT``.
- ``suppression CLEANED EXACT_CHECK RESULT``: ``achievement()`` with that exact check (timed),
  and the share of tested students whose figure is published (benchmark 1d).
- ``audit RESULT``: :func:`bltanalytics.metrics.audit.audit` on the table ``suppression``
  wrote (timed), with its verdict.
- ``duckdb CLEANED MIN_N RESULT``: the DuckDB query over the same Parquet files (timed).
- ``write-cleaned DISTRICT OUT``: load the district and write the cleaned assessments and
  students as Parquet (setup, not measured).
- ``reports JOBS OUT MODE``: the school reports of ``JOBS`` (a JSON file), by ``MODE``:
  ``warm`` (our default: warm kernels, 2 workers), ``fresh`` (``--fresh-kernels``) or
  ``papermill`` (the floor: plain ``papermill.execute_notebook``, a new kernel per school, no
  start-up fixes, the same HTML export, 2 workers).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def read_floor(files: list[str]) -> dict:
    import pandas as pd

    rows = 0
    for file in files:
        rows += len(pd.read_csv(file))
    return {"rows": rows}


def metrics(district: str, out: str) -> dict:
    from bltanalytics.cli import app

    sys.argv = ["bltanalytics", "metrics", district, "--out", out]
    try:
        app()
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise
    return {}


def achievement(cleaned: str, min_n: str, result: str) -> dict:
    import pandas as pd

    from bltanalytics.config import Config
    from bltanalytics.metrics.achievement import achievement as compute

    assessments = pd.read_parquet(Path(cleaned) / "assessments.parquet")
    students = pd.read_parquet(Path(cleaned) / "students.parquet")
    start = time.perf_counter()
    table = compute(assessments, students, Config(min_n=int(min_n)))
    seconds = time.perf_counter() - start
    table.to_parquet(result, index=False)
    return {"seconds": seconds, "rows": len(table)}


def suppression(cleaned: str, exact_check: str, result: str) -> dict:
    """``achievement()`` timed alone with ``exact_check`` (``baseline``: the tree's own
    default, for an older tree without it), and the utility against the raw counts."""
    import pandas as pd

    from benchmarks.suppression_bench import utility
    from bltanalytics.config import Config

    try:
        import bltanalytics.metrics.achievement as module
    except ImportError:  # a source tree from before the metrics room (the baseline)
        import bltanalytics.achievement as module

    assessments = pd.read_parquet(Path(cleaned) / "assessments.parquet")
    students = pd.read_parquet(Path(cleaned) / "students.parquet")
    raw = module.achievement(
        assessments, students, Config(min_n=1, top_code=101.0, bottom_code=-1.0)
    )
    if exact_check != "baseline":
        original = module.suppress
        module.suppress = lambda table, **kw: original(table, exact_check=exact_check, **kw)
    start = time.perf_counter()
    table = module.achievement(assessments, students, Config())
    seconds = time.perf_counter() - start
    table.to_parquet(result, index=False)
    return {
        "seconds": seconds,
        "rows": len(table),
        "suppressed": int(table["suppressed"].sum()),
        "utility": utility(raw["n_tested"], _shown_hidden(raw, table), raw["dimension"]),
    }


def _shown_hidden(raw, table):
    """``suppressed`` of ``table`` on the rows of ``raw`` (a withheld row counts as hidden)."""
    keys = ["school_id", "school_year", "term", "subject", "grade", "dimension", "group"]
    if len(table) == len(raw):
        return table["suppressed"]
    flags = (
        raw[keys]
        .astype(str)
        .merge(
            table[keys].astype(str).assign(_s=table["suppressed"].to_numpy()), on=keys, how="left"
        )["_s"]
    )
    return flags.fillna(True).astype(bool)


def audit_table(result: str) -> dict:
    """The privacy audit (timed) of an achievement table written by ``suppression``."""
    import pandas as pd

    from bltanalytics.config import Config
    from bltanalytics.metrics.audit import audit

    table = pd.read_parquet(result)
    start = time.perf_counter()
    verdict = audit(table, Config())
    return {
        "seconds": time.perf_counter() - start,
        "suppressed": verdict.n_suppressed,
        "below_protection": verdict.n_below_protection,
        "disclosures": verdict.n_attribute_disclosures,
    }


def duckdb_query(cleaned: str, min_n: str, result: str) -> dict:
    import pyarrow.parquet as pq

    from benchmarks.duckdb_achievement import run_query

    start = time.perf_counter()
    table = run_query(
        Path(cleaned) / "assessments.parquet", Path(cleaned) / "students.parquet", int(min_n)
    )
    seconds = time.perf_counter() - start
    pq.write_table(table, result)
    return {"seconds": seconds, "rows": table.num_rows}


def reports(jobs_file: str, out: str, mode: str) -> dict:
    jobs = json.loads(Path(jobs_file).read_text())
    start = time.perf_counter()
    if mode == "papermill":
        failed = _papermill_floor(jobs, Path(out))
    else:
        from bltanalytics.reports.kernels import defer_rfc3987_grammar

        defer_rfc3987_grammar()  # as `bltanalytics reports` does, before jsonschema loads
        from bltanalytics.reports.jobs import ReportJob
        from bltanalytics.reports.run import run_reports

        summary = run_reports(
            [ReportJob(**job) for job in jobs],
            Path(out),
            workers=2,
            force=True,
            fresh_kernels=mode == "fresh",
            progress=False,
        )
        failed = [r.key for r in summary.failed]
    if failed:
        raise SystemExit(f"reports failed: {failed}")
    return {"seconds": time.perf_counter() - start, "reports": len(jobs)}


def _papermill_floor(jobs: list[dict], out: Path) -> list[str]:
    """Plain papermill, a fresh kernel per school (its defaults: no fixes), 2 at a time."""
    from concurrent.futures import ThreadPoolExecutor

    import papermill

    from bltanalytics.reports.html import notebook_to_html

    out.mkdir(parents=True, exist_ok=True)

    def one(job: dict) -> str | None:
        notebook = out / f"{job['key']}.ipynb"
        try:
            nb = papermill.execute_notebook(
                job["notebook"], str(notebook), parameters=job["parameters"], progress_bar=False
            )
            html = notebook_to_html(nb, title=job["title"])
            (out / f"{job['key']}.html").write_text(html, encoding="utf-8")
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which stops
            return f"{job['key']}: {exc}"
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:
        return [reason for reason in pool.map(one, jobs) if reason]


def write_cleaned(district: str, out: str) -> dict:
    from benchmarks.duckdb_achievement import write_cleaned as write

    return {name: str(path) for name, path in write(Path(district), Path(out)).items()}


def main(argv: list[str]) -> None:
    what, args = argv[0], argv[1:]
    handlers = {
        "read-floor": lambda: read_floor(args),
        "metrics": lambda: metrics(*args),
        "achievement": lambda: achievement(*args),
        "duckdb": lambda: duckdb_query(*args),
        "suppression": lambda: suppression(*args),
        "audit": lambda: audit_table(*args),
        "reports": lambda: reports(*args),
        "write-cleaned": lambda: write_cleaned(*args),
    }
    result = handlers[what]()
    import bltanalytics  # which source tree ran (the baseline runs an older one)

    result["package"] = str(Path(bltanalytics.__file__).resolve().parents[1])
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
