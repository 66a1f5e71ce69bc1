"""The sections of a school's report about its students: at a glance, achievement by group,
the trend, teacher-team cycles and the data-quality notes.

What a reader sees follows the data contract's disclosure rules, through
:mod:`bltanalytics.present`: a hidden figure shows as ``*`` (never a number), a coded percentage
as ``≥95%``/``≤5%``, and a gap beside a coded percentage as the range it lies in.

>>> from bltanalytics.reports.source import load
>>> section = achievement(load(), "0101", "2025-26")
>>> section.title.startswith("Achievement"), "<table" in section._repr_html_()
(True, True)
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from bltanalytics import present
from bltanalytics.metrics import Metrics
from bltanalytics.metrics.achievement import ALL_GRADES, DIMENSIONS, NOT_REPORTED
from bltanalytics.metrics.comparison import district_achievement
from bltanalytics.metrics.suppression import display_labels
from bltanalytics.present import (
    LABELS,
    SUBJECT_ORDER,
    SUPPRESSED_MARK,
    TERM_ORDER,
    article,
    charts,
    fixed,
    group_phrase,
    join_words,
    page_charts,
    plural,
    say,
    signed,
)
from bltanalytics.reports.section import Section, no_data
from bltanalytics.reports.source import (
    check_school,
    latest_term,
    school_name,
    school_rows,
)

LEVEL_WORDS = ("elementary", "middle", "high")
"""School levels named in the overview sentence ("an elementary school"); others are not named."""

#: The table an indicator of the walk-through section reads, in words.
# --------------------------------------------------------------------------- school sections


def overview(metrics: Metrics, school_id: str, school_year: str) -> Section:
    """The school at a glance: name, level, students, latest results and rubric, in one table.

    >>> from bltanalytics.reports.source import load
    >>> m = load()
    >>> overview(m, "0101", "2025-26").reading.startswith("Maple Elementary School (0101)")
    True
    """
    school_id = check_school(metrics, school_id)
    name = school_name(metrics, school_id)
    school = metrics.schools[metrics.schools["school_id"] == school_id].iloc[0]
    level = school["level"] if pd.notna(school["level"]) else "not given"
    enrolled = metrics.enrollment[
        (metrics.enrollment["school_id"] == school_id)
        & (metrics.enrollment["school_year"] == school_year)
    ]
    n_students = int(enrolled["n_students"].sum())
    grades = present.ordered(enrolled["grade"], "grade")
    grade_text = f"{grades[0]}-{grades[-1]}" if len(grades) > 1 else "".join(grades) or "none"

    a = metrics.achievement
    latest = a[
        (a["school_id"] == school_id)
        & (a["school_year"] == school_year)
        & (a["grade"] == ALL_GRADES)
        & (a["dimension"] == "all")
    ]
    rows = [
        ("School", f"{name} ({school_id})"),
        ("Level", str(level)),
        ("School year", school_year),
        ("Students enrolled", f"{n_students:,}"),
        ("Grades", grade_text),
    ]
    results = ""
    if len(latest):
        term = latest_term(latest)
        now = latest[latest["term"] == term]
        subjects = present.ordered(now["subject"], "subject")
        shown = now.set_index("subject")["display"]
        rows += [(f"{s} proficient, {term} (All Students)", str(shown[s])) for s in subjects]
        results = (
            "; All Students proficient in "
            + term
            + ": "
            + join_words([f"{s} {say(shown[s])}" for s in subjects])
        )
    card = metrics.rubric[
        (metrics.rubric["school_id"] == school_id) & (metrics.rubric["school_year"] == school_year)
    ]
    if len(card):
        met = present.met_of_judged(card, ["school_id"]).iloc[0]
        rows.append(("Rubric indicators met (of those that can be judged)", met["text"]))
        results += f"; {met['n_met']} of {met['n_judged']} rubric indicators that can be judged met"
    p = metrics.pd[
        (metrics.pd["school_id"] == school_id) & (metrics.pd["school_year"] == school_year)
    ]
    if len(p) and pd.notna(p["participation_rate"].iloc[0]):
        rows.append(
            (
                "Staff in professional learning",
                f"{int(p['n_participating'].iloc[0])} of {int(p['n_instructional_staff'].iloc[0])}",
            )
        )
    kind = f", {article(str(level))} {level} school," if level in LEVEL_WORDS else ""
    reading = (
        f"{name} ({school_id}){kind} had {plural(n_students, 'student', 'students')} in "
        f"{'grades' if len(grades) > 1 else 'grade'} {grade_text} in "
        f"{school_year}{results}."
    )
    table = pd.DataFrame(rows, columns=["Item", "Value"])
    return Section(
        title=f"{name} at a glance, {school_year}", reading=reading, table=table, key="overview"
    )


def achievement(metrics: Metrics, school_id: str, school_year: str) -> Section:
    """Percent proficient of every student group, latest term of the year, one part per subject.

    All grades together (grade ``All``); every dimension of the contract. Each part has a chart
    with one block per dimension and All Students as a dashed line, and a table with the same
    figures plus the count tested, the gap to All Students (signed percentage points) and the
    same group across the district
    (:func:`bltanalytics.metrics.comparison.district_achievement`: made from the schools'
    published figures only, so it reveals nothing a school hides).
    """
    school_id = check_school(metrics, school_id)
    title = f"Achievement by student group, {school_year}"
    a = metrics.achievement
    mine = school_rows(a, school_id, school_year)
    if mine.empty:
        return no_data(
            title,
            f"No data: there are no assessment results for this school in {school_year}.",
            "achievement",
        )
    term = latest_term(mine)
    rows = present.achievement_view(mine[mine["term"] == term], metrics.config)
    same_cell = (a["school_year"] == school_year) & (a["grade"] == ALL_GRADES) & (a["term"] == term)
    rows = present.with_district(rows, district_achievement(a[same_cell], metrics.config))
    dim_rank = {d: i for i, d in enumerate(DIMENSIONS)}
    rows = rows.assign(_d=rows["dimension"].map(dim_rank).fillna(len(dim_rank))).sort_values(
        "_d", kind="stable"
    )
    subjects = present.ordered(rows["subject"], "subject")
    parts = tuple(
        _achievement_part(rows[rows["subject"] == s], s, term, school_year) for s in subjects
    )
    all_rows = rows[rows["dimension"] == "all"].set_index("subject")["display"]
    shown = [f"{say(all_rows[s])} in {s}" for s in subjects]
    district = rows[rows["dimension"] == "all"].set_index("subject")["district_display"]
    beside = [f"{say(district[s])} in {s}" for s in subjects if district[s] != present.NONE_SHOWN]
    reading = (
        f"In {term} {school_year}, the share of all students at this school who were proficient "
        f"was {join_words(shown)} (all grades together)"
        + (f"; across the district it was {join_words(beside)}." if beside else ".")
    )
    notes = [
        present.suppression_note(metrics.config),
        present.gap_note(metrics.config),
        present.district_note(metrics.config),
    ]
    if present.coded(rows["display"])[0].notna().any():
        notes.append(present.coded_note(metrics.config))
    missing = [s for s in present.ordered(mine["subject"], "subject") if s not in subjects]
    if missing:
        notes.append(f"{join_words(missing)} had no results in {term}.")
    return Section(title=title, reading=reading, notes=tuple(notes), parts=parts, key="achievement")


def _achievement_part(rows: pd.DataFrame, subject: str, term: str, school_year: str) -> Section:
    title = f"{subject}: percent proficient by student group, {term} {school_year}"
    all_row = rows[rows["dimension"] == "all"].iloc[0]
    groups = rows[rows["dimension"] != "all"]
    n_suppressed = int(groups["suppressed"].astype(bool).sum())
    ranked = groups[(groups["group"] != NOT_REPORTED) & groups["gap_rank"].notna()]
    if bool(all_row["suppressed"]):
        reading = (
            f"In {subject}, too few students were tested in {term} to publish any figure "
            f"({len(groups)} groups suppressed)."
        )
    else:
        reading = (
            f"In {subject}, {all_row['display']} of the {int(all_row['n_tested']):,} students "
            f"tested in {term} were proficient"
        )
        if len(ranked):
            low = ranked.sort_values(["gap_rank", "group"], kind="stable").iloc[0]
            if low["gap_rank"] < 0:
                reading += (
                    f"; the widest gap below All Students is for "
                    f"{group_phrase(low['dimension'], low['group'])} ({low['display']}, "
                    f"{low['gap_label']} points)"
                )
            else:
                reading += "; no published group is below All Students"
        reading += f", and {n_suppressed} of {len(groups)} groups are suppressed."
    spoken = rows["display"].where(~rows["suppressed"].astype(bool), rows["note"])
    description = (
        f"Bar chart of percent proficient in {subject}, {term} {school_year}, by student group. "
        + "; ".join((rows["dimension_label"] + ", " + rows["group_label"] + ": " + spoken).tolist())
        + f". All Students: {all_row['display']}."
    )
    chart = page_charts.groups_by_dimension(
        rows,
        title=title,
        subtitle="All grades. Dashed line: All Students. Suppressed groups have no bar.",
        description=description,
    )
    table = pd.DataFrame(
        {
            "Dimension": rows["dimension_label"].to_numpy(),
            "Group": rows["group_label"].to_numpy(),
            "Tested": rows["tested"].to_numpy(),
            "Proficient": rows["display"].to_numpy(),
            "Gap to All Students (points)": rows["gap_label"].to_numpy(),
            "District": rows["district_display"].to_numpy(),
            "School minus district (points)": rows["district_gap_label"].to_numpy(),
        }
    )
    return Section(
        title=subject,
        reading=reading,
        chart=chart,
        table=table,
        caption=(
            f"{title}: count tested, percent proficient, gap to All Students, and the district"
        ),
        key=f"achievement-{subject}",
        extra={"rows": rows},
    )


def trend(metrics: Metrics, school_id: str, school_year: str) -> Section:
    """All Students' percent proficient in every term of every year up to ``school_year``."""
    school_id = check_school(metrics, school_id)
    title = f"Trend: All Students percent proficient, by term, up to {school_year}"
    a = metrics.achievement
    points = a[
        (a["school_id"] == school_id)
        & (a["school_year"] <= school_year)
        & (a["grade"] == ALL_GRADES)
        & (a["dimension"] == "all")
    ]
    if points.empty:
        return no_data(title, "No data: there are no assessment results for this school.", "trend")
    term_rank = {t: i for i, t in enumerate(TERM_ORDER)}
    subject_rank = {s: i for i, s in enumerate(SUBJECT_ORDER)}
    points = points.assign(
        period=points["school_year"] + " " + points["term"],
        _t=points["term"].map(term_rank).fillna(len(term_rank)),
        _s=points["subject"].map(subject_rank).fillna(len(subject_rank)),
    ).sort_values(["school_year", "_t", "_s", "subject"], kind="stable")
    suppressed = points["suppressed"].astype(bool)
    points = points.assign(
        when=points["term"] + " " + points["school_year"],
        plot=present.plot_values(points["pct_proficient"], points["display"]).where(~suppressed),
        label=points["display"].where(~suppressed, "").astype("str"),
    )
    published = points[~suppressed]
    description = (
        f"{title}. "
        + "; ".join((points["subject"] + " " + points["when"] + ": " + points["display"]).tolist())
        + "."
    )
    chart = page_charts.trend_panels(
        points[["period", "subject", "plot", "label"]], title=title, description=description
    )
    table = present.wide(
        points,
        row="period",
        column="subject",
        value="display",
        columns=present.ordered(points["subject"], "subject"),
        fill="no test",
        row_header="Term",
    )
    changes = []
    for subject in present.ordered(published["subject"], "subject"):
        own = published[published["subject"] == subject]
        first, last = own.iloc[0], own.iloc[-1]
        if first["period"] == last["period"]:
            changes.append(f"{subject} {last['display']} ({last['when']}, one term only)")
        else:
            changes.append(
                f"{subject} from {first['display']} ({first['when']}) to {last['display']} "
                f"({last['when']})"
            )
    reading = (
        "Among all students, the share proficient went: " + join_words(changes) + "."
        if changes
        else "No figure can be published: every term had too few students tested."
    )
    notes = [
        "Each term compares different tests and, across years, different students; read the "
        "direction rather than small differences.",
        present.suppression_note(metrics.config),
    ]
    groups = a[
        (a["school_id"] == school_id)
        & (a["school_year"] <= school_year)
        & (a["grade"] == ALL_GRADES)
    ]
    parts = tuple(
        _group_trend_part(groups[groups["subject"] == subject], subject, metrics.config)
        for subject in present.ordered(groups["subject"], "subject")
    )
    return Section(
        title=title,
        reading=reading,
        chart=chart,
        table=table,
        caption=f"{title} (All Students, all grades)",
        notes=tuple(notes),
        parts=tuple(p for p in parts if p is not None),
        key="trend",
    )


