"""The sections of a school's report about its practice: the rubric scorecard, walk-throughs
and fidelity checks, and professional learning.

>>> from bltanalytics.reports.source import load
>>> scorecard(load(), "0101", "2025-26").title
'Rubric scorecard, 2025-26'
"""

from __future__ import annotations

import pandas as pd

from bltanalytics import present
from bltanalytics.metrics import Metrics
from bltanalytics.metrics.learning import FORMAT_STAGES, PD_FORMATS
from bltanalytics.metrics.rubric import load_rubric
from bltanalytics.present import (
    LABELS,
    SUPPRESSED_MARK,
    charts,
    fixed,
    join_words,
    lower_first,
    page_charts,
    percent,
    plural,
)
from bltanalytics.reports.section import Section, no_data
from bltanalytics.reports.source import (
    check_school,
    table_absent,
)

TABLES_OF = {
    "C5.walkthrough": LABELS.tables["walkthroughs"],
    "C5.fidelity": LABELS.tables["fidelity_checks"],
}


#: How rows that name no school are listed in the district's data-quality table.
def scorecard(metrics: Metrics, school_id: str, school_year: str) -> Section:
    """The rubric: status of every indicator over the years, then each characteristic's values."""
    school_id = check_school(metrics, school_id)
    title = f"Rubric scorecard, {school_year}"
    r = metrics.rubric
    mine = r[(r["school_id"] == school_id) & (r["school_year"] <= school_year)]
    now = mine[mine["school_year"] == school_year]
    if now.empty:
        return no_data(
            title, f"No data: no rubric scores for this school in {school_year}.", "rubric"
        )
    counts = now["status"].value_counts()
    reading = (
        f"In {school_year}, {counts.get('met', 0)} of the {len(now)} indicators are met, "
        f"{counts.get('approaching', 0)} approaching and {counts.get('not_met', 0)} not met; "
        f"{counts.get('insufficient_data', 0) + counts.get('no_data', 0)} cannot be judged "
        "(too few responses, or no data)."
    )
    years = sorted(mine["school_year"].unique().tolist())
    grid = page_charts.status_grid(
        mine.assign(indicator_id=present.indicator_labels(mine["indicator_id"])),
        title=f"Rubric status by indicator, {years[0]} to {years[-1]}"
        if len(years) > 1
        else f"Rubric status by indicator, {school_year}",
        column="school_year",
    )
    words = mine.assign(
        word=present.status_words(mine["status"]),
        indicator_id=present.indicator_labels(mine["indicator_id"]),
    )
    grid_table = present.wide(
        words,
        row="indicator_id",
        column="school_year",
        value="word",
        columns=years,
        fill="",
        row_header="Indicator",
    )
    spec = load_rubric()
    texts = {i.id: i.text for i in spec.indicators}
    now = now.assign(
        value_text=present.value_text(now),
        goal_text=present.goal_text(now),
        status_word=now["status"].map(LABELS.statuses).astype("str"),
    )
    parts = []
    for number, characteristic in enumerate(spec.characteristics, start=1):
        rows = now[now["characteristic"] == characteristic.id]
        if rows.empty:
            continue
        parts.append(_characteristic_part(rows, number, characteristic, texts))
    notes = (present.rubric_note(metrics.config),)
    return Section(
        title=title,
        reading=reading,
        chart=grid,
        table=grid_table,
        caption="Rubric status of each indicator, by school year",
        notes=notes,
        parts=tuple(parts),
        key="rubric",
    )


