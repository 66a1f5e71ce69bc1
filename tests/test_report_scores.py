"""The school report's scale-score section on the sample: tables per subject, hidden groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from bltanalytics.present import SUPPRESSED_MARK, reason_notes
from bltanalytics.reports.scores import scale_scores
from bltanalytics.reports.source import load


@pytest.fixture(scope="module")
def metrics():
    return load()


def test_the_section_shows_every_subject_latest_term_with_hidden_groups_starred(metrics):
    section = scale_scores(metrics, "0101", "2025-26")
    t = metrics.scale_scores
    mine = t[(t["school_id"] == "0101") & (t["school_year"] == "2025-26") & (t["grade"] == "All")]
    assert [p.title.split(",")[0] for p in section.parts] == sorted(
        mine["subject"].unique(), key=["ELA", "Math", "Science", "Social Studies"].index
    )
    for part in section.parts:
        rows = part.extra["rows"]
        subject = part.title.split(",")[0]
        latest = mine[mine["subject"] == subject]["term"]
        assert rows["term"].eq(max(latest, key=["Fall", "Winter", "Spring"].index)).all()
        table = part.table
        assert part.chart is None  # a table, not a chart
        hidden = rows["suppressed"].to_numpy()
        figures = ["Students with a score", "Mean scale score", "SD", "Effect size (Hedges' g)"]
        assert (table.loc[hidden, figures] == SUPPRESSED_MARK).all(axis=None)
        words = reason_notes(rows["suppression_reason"], metrics.config)
        assert (table.loc[hidden, "Note"] == words[hidden].to_numpy()).all()
        shown = ~hidden & (rows["dimension"] != "all").to_numpy()
        # published figures as rounded: mean to 1 decimal, g to 2 with its words
        means = rows.loc[shown, "mean_scale_score"].map(lambda v: f"{v:.1f}")
        assert (table.loc[shown, "Mean scale score"] == means.to_numpy()).all()
        g = rows.loc[shown, "effect_size"]
        assert (
            table.loc[shown, "Effect size (Hedges' g)"].str.startswith("g = ").sum()
            == g.notna().sum()
        )
    html = section._repr_html_()
    assert "Hedges" in html and "<table" in html and "<svg" not in html


def test_the_school_notebook_has_the_section():
    notebook = Path(__file__).parents[1] / "notebooks" / "reports" / "school_report.ipynb"
    assert "reports.scale_scores(metrics, school_id, year)" in notebook.read_text()
