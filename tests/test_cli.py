"""The command line's rough edges: version, help, sample --out, file modes, bad ids, years."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from conftest import ASSESSMENTS, SCHOOLS, STUDENTS, write_district
from typer.testing import CliRunner

from bltanalytics import __version__
from bltanalytics.cli import app
from bltanalytics.errors import BltError
from bltanalytics.reports import plan

runner = CliRunner()
SAMPLE = Path(__file__).parents[1] / "data" / "sample"
COMMANDS = ["validate", "metrics", "reports", "sample", "dashboard"]


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"bltanalytics {__version__}"


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_shows_flags_and_lists_without_typer_type_names(command):
    args = ["--help"] if command is None else [command, "--help"]
    result = runner.invoke(app, args, terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "list[" not in result.output
    if command == "reports":
        assert "--force" in result.output and "--schools" in result.output
        assert "--schools              ID" in result.output or " ID " in result.output


def test_bare_sample_does_not_write_over_the_bundled_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "sample").mkdir(parents=True)
    before = sorted(SAMPLE.iterdir())
    result = runner.invoke(app, ["sample"])
    assert result.exit_code != 0
    assert "--out" in result.output
    assert list((tmp_path / "data" / "sample").iterdir()) == []
    assert sorted(SAMPLE.iterdir()) == before


def test_sample_refuses_a_folder_with_files_unless_forced(tmp_path):
    out = tmp_path / "district"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    small = ["--schools", "1", "--students-per-school", "20", "--clean", "--format", "csv"]
    refused = runner.invoke(app, ["sample", "--out", str(out), *small])
    assert refused.exit_code == 2
    assert "not empty" in refused.output and "--force" in refused.output
    assert [p.name for p in out.iterdir()] == ["notes.txt"]

    forced = runner.invoke(app, ["sample", "--out", str(out), *small, "--force"])
    assert forced.exit_code == 0, forced.output
    assert (out / "schools.csv").exists() and (out / "notes.txt").read_text() == "keep me"

    fresh = runner.invoke(app, ["sample", "--out", str(tmp_path / "new"), *small])
    assert fresh.exit_code == 0, fresh.output
    assert (tmp_path / "new" / "schools.csv").exists()


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_metrics_files_are_readable_by_colleagues_and_counted_as_written(
    tiny_district, tmp_path, umask_022
):
    out = tmp_path / "metrics"
    result = runner.invoke(app, ["metrics", str(tiny_district), "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(p for p in out.iterdir() if p.is_file())
    assert files and not [p.name for p in files if p.name.endswith(".tmp")]
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
    assert set(modes.values()) == {0o644}, modes
    tables = len([p for p in files if p.suffix == ".csv"])
    assert len([p for p in files if p.suffix == ".parquet"]) == tables
    assert f"wrote {tables} tables" in result.output
    assert f"({2 * tables} files" in result.output
    assert [p.name for p in files if p.suffix not in (".csv", ".parquet")] == ["config.json"]
    assert "config.json" in result.output


def test_metrics_files_follow_a_stricter_umask(tiny_district, tmp_path):
    old = os.umask(0o077)
    try:
        out = tmp_path / "private"
        assert runner.invoke(app, ["metrics", str(tiny_district), "--out", str(out)]).exit_code == 0
    finally:
        os.umask(old)
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o600}


@pytest.fixture
def district_with_a_space(tmp_path) -> Path:
    return write_district(
        tmp_path / "district",
        schools=SCHOOLS.replace("0102,Elm", "01 02,Elm"),
        students=STUDENTS.replace(",0102,", ",01 02,"),
        assessments=ASSESSMENTS.replace(",0102,", ",01 02,"),
    )


def test_a_school_id_with_a_space_is_a_clear_error_naming_it(district_with_a_space, tmp_path):
    args = ["reports", str(district_with_a_space), "--out", str(tmp_path / "reports")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "'01 02' (schools.csv row 2)" in result.output
    assert "cannot name a report file" in result.output
    assert not (tmp_path / "reports" / "index.html").exists()


def test_the_good_schools_of_such_a_district_can_still_be_reported(district_with_a_space, tmp_path):
    jobs = plan.plan_reports(district_with_a_space, tmp_path, schools=["0101"])
    assert [j.key for j in jobs] == ["school_0101", "district_summary"]


@pytest.mark.parametrize("bad", ["01 01", "0101 0102", "101"])
def test_a_bad_schools_option_names_the_id(bad, tmp_path):
    result = runner.invoke(app, ["reports", str(SAMPLE), "--out", str(tmp_path), "--schools", bad])
    assert result.exit_code == 2
    assert f"no school {bad!r}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("spelling", ["2025-26", "2025-2026", "2026"])
def test_year_is_accepted_as_the_loader_spells_it(spelling, tmp_path):
    jobs = plan.plan_reports(SAMPLE, tmp_path, schools=["0101"], year=spelling)
    assert {j.parameters["school_year"] for j in jobs} == {"2025-26"}


@pytest.mark.parametrize(
    ("year", "message"),
    [("2025-27", "is not a school year"), ("1999", r"no school year '1999' \(1998-99\)")],
)
def test_a_bad_year_is_one_clear_line(year, message, tmp_path):
    with pytest.raises(BltError, match=message):
        plan.plan_reports(SAMPLE, tmp_path, year=year)
    result = runner.invoke(app, ["reports", str(SAMPLE), "--out", str(tmp_path), "--year", year])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_a_package_bug_exits_3_not_as_bad_input(monkeypatch, tmp_path):
    """A table the package built wrongly is not the user's data: exit 3 (report a bug), not 2."""
    import bltanalytics.metrics as metrics
    from bltanalytics.errors import BUG_NOTICE, Failure, PackageBug

    failure = Failure("cycles", "n_matched", 3, 1.5, "dtype Int64")

    def broken(*args, **kwargs):
        raise PackageBug(f"cycles breaks its shape ({BUG_NOTICE})", [failure])

    monkeypatch.setattr(metrics, "compute_metrics", broken)
    result = runner.invoke(app, ["metrics", str(SAMPLE), "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert BUG_NOTICE in result.output and "Traceback" not in result.output
