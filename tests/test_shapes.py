"""The export's shapes (bltanalytics.metrics.shapes), checked when written and read; the config."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bltanalytics import __version__
from bltanalytics.config import Config
from bltanalytics.errors import BltError, ConfigError, ExportError, PackageBug
from bltanalytics.load import load_district, schemas
from bltanalytics.load.quarantine import QUARANTINE_COLUMNS, WITHHELD, empty_quarantine
from bltanalytics.load.schemas import check_shape
from bltanalytics.metrics import (
    FRAMES,
    Metrics,
    compute_metrics,
    read_metrics,
    shapes,
    write_metrics,
)
from bltanalytics.metrics.cycles import CYCLE_COLUMNS, team_cycles
from bltanalytics.metrics.learning import PARTICIPATION_COLUMNS, PD_FORMATS, PROGRESS_COLUMNS
from bltanalytics.metrics.rubric import ROLLUP_COLUMNS, RUBRIC_COLUMNS, rollup
from bltanalytics.metrics.trends import TREND_COLUMNS, trends

SAMPLE = Path(__file__).parents[1] / "data" / "sample"
SETTINGS = Config(min_n=12, top_code=90.0, thresholds={"C5.fidelity": 0.8})


@pytest.fixture(scope="module")
def district():
    return load_district(SAMPLE)


@pytest.fixture(scope="module")
def metrics(district) -> Metrics:
    return compute_metrics(district, SETTINGS)


@pytest.fixture(scope="module")
def export(metrics, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export")
    write_metrics(metrics, out)
    return out


def _copy(export: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(export, folder)
    return folder


# --------------------------------------------------------------------------- config


def test_config_round_trips_through_a_dict_and_json():
    config = Config(min_n=7, approaching_band=0.1, rating_met=3, thresholds={"C1.teams": 0.5})
    assert Config.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert Config.from_dict(Config().to_dict()) == Config()


def test_to_dict_is_a_copy_with_every_setting():
    config = Config(thresholds={"C5.fidelity": 0.8})
    data = config.to_dict()
    data["thresholds"]["C5.fidelity"] = 0.1
    assert config.thresholds == {"C5.fidelity": 0.8}
    assert set(data) == set(Config.__dataclass_fields__)


def test_from_dict_names_an_unknown_setting_and_defaults_a_missing_one():
    with pytest.raises(ConfigError, match="unknown setting.s. minimum_n"):
        Config.from_dict({"min_n": 5, "minimum_n": 5})
    assert Config.from_dict({"min_n": 5}) == Config(min_n=5)
    with pytest.raises(ConfigError, match="min_n must be a whole number"):
        Config.from_dict({"min_n": 0})
    with pytest.raises(ConfigError, match="thresholds must map"):
        Config.from_dict({"thresholds": [0.5]})
    with pytest.raises(ConfigError, match="mapping of name to value"):
        Config.from_dict(["min_n"])


def test_metrics_carries_the_config_it_was_computed_with(metrics):
    assert metrics.config == SETTINGS
    assert list(metrics.frames()) == list(FRAMES)
    assert "config" not in FRAMES


def test_a_quarantine_naming_no_school_keeps_text_school_ids(district):
    """The loader's quarantine holds school_id as object when no entry names a school."""
    quarantine = district.quarantine.assign(school_id=pd.Series(None, dtype=object))
    quarantine = quarantine.set_axis(district.quarantine.index)
    m = compute_metrics(dataclasses.replace(district, quarantine=quarantine))
    assert m.quarantine["school_id"].dtype == "str" and m.data_quality["school_id"].dtype == "str"
    assert m.quarantine["school_id"].isna().all()
    shapes.check_tables({"quarantine": m.quarantine, "data_quality": m.data_quality})


# --------------------------------------------------------------------------- round trip


def test_write_then_read_keeps_config_and_dtypes(metrics, export):
    record = json.loads((export / "config.json").read_text())
    assert record == {"bltanalytics_version": __version__, "settings": SETTINGS.to_dict()}
    again = read_metrics(export)
    assert again.config == SETTINGS
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(again, name), getattr(metrics, name))
        allowed = shapes.allowed_dtypes(shapes.SHAPES[name])
        assert list(getattr(again, name).columns) == list(allowed)
        for column, dtype in getattr(again, name).dtypes.items():
            assert dtype in allowed[column], (name, column, dtype)


