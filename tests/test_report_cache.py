"""reports.load() reads a metrics export once per process (a warm kernel), and leaks nothing.

A warm kernel runs one school's report after another; the export they read is the same, so
``load`` keeps the last one it read. These tests show it reads the files again when they
change, and that no report can change what the next one sees: each load gets its own frames.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

from bltanalytics import reports
from bltanalytics.config import Config
from bltanalytics.load import load_district
from bltanalytics.metrics import FRAMES, Metrics, compute_metrics, read_metrics, write_metrics
from bltanalytics.reports import source
from bltanalytics.sample import generate_district


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    generate_district(root / "d", schools=3, students_per_school=40, messy=False)
    folder = root / "export"
    write_metrics(compute_metrics(load_district(root / "d"), Config()), folder)
    return folder


@pytest.fixture
def counted(monkeypatch):
    """Count the reads of an export's files, starting from an empty cache."""
    calls = []
    monkeypatch.setattr(source, "_EXPORT_CACHE", {})

    def counting(folder):
        calls.append(folder)
        return read_metrics(folder)

    monkeypatch.setattr(source, "read_metrics", counting)
    return calls


def assert_same_metrics(left: Metrics, right: Metrics) -> None:
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(left, name), getattr(right, name))


def test_an_export_is_read_once_until_a_file_changes(export, counted):
    first = reports.load(metrics_dir=export)
    second = reports.load(metrics_dir=str(export))
    assert len(counted) == 1
    assert_same_metrics(first, second)
    assert_same_metrics(first, read_metrics(export))

    schools = export / "schools.parquet"
    stat = schools.stat()
    os.utime(schools, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    reports.load(metrics_dir=export)
    assert len(counted) == 2  # a newer file: read again
    reports.load(metrics_dir=export)
    assert len(counted) == 2


def test_another_export_is_read_and_replaces_the_cached_one(export, counted, tmp_path):
    other = tmp_path / "other"
    write_metrics(read_metrics(export), other)
    reports.load(metrics_dir=export)
    reports.load(metrics_dir=other)
    reports.load(metrics_dir=export)
    assert [p.name for p in counted] == ["export", "other", "export"]
    assert len(source._EXPORT_CACHE) == 1  # one export held, never one per school


def test_a_missing_export_still_fails_with_its_message(tmp_path, counted):
    with pytest.raises(Exception, match="not a complete metrics export"):
        reports.load(metrics_dir=tmp_path / "nothing")


@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_what_one_report_does_to_its_metrics_never_reaches_the_next(export, counted):
    pristine = read_metrics(export)
    first = reports.load(metrics_dir=export)
    school = first.schools["school_id"].iloc[0]
    # a notebook that changes everything it can reach
    first.achievement["n_tested"] = 0
    first.achievement.loc[first.achievement.index[:5], "display"] = "LEAK"
    first.achievement.drop(index=first.achievement.index[:3], inplace=True)
    first.schools.loc[:, "school_name"] = "Leaked name"
    first.schools["extra"] = school
    first.rubric.sort_values("value", inplace=True)
    first.enrollment.iloc[0, first.enrollment.columns.get_loc("n_students")] = -1
    with pytest.raises(ValueError):  # the data under a frame is read-only
        first.pd["n_instructional_staff"].to_numpy()[0] = 99

    second = reports.load(metrics_dir=export)
    assert len(counted) == 1  # the same cached export...
    assert_same_metrics(second, pristine)  # ...untouched by the first report
    for name in FRAMES:
        assert getattr(second, name) is not getattr(first, name)


def test_a_school_report_is_the_same_after_another_school_ran(export, counted):
    fresh = read_metrics(export)
    schools = fresh.schools["school_id"].tolist()
    year = reports.resolve_year(fresh, schools[1], "")

    before = reports.load(metrics_dir=export)
    reports.achievement(before, schools[0], year)._repr_html_()
    before.achievement["pct_proficient"] = 100.0  # and a careless notebook

    after = reports.load(metrics_dir=export)
    for build in (reports.overview, reports.achievement, reports.scorecard, reports.learning):
        assert build(after, schools[1], year).to_html() == build(fresh, schools[1], year).to_html()