def _characteristic_part(rows: pd.DataFrame, number: int, characteristic, texts: dict) -> Section:
    label = LABELS.characteristics.get(characteristic.id, characteristic.id)
    met = rows.loc[rows["status"] == "met", "indicator_id"].tolist()
    not_met = rows.loc[rows["status"].isin(["not_met", "approaching"]), "indicator_id"].tolist()
    unknown = rows.loc[rows["status"].isin(["insufficient_data", "no_data"]), "indicator_id"]
    reading = f"{characteristic.title}: {len(met)} of {len(rows)} indicators met"
    if not_met:
        reading += f"; not yet met: {join_words(not_met)}"
    if len(unknown):
        reading += f"; cannot be judged: {join_words(unknown.tolist())}"
    table = pd.DataFrame(
        {
            "Indicator": rows["indicator_id"].to_numpy(),
            "What it looks for": rows["indicator_id"].map(texts).fillna("").to_numpy(),
            "Value": rows["value_text"].to_numpy(),
            "Goal": rows["goal_text"].to_numpy(),
            "Status": rows["status_word"].to_numpy(),
        }
    )
    return Section(
        title=f"{number}. {label}",
        reading=reading + ".",
        table=table,
        caption=f"{label}: value, goal and status of each indicator",
        key=f"rubric-{characteristic.id}",
    )


def walkthroughs(metrics: Metrics, school_id: str, school_year: str) -> Section:
    """Classroom walk-throughs (agreed strategy seen) and teacher-team fidelity checks."""
    school_id = check_school(metrics, school_id)
    title = f"Walk-throughs and fidelity, up to {school_year}"
    measures = {"C5.walkthrough": "Walk-throughs", "C5.fidelity": "Fidelity checks"}
    absent = {i: table_absent(metrics, i) for i in measures}
    missing = [TABLES_OF[i] for i, a in absent.items() if a]
    if len(missing) == 2:
        return no_data(
            title, f"No data: the district did not supply {' or '.join(missing)}.", "walkthroughs"
        )
    r = metrics.rubric
    rows = r[
        (r["school_id"] == school_id)
        & (r["school_year"] <= school_year)
        & r["indicator_id"].isin([i for i, a in absent.items() if not a])
    ].sort_values(["indicator_id", "school_year"], ascending=[False, True], kind="stable")
    rows = rows.assign(
        measure=rows["indicator_id"].map(measures).astype("str"),
        value_text=present.value_text(rows),
        goal_text=present.goal_text(rows),
        status_word=rows["status"].map(LABELS.statuses).astype("str"),
    )
    sentences = []
    for indicator, measure in measures.items():
        if absent[indicator]:
            sentences.append(f"the district did not supply {TABLES_OF[indicator]}")
            continue
        this = rows[(rows["indicator_id"] == indicator) & (rows["school_year"] == school_year)]
        if this.empty or not (this["denominator"].astype("float64") > 0).any():
            sentences.append(f"no {measure.lower()} were recorded in {school_year}")
            continue
        row = this.iloc[0]
        if indicator == "C5.walkthrough":
            sentences.append(
                f"an agreed strategy was seen in {row['numerator']:g} of {int(row['denominator'])} "
                f"walk-throughs ({percent(this['value']).iloc[0]}; goal {row['goal_text']}: "
                f"{row['status_word']})"
            )
        else:
            sentences.append(
                f"teacher-team fidelity checks averaged {percent(this['value']).iloc[0]} over "
                f"{int(row['denominator'])} checks (goal {row['goal_text']}: {row['status_word']})"
            )
    reading = f"In {school_year}, " + "; ".join(sentences) + "."
    table = pd.DataFrame(
        {
            "Measure": rows["measure"].to_numpy(),
            "School year": rows["school_year"].to_numpy(),
            "Value": rows["value_text"].to_numpy(),
            "Goal": rows["goal_text"].to_numpy(),
            "Status": rows["status_word"].to_numpy(),
        }
    )
    chart_rows = rows.assign(indicator_id=rows["measure"] + " " + rows["school_year"])
    chart = None
    if rows["value"].notna().any():
        text = "; ".join(
            (
                chart_rows["indicator_id"]
                + ": "
                + chart_rows["value_text"]
                + ", "
                + chart_rows["status_word"]
            ).tolist()
        )
        chart = charts.indicator_values(
            chart_rows, title="Walk-throughs and fidelity against the goal"
        ).properties(
            description=f"Walk-throughs and fidelity against the goal (black tick). {text}."
        )
    notes = [
        "Walk-throughs: share of classroom visits where an agreed school-wide strategy was in use. "
        "Fidelity: average fidelity percentage of the school's teacher-team checks."
    ]
    if missing:
        notes.append(f"No data: the district did not supply {join_words(missing)}.")
    return Section(
        title=title,
        reading=reading,
        chart=chart,
        table=table,
        caption="Walk-throughs and fidelity checks by school year",
        notes=tuple(notes),
        key="walkthroughs",
    )


