"""The metrics export end to end on the sample district (contract section 4)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bltanalytics.cli import app
from bltanalytics.config import Config
from bltanalytics.load import load_district
from bltanalytics.metrics import compute_metrics, read_metrics, write_metrics

SAMPLE = Path(__file__).parents[1] / "data" / "sample"
CONTRACT_COLUMNS = {
    "achievement": "school_id, school_year, term, subject, grade, dimension, group, n_tested, "
    "n_proficient, pct_proficient, suppressed, suppression_reason, display, gap_pp",
    "rubric": "school_id, school_year, characteristic, indicator_id, kind, numerator, denominator, "
    "value, threshold, status",
    "cycles": "cycle_id, team_id, school_id, subject, n_matched, n_missing_post, "
    "pre_pct_proficient, post_pct_proficient, change_pp, pct_improved, target_pct, target_met",
    "pd": "school_id, school_year, n_instructional_staff, n_participating, participation_rate, "
    "hours_per_staff",
    "quarantine": "table, source_row, action, reason, column, value",
}


@pytest.fixture(scope="module")
def district():
    return load_district(SAMPLE)


@pytest.fixture(scope="module")
def export(district, tmp_path_factory):
    out = tmp_path_factory.mktemp("metrics")
    result = CliRunner().invoke(app, ["metrics", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("name", list(CONTRACT_COLUMNS))
def test_contract_files_have_the_contract_columns(export, name):
    frame = pd.read_csv(export / f"{name}.csv", dtype=str, keep_default_na=False)
    wanted = [c.strip() for c in CONTRACT_COLUMNS[name].split(",")]
    assert [c for c in frame.columns if c in wanted] == wanted
    assert len(frame) > 0


def test_ids_stay_text_and_booleans_are_lower_case(export):
    ach = pd.read_csv(export / "achievement.csv", dtype=str, keep_default_na=False)
    assert ach["school_id"].str.fullmatch(r"0\d{3}").all()
    assert set(ach["suppressed"]) == {"true", "false"}


def test_suppressed_figures_are_empty_cells(export):
    ach = pd.read_csv(export / "achievement.csv", dtype=str, keep_default_na=False)
    hidden = ach[ach["suppressed"] == "true"]
    assert len(hidden) > 0  # the small sample school guarantees some
    assert (hidden[["n_tested", "n_proficient", "pct_proficient", "gap_pp"]] == "").all().all()
    assert set(hidden["suppression_reason"]) <= {"min_n", "complementary"}


def test_rubric_has_25_indicators_for_every_school_year_in_students(district, export):
    rubric = pd.read_csv(export / "rubric.csv", dtype=str)
    pairs = district.tables["students"][["school_id", "school_year"]].drop_duplicates()
    per_pair = rubric.groupby(["school_id", "school_year"]).size()
    assert len(per_pair) == len(pairs) and (per_pair == 25).all()
    assert (
        rubric.groupby("kind").size()
        == pd.Series({"computed": 12 * len(pairs), "rated": 13 * len(pairs)})
    ).all()


def test_quarantine_export_equals_the_loaders_record(district, export):
    q = pd.read_csv(export / "quarantine.csv", dtype=str, keep_default_na=False)
    assert len(q) == len(district.quarantine)
    acc = district.accounting
    assert int(acc["rows_dropped"].sum()) == int((q["action"] == "row_dropped").sum())


def test_read_metrics_round_trips(district, export):
    again = read_metrics(export)
    direct = compute_metrics(district)
    pd.testing.assert_frame_equal(again.achievement, direct.achievement)
    pd.testing.assert_frame_equal(again.rubric, direct.rubric)


def test_min_n_changes_suppression(district, tmp_path):
    loose = compute_metrics(district, Config(min_n=1)).achievement
    strict = compute_metrics(district, Config(min_n=30)).achievement
    assert loose["suppressed"].sum() < strict["suppressed"].sum()
    files = write_metrics(compute_metrics(district, Config(min_n=30)), tmp_path)
    assert [f.stem for f in files][:5] == ["achievement", "rubric", "cycles", "pd", "quarantine"]


def test_bad_config_file_is_a_clear_error(tmp_path):
    cfg = tmp_path / "policy.yaml"
    cfg.write_text("min_n: 10\nminimum: 5\n")
    result = CliRunner().invoke(
        app, ["metrics", str(SAMPLE), "--out", str(tmp_path / "o"), "--config", str(cfg)]
    )
    assert result.exit_code == 2 and "unknown setting(s) minimum" in result.output


GOLDEN_EXPORT = Path(__file__).parent / "golden" / "sample_export.sha256"


def test_golden_the_sample_export_is_byte_for_byte_as_recorded(export):
    """Every CSV of the sample's export has the recorded SHA-256: a refactor changes no figure
    unnoticed. After a change made on purpose, `BLT_UPDATE_GOLDEN=1` rewrites the record (the
    page texts in tests/golden/ show what a reader sees of the change)."""
    digests = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(export.glob("*.csv"))
    }
    if os.environ.get("BLT_UPDATE_GOLDEN"):
        GOLDEN_EXPORT.write_text("".join(f"{d}  {n}\n" for n, d in digests.items()), "utf-8")
    recorded = dict(
        reversed(line.split("  ")) for line in GOLDEN_EXPORT.read_text("utf-8").splitlines()
    )
    changed = sorted(
        n for n in digests.keys() | recorded.keys() if digests.get(n) != recorded.get(n)
    )
    assert changed == [], "changed files (BLT_UPDATE_GOLDEN=1 if on purpose)"
