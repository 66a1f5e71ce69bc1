"""Per-school slices of the export (dashboards/slices.py): what a dashboard kernel reads.

The slices must give exactly the export's rows (values and dtypes) for every school and table,
a kernel must read only the schools a page shows, and a page built from slices must show the
same figures as one built from the whole metrics in memory.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from bltanalytics.config import Config
from bltanalytics.dashboards import common, explorer, presenter, rubric_board
from bltanalytics.dashboards.slices import (
    SCHOOL_TABLES,
    SLICES_DIR,
    InMemory,
    SlicedExport,
    has_slices,
    write_slices,
)
from bltanalytics.metrics import read_metrics


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    from bltanalytics.sample import generate_district

    folder = tmp_path_factory.mktemp("district")
    generate_district(folder, schools=5, students_per_school=60, seed=7)
    out = tmp_path_factory.mktemp("prepared") / "m"
    metrics = common.prepare_metrics(folder, Config(), out)
    return folder, out, metrics


def test_prepared_export_is_still_an_export_and_has_slices(prepared):
    _, out, metrics = prepared
    assert has_slices(out / SLICES_DIR)
    again = read_metrics(out)  # the dashboards' folder does not disturb the export
    pd.testing.assert_frame_equal(again.achievement, metrics.achievement, check_dtype=False)


def test_slices_give_every_schools_rows_exactly(prepared):
    _, out, _ = prepared
    exported = InMemory(read_metrics(out))
    sliced = SlicedExport(out / SLICES_DIR)
    assert sliced.config == exported.config
    pd.testing.assert_frame_equal(sliced.schools, exported.schools)
    for table in SCHOOL_TABLES:
        assert sliced.school_ids(table) == exported.school_ids(table)
        assert sliced.years(table) == exported.years(table)
        for school in [*exported.school_ids(table), "no-such-school"]:
            pd.testing.assert_frame_equal(
                sliced.rows(table, school), exported.rows(table, school), obj=f"{table}/{school}"
            )
        several = exported.school_ids(table)[::2]
        pd.testing.assert_frame_equal(sliced.rows(table, several), exported.rows(table, several))


def test_row_groups_hold_whole_schools(tmp_path, prepared, monkeypatch):
    import pyarrow.parquet as pq

    from bltanalytics.dashboards import slices

    _, out, metrics = prepared
    monkeypatch.setattr(slices, "GROUP_ROWS", 1)  # one school per row group
    write_slices(metrics, tmp_path / "s")
    file = pq.ParquetFile(tmp_path / "s" / "achievement.parquet")
    schools = metrics.achievement["school_id"].nunique()
    assert file.metadata.num_row_groups == schools
    for i in range(schools):
        assert len(set(file.read_row_group(i, columns=["school_id"]).column(0).to_pylist())) == 1
    sliced = SlicedExport(tmp_path / "s")
    school = sliced.school_ids("achievement")[-1]
    pd.testing.assert_frame_equal(
        sliced.rows("achievement", school), InMemory(metrics).rows("achievement", school)
    )


def test_kernel_data_comes_from_slices_when_prepared(prepared):
    folder, out, _ = prepared
    common._DATA.clear()
    data = common.load_data(folder, Config(), environ={"BLT_METRICS": str(out)})
    assert isinstance(data, SlicedExport)
    assert common.load_data(folder, Config(), environ={"BLT_METRICS": str(out)}) is data
    common._DATA.clear()
    other = common.load_data(folder, Config(min_n=4), environ={"BLT_METRICS": str(out)})
    assert isinstance(other, InMemory)  # prepared for other settings: not used
    common._DATA.clear()


def figures(html: str) -> list[str]:
    """The cells of every table in some HTML."""
    return re.findall(r"<td>(.*?)</td>", html)


def test_explorer_from_slices_reads_one_school_and_shows_the_same(prepared):
    _, out, metrics = prepared
    sliced = SlicedExport(out / SLICES_DIR)
    lazy = explorer.Explorer(sliced, mask_names=True, config=sliced.config)
    whole = explorer.Explorer(metrics, mask_names=True, config=metrics.config)
    assert sliced.reads == 1  # the first school's achievement slice, nothing else
    for app in (lazy, whole):
        app.school.value = app.school.options[2][1]
        app.dimension.value = "race_ethnicity"
    assert sliced.reads == 2
    assert lazy.table.value == whole.table.value and lazy.chart.value == whole.chart.value
    assert lazy.trend_tbl.value == whole.trend_tbl.value
    assert figures(lazy.table.value) and "<svg" in lazy.chart.value


def test_presenter_and_board_from_slices_show_the_same(prepared):
    _, out, metrics = prepared
    sliced = SlicedExport(out / SLICES_DIR)
    lazy = presenter.Presenter(sliced, mask_names=True, config=sliced.config)
    whole = presenter.Presenter(metrics, mask_names=True, config=metrics.config)
    school = lazy.school.options[-1][1]
    lazy.school.value = whole.school.value = school
    for i in range(len(whole._slides)):
        lazy.go(i)
        whole.go(i)
        assert lazy.slide.value == whole.slide.value
    board = rubric_board.RubricBoard(sliced, mask_names=False, config=sliced.config)
    board_whole = rubric_board.RubricBoard(metrics, mask_names=False, config=metrics.config)
    board.school.value = board_whole.school.value = board.school.options[1][1]
    assert board.board.value == board_whole.board.value
    assert board.detail.value == board_whole.detail.value
    assert board.detail_chart.value == board_whole.detail_chart.value
