"""Charts for reports and dashboards: one theme, aggregates only, words beside colours.

Every builder takes a display-ready frame (from :mod:`bltanalytics.present`: labels, bar
positions held at their codes, hidden figures already empty) and returns an ``alt.Chart`` with a
title and a ``description`` (the text alternative screen readers get from the SVG).
Nothing here displays; notebooks and dashboards do.

The palette is Okabe-Ito (safe for the common colour-vision deficiencies); statuses are also
written as words on every chart that colours them, so colour never carries meaning alone.

>>> import pandas as pd
>>> rows = pd.DataFrame({"group": ["All Students", "Yes", "No"],
...     "group_label": ["All Students", "Yes", "No"], "plot": [60.0, None, 64.0],
...     "label": ["60%", "hidden: fewer than 10 students", "64%"]})
>>> spec = proficiency_by_group(rows, title="ELA, grade 3").to_dict()
>>> spec["title"]["text"], spec["description"][:22]
('ELA, grade 3', 'Percent proficient by ')
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from bltanalytics.present.labels import LABELS, status_words

THEME = "bltanalytics"
#: Okabe-Ito, the colour-blind-safe palette
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
STATUS_COLORS = {
    "met": "#0072B2",
    "approaching": "#E69F00",
    "not_met": "#D55E00",
    "insufficient_data": "#BBBBBB",
    "no_data": "#EEEEEE",
}
#: The word beside each status colour (labels.yaml ``statuses``).
STATUS_WORDS = dict(LABELS.statuses)


def _theme() -> alt.theme.ThemeConfig:
    return alt.theme.ThemeConfig(
        config={
            "font": "Helvetica, Arial, sans-serif",
            "view": {"continuousWidth": 520, "continuousHeight": 300, "stroke": None},
            "title": {
                "fontSize": 18,
                "anchor": "start",
                "subtitleFontSize": 13,
                "subtitleColor": "#444",
            },
            "axis": {"labelFontSize": 13, "titleFontSize": 13, "gridColor": "#E5E5E5"},
            "legend": {"labelFontSize": 13, "titleFontSize": 13, "orient": "bottom"},
            "header": {"labelFontSize": 13, "titleFontSize": 13},
            "range": {"category": PALETTE},
            "text": {"fontSize": 13},
        }
    )


def use_theme() -> None:
    """Register and enable the package theme for charts displayed from now on (idempotent).

    For interactive work (JupyterLab, the dashboards): a chart shown in a notebook takes the
    active theme when it is displayed. Reports do not rely on it: they render every chart with
    :func:`themed_spec`, which applies the theme whatever theme is active (a warm kernel's reset
    puts altair's default back between two reports).

    >>> use_theme()
    >>> alt.theme.active
    'bltanalytics'
    """
    alt.theme.register(THEME, enable=True)(_theme)


def themed_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec with the package theme applied, whatever theme is active.

    The theme is merged under the chart's own settings (as altair does for the active theme),
    so the result does not depend on earlier imports, ``use_theme()`` calls or kernel resets.
    Not validated against the schema (the chart builders' tests do that).

    >>> with alt.theme.enable("default"):
    ...     spec = themed_spec(alt.Chart(pd.DataFrame({"x": [1]})).mark_point().encode(x="x"))
    >>> spec["config"]["title"]["fontSize"], spec["config"]["legend"]["orient"]
    (18, 'bottom')
    """
    if THEME not in alt.theme.names():
        alt.theme.register(THEME, enable=False)(_theme)
    with alt.theme.enable(THEME):
        return chart.to_dict(validate=False)


# Interactive displays (dashboards, JupyterLab) get the theme on import; reports use themed_spec.
use_theme()


def _status_words(base: alt.Chart, *, font_size: int) -> alt.Chart:
    """Each cell's status as a word, white on the dark status colours, black on the light."""
    return base.mark_text(fontSize=font_size).encode(
        text="status_word:N",
        color=alt.condition(
            alt.FieldOneOfPredicate(field="status", oneOf=["met", "not_met"]),
            alt.value("white"),
            alt.value("black"),
        ),
    )


def _status_scale() -> alt.Scale:
    return alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values()))


