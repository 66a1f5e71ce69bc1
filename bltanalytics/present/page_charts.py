"""Charts of the report pages: blocks by dimension, schools side by side, gaps, status grids.

Each takes a display-ready frame (from :mod:`bltanalytics.present`) and fits a portrait page
(:data:`MAX_WIDTH`); the theme and the shared status layers are in :mod:`.charts`.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from bltanalytics.present.charts import (
    PALETTE,
    STATUS_COLORS,
    STATUS_WORDS,
    legend_words,
    status_scale,
    status_words_layer,
    with_status_words,
)

# --------------------------------------------------------------------------- report builders
# Added for the per-school report and the district summary (bltanalytics/reports/). Each takes
# figures already prepared for display: ``plot`` (the bar position, top/bottom-coded values held
# at the code so a bar never shows more than its label says) and ``label`` (the words shown).
# Widths stay within ~700 px so a chart prints on a portrait page.

#: Widest a report chart gets, in pixels, so it prints on a portrait page.
MAX_WIDTH = 700


def groups_by_dimension(
    rows: pd.DataFrame, *, title: str, subtitle: str | None = None, description: str
) -> alt.FacetChart:
    """Percent proficient of every group, one block per dimension, All Students as a dashed line.

    ``rows``: one row per group with ``dimension_label``, ``group_label``, ``plot`` (0-100 or
    empty where suppressed), ``label`` (the figure as shown: ``48%``, ``≥95%``, or
    why it is hidden) and ``all_plot`` (All Students' bar position, the same on every row).
    Blocks keep the order of first appearance; each block is as tall as it has groups.

    >>> rows = pd.DataFrame({"dimension_label": ["All students", "Sex", "Sex"],
    ...     "group_label": ["All Students", "Female", "Male"], "plot": [50.0, 55.0, None],
    ...     "label": ["50%", "55%", "hidden to protect a smaller group"], "all_plot": 50.0})
    >>> spec = groups_by_dimension(rows, title="ELA", description="ELA by group.").to_dict()
    >>> spec["facet"]["row"]["field"], spec["description"]
    ('dimension_label', 'ELA by group.')
    """
    order = rows["dimension_label"].drop_duplicates().tolist()
    frame = rows[["dimension_label", "group_label", "plot", "label", "all_plot"]].assign(
        plot_or_zero=rows["plot"].fillna(0.0)
    )
    groups = frame["group_label"].drop_duplicates().tolist()
    base = alt.Chart().encode(
        y=alt.Y(
            "group_label:N",
            sort=groups,
            title=None,
            axis=alt.Axis(labelLimit=230, labelFontSize=12, ticks=False, domain=False),
        )
    )
    bars = base.mark_bar(color=PALETTE[0], height={"band": 0.75}).encode(
        x=alt.X(
            "plot:Q",
            title="Percent proficient",
            scale=alt.Scale(domain=[0, 100]),
            axis=alt.Axis(values=[0, 25, 50, 75, 100]),
        ),
    )
    labels = base.mark_text(align="left", dx=4, fontSize=12).encode(
        x="plot_or_zero:Q", text="label:N"
    )
    # No y encoding: the All Students line spans the whole block.
    reference = (
        alt.Chart()
        .mark_rule(color="#000000", strokeDash=[4, 3], strokeWidth=1.5)
        .encode(x=alt.X("all_plot:Q", aggregate="max"))
    )
    return (
        alt.layer(bars, reference, labels, data=frame)
        .properties(width=380, height=alt.Step(20))
        .facet(
            row=alt.Row(
                "dimension_label:N",
                sort=order,
                title=None,
                header=alt.Header(
                    labelAngle=0,
                    labelOrient="top",
                    labelAnchor="start",
                    labelFontWeight="bold",
                    labelFontSize=13,
                    labelPadding=4,
                ),
            ),
            spacing=10,
        )
        .resolve_scale(y="independent")
        .properties(title=alt.Title(title, subtitle=subtitle or ""), description=description)
    )


def school_subject_bars(
    frame: pd.DataFrame, *, title: str, description: str, category: str = "school_label"
) -> alt.FacetChart:
    """Percent proficient of each school (rows) in each subject (side-by-side panels).

    ``frame``: ``category``, ``subject``, ``plot`` (0-100, empty where suppressed) and ``label``.

    >>> f = pd.DataFrame({"school_label": ["A", "A"], "subject": ["ELA", "Math"],
    ...     "plot": [40.0, 55.0], "label": ["40%", "55%"]})
    >>> spec = school_subject_bars(f, title="Spring", description="d").to_dict()
    >>> spec["facet"]["column"]["field"]
    'subject'
    """
    subjects = frame["subject"].drop_duplicates().tolist()
    panel = max(100, min(200, (MAX_WIDTH - 310) // max(len(subjects), 1) - 14))
    data = frame.assign(plot_or_zero=frame["plot"].fillna(0.0))
    base = alt.Chart().encode(
        y=alt.Y(
            f"{category}:N",
            sort=data[category].drop_duplicates().tolist(),
            title=None,
            axis=alt.Axis(labelLimit=260),
        )
    )
    bars = base.mark_bar(color=PALETTE[0], height={"band": 0.75}).encode(
        x=alt.X(
            "plot:Q",
            title="Percent proficient",
            scale=alt.Scale(domain=[0, 100]),
            axis=alt.Axis(values=[0, 50, 100]),
        )
    )
    labels = base.mark_text(align="left", dx=3, fontSize=12).encode(
        x="plot_or_zero:Q", text="label:N"
    )
    return (
        alt.layer(bars, labels, data=data)
        .properties(width=panel, height=alt.Step(22))
        .facet(
            column=alt.Column(
                "subject:N",
                sort=subjects,
                title=None,
                header=alt.Header(labelFontWeight="bold", labelFontSize=13),
            ),
            spacing=12,
        )
        .properties(title=title, description=description)
    )


def gap_bars(
    frame: pd.DataFrame,
    *,
    title: str,
    description: str,
    category: str = "school_label",
    row: str | None = "subject",
) -> alt.Chart | alt.FacetChart:
    """Gaps below All Students in percentage points: bars left of zero, labelled on the right.

    ``frame``: ``category`` (one row each per ``row`` block, shown in this order), ``plot``
    (points, negative = below All Students) and ``label`` (the words beside the bar, e.g.
    ``-22 pts, students in special education``). ``row``: a column to split the chart into
    blocks (``None``: one block).

    >>> f = pd.DataFrame({"school_label": ["A"], "subject": ["ELA"], "plot": [-20.0],
    ...     "label": ["-20 pts, English learners"]})
    >>> gap_bars(f, title="Largest gaps", description="d").to_dict()["facet"]["row"]["field"]
    'subject'
    """
    low = float(min(-10.0, frame["plot"].min(skipna=True) if len(frame) else -10.0))
    low = 10.0 * np.floor(low / 10.0)
    base = alt.Chart().encode(
        y=alt.Y(
            f"{category}:N",
            sort=frame[category].drop_duplicates().tolist(),
            title=None,
            axis=alt.Axis(labelLimit=250),
        )
    )
    # The right-hand part of the scale holds the labels; its axis shows no values.
    scale = alt.Scale(domain=[low, -1.25 * low], nice=False)
    bars = base.mark_bar(color=PALETTE[5], height={"band": 0.7}).encode(
        x=alt.X(
            "plot:Q",
            title="Gap to All Students (percentage points)",
            scale=scale,
            axis=alt.Axis(values=list(range(int(low), 1, 10))),
        ),
    )
    zero = alt.Chart().mark_rule(color="#000000").encode(x=alt.datum(0))
    labels = base.mark_text(align="left", dx=4, fontSize=12).encode(x=alt.datum(0), text="label:N")
    layered = alt.layer(bars, zero, labels, data=frame).properties(
        width=MAX_WIDTH - 290, height=alt.Step(22)
    )
    if row is None:
        return layered.properties(title=title, description=description)
    return (
        layered.facet(
            row=alt.Row(
                f"{row}:N",
                sort=frame[row].drop_duplicates().tolist(),
                title=None,
                header=alt.Header(
                    labelAngle=0, labelOrient="top", labelAnchor="start", labelFontWeight="bold"
                ),
            ),
            spacing=10,
        )
        .resolve_scale(y="independent")
        .properties(title=title, description=description)
    )


def status_grid(
    rubric: pd.DataFrame,
    *,
    title: str,
    column: str = "school_label",
    row: str = "indicator_id",
    description: str | None = None,
) -> alt.LayerChart:
    """Indicators (rows) x schools or years (columns): each cell coloured by status AND worded.

    The narrow-page twin of :func:`status_board`: with indicators down the side, status words
    fit in their cells and the chart stays within :data:`MAX_WIDTH` for up to eight columns.

    >>> card = pd.DataFrame({"indicator_id": ["C1.teams", "C1.steps"], "school_label": "A",
    ...     "status": ["met", "no_data"]})
    >>> spec = status_grid(card, title="Rubric").to_dict()
    >>> spec["description"]
    'Rubric: 2 indicators by 1 columns; 1 met, 0 approaching, 0 not met, 0 too few, 1 no data.'
    """
    frame = with_status_words(rubric)
    rows = frame[row].drop_duplicates().tolist()
    columns = frame[column].drop_duplicates().tolist()
    # Column labels wrap at spaces; multi-line labels grow downwards from their baseline, so the
    # padding lifts the first line by the height of the others.
    n_lines = max((len(str(c).split(" ")) for c in columns), default=1)
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{row}:N", sort=rows, title=None, axis=alt.Axis(ticks=False, domain=False)),
        x=alt.X(
            f"{column}:N",
            sort=columns,
            title=None,
            axis=alt.Axis(
                orient="top",
                labelAngle=0,
                labelAlign="center",
                labelBaseline="bottom",
                labelExpr="split(datum.label, ' ')",
                labelFontSize=11,
                labelLimit=68,
                labelLineHeight=13,
                labelPadding=4 + 13 * (n_lines - 1),
                ticks=False,
                domain=False,
            ),
        ),
    )
    cells = base.mark_rect(stroke="white", strokeWidth=1.5).encode(
        color=alt.Color(
            "status:N",
            scale=status_scale(),
            title="Status",
            legend=alt.Legend(labelExpr=legend_words(), orient="bottom", direction="horizontal"),
        )
    )
    words = status_words_layer(base, font_size=11)
    counts = frame.groupby("status").size()
    summary = ", ".join(f"{counts.get(s, 0)} {STATUS_WORDS[s]}" for s in STATUS_COLORS)
    text = description or (f"{title}: {len(rows)} indicators by {len(columns)} columns; {summary}.")
    return (cells + words).properties(
        title=title, description=text, width=alt.Step(70), height=alt.Step(22)
    )


def count_bars(
    frame: pd.DataFrame,
    *,
    category: str,
    value: str,
    title: str,
    x_title: str,
    description: str | None = None,
) -> alt.LayerChart:
    """Counts as horizontal bars, each labelled with its number.

    >>> f = pd.DataFrame({"format": ["workshop", "coaching"], "n": [4, 0]})
    >>> count_bars(f, category="format", value="n", title="Activities",
    ...            x_title="Completed activities").to_dict()["description"]
    'Activities. workshop: 4; coaching: 0.'
    """
    data = frame.assign(label=frame[value].map(lambda v: "" if pd.isna(v) else f"{v:,.0f}"))
    base = alt.Chart(data).encode(
        y=alt.Y(
            f"{category}:N",
            sort=data[category].drop_duplicates().tolist(),
            title=None,
            axis=alt.Axis(labelLimit=220),
        )
    )
    bars = base.mark_bar(color=PALETTE[2], height={"band": 0.75}).encode(
        x=alt.X(f"{value}:Q", title=x_title, axis=alt.Axis(tickMinStep=1))
    )
    labels = base.mark_text(align="left", dx=4, fontSize=12).encode(x=f"{value}:Q", text="label:N")
    text = "; ".join(
        f"{c}: {lab or 'no data'}" for c, lab in zip(data[category], data["label"], strict=True)
    )
    return alt.layer(bars, labels).properties(
        title=title,
        description=description or f"{title}. {text}.",
        width=420,
        height=alt.Step(22),
    )


def trend_panels(points: pd.DataFrame, *, title: str, description: str) -> alt.FacetChart:
    """Percent proficient over terms, one panel per subject stacked down the page, each point
    labelled with its figure as shown.

    ``points``: ``period`` (``2025-26 Fall``, in time order), ``subject``, ``plot`` (0-100; a
    suppressed point is absent, leaving a gap, never a zero) and ``label``.

    >>> p = pd.DataFrame({"period": ["2025-26 Fall", "2025-26 Spring"], "subject": "ELA",
    ...     "plot": [30.0, 45.0], "label": ["30%", "45%"]})
    >>> trend_panels(p, title="Trend", description="d").to_dict()["facet"]["row"]["field"]
    'subject'
    """
    periods = points["period"].drop_duplicates().tolist()
    subjects = points["subject"].drop_duplicates().tolist()
    base = alt.Chart().encode(
        x=alt.X(
            "period:O",
            sort=periods,
            title=None,
            scale=alt.Scale(domain=periods),
            axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, ' ')", labelPadding=6),
        ),
        y=alt.Y(
            "plot:Q",
            title="Percent proficient",
            scale=alt.Scale(domain=[0, 100]),
            axis=alt.Axis(values=[0, 50, 100]),
        ),
    )
    line = base.mark_line(color=PALETTE[0], point=alt.OverlayMarkDef(size=60, filled=True))
    labels = base.mark_text(dy=-12, fontSize=12).encode(text="label:N")
    return (
        alt.layer(line, labels, data=points)
        .properties(width=min(540, max(240, 80 * len(periods))), height=130)
        .facet(
            row=alt.Row(
                "subject:N",
                sort=subjects,
                title=None,
                header=alt.Header(
                    labelAngle=0, labelOrient="top", labelAnchor="start", labelFontWeight="bold"
                ),
            ),
            spacing=14,
        )
        .properties(title=title, description=description)
    )
