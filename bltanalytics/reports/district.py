"""The sections of the district summary: every school side by side.

>>> from bltanalytics.reports.source import load
>>> district_overview(load(), "2025-26").key
'district-overview'
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from bltanalytics import present
from bltanalytics.metrics import Metrics
from bltanalytics.metrics.achievement import ALL_GRADES, NOT_REPORTED
from bltanalytics.present import (
    LABELS,
    SUBJECT_ORDER,
    SUPPRESSED_MARK,
    charts,
    fixed,
    group_phrase,
    group_phrases,
    join_words,
    page_charts,
    percent,
)
from bltanalytics.reports.section import Section, no_data
from bltanalytics.reports.source import (
    latest_term,
    school_labels,
)

NO_SCHOOL = "(no school)"

# ``pages``: school label -> link to the school's report page
# (:func:`bltanalytics.reports.source.school_pages`); each school's row links there.

#: Schools per status chart in the district summary, so a chart fits a portrait page.
SCHOOLS_PER_GRID = 8


# --------------------------------------------------------------------------- district sections


def district_overview(
    metrics: Metrics, school_year: str, pages: Mapping[str, str] | None = None
) -> Section:
    """Every school side by side: level, students and rubric indicators met."""
    labels = school_labels(metrics)
    enrolled = (
        metrics.enrollment[metrics.enrollment["school_year"] == school_year]
        .groupby("school_id")["n_students"]
        .sum()
    )
    card = metrics.rubric[metrics.rubric["school_year"] == school_year]
    met = present.met_of_judged(card, ["school_id"]).set_index("school_id")
    s = metrics.schools.merge(labels, on="school_id")
    n_students = s["school_id"].map(enrolled).fillna(0).astype("int64")
    share = s["school_id"].map(met["share_met"]).astype("float64")
    table = pd.DataFrame(
        {
            "School": s["school_label"].to_numpy(),
            "Level": s["level"].fillna("not given").astype("str").to_numpy(),
            "Students": n_students.map("{:,}".format).to_numpy(),
            "Rubric indicators met (of those that can be judged)": s["school_id"]
            .map(met["text"])
            .fillna("no data")
            .astype("str")
            .to_numpy(),
        }
    )
    reading = (
        f"In {school_year} the district has {len(s)} schools and {int(n_students.sum()):,} students"
    )
    if share.notna().any():
        reading += (
            "; of the rubric indicators that can be judged, schools meet from "
            f"{percent(pd.Series([share.min()])).iloc[0]} to "
            f"{percent(pd.Series([share.max()])).iloc[0]}"
        )
    reading += "."
    return Section(
        links=dict(pages or {}),
        title=f"Schools at a glance, {school_year}",
        reading=reading,
        table=table,
        key="district-overview",
    )


def district_scorecard(metrics: Metrics, school_year: str) -> Section:
    """School x indicator rubric statuses, as coloured and worded grids of up to 8 schools."""
    title = f"Rubric status by school and indicator, {school_year}"
    card = metrics.rubric[metrics.rubric["school_year"] == school_year]
    if card.empty:
        return no_data(title, f"No data: no rubric scores in {school_year}.", "district-rubric")
    card = card.merge(school_labels(metrics), on="school_id", how="left")
    card = card.assign(school_label=card["school_label"].fillna(card["school_id"]))
    met = card.assign(met=card["status"] == "met")
    by_indicator = met.groupby("indicator_id", sort=False)["met"].sum()
    n_schools = card["school_id"].nunique()
    most, least = by_indicator.idxmax(), by_indicator.idxmin()
    reading = (
        f"Across {n_schools} schools in {school_year}, the indicator met most often is {most} "
        f"({int(by_indicator[most])} of {n_schools} schools) and the least often is {least} "
        f"({int(by_indicator[least])} of {n_schools})."
        if by_indicator.max() > 0
        else f"No school meets any rubric indicator in {school_year}."
    )
    schools = card["school_label"].drop_duplicates().tolist()
    chunks = [schools[i : i + SCHOOLS_PER_GRID] for i in range(0, len(schools), SCHOOLS_PER_GRID)]
    words = card.assign(word=card["status"].map(LABELS.statuses).astype("str"))
    parts = []
    for k, chunk in enumerate(chunks, start=1):
        rows = words[words["school_label"].isin(chunk)]
        name = (
            f"Schools {SCHOOLS_PER_GRID * (k - 1) + 1}-{SCHOOLS_PER_GRID * (k - 1) + len(chunk)}"
            f" of {len(schools)}"
            if len(chunks) > 1
            else "All schools"
        )
        table = present.wide(
            rows,
            row="indicator_id",
            column="school_label",
            value="word",
            columns=chunk,
            fill="",
            row_header="Indicator",
        )
        counts = rows["status"].value_counts()
        parts.append(
            Section(
                title=name,
                reading=(
                    f"{counts.get('met', 0)} met, {counts.get('approaching', 0)} approaching, "
                    f"{counts.get('not_met', 0)} not met, {counts.get('insufficient_data', 0)} "
                    f"too few and {counts.get('no_data', 0)} no data among these "
                    f"{len(chunk)} schools' {len(rows)} indicator scores."
                ),
                chart=page_charts.status_grid(
                    rows, title=f"{title}: {name.lower()}", column="school_label"
                ),
                table=table,
                caption=f"{title}: {name.lower()} (status words)",
                key=f"district-rubric-{k}",
            )
        )
    return Section(
        title=title,
        reading=reading,
        notes=(
            "Statuses are written in each cell as well as coloured. 'too few': 1 to 4 responses "
            "or records; 'no data': nothing to count, or the table was not supplied.",
        ),
        parts=tuple(parts),
        key="district-rubric",
    )


def _district_latest(metrics: Metrics, school_year: str) -> tuple[pd.DataFrame, str | None]:
    a = metrics.achievement
    rows = a[(a["school_year"] == school_year) & (a["grade"] == ALL_GRADES)]
    if rows.empty:
        return rows, None
    term = latest_term(rows)
    return rows[rows["term"] == term], term


def district_achievement(
    metrics: Metrics, school_year: str, pages: Mapping[str, str] | None = None
) -> Section:
    """All Students percent proficient by school and subject, latest term of the year."""
    title = f"All Students percent proficient by school, {school_year}"
    rows, term = _district_latest(metrics, school_year)
    if term is None:
        return no_data(
            title, f"No data: no assessment results in {school_year}.", "district-achievement"
        )
    title = f"All Students percent proficient by school, {term} {school_year}"
    all_rows = rows[rows["dimension"] == "all"].merge(
        school_labels(metrics), on="school_id", how="left"
    )
    subject_rank = {s: i for i, s in enumerate(SUBJECT_ORDER)}
    school_rank = {s: i for i, s in enumerate(metrics.schools["school_id"])}
    all_rows = all_rows.assign(
        _s=all_rows["subject"].map(subject_rank).fillna(len(subject_rank)),
        _k=all_rows["school_id"].map(school_rank),
    ).sort_values(["_s", "subject", "_k"], kind="stable")
    suppressed = all_rows["suppressed"].astype(bool)
    frame = all_rows.assign(
        plot=present.plot_values(all_rows["pct_proficient"], all_rows["display"]).where(
            ~suppressed
        ),
        label=all_rows["display"]
        .where(
            ~suppressed,
            present.reason_notes(all_rows["suppression_reason"], metrics.config, chart=True),
        )
        .astype("str"),
    )
    subjects = present.ordered(frame["subject"], "subject")
    table = present.wide(
        frame,
        row="school_label",
        column="subject",
        value="display",
        columns=subjects,
        fill="no test",
        row_header="School",
    )
    ranges = []
    for subject in subjects:
        pub = frame[(frame["subject"] == subject) & frame["plot"].notna()]
        if len(pub) > 1:
            # ranked by what is shown: a coded figure by its bound (contract section 2)
            low = pub.loc[pub["plot"].idxmin()]
            high = pub.loc[pub["plot"].idxmax()]
            ranges.append(
                f"{subject} from {low['display']} ({low['name']}) "
                f"to {high['display']} ({high['name']})"
            )
        elif len(pub) == 1:
            ranges.append(f"{subject} {pub['display'].iloc[0]} (one school)")
    reading = (
        f"In {term} {school_year}, the share of all students proficient ranged: "
        + join_words(ranges)
        + "."
        if ranges
        else "No school had enough students tested to publish a figure."
    )
    description = (
        f"{title}. "
        + "; ".join(
            (frame["school_label"] + ", " + frame["subject"] + ": " + frame["label"]).tolist()
        )
        + "."
    )
    chart = page_charts.school_subject_bars(frame, title=title, description=description)
    return Section(
        links=dict(pages or {}),
        title=title,
        reading=reading,
        chart=chart,
        table=table,
        notes=(present.suppression_note(metrics.config),)
        + (
            (present.coded_note(metrics.config),)
            if present.is_coded(frame["display"]).any()
            else ()
        ),
        key="district-achievement",
    )


def district_gaps(
    metrics: Metrics, school_year: str, pages: Mapping[str, str] | None = None
) -> Section:
    """For each school and subject, the published group furthest below All Students."""
    title = f"Largest gap below All Students, by school and subject, {school_year}"
    rows, term = _district_latest(metrics, school_year)
    if term is None:
        return no_data(title, f"No data: no assessment results in {school_year}.", "district-gaps")
    title = f"Largest gap below All Students, by school and subject, {term} {school_year}"
    shown = present.achievement_view(rows, metrics.config)
    candidates = shown[
        (shown["dimension"] != "all") & (shown["group"] != NOT_REPORTED) & shown["gap_rank"].notna()
    ]
    candidates = candidates[candidates["gap_rank"] < 0]
    if candidates.empty:
        return no_data(
            title, "No school has a published group below its All Students figure.", "district-gaps"
        )
    widest = candidates.sort_values(
        ["gap_rank", "dimension", "group"], kind="stable"
    ).drop_duplicates(["school_id", "subject"])
    widest = widest.merge(school_labels(metrics), on="school_id", how="left")
    subject_rank = {s: i for i, s in enumerate(SUBJECT_ORDER)}
    school_rank = {s: i for i, s in enumerate(metrics.schools["school_id"])}
    widest = widest.assign(
        _k=widest["school_id"].map(school_rank),
        _s=widest["subject"].map(subject_rank).fillna(len(subject_rank)),
    ).sort_values(["_s", "subject", "_k"], kind="stable")
    phrase = group_phrases(widest["dimension"], widest["group"])
    frame = widest.assign(
        row_label=widest["school_label"] + ", " + widest["subject"],
        plot=widest["gap_rank"],
        label=widest["gap_label"] + " pts, " + phrase,
    )
    worst = frame.sort_values("gap_rank", kind="stable").iloc[0]
    reading = (
        f"The widest gap in {term} {school_year} is at {worst['name']} in "
        f"{worst['subject']}: {group_phrase(worst['dimension'], worst['group'])} were "
        f"{worst['display']} proficient against {worst['all_display']} for all students "
        f"({worst['gap_label']} points)."
    )
    table = pd.DataFrame(
        {
            "School": frame["school_label"].to_numpy(),
            "Subject": frame["subject"].to_numpy(),
            "Group": (frame["dimension_label"] + ": " + frame["group_label"]).to_numpy(),
            "Group proficient": frame["display"].to_numpy(),
            "All Students proficient": frame["all_display"].to_numpy(),
            "Gap (points)": frame["gap_label"].to_numpy(),
        }
    )
    description = (
        f"{title}. " + "; ".join((frame["row_label"] + ": " + frame["label"]).tolist()) + "."
    )
    chart = page_charts.gap_bars(frame, title=title, description=description)
    return Section(
        links=dict(pages or {}),
        title=title,
        reading=reading,
        chart=chart,
        table=table,
        notes=(
            "Only published groups count (not suppressed, not 'Not reported'); grade All.",
            present.gap_note(metrics.config),
        ),
        key="district-gaps",
    )


def district_learning(
    metrics: Metrics, school_year: str, pages: Mapping[str, str] | None = None
) -> Section:
    """Professional-learning participation of instructional staff, by school."""
    title = f"Professional-learning participation by school, {school_year}"
    if metrics.pd.empty or metrics.pd["n_participating"].isna().all():
        return no_data(
            title,
            f"No data: the district did not supply {LABELS.tables['pd_activities']}.",
            "district-learning",
        )
    p = metrics.pd[metrics.pd["school_year"] == school_year].merge(
        school_labels(metrics), on="school_id", how="left"
    )
    school_rank = {s: i for i, s in enumerate(metrics.schools["school_id"])}
    p = p.assign(_k=p["school_id"].map(school_rank)).sort_values("_k", kind="stable")
    hidden = p["suppressed"].astype(bool)
    staff_note = f"hidden: fewer than {metrics.config.staff_min_n} instructional staff"
    chart = charts.share_bars(
        p.assign(note=staff_note).assign(note=lambda f: f["note"].where(hidden, "")),
        category="school_label",
        value="participation_rate",
        title=title,
        goal=None,
        axis_title="Share of instructional staff with a completed activity",
    )
    table = pd.DataFrame(
        {
            "School": p["school_label"].to_numpy(),
            "Instructional staff": p["n_instructional_staff"].astype("str").to_numpy(),
            "Completed at least one activity": p["n_participating"]
            .astype("Int64")
            .astype("str")
            .where(~hidden, SUPPRESSED_MARK)
            .to_numpy(),
            "Participation rate": percent(p["participation_rate"])
            .where(~hidden, SUPPRESSED_MARK)
            .to_numpy(),
            "Hours per staff member": fixed(p["hours_per_staff"], "%.1f")
            .where(~hidden, SUPPRESSED_MARK)
            .to_numpy(),
        }
    )
    # the district's count is of the schools whose figures are shown: a hidden school's
    # participation is not added in (its staff would be told apart by subtraction)
    shown = p[~hidden & p["n_participating"].notna()]
    rate = shown["participation_rate"]
    low_high = percent(pd.Series([rate.min(), rate.max()]))
    reading = (
        f"In {school_year}, {int(shown['n_participating'].sum()):,} of "
        f"{int(shown['n_instructional_staff'].sum()):,} instructional staff "
        + ("across the district" if len(shown) == len(p) else "in the schools shown")
        + " completed at least one activity; school rates range from "
        f"{low_high.iloc[0]} to {low_high.iloc[1]}."
    )
    notes = (
        (
            f"{SUPPRESSED_MARK} = not shown: fewer than {metrics.config.staff_min_n} "
            "instructional staff that year, so that no one's participation can be told.",
        )
        if hidden.any()
        else ()
    )
    return Section(
        links=dict(pages or {}),
        title=title,
        reading=reading,
        chart=chart,
        table=table,
        notes=notes,
        key="district-learning",
    )


def district_data_quality(metrics: Metrics, pages: Mapping[str, str] | None = None) -> Section:
    """Rows set aside or repaired, per school (all years)."""
    q = metrics.data_quality
    title = "Data-quality notes by school"
    if q.empty:
        return Section(
            title=title, reading="Every input row was used as supplied.", key="district-quality"
        )
    counts = (
        q.assign(school_id=q["school_id"].fillna(NO_SCHOOL))
        .pivot_table(
            index="school_id", columns="action", values="count", aggfunc="sum", fill_value=0
        )
        .reindex(columns=list(LABELS.quarantine_actions), fill_value=0)
        .reset_index()
    )
    labels = school_labels(metrics).assign(_k=lambda f: np.arange(len(f)))
    counts = counts.merge(labels, on="school_id", how="left")
    known = counts["school_label"].notna()
    counts = counts.assign(
        school_label=counts["school_label"].where(
            known | (counts["school_id"] == NO_SCHOOL),
            counts["school_id"] + " (not in the schools table)",
        ),
        _k=counts["_k"]
        .fillna(len(labels))
        .where(counts["school_id"] != NO_SCHOOL, len(labels) + 1),
    ).sort_values(["_k", "school_id"], kind="stable")
    table = pd.DataFrame(
        {
            "School": counts["school_label"].fillna(counts["school_id"]).to_numpy(),
            "Rows not used": counts["row_dropped"].astype("int64").astype("str").to_numpy(),
            "Values blanked (row kept)": counts["value_blanked"]
            .astype("int64")
            .astype("str")
            .to_numpy(),
        }
    )
    reading = (
        f"{int(counts['row_dropped'].sum()):,} input rows were not used and "
        f"{int(counts['value_blanked'].sum()):,} values were blanked across the district; each "
        "school report lists its own by table and reason."
    )
    return Section(
        title=title,
        reading=reading,
        table=table,
        key="district-quality",
        links=dict(pages or {}),
    )