def _with_status_words(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(status_word=status_words(frame["status"]).astype("str"))


def proficiency_by_group(
    view: pd.DataFrame, *, title: str, subtitle: str | None = None
) -> alt.Chart:
    """Percent proficient of each group of one family, with All Students as a reference line.

    ``view``: display-ready rows (:func:`bltanalytics.present.achievement_view`) of one
    school/year/term/subject/grade, the All Students row plus the groups of one dimension:
    ``group_label``, ``plot`` (bar position, empty where hidden) and ``label`` (the figure as
    shown, or why it is hidden). Hidden groups get no bar, only their label.

    >>> view = pd.DataFrame({"group": ["All Students", "Yes", "No"],
    ...     "group_label": ["All Students", "Yes", "No"], "plot": [50.0, None, 55.0],
    ...     "label": ["50%", "hidden: fewer than 10 students", "55%"]})
    >>> spec = proficiency_by_group(view, title="ELA").to_dict()
    >>> spec["description"].split(". ")[1]
    'All Students: 50%; Yes: hidden: fewer than 10 students; No: 55%.'
    """
    rows = view[["group", "group_label", "label"]].assign(value=view["plot"].astype("float64"))
    all_row = rows[rows["group"] == "All Students"]
    groups = rows[rows["group"] != "All Students"] if len(rows) > len(all_row) else rows
    order = groups["group_label"].tolist()
    base = alt.Chart(groups).encode(
        y=alt.Y("group_label:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    )
    bars = base.mark_bar(color=PALETTE[0]).encode(
        x=alt.X("value:Q", title="Percent proficient", scale=alt.Scale(domain=[0, 100])),
        tooltip=[
            alt.Tooltip("group_label:N", title="group"),
            alt.Tooltip("label:N", title="proficient"),
        ],
    )
    labels = (
        base.mark_text(align="left", dx=4)
        .encode(x=alt.X("value:Q", impute=None), text="label:N")
        .transform_calculate(value="isValid(datum.value) ? datum.value : 0")
    )
    layers = [bars, labels]
    all_pct = all_row["value"].dropna()
    if len(all_pct) and len(groups) and groups["group"].tolist() != ["All Students"]:
        rule = alt.Chart(pd.DataFrame({"all": [float(all_pct.iloc[0])], "text": ["All Students"]}))
        layers += [
            rule.mark_rule(color="#000000", strokeDash=[4, 3], strokeWidth=2).encode(x="all:Q"),
            rule.mark_text(align="left", dx=4, dy=-8, baseline="bottom", color="#000000").encode(
                x="all:Q",
                y=alt.value(0),
                text=alt.value(f"All Students {all_row['label'].iloc[0]}"),
            ),
        ]
    return alt.layer(*layers).properties(
        title=alt.Title(title, subtitle=subtitle or ""),
        description=describe_groups(rows, title),
        height=max(60, 34 * max(len(groups), 1)),
    )


def describe_groups(view: pd.DataFrame, title: str) -> str:
    """Text alternative: every group with its figure as shown (or why it is hidden)."""
    parts = [f"{g}: {label}" for g, label in zip(view["group_label"], view["label"], strict=True)]
    return f"Percent proficient by student group, {title}. " + "; ".join(parts) + "."


def trend(points: pd.DataFrame, *, title: str, color: str = "subject") -> alt.Chart:
    """Percent proficient over terms and years; one line per ``color`` value.

    ``points``: columns ``period`` (e.g. ``2025-26 Fall``, in time order), ``pct_proficient``,
    ``display`` and ``color``. Suppressed points are absent (a break in the line), never zero.
    """
    order = points["period"].drop_duplicates().tolist()
    base = alt.Chart(points).encode(
        x=alt.X("period:O", sort=order, title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("pct_proficient:Q", title="Percent proficient", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color(f"{color}:N", title=color.replace("_", " ").capitalize()),
        tooltip=[
            alt.Tooltip("period:O"),
            alt.Tooltip(f"{color}:N"),
            alt.Tooltip("display:N", title="proficient"),
        ],
    )
    chart = base.mark_line(point=alt.OverlayMarkDef(size=70, filled=True)) + base.mark_text(
        dy=-12, fontSize=12
    ).encode(text="display:N")
    described = "; ".join(
        f"{c} {p}: {d}"
        for c, p, d in zip(points[color], points["period"], points["display"], strict=True)
    )
    return chart.properties(
        title=title, description=f"{title}. {described or 'no published figures'}.", height=260
    )


def status_board(rubric: pd.DataFrame, *, title: str, row: str = "school_label") -> alt.Chart:
    """Rows (schools) x indicators, each cell coloured by status and labelled with its word."""
    frame = _with_status_words(rubric)
    indicators = frame["indicator_id"].drop_duplicates().tolist()
    base = alt.Chart(frame).encode(
        x=alt.X(
            "indicator_id:N",
            sort=indicators,
            title=None,
            axis=alt.Axis(labelAngle=-45, orient="top"),
        ),
        y=alt.Y(f"{row}:N", title=None, axis=alt.Axis(labelLimit=240)),
        tooltip=[
            alt.Tooltip(f"{row}:N", title="school"),
            alt.Tooltip("indicator_id:N", title="indicator"),
            alt.Tooltip("status_word:N", title="status"),
            alt.Tooltip("value:Q", format=".0f", title="percent"),
            alt.Tooltip("threshold:Q", format=".0f", title="goal"),
        ],
    )
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "status:N",
            scale=_status_scale(),
            title="Status",
            legend=alt.Legend(labelExpr=_legend_words()),
        )
    )
    words = _status_words(base, font_size=9)
    counts = frame.groupby("status").size()
    summary = ", ".join(f"{counts.get(s, 0)} {STATUS_WORDS[s]}" for s in STATUS_COLORS)
    n_rows = frame[row].nunique()
    return (cells + words).properties(
        title=title,
        description=f"{title}: {n_rows} rows by {len(indicators)} indicators; {summary}.",
        width=max(400, 44 * len(indicators)),
        height=max(80, 26 * n_rows),
    )


def _legend_words() -> str:
    cases = " : ".join(f"datum.label == '{k}' ? '{v}'" for k, v in STATUS_WORDS.items())
    return f"{cases} : datum.label"


def indicator_values(rubric: pd.DataFrame, *, title: str) -> alt.Chart:
    """One school-year's indicators: value as a bar, threshold as a tick, status as a word."""
    frame = _with_status_words(rubric)[["indicator_id", "status", "status_word"]].assign(
        value=rubric["value"].astype("float64") * 100,
        threshold=rubric["threshold"].astype("float64") * 100,
    )
    order = frame["indicator_id"].tolist()
    base = alt.Chart(frame).encode(y=alt.Y("indicator_id:N", sort=order, title=None))
    bars = base.mark_bar().encode(
        x=alt.X(
            "value:Q",
            title="Percent",
            scale=alt.Scale(domain=[0, 100]),
            axis=alt.Axis(values=[0, 25, 50, 75, 100]),
        ),
        color=alt.Color(
            "status:N",
            scale=_status_scale(),
            title="Status",
            legend=alt.Legend(labelExpr=_legend_words()),
        ),
        tooltip=[
            "indicator_id:N",
            "status_word:N",
            alt.Tooltip("value:Q", format=".0f", title="percent"),
            alt.Tooltip("threshold:Q", format=".0f", title="goal"),
        ],
    )
    ticks = base.mark_tick(color="black", thickness=3, size=22).encode(x="threshold:Q")
    words = base.mark_text(align="left", dx=6).encode(x=alt.value(520), text="status_word:N")
    text = "; ".join(
        f"{i}: {w}" + (f" ({v:.0f}% vs {t:.0f}%)" if pd.notna(v) else "")
        for i, w, v, t in zip(
            frame["indicator_id"],
            frame["status_word"],
            frame["value"],
            frame["threshold"],
            strict=True,
        )
    )
    return (bars + ticks + words).properties(
        title=title, description=f"{title}. {text}.", height=26 * max(len(frame), 1), width=500
    )


def pre_post(cycles: pd.DataFrame, *, title: str) -> alt.Chart:
    """Teacher-team cycles: percent proficient before and after, with the team's target."""
    frame = cycles.dropna(subset=["pre_pct_proficient", "post_pct_proficient"]).assign(
        cycle=lambda f: f["cycle_id"] + " " + f["subject"]
    )
    long = pd.concat(
        [
            frame.assign(when="pre", pct=frame["pre_pct_proficient"]),
            frame.assign(when="post", pct=frame["post_pct_proficient"]),
        ]
    )[["cycle", "when", "pct"]]
    base = alt.Chart(long).encode(y=alt.Y("cycle:N", title=None))
    line = base.mark_line(color="#777777").encode(x="pct:Q", detail="cycle:N")
    dots = base.mark_point(filled=True, size=110).encode(
        x=alt.X("pct:Q", title="Percent proficient", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color(
            "when:N",
            title=None,
            sort=["pre", "post"],
            scale=alt.Scale(domain=["pre", "post"], range=[PALETTE[1], PALETTE[0]]),
        ),
        shape=alt.Shape(
            "when:N", sort=["pre", "post"], title=None, scale=alt.Scale(domain=["pre", "post"])
        ),
        tooltip=["cycle:N", "when:N", alt.Tooltip("pct:Q", format=".0f")],
    )
    target = (
        alt.Chart(frame)
        .mark_tick(color="black", thickness=2, size=20)
        .encode(y="cycle:N", x="target_pct:Q", tooltip=["cycle:N", "target_pct:Q"])
    )
    text = "; ".join(
        f"{c}: {a:.0f}% to {b:.0f}% (target {t:.0f}%)"
        for c, a, b, t in zip(
            frame["cycle"],
            frame["pre_pct_proficient"],
            frame["post_pct_proficient"],
            frame["target_pct"],
            strict=True,
        )
    )
    return (line + dots + target).properties(
        title=title,
        description=f"{title}. {text or 'no cycle with enough matched students'}.",
        height=30 * max(frame["cycle"].nunique(), 1),
    )


def share_bars(
    frame: pd.DataFrame,
    *,
    category: str,
    value: str,
    title: str,
    goal: float | None = 0.75,
    sort: list[str] | None = None,
    axis_title: str = "Share of instructional staff",
) -> alt.Chart:
    """Shares (0-1) as bars with the rubric's goal line, labelled with percentages.

    ``axis_title`` says what the shares are of (default: instructional staff).
    """
    frame = frame.assign(
        label=frame[value].map(lambda v: "" if pd.isna(v) else f"{v:.0%}").astype("str")
    )
    base = alt.Chart(frame).encode(
        y=alt.Y(
            f"{category}:N",
            sort=sort or frame[category].tolist(),
            title=None,
            axis=alt.Axis(labelLimit=260),
        )
    )
    bars = base.mark_bar(color=PALETTE[2]).encode(
        x=alt.X(
            f"{value}:Q",
            title=axis_title,
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%"),
        ),
        tooltip=[f"{category}:N", alt.Tooltip(f"{value}:Q", format=".0%")],
    )
    labels = base.mark_text(align="left", dx=4).encode(x=f"{value}:Q", text="label:N")
    layers = [bars, labels]
    if goal is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"goal": [goal]}))
            .mark_rule(strokeDash=[4, 3], color="black", strokeWidth=2)
            .encode(x="goal:Q")
        )
    text = "; ".join(
        f"{c}: {lab or 'no data'}" for c, lab in zip(frame[category], frame["label"], strict=True)
    )
    goal_text = f" Goal line at {goal:.0%}." if goal is not None else ""
    return alt.layer(*layers).properties(
        title=title, description=f"{title}. {text}.{goal_text}", height=28 * max(len(frame), 1)
    )


def to_svg(chart: alt.TopLevelMixin | dict) -> str:
    """Render a chart (or its ``to_dict()`` spec) to SVG offline (vl-convert; no network, no
    JavaScript)."""
    import vl_convert as vlc

    spec = chart if isinstance(chart, dict) else chart.to_dict()
    return vlc.vegalite_to_svg(spec, allowed_base_urls=[])


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
    frame = _with_status_words(rubric)
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
            scale=_status_scale(),
            title="Status",
            legend=alt.Legend(labelExpr=_legend_words(), orient="bottom", direction="horizontal"),
        )
    )
    words = _status_words(base, font_size=11)
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
