"""The scale-score section of a school's report: mean scale score by group and Hedges' g.

One table per subject, the subject's latest term of the year, all grades together (grade
``All``), every dimension of the contract. A hidden group shows ``*`` with the achievement
section's words for why; a table, not a chart.

>>> from bltanalytics.reports.source import load
>>> section = scale_scores(load(), "0101", "2025-26")
>>> section.title, "<table" in section._repr_html_()
('Mean scale score by student group, 2025-26', True)
"""

from __future__ import annotations

from bltanalytics import present
from bltanalytics.metrics import Metrics
from bltanalytics.metrics.achievement import DIMENSIONS
from bltanalytics.present.scale import effect_size_note, scale_table, scale_view
from bltanalytics.reports.section import Section, no_data
from bltanalytics.reports.source import check_school, latest_term, school_rows


def scale_scores(metrics: Metrics, school_id: str, school_year: str) -> Section:
    """Mean scale score and effect size of every student group, one part per subject."""
    school_id = check_school(metrics, school_id)
    title = f"Mean scale score by student group, {school_year}"
    mine = school_rows(metrics.scale_scores, school_id, school_year)
    if mine.empty:
        return no_data(
            title, f"No data: there are no scale scores for this school in {school_year}.", "scores"
        )
    dim_rank = {d: i for i, d in enumerate(DIMENSIONS)}
    parts, shown = [], []
    for subject in present.ordered(mine["subject"], "subject"):
        rows = mine[mine["subject"] == subject]
        term = latest_term(rows)
        rows = rows[rows["term"] == term]
        rows = rows.assign(_d=rows["dimension"].map(dim_rank)).sort_values("_d", kind="stable")
        view = scale_view(rows.drop(columns="_d"), metrics.config)
        everyone = view[view["dimension"] == "all"].iloc[0]
        if bool(everyone["suppressed"]):
            reading = f"In {subject}, too few students had a scale score in {term} to publish one."
        else:
            reading = (
                f"In {subject}, the {everyone['tested']} students with a scale score in {term} "
                f"had a mean of {everyone['mean_label']}."
            )
            shown.append(f"{everyone['mean_label']} in {subject} ({term})")
        parts.append(
            Section(
                title=f"{subject}, {term} {school_year}",
                reading=reading,
                table=scale_table(view),
                caption=(
                    f"{subject}, {term} {school_year}: students with a scale score, mean scale "
                    "score, standard deviation and effect size (Hedges' g) by student group"
                ),
                key=f"scores-{subject}",
                extra={"rows": view},
            )
        )
    reading = (
        f"Mean scale score of all students, all grades together: {present.join_words(shown)}."
        if shown
        else "Too few students had a scale score to publish a mean."
    )
    notes = (present.suppression_note(metrics.config), effect_size_note(metrics.config))
    return Section(title=title, reading=reading, notes=notes, parts=tuple(parts), key="scores")