def test_write_metrics_lists_config_json_last(metrics, tmp_path):
    written = write_metrics(metrics, tmp_path)
    assert [p.name for p in written][:5] == [
        "achievement.csv",
        "rubric.csv",
        "cycles.csv",
        "pd.csv",
        "quarantine.csv",
    ]
    assert written[-1] == tmp_path / "config.json"


def test_an_export_without_config_json_reads_with_the_defaults(export, tmp_path):
    folder = _copy(export, tmp_path)
    (folder / "config.json").unlink()
    assert read_metrics(folder).config == Config()


def test_an_old_export_with_object_school_ids_reads_as_text(export, tmp_path):
    folder = _copy(export, tmp_path)
    old = pd.read_parquet(folder / "quarantine.parquet")
    old["school_id"] = pd.Series([None] * len(old), dtype=object)
    old.to_parquet(folder / "quarantine.parquet", index=False)
    assert read_metrics(folder).quarantine["school_id"].dtype == "str"


def test_a_bad_config_json_names_the_file(export, tmp_path):
    folder = _copy(export, tmp_path)
    (folder / "config.json").write_text('{"settings": {"min_n": 10, "min": 3}}')
    with pytest.raises(ConfigError, match=r"config\.json: unknown setting.s. min;"):
        read_metrics(folder)
    (folder / "config.json").write_text("not json")
    with pytest.raises(ConfigError, match="not the settings record"):
        read_metrics(folder)


# --------------------------------------------------------------------------- broken tables


def test_a_broken_table_written_is_reported_as_a_package_bug(metrics, tmp_path):
    ach = metrics.achievement
    row = int(np.flatnonzero(ach["suppressed"].to_numpy())[3])
    leaked = ach.assign(n_tested=ach["n_tested"].mask(ach.index == row, 7))
    broken = Metrics(**{**metrics.frames(), "achievement": leaked}, config=metrics.config)
    with pytest.raises(PackageBug) as caught:
        write_metrics(broken, tmp_path / "out")
    error = caught.value
    assert (error.table, error.column, error.row, error.value) == (
        "achievement",
        "n_tested",
        row + 1,
        7,
    )
    message = str(error)
    assert "this is a bug in bltanalytics, please report it" in message
    assert (
        f"achievement: column n_tested, row {row + 1}: 7 (expected empty where suppressed)"
        in message
    )
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_wrong_dtype_written_names_the_column(metrics, tmp_path):
    cycles = metrics.cycles.astype({"n_matched": "float64"})
    broken = Metrics(**{**metrics.frames(), "cycles": cycles})
    with pytest.raises(
        PackageBug, match="cycles: column n_matched: 'float64' .expected dtype Int64"
    ):
        write_metrics(broken, tmp_path)


def test_every_problem_is_listed_not_only_the_first(metrics):
    rubric = metrics.rubric.copy()
    rubric.loc[[2, 5], "status"] = "done"
    rubric.loc[4, "kind"] = "guessed"
    with pytest.raises(PackageBug) as caught:
        shapes.check_tables({"rubric": rubric, "schools": metrics.schools.drop(columns="level")})
    found = {(f.table, f.column, f.row, f.value) for f in caught.value.failures}
    assert {
        ("rubric", "status", 3, "done"),
        ("rubric", "status", 6, "done"),
        ("rubric", "kind", 5, "guessed"),
        ("schools", "level", None, None),
    } <= found


def test_a_tampered_export_is_a_data_error_naming_file_column_row(export, tmp_path):
    folder = _copy(export, tmp_path)
    ach = pd.read_parquet(folder / "achievement.parquet")
    ach.loc[5, "grade"] = "13"
    ach.to_parquet(folder / "achievement.parquet", index=False)
    with pytest.raises(ExportError) as caught:
        read_metrics(folder)
    error = caught.value
    assert isinstance(error, BltError) and not isinstance(error, PackageBug)
    assert (error.table, error.column, error.row, error.value) == ("achievement", "grade", 6, "13")
    assert "achievement.parquet: column grade, row 6: '13'" in str(error)
    assert str(folder) in str(error) and "bug" not in str(error)


def test_a_column_cut_from_an_export_file_is_named(export, tmp_path):
    folder = _copy(export, tmp_path)
    trends_file = folder / "trends.parquet"
    pd.read_parquet(trends_file).drop(columns="change_pp").to_parquet(trends_file, index=False)
    with pytest.raises(ExportError, match="trends.parquet: column change_pp .expected this column"):
        read_metrics(folder)