def _group_trend_part(rows: pd.DataFrame, subject: str, config) -> Section | None:
    """One subject's groups over every term: the figures as shown, and the change from the
    first term to the last as the range it must lie in (``*`` where either end is hidden).

    Only groups the school can publish at least once are listed; a group hidden every term
    would add nothing but asterisks."""
    rows = rows[rows["dimension"] != "all"]
    shown = rows.groupby(["dimension", "group"], sort=False)["suppressed"].transform("all")
    rows = rows[~shown.to_numpy(dtype=bool)]
    if rows.empty:
        return None
    rows = rows.assign(
        period=rows["term"] + " " + rows["school_year"],
        _t=present.rank(rows["term"], "term"),
        _d=present.rank(rows["dimension"], "dimension"),
    ).sort_values(["school_year", "_t"], kind="stable")
    periods = rows["period"].drop_duplicates().tolist()
    view = rows.assign(
        group_label=present.dimension_labels(rows["dimension"])
        + ": "
        + present.group_labels(rows["dimension"], rows["group"])
    ).sort_values(["_d"], kind="stable")
    wide = view.pivot_table(
        index=["_d", "group_label"], columns="period", values="display", aggfunc="first", sort=False
    ).reindex(columns=periods)
    first = view.drop_duplicates(["dimension", "group"], keep="first")
    last = view.drop_duplicates(["dimension", "group"], keep="last")
    change, _ = present.difference(
        first["pct_proficient"].reset_index(drop=True),
        first["display"].reset_index(drop=True),
        last["pct_proficient"].reset_index(drop=True),
        last["display"].reset_index(drop=True),
    )
    one_term = first["period"].to_numpy() == last["period"].to_numpy()
    change = change.where(change != "", SUPPRESSED_MARK).where(~one_term, "")
    table = wide.fillna("no test").reset_index().drop(columns="_d")
    table = table.rename(columns={"group_label": "Group"})
    table.columns.name = None
    table["Change (points)"] = change.to_numpy()
    n_groups = len(table)
    return Section(
        title=f"{subject}: student groups",
        reading=(
            f"In {subject}, {n_groups} student groups can be published at least once between "
            f"{periods[0]} and {periods[-1]} (all grades)."
        ),
        table=table,
        caption=f"{subject}: percent proficient by student group and term, all grades",
        notes=(
            f"Change: {periods[-1]} minus {periods[0]} (or the group's first and last terms "
            "tested), in percentage points; a range where either end is top- or bottom-coded, * "
            "where either end is hidden.",
        ),
        key=f"trend-groups-{subject}",
    )