def learning(metrics: Metrics, school_id: str, school_year: str) -> Section:
    """Professional learning: participation, blended-learning cycle steps, distributed PD."""
    school_id = check_school(metrics, school_id)
    title = f"Professional learning, {school_year}"
    p = metrics.pd[
        (metrics.pd["school_id"] == school_id) & (metrics.pd["school_year"] <= school_year)
    ]
    if metrics.pd.empty:
        return no_data(
            title,
            f"No data: the district did not supply {LABELS.tables['staff']} or "
            f"{LABELS.tables['pd_activities']}.",
            "learning",
        )
    if metrics.pd["n_participating"].isna().all():
        return no_data(
            title,
            f"No data: the district did not supply {LABELS.tables['pd_activities']}.",
            "learning",
        )
    now = p[p["school_year"] == school_year]
    if now.empty or int(now["n_instructional_staff"].iloc[0]) == 0:
        return no_data(
            title,
            f"No instructional staff are listed for this school in {school_year}.",
            "learning",
        )
    table = _learning_table(p)
    if bool(now["suppressed"].iloc[0]):
        n = int(now["n_instructional_staff"].iloc[0])
        return Section(
            title=title,
            reading=(
                f"This school had {plural(n, 'instructional staff member', 'instructional staff')}"
                f" in {school_year}, fewer than {metrics.config.staff_min_n}: its "
                "professional-learning figures are not shown, so that no one's participation "
                "can be told."
            ),
            table=table,
            caption="Professional-learning participation by school year",
            notes=(
                f"{SUPPRESSED_MARK} = not shown: fewer than {metrics.config.staff_min_n} "
                "instructional staff that year.",
            ),
            key="learning",
        )
    row = now.iloc[0]
    counts = pd.DataFrame(
        {
            "format": [LABELS.formats[f] for f in PD_FORMATS],
            "n": [int(row[f"n_{f}"]) for f in PD_FORMATS],
        }
    )
    ranked = counts.sort_values("n", ascending=False, kind="stable")
    top, bottom = ranked.iloc[0], ranked.iloc[-1]
    reading = (
        f"In {school_year}, {int(row['n_participating'])} of {int(row['n_instructional_staff'])} "
        f"instructional staff ({percent(now['participation_rate']).iloc[0]}) completed at least "
        f"one professional-learning activity, averaging {row['hours_per_staff']:.1f} hours each."
    )
    total = int(counts["n"].sum())
    formats_reading = (
        f"Instructional staff completed {plural(total, 'activity', 'activities')} in "
        f"{school_year}; the most common format was {lower_first(top['format'])} ({top['n']}) "
        f"and the least common {lower_first(bottom['format'])} ({bottom['n']})."
        if total
        else f"Instructional staff completed no professional-learning activities in {school_year}."
    )
    chart = page_charts.count_bars(
        counts,
        category="format",
        value="n",
        title=f"Completed activities by format, {school_year}",
        x_title="Completed activities (instructional staff)",
    )
    participation = Section(
        title="Participation and formats",
        reading=formats_reading,
        chart=chart,
        table=table,
        caption="Professional-learning participation by school year",
        key="learning-participation",
    )
    parts = [participation, _blended_part(metrics, school_id, school_year)]
    parts.extend(_distributed_parts(metrics, school_id, school_year))
    return Section(
        title=title,
        reading=reading,
        parts=tuple(parts),
        notes=("Only instructional staff count, and only completed activities.",),
        key="learning",
    )


