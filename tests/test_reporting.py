"""`bltanalytics reports`: planning the district's jobs, and the command's summary and exit."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from bltanalytics.cli import app
from bltanalytics.errors import BltError
from bltanalytics.reports import plan

SAMPLE = Path(__file__).parents[1] / "data" / "sample"


def test_plan_has_a_job_per_school_and_the_summary(tmp_path):
    jobs = plan.plan_reports(SAMPLE, tmp_path, schools=["0106", "0101"], year="2025-26")
    assert [j.key for j in jobs] == ["school_0106", "school_0101", "district_summary"]
    school = jobs[0]
    assert school.parameters["school_id"] == "0106"  # text, padding kept
    assert school.parameters["school_year"] == "2025-26"
    assert Path(school.parameters["metrics_dir"]) == tmp_path.resolve() / "_metrics"
    assert (tmp_path / "_metrics" / "achievement.parquet").exists()
    assert school.inputs and all(p.suffix == ".parquet" for p in school.inputs)
    assert "Oak Park Community Academy" in school.title


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"schools": ["101"]}, r"no school '101'.*ids are text"),
        ({"year": "1999-00"}, "no school year"),
    ],
)
def test_plan_refuses_unknown_schools_and_years(tmp_path, kwargs, message):
    with pytest.raises(BltError, match=message):
        plan.plan_reports(SAMPLE, tmp_path, **kwargs)


def _failing_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    parameters = nbformat.v4.new_code_cell(
        'school_id: str = "0101"\nschool_year: str = ""\ndata_dir: str = ""\n'
        'metrics_dir: str = ""\nmin_n: int = 10'
    )
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Test report"),
        parameters,
        nbformat.v4.new_code_cell(
            'if school_id == "0106":\n    raise RuntimeError("cannot report on 0106")\n'
            'print("report for", school_id)'
        ),
    ]
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_a_failing_school_does_not_stop_the_others_and_the_exit_is_nonzero(tmp_path, monkeypatch):
    notebook = _failing_notebook(tmp_path / "report.ipynb")
    monkeypatch.setattr(plan, "SCHOOL_NOTEBOOK", notebook)
    monkeypatch.setattr(plan, "SUMMARY_NOTEBOOK", notebook)
    out = tmp_path / "reports"
    args = ["reports", str(SAMPLE), "--out", str(out), "--schools", "0101", "--schools", "0106"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "FAILED school_0106: RuntimeError: cannot report on 0106" in result.output
    assert (out / "school_0101.html").exists() and not (out / "school_0106.html").exists()
    assert (out / "failed" / "school_0106.ipynb").exists()
    run = json.loads((out / "run.json").read_text())
    statuses = {r["key"]: r["status"] for r in run["reports"]}
    assert statuses == {"school_0101": "ok", "school_0106": "failed", "district_summary": "ok"}
    index = (out / "index.html").read_text()
    assert "school_0106" in index and "failed" in index