def test_rows_of_a_large_table_are_counted_in_the_table_not_the_sample(monkeypatch):
    monkeypatch.setattr(schemas, "SAMPLE_ROWS", 80)
    frame = shapes.empty(shapes.Enrollment)
    frame = pd.DataFrame(
        {
            "school_id": ["0101"] * 1000,
            "school_year": ["2025-26"] * 1000,
            "grade": ["3"] * 1000,
            "n_students": np.arange(1, 1001),
        }
    ).astype(shapes.dtypes(shapes.Enrollment))
    sampled = schemas.sample_rows(frame)
    assert len(sampled) == 80 and len(frame) == 1000
    bad_row = int(sampled.index[45])
    frame.loc[bad_row, "grade"] = "13"
    with pytest.raises(PackageBug) as caught:
        shapes.check_tables({"enrollment": frame})
    assert (caught.value.row, caught.value.value) == (bad_row + 1, "13")


def test_a_broken_cleaned_table_is_a_bug_and_withholds_student_ids():
    members = pd.DataFrame(
        {"source_row": [1, 0], "team_id": ["T1", "T2"], "staff_id": ["S1", "S2"]}
    )
    with pytest.raises(PackageBug, match="cleaned team_members table.*this is a bug") as caught:
        check_shape("team_members", members)
    assert (caught.value.column, caught.value.row, caught.value.value) == ("source_row", 2, 0)
    students = load_district(SAMPLE).tables["students"].head(3).copy()
    students.loc[1, "grade"] = "13"
    students["student_id"] = students["student_id"].astype(object)
    students.loc[0, "student_id"] = 12345  # not text: the failure withholds the value
    with pytest.raises(PackageBug) as caught:
        check_shape("students", students)
    assert "12345" not in str(caught.value)
    assert ("student_id", 1, WITHHELD) in {
        (f.column, f.row, f.value) for f in caught.value.failures
    }
    assert any(f.column == "grade" and f.value == "13" for f in caught.value.failures)


# --------------------------------------------------------------------------- declared once


@pytest.mark.parametrize("name", list(shapes.SHAPES))
def test_empty_tables_have_the_models_columns_and_dtypes(name):
    model = shapes.SHAPES[name]
    frame = shapes.empty(model)
    assert list(frame.columns) == shapes.columns(model)
    assert dict(frame.dtypes) == shapes.dtypes(model)
    shapes.check_tables({name: frame})  # an empty table has its shape


def test_every_table_of_metrics_has_a_shape():
    assert list(FRAMES) == list(shapes.SHAPES)


def test_the_metric_modules_take_their_columns_from_the_models():
    """Named once: each module's column list is the model's, so they cannot drift."""
    assert TREND_COLUMNS == shapes.columns(shapes.Trends)
    assert CYCLE_COLUMNS == shapes.columns(shapes.Cycles)
    assert PARTICIPATION_COLUMNS == shapes.columns(shapes.ProfessionalLearning)
    assert PROGRESS_COLUMNS == shapes.columns(shapes.BlendedCycle)
    assert PROGRESS_COLUMNS == shapes.columns(shapes.DistributedPD)
    assert RUBRIC_COLUMNS == shapes.columns(shapes.Rubric)
    assert ROLLUP_COLUMNS == shapes.columns(shapes.RubricSummary)
    assert PD_FORMATS is shapes.PD_FORMATS
    from bltanalytics.metrics.achievement import ACHIEVEMENT_COLUMNS, DIMENSIONS

    assert ACHIEVEMENT_COLUMNS == shapes.columns(shapes.Achievement)
    assert DIMENSIONS is shapes.DIMENSIONS
    # the loading room comes before metrics, so its quarantine list is its own: checked here
    assert QUARANTINE_COLUMNS == shapes.columns(shapes.Quarantine)


def test_the_metric_modules_empty_tables_have_the_models_shapes():
    shapes.check_tables(
        {
            "trends": trends(shapes.empty(shapes.Achievement)),
            "cycles": team_cycles(None, None, Config()),
            "rubric_summary": rollup(shapes.empty(shapes.Rubric)),
            "quarantine": empty_quarantine(),
        }
    )
