"""The batch runner: outputs, failure isolation, resume rule, index and run.json, Dask."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import psutil
import pytest
from papermill.exceptions import PapermillExecutionError

from bltanalytics.reports.jobs import (
    InputHashes,
    JobResult,
    ReportJob,
    RunSummary,
    atomic_write_text,
    index_html,
    job_fingerprint,
    run_json,
)
from bltanalytics.reports.run import failure_reason, run_reports

NOTEBOOKS = Path(__file__).parent / "notebooks"
TOY = NOTEBOOKS / "toy_report.ipynb"


def kernel_processes() -> list[psutil.Process]:
    """Kernels below this test process (also those of Dask worker processes)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "kernelapp" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


@pytest.fixture
def assert_no_kernels_left():
    """A check that no kernel started during the test is still running (others may be)."""
    before = {process.pid for process in kernel_processes()}

    def check() -> None:
        def started_here() -> list[psutil.Process]:
            return [p for p in kernel_processes() if p.pid not in before]

        psutil.wait_procs(started_here(), timeout=10)
        assert started_here() == []

    yield check
    check()


def leftovers(out: Path) -> list[str]:
    """Temporary or scratch files a run must not leave behind."""
    return [str(p) for p in out.rglob("*") if p.name.endswith(".tmp") or ".running" in p.parts]


def statuses(summary: RunSummary) -> dict[str, str]:
    return {r.key: r.status for r in summary.results}


# --------------------------------------------------------------------------------------------
# jobs and fingerprints
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "../x", "a/b", ".hidden", "-x", "a b", "index", "x" * 151])
def test_report_key_must_be_a_plain_file_stem(key):
    with pytest.raises(ValueError, match="report key"):
        ReportJob(key, TOY)


def test_report_job_is_normalized_and_does_not_share_its_inputs(tmp_path):
    parameters = {"school_id": "0101"}
    job = ReportJob("school_0101", "toy.ipynb", parameters, inputs=["a.csv"])
    parameters["school_id"] = "changed"
    assert job.parameters == {"school_id": "0101"}
    assert job.notebook.is_absolute() and job.notebook.name == "toy.ipynb"
    assert job.inputs == (Path("a.csv").absolute(),)
    assert job.title == "school_0101"


def test_duplicate_keys_are_rejected_before_anything_runs(tmp_path):
    jobs = [ReportJob("a", TOY), ReportJob("b", TOY), ReportJob("a", TOY)]
    with pytest.raises(ValueError, match="repeated: a$"):
        run_reports(jobs, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.fixture
def files(tmp_path):
    notebook = tmp_path / "report.ipynb"
    notebook.write_text('{"cells": []}', encoding="utf-8")
    achievement = tmp_path / "achievement.csv"
    achievement.write_text("school_id,n\n0101,12\n", encoding="utf-8")
    rubric = tmp_path / "rubric.csv"
    rubric.write_text("school_id,met\n0101,3\n", encoding="utf-8")
    return notebook, achievement, rubric


def test_fingerprint_changes_with_each_ingredient(files):
    notebook, achievement, rubric = files

    def fingerprint(params=None, inputs=(achievement, rubric), title="Oak"):
        params = {"school_id": "0101", "year": "2025-26"} if params is None else params
        return job_fingerprint(ReportJob("s", notebook, params, inputs=inputs, title=title))

    base = fingerprint()
    assert fingerprint() == base
    assert fingerprint({"year": "2025-26", "school_id": "0101"}) == base  # key order
    assert fingerprint(inputs=(rubric, achievement)) == base  # input order
    assert fingerprint({"school_id": "101", "year": "2025-26"}) != base  # "0101" is not 101
    assert fingerprint({"school_id": 101, "year": "2025-26"}) != fingerprint(
        {"school_id": "101", "year": "2025-26"}
    )
    assert fingerprint(title="Oak Elementary") != base
    assert fingerprint(inputs=(achievement,)) != base

    achievement.write_text("school_id,n\n0101,13\n", encoding="utf-8")
    changed_input = fingerprint()
    assert changed_input != base
    notebook.write_text('{"cells": [1]}', encoding="utf-8")
    assert fingerprint() not in (base, changed_input)


def test_fingerprint_covers_its_format_and_the_package_code(files, monkeypatch):
    """Pages made by other code (the version-1 records, whose warm kernels lost the chart
    theme, or any change to the package) are redone rather than kept as up to date."""
    from bltanalytics.reports import jobs

    notebook, achievement, _ = files
    job = ReportJob("s", notebook, {"school_id": "0101"}, inputs=[achievement])
    base = job_fingerprint(job)
    assert jobs.FINGERPRINT_VERSION >= 2
    monkeypatch.setattr(jobs, "FINGERPRINT_VERSION", 1)
    assert job_fingerprint(job) != base
    monkeypatch.undo()
    assert job_fingerprint(job) == base
    monkeypatch.setattr(jobs, "package_code_digest", lambda: "0" * 64)
    assert job_fingerprint(job) != base


def test_package_code_digest_follows_the_package_files(tmp_path, monkeypatch):
    from bltanalytics.reports import jobs

    package = tmp_path / "pkg"
    (package / "templates").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "templates" / "page.j2").write_text("<p>")
    monkeypatch.setattr(jobs, "_package_root", lambda: package)
    jobs.package_code_digest.cache_clear()
    try:
        first = jobs.package_code_digest()
        jobs.package_code_digest.cache_clear()
        (package / "templates" / "page.j2").write_text("<p class=x>")
        assert jobs.package_code_digest() != first
    finally:
        jobs.package_code_digest.cache_clear()