def _learning_table(p: pd.DataFrame) -> pd.DataFrame:
    """One column per school year, one row per measure; ``*`` for a year with too few staff."""
    hidden = p["suppressed"].astype(bool).to_numpy()

    def shown(values: pd.Series) -> pd.Series:
        return values.astype("str").where(~hidden, SUPPRESSED_MARK)

    measures = {
        "Instructional staff": p["n_instructional_staff"].astype("str"),
        "Completed at least one activity": shown(p["n_participating"].astype("Int64")),
        "Participation rate": shown(percent(p["participation_rate"])),
        "Hours per staff member": shown(fixed(p["hours_per_staff"], "%.1f")),
        **{
            f"{LABELS.formats[f]} (activities)": shown(p[f"n_{f}"].astype("Int64"))
            for f in PD_FORMATS
        },
    }
    years = p["school_year"].tolist()
    return pd.DataFrame(
        {
            "Measure": list(measures),
            **{y: [m.iloc[i] for m in measures.values()] for i, y in enumerate(years)},
        }
    )


def _progress_part(
    frame: pd.DataFrame, *, heading: str, title: str, what: str, labels: dict[str, str], key: str
) -> Section:
    """One progression (blended cycle, PD stages, format sequence) as bars of staff reached."""
    frame = frame.sort_values("step_order", kind="stable")
    steps = frame["step"].map(labels).fillna(frame["step"]).astype("str")
    shown = frame.assign(step_label=steps.to_numpy())
    chart = charts.share_bars(
        shown, category="step_label", value="share_reached", title=title, goal=None
    )
    table = pd.DataFrame(
        {
            "Step": steps.to_numpy(),
            "Staff who reached it": frame["n_reached"].astype("str").to_numpy(),
            "Share of instructional staff": percent(frame["share_reached"]).to_numpy(),
        }
    )
    n = int(frame["n_instructional_staff"].iloc[0])
    first, last = frame.iloc[0], frame.iloc[-1]
    share = percent(frame["share_reached"])
    reading = (
        f"Of {n} instructional staff, {int(first['n_reached'])} ({share.iloc[0]}) reached "
        f"{lower_first(steps.iloc[0])} and {int(last['n_reached'])} ({share.iloc[-1]}) reached "
        f"{lower_first(steps.iloc[-1])}, the end of {what}."
    )
    return Section(title=heading, reading=reading, chart=chart, table=table, caption=title, key=key)


def _blended_part(metrics: Metrics, school_id: str, school_year: str) -> Section:
    b = metrics.blended_cycle
    mine = b[(b["school_id"] == school_id) & (b["school_year"] == school_year)]
    title = f"Blended learning cycle, {school_year}"
    if mine.empty:
        return no_data(
            "Blended learning cycle",
            "No data: the district's professional-learning activities record no blended-learning "
            "cycle steps.",
            "learning-blended",
        )
    labels = {str(k): f"Step {k}" for k in range(1, 11)}
    return _progress_part(
        mine,
        heading="Blended learning cycle",
        title=title,
        what="the 10-step blended learning cycle",
        labels=labels,
        key="learning-blended",
    )


def _distributed_parts(metrics: Metrics, school_id: str, school_year: str) -> list[Section]:
    d = metrics.distributed_pd
    mine = d[(d["school_id"] == school_id) & (d["school_year"] == school_year)]
    if mine.empty:
        return [
            no_data(
                "Distributed professional development",
                "No data: the district's professional-learning activities record no stages.",
                "learning-distributed",
            )
        ]
    parts = []
    stage = mine[mine["progression"] == "stage"]
    if len(stage):
        parts.append(
            _progress_part(
                stage,
                heading="Distributed PD stages",
                title=f"Distributed PD stages, {school_year}",
                what="distributed professional development",
                labels={str(k): f"Stage {k}" for k in range(1, 4)},
                key="learning-stages",
            )
        )
    sequence = mine[mine["progression"] == "format"]
    if len(sequence):
        parts.append(
            _progress_part(
                sequence,
                heading="Workshop, then micro-PD, then support meeting",
                title=f"Workshop, micro-PD, support meeting, {school_year}",
                what="the workshop, micro-PD and support-meeting sequence",
                labels={f: LABELS.formats[f] for f in FORMAT_STAGES},
                key="learning-sequence",
            )
        )
    return parts