def team_cycles(metrics: Metrics, school_id: str, school_year: str) -> Section:
    """Teacher-team five-step cycles of the year: percent proficient before and after, target."""
    school_id = check_school(metrics, school_id)
    title = f"Teacher-team five-step cycles, {school_year}"
    c = metrics.cycles
    if c.empty:
        return no_data(
            title, f"No data: the district did not supply {LABELS.tables['team_cycles']}.", "cycles"
        )
    mine = c[
        (c["school_id"] == school_id)
        & ((c["school_year"] == school_year) | c["school_year"].isna())
    ]
    if mine.empty:
        return no_data(
            title,
            f"No teacher-team cycles were recorded at this school in {school_year}.",
            "cycles",
        )
    config = metrics.config
    codes = {"top_code": config.top_code, "bottom_code": config.bottom_code}
    pre, post = mine["pre_pct_proficient"], mine["post_pct_proficient"]
    published = pre.notna() & post.notna()
    pre_show = display_labels(pre.to_numpy(), pre.isna().to_numpy(), **codes)
    post_show = display_labels(post.to_numpy(), post.isna().to_numpy(), **codes)
    improved = mine["pct_improved"]
    improved_show = display_labels(improved.to_numpy(), improved.isna().to_numpy(), **codes)
    pre_show.index = post_show.index = improved_show.index = mine.index
    change, change_nearest = present.difference(pre, pre_show, post, post_show)
    change = change.where(published, SUPPRESSED_MARK)
    target_met = mine["target_met"].astype("boolean").map({True: "yes", False: "no"}).astype("str")
    target_met = target_met.where(published, SUPPRESSED_MARK).fillna(SUPPRESSED_MARK)
    cycle = (mine["cycle_id"] + " " + mine["subject"].fillna("")).str.strip()
    target_text = (fixed(mine["target_pct"], "%.0f") + "%").where(mine["target_pct"].notna(), "")
    focus = (
        mine["focus"].fillna("").astype("str")
        + np.where(mine["focus"].notna() & mine["strategy"].notna(), "; strategy: ", "")
        + mine["strategy"].fillna("").astype("str")
    )
    table = pd.DataFrame(
        {
            "Cycle": cycle.to_numpy(),
            "Team": mine["team_id"].to_numpy(),
            "Focus and strategy": focus.to_numpy(),
            "Students": mine["n_matched"]
            .astype("Int64")
            .astype("str")
            .where(~mine["suppressed"].astype(bool), SUPPRESSED_MARK)
            .to_numpy(),
            "Before": pre_show.to_numpy(),
            "After": post_show.to_numpy(),
            "Change (pts)": change.to_numpy(),
            "Improved": improved_show.to_numpy(),
            "Target: met?": (target_text + ": " + target_met).str.lstrip(": ").to_numpy(),
        }
    )
    shown = mine[published.to_numpy()]
    n_met = int(mine["target_met"].astype("boolean").fillna(False).sum())
    n_pub = int(published.sum())
    if n_pub:
        # a change shown as a range counts at its end nearest zero: never more than is shown
        median_change = float(change_nearest[published].median())
        reading = (
            f"{plural(len(mine), 'teacher-team cycle', 'teacher-team cycles')} ran in "
            f"{school_year}; of the {n_pub} with enough students to report, {n_met} reached "
            "their target, and the median change in the share proficient was "
            f"{signed(pd.Series([median_change])).iloc[0]} points."
        )
    else:
        reading = (
            f"{len(mine)} teacher-team cycles ran in {school_year}, none with enough students "
            "matched before and after to report."
        )
    clipped = shown.assign(
        pre_pct_proficient=present.plot_values(shown["pre_pct_proficient"], pre_show[published]),
        post_pct_proficient=present.plot_values(shown["post_pct_proficient"], post_show[published]),
    )
    chart = None
    if n_pub:
        description = (
            f"{title}: percent proficient before (pre) and after (post) each cycle, with its "
            "target. "
            + "; ".join(
                (
                    cycle[published]
                    + ": "
                    + pre_show[published]
                    + " to "
                    + post_show[published]
                    + ", target "
                    + target_text[published]
                ).tolist()
            )
            + "."
        )
        chart = charts.pre_post(
            clipped,
            title=alt.Title(
                title, subtitle="Dots: before and after. Black tick: the team's target."
            ),
        ).properties(description=description)
    notes = [
        "Students: those with both a pre and a post score. Before / After: percent of them at or "
        "above the cycle's cut score. Change: After minus Before, in percentage points. Improved: "
        "percent whose post score beat their pre score. Target: met? the team's target for After, "
        "and whether After reached it.",
        present.cycles_suppression_note(config),
    ]
    if mine["school_year"].isna().any():
        notes.append("Cycles without dates are listed in every year.")
    return Section(
        title=title, reading=reading, chart=chart, table=table, notes=tuple(notes), key="cycles"
    )