def test_fingerprint_of_a_missing_file_raises(files):
    notebook, _, _ = files
    with pytest.raises(FileNotFoundError):
        job_fingerprint(ReportJob("s", notebook, inputs=[notebook.parent / "absent.csv"]))


def test_input_hashes_are_remembered_by_size_and_mtime(files, tmp_path):
    _, achievement, _ = files
    cache = tmp_path / "hashes.json"
    first = InputHashes(cache)
    original = first.sha256(achievement)
    first.save()
    stat = achievement.stat()

    # same size and modification time: the remembered hash is trusted, the file not re-read
    achievement.write_text("school_id,n\n0101,99\n", encoding="utf-8")
    os.utime(achievement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert InputHashes(cache).sha256(achievement) == original
    # a new modification time: hashed again
    os.utime(achievement, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert InputHashes(cache).sha256(achievement) != original


def test_atomic_write_replaces_whole_or_leaves_the_old_file(tmp_path):
    target = tmp_path / "report.html"
    atomic_write_text(target, "first")
    atomic_write_text(target, "second")
    assert target.read_text() == "second"
    with pytest.raises(TypeError):
        atomic_write_text(target, None)  # fails while writing the temporary file
    assert target.read_text() == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_failure_reason_is_the_exception_line_of_the_cell():
    error = PapermillExecutionError(
        4, 7, "check()", "KeyError", "'0101'\nmore detail", ["Traceback", "KeyError: '0101'"]
    )
    assert failure_reason(error) == "KeyError: '0101' (cell In [7])"
    assert failure_reason(RuntimeError("Kernel died")) == "RuntimeError: Kernel died"
    assert failure_reason(RuntimeError()) == "RuntimeError"


# --------------------------------------------------------------------------------------------
# index.html and run.json
# --------------------------------------------------------------------------------------------


def hand_made_summary(out: Path) -> RunSummary:
    results = (
        JobResult("school_0101", "Oak", "ok", notebook=out / "school_0101.ipynb",
                  html=out / "school_0101.html", seconds=0.12345),
        JobResult("school_0202", "Elm", "skipped", notebook=out / "school_0202.ipynb",
                  html=out / "school_0202.html"),
        JobResult("school_0303", "Ash & Pine", "failed",
                  reason="ValueError: bad <script>alert(1)</script> (cell In [4])",
                  failed_notebook=out / "failed" / "school_0303.ipynb", seconds=1.5),
    )  # fmt: skip
    return RunSummary(out, results, datetime(2026, 11, 22, 9, 30, tzinfo=UTC), 2.0, "warm", 2)


def test_index_lists_every_report_with_its_status(tmp_path):
    page = index_html(hand_made_summary(tmp_path))
    assert '<html lang="en">' in page
    assert "<script" not in page  # the reason is escaped, and the page has no script
    assert "bad &lt;script&gt;alert(1)&lt;/script&gt;" in page
    rows = re.findall(r'<tr class="(\w+)">(.*?)</tr>', page)
    assert [status for status, _ in rows] == ["ok", "skipped", "failed"]
    assert '<a href="school_0101.html">Oak</a>' in rows[0][1]
    assert "up to date" in rows[1][1] and '<a href="school_0202.html">Elm</a>' in rows[1][1]
    assert "Ash &amp; Pine" in rows[2][1] and 'href="failed/school_0303.ipynb"' in rows[2][1]
    assert "school_0303.html" not in page
    # readers get the pages; the executed notebooks of reports that worked are not linked
    assert "school_0101.ipynb" not in page and "school_0202.ipynb" not in page
    assert "3 reports: 1 written, 1 up to date, 1 failed" in page


def test_run_json_is_machine_readable_with_relative_paths(tmp_path):
    document = json.loads(run_json(hand_made_summary(tmp_path)))
    assert document["counts"] == {"total": 3, "ok": 1, "skipped": 1, "failed": 1}
    assert (document["mode"], document["workers"], document["scheduler"]) == ("warm", 2, None)
    failed = document["reports"][2]
    assert failed == {
        "key": "school_0303",
        "title": "Ash & Pine",
        "status": "failed",
        "reason": "ValueError: bad <script>alert(1)</script> (cell In [4])",
        "notebook": None,
        "html": None,
        "failed_notebook": "failed/school_0303.ipynb",
        "seconds": 1.5,
    }
    assert document["reports"][0]["html"] == "school_0101.html"
    assert document["reports"][0]["seconds"] == 0.123


def test_summary_describes_failures_for_the_command_line(tmp_path):
    summary = hand_made_summary(tmp_path)
    assert summary.exit_code == 1
    lines = summary.describe().splitlines()
    assert lines[0].startswith("3 reports: 1 written, 1 up to date, 1 failed")
    assert lines[1] == (
        "  FAILED school_0303: ValueError: bad <script>alert(1)</script> (cell In [4]) "
        f"(notebook: {tmp_path / 'failed' / 'school_0303.ipynb'})"
    )


def test_jobs_that_cannot_start_fail_alone_and_are_reported(tmp_path, files):
    notebook, _, _ = files
    jobs = [
        ReportJob("no_input", notebook, inputs=[tmp_path / "absent.csv"]),
        ReportJob("no_notebook", tmp_path / "absent.ipynb"),
    ]
    stale = [tmp_path / "out" / "no_input.html", tmp_path / "out" / "no_input.ipynb"]
    for path in stale:  # a report from an earlier run, no longer current
        atomic_write_text(path, "old")
    summary = run_reports(jobs, tmp_path / "out", progress=False)
    assert statuses(summary) == {"no_input": "failed", "no_notebook": "failed"}
    assert [path for path in stale if path.exists()] == []
    assert all(r.reason.startswith("FileNotFoundError:") for r in summary.results)
    assert "absent.csv" in summary.results[0].reason
    document = json.loads((tmp_path / "out" / "run.json").read_text())
    assert document["counts"]["failed"] == 2
    assert "absent.ipynb" in (tmp_path / "out" / "index.html").read_text()


# --------------------------------------------------------------------------------------------
# real runs
# --------------------------------------------------------------------------------------------


def toy_job(school: str, **kw) -> ReportJob:
    return ReportJob(f"school_{school}", TOY, {"school_id": school}, **kw)


def check_report(out: Path, key: str, school: str, title: str) -> None:
    """The executed notebook and the offline page of one successful job."""
    nb = nbformat.read(out / f"{key}.ipynb", as_version=4)
    assert nb.metadata.papermill.parameters == {"school_id": school}
    assert nb.metadata.papermill.output_path == str(out / f"{key}.ipynb")
    printed = [o.text for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stdout"]
    assert printed[0] == f"school_id='{school}' (str)\n"
    page = (out / f"{key}.html").read_text(encoding="utf-8")
    assert '<script src="http' not in page and "https://cdn" not in page
    assert f"<title>{title}</title>" in page
    assert "data:image/svg+xml;base64," in page  # the chart, inline
    assert "import altair" not in page  # no code


@pytest.mark.slow
def test_warm_run_isolates_failures_and_resumes(tmp_path, assert_no_kernels_left):
    out = tmp_path / "reports"
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("n\n1\n", encoding="utf-8")
    b.write_text("n\n2\n", encoding="utf-8")
    jobs = [
        toy_job("0101", inputs=[a], title="Oak Elementary"),
        toy_job("0202", inputs=[b], title="Elm Middle"),
        toy_job("FAIL", title="Failing school"),
        toy_job("SLOW", title="Slow school", timeout=2),
    ]
    summary = run_reports(jobs, out, workers=2, progress=False, recycle_every=10)

    assert statuses(summary) == {
        "school_0101": "ok",
        "school_0202": "ok",
        "school_FAIL": "failed",
        "school_SLOW": "failed",
    }
    assert summary.exit_code == 1
    check_report(out, "school_0101", "0101", "Oak Elementary")
    check_report(out, "school_0202", "0202", "Elm Middle")

    fail, slow = summary.results[2], summary.results[3]
    assert fail.reason == "ValueError: no data for school FAIL (cell In [4])"
    assert slow.reason.startswith("CellTimeoutError: A cell timed out")
    for result in (fail, slow):
        assert result.failed_notebook == out / "failed" / f"{result.key}.ipynb"
        kept = nbformat.read(result.failed_notebook, as_version=4)
        assert kept.metadata.bltanalytics == {"status": "failed", "reason": result.reason}
        assert not (out / f"{result.key}.html").exists()
        assert not (out / f"{result.key}.ipynb").exists()
    kept = nbformat.read(fail.failed_notebook, as_version=4)
    errors = [o for c in kept.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert [(e.ename, e.evalue) for e in errors] == [("ValueError", "no data for school FAIL")]

    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count('class="ok"') == 2 and index.count('class="failed"') == 2
    assert "no data for school FAIL" in index and 'href="failed/school_FAIL.ipynb"' in index
    assert json.loads((out / "run.json").read_text())["counts"]["failed"] == 2
    assert leftovers(out) == []
    assert_no_kernels_left()

    # resume: 0101 is up to date; 0202's input changed, so it runs again
    page_0101 = (out / "school_0101.html").stat().st_mtime_ns
    b.write_text("n\n3\n", encoding="utf-8")
    again = run_reports(jobs[:2], out, workers=2, progress=False)
    assert statuses(again) == {"school_0101": "skipped", "school_0202": "ok"}
    assert (out / "school_0101.html").stat().st_mtime_ns == page_0101
    assert "up to date" in (out / "index.html").read_text(encoding="utf-8")

    # force: run again even though nothing changed
    forced = run_reports(jobs[:1], out, workers=1, force=True, progress=False)
    assert statuses(forced) == {"school_0101": "ok"}
    assert (out / "school_0101.html").stat().st_mtime_ns != page_0101
    assert leftovers(out) == []
    assert_no_kernels_left()


@pytest.mark.slow
def test_fresh_kernels_mode_gives_the_same_files(tmp_path, assert_no_kernels_left):
    out = tmp_path / "reports"
    jobs = [toy_job("0101", title="Oak"), toy_job("FAIL")]
    summary = run_reports(jobs, out, workers=2, fresh_kernels=True, progress=False)
    assert statuses(summary) == {"school_0101": "ok", "school_FAIL": "failed"}
    assert summary.results[1].reason == "ValueError: no data for school FAIL (cell In [4])"
    assert (out / "failed" / "school_FAIL.ipynb").exists()
    check_report(out, "school_0101", "0101", "Oak")
    assert json.loads((out / "run.json").read_text())["mode"] == "fresh"
    assert leftovers(out) == []
    assert_no_kernels_left()


@pytest.fixture(scope="module")
def dask_cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster


@pytest.mark.slow
def test_dask_cluster_runs_the_same_jobs_with_the_same_rules(
    tmp_path, dask_cluster, assert_no_kernels_left
):
    out = tmp_path / "reports"
    jobs = [toy_job("0101", title="Oak"), toy_job("0202", title="Elm"), toy_job("FAIL")]
    address = dask_cluster.scheduler_address
    summary = run_reports(jobs, out, scheduler=address, progress=False)

    assert statuses(summary) == {
        "school_0101": "ok",
        "school_0202": "ok",
        "school_FAIL": "failed",
    }
    assert summary.results[2].reason == "ValueError: no data for school FAIL (cell In [4])"
    check_report(out, "school_0101", "0101", "Oak")
    check_report(out, "school_0202", "0202", "Elm")
    assert (out / "failed" / "school_FAIL.ipynb").exists()
    document = json.loads((out / "run.json").read_text())
    assert (document["scheduler"], document["workers"]) == (address, None)
    assert_no_kernels_left()  # the workers' kernels are shut down at the end of the run

    again = run_reports(jobs, out, scheduler=address, progress=False)
    assert statuses(again) == {
        "school_0101": "skipped",
        "school_0202": "skipped",
        "school_FAIL": "failed",
    }
    assert leftovers(out) == []
    assert_no_kernels_left()
