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

import hashlib
import json
import re
from collections import OrderedDict

import altair as alt
import pandas as pd

from bltanalytics.present.fitting import fit_labels
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


def status_words_layer(base: alt.Chart, *, font_size: int) -> alt.Chart:
    """Each cell's status as a word, white on the dark status colours, black on the light."""
    return base.mark_text(fontSize=font_size).encode(
        text="status_word:N",
        color=alt.condition(
            alt.FieldOneOfPredicate(field="status", oneOf=["met", "not_met"]),
            alt.value("white"),
            alt.value("black"),
        ),
    )


def status_scale() -> alt.Scale:
    return alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values()))


def with_status_words(frame: pd.DataFrame) -> pd.DataFrame:
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
    frame = with_status_words(rubric)
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
            scale=status_scale(),
            title="Status",
            legend=alt.Legend(labelExpr=legend_words()),
        )
    )
    words = status_words_layer(base, font_size=9)
    counts = frame.groupby("status").size()
    summary = ", ".join(f"{counts.get(s, 0)} {STATUS_WORDS[s]}" for s in STATUS_COLORS)
    n_rows = frame[row].nunique()
    return (cells + words).properties(
        title=title,
        description=f"{title}: {n_rows} rows by {len(indicators)} indicators; {summary}.",
        width=max(400, 44 * len(indicators)),
        height=max(80, 26 * n_rows),
    )


def legend_words() -> str:
    cases = " : ".join(f"datum.label == '{k}' ? '{v}'" for k, v in STATUS_WORDS.items())
    return f"{cases} : datum.label"


def indicator_values(rubric: pd.DataFrame, *, title: str) -> alt.Chart:
    """One school-year's indicators: value as a bar, threshold as a tick, status as a word."""
    frame = with_status_words(rubric)[["indicator_id", "status", "status_word"]].assign(
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
            scale=status_scale(),
            title="Status",
            legend=alt.Legend(labelExpr=legend_words()),
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

    ``axis_title`` says what the shares are of (default: instructional staff). An optional
    ``note`` column says why a bar is missing (its words in the chart's text alternative).
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
    # a bar without a share reads as its ``note`` (why it is hidden) when the frame has one
    notes = frame["note"] if "note" in frame else pd.Series("", index=frame.index)
    text = "; ".join(
        f"{c}: {lab or note or 'no data'}"
        for c, lab, note in zip(frame[category], frame["label"], notes.fillna(""), strict=True)
    )
    goal_text = f" Goal line at {goal:.0%}." if goal is not None else ""
    return alt.layer(*layers).properties(
        title=title, description=f"{title}. {text}.{goal_text}", height=28 * max(len(frame), 1)
    )


def to_svg(chart: alt.TopLevelMixin | dict) -> str:
    """Render a chart (or its ``to_dict()`` spec) to SVG offline (vl-convert; no network, no
    JavaScript).

    The Vega-Lite -> Vega compile is done once per chart shape (:func:`vega_spec`); the same
    Vega spec (data included) renders to SVG once per process (a small memo). Band-axis labels
    are measured once per process (:func:`~bltanalytics.present.fitting.fit_labels`); the SVG
    is the one vl-convert makes from the plain spec.

    >>> to_svg({"mark": "point"}).startswith("<svg")
    True
    """
    import vl_convert as vlc

    spec = chart if isinstance(chart, dict) else chart.to_dict()
    vega = vega_spec(spec)
    key = hashlib.sha1(json.dumps(vega, sort_keys=True).encode("utf-8")).hexdigest()
    svg = _SVG_MEMO.get(key)
    if svg is None:
        svg = vlc.vega_to_svg(fit_labels(vega), allowed_base_urls=[])
        _remember(_SVG_MEMO, key, svg, SVG_MEMO_SIZE)
    return svg


#: Compiled Vega specs kept per process, by the Vega-Lite spec without its data (LRU).
COMPILED_SIZE = 512
#: Rendered SVGs kept per process, by the whole Vega spec, data included (LRU).
SVG_MEMO_SIZE = 256
_COMPILED: OrderedDict[str, str] = OrderedDict()
_SVG_MEMO: OrderedDict[str, str] = OrderedDict()
#: What a dataset's name is replaced by in the compiled template (put back after).
_SLOT = "bltslot{}x"
_SLOT_PATTERN = re.compile(r"bltslot(\d+)x")


def _remember(cache: OrderedDict, key: str, value: str, size: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)


def vega_spec(spec: dict) -> dict:
    """The Vega spec of a Vega-Lite spec, as ``vl_convert.vegalite_to_vega`` gives it, compiled
    once per shape.

    The compile does not look at the data, so it is cached by the spec without its datasets'
    values and its description (altair names each dataset by a hash of its values: the names
    are replaced by slots for the key and put back after). Every call gets a new spec with
    its own data and description; nothing of one chart's data is ever in another's.

    >>> a = {"mark": "bar", "data": {"name": "d1"}, "datasets": {"d1": [{"x": 1}]},
    ...      "encoding": {"x": {"field": "x", "type": "quantitative"}}}
    >>> b = dict(a, data={"name": "d2"}, datasets={"d2": [{"x": 5}]})
    >>> [d["values"] for d in vega_spec(b)["data"] if "values" in d]
    [[{'x': 5}]]
    >>> import vl_convert as vlc
    >>> vega_spec(a) == vlc.vegalite_to_vega(a)
    True
    """
    import vl_convert as vlc

    datasets = spec.get("datasets") or {}
    names = list(datasets)
    template = {k: v for k, v in spec.items() if k not in ("datasets", "description")}
    if "description" in spec:
        template["description"] = ""
    if names:
        template["datasets"] = {_SLOT.format(i): [] for i in range(len(names))}
    text = json.dumps(template, sort_keys=True)
    if names:
        # altair's names are "data-" + 32 hex digits: they occur nowhere else in a spec
        for i, name in enumerate(names):
            text = text.replace(json.dumps(name), json.dumps(_SLOT.format(i)))
    compiled = _COMPILED.get(text)
    if compiled is None:
        compiled = json.dumps(vlc.vegalite_to_vega(json.loads(text)))
    _remember(_COMPILED, text, compiled, COMPILED_SIZE)
    if names:
        compiled = _SLOT_PATTERN.sub(lambda m: names[int(m.group(1))], compiled)
    vega = json.loads(compiled)
    for data in vega.get("data", ()):
        if data.get("name") in datasets and "values" in data:
            data["values"] = datasets[data["name"]]
    if "description" in spec:
        vega["description"] = spec["description"]
    return vega