def data_quality(metrics: Metrics, school_id: str) -> Section:
    """Input rows of this school that were set aside or repaired, and why (all years)."""
    school_id = check_school(metrics, school_id)
    title = "Data-quality notes"
    q = metrics.data_quality
    mine = q[q["school_id"] == school_id]
    unplaced = int(q.loc[q["school_id"].isna(), "count"].sum())
    tail = (
        f" Another {unplaced:,} rows in the district's files could not be tied to any school."
        if unplaced
        else ""
    )
    if mine.empty:
        return Section(
            title=title,
            reading="Every input row for this school was used as supplied." + tail,
            key="data-quality",
        )
    dropped = int(mine.loc[mine["action"] == "row_dropped", "count"].sum())
    blanked = int(mine.loc[mine["action"] == "value_blanked", "count"].sum())
    table = pd.DataFrame(
        {
            "Table": mine["table"].to_numpy(),
            "What happened": mine["action"]
            .map(LABELS.quarantine_actions)
            .fillna(mine["action"])
            .to_numpy(),
            "Why": mine["reason"].map(LABELS.quarantine_reasons).fillna(mine["reason"]).to_numpy(),
            "Rows": mine["count"].astype("str").to_numpy(),
        }
    )
    worst = mine.sort_values("count", ascending=False, kind="stable").iloc[0]
    reading = (
        f"{plural(dropped, 'input row', 'input rows')} for this school "
        f"{'was' if dropped == 1 else 'were'} not used and {plural(blanked, 'value', 'values')} "
        f"{'was' if blanked == 1 else 'were'} blanked (row kept); the most frequent reason is "
        f"{worst['table']}: {LABELS.quarantine_reasons.get(worst['reason'], worst['reason'])} "
        f"({worst['count']:,})."
    )
    return Section(
        title=title,
        reading=reading,
        table=table,
        caption="Rows set aside or repaired for this school, by table and reason (all years)",
        notes=(
            "Counts cover every year in the files. The district's data lead can see each row in "
            "the metrics export's quarantine file (not shared in reports).",
        )
        + ((tail.strip(),) if tail else ()),
        key="data-quality",
    )
