"""Axis labels measured once per process, so vl-convert does not measure them on every chart.

vl-convert measures a text for Vega by laying it out (milliseconds a call, more for a longer
text), and Vega asks again and again for an axis label under a ``labelLimit``: once for its
bounds, once to know whether it fits and, for a label too long, once per step of the search for
where to cut it before the ellipsis. That is most of a report chart's rendering time.
:func:`fit_labels` learns, once per process, what Vega does with each label of a band or point
axis, and hands Vega the answer:

- a label that fits gets no limit (``limit: 0``): Vega draws it as it is, without checking;
- a label Vega shortens gets its shortened text followed by two em spaces (so that it still
  measures at least the limit), under the same limit: Vega trims the spaces, finds that the
  shortened text fits and draws it, and the label's bounds are the limit, as when Vega
  shortens it itself.

Each label's text and bounds are then those of Vega's own render, so the SVG is the same to the
byte. What Vega does is learnt from small probe renders: the chart's axis on a scale of one
label (same config, orient, limit, fonts and label expression) gives the fonts Vega uses; text
marks in those fonts give each label's width (vl-convert's own measurement), what Vega shows of
a label too long, and whether the shortened text with its spaces is shown unchanged with the
limit as its width. A label too long is shortened by the probes the second time it is seen (the
first time Vega shortens it as usual), so a chart seen once costs about what it did. A label
the probes have not seen (one the data flow makes that is not in the spec's data), or one they
cannot settle, keeps the axis's own settings.

>>> import vl_convert as vlc
>>> vega = vlc.vegalite_to_vega({"mark": "bar",
...     "data": {"values": [{"g": "a group whose name is far too long to fit"}, {"g": "short"}]},
...     "encoding": {"y": {"field": "g", "type": "nominal", "axis": {"labelLimit": 80}}}})
>>> plain = vlc.vega_to_svg(vega, allowed_base_urls=[])
>>> [vlc.vega_to_svg(fit_labels(vega), allowed_base_urls=[]) == plain for _ in range(3)]
[True, True, True]
>>> [str(v).strip() for (_, label), v in FITTED.items() if label.startswith("a group whose")]
['a group whose …']
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import re

#: What Vega needs to draw a label as it would (see above), by probe key and label: ``0`` (it
#: fits: no limit), the shortened text with its em spaces, or ``None`` (Vega measures it).
FITTED: dict[tuple[str, str], int | str | None] = {}
#: Labels too long seen once, by probe key and label (shortened by the probes when seen again).
_TOO_LONG: set[tuple[str, str]] = set()
#: The labels' font (SVG attributes), by probe key.
_FONTS: dict[str, dict | None] = {}
#: Vega's default ``labelLimit`` of an axis.
VEGA_LABEL_LIMIT = 180
#: After a shortened label: keeps its bounds at the limit, trimmed away before it is drawn.
PAD = "\u2003" * 2
ELLIPSIS = "\u2026"
#: Axis properties that change where labels go or what else is drawn, never a label's text.
_PLACEMENT = {
    "scale", "title", "grid", "gridScale", "zindex", "domain", "ticks", "tickCount", "offset",
    "translate", "position", "aria", "description", "labelOverlap", "labelBound", "labelFlush",
    "labelFlushOffset", "labelSeparation", "minExtent", "maxExtent", "encode",
}  # fmt: skip
#: The label expressions fitted: the label itself (Vega's default), or its words one a line.
_ONE_LINE = "datum.label"
_WORDS = re.compile(r"""\s*split\(\s*datum\.label\s*,\s*(['"]) \1\s*\)\s*""")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_GROUP = r'<g class="mark-text role-{}"[^>]*>(.*?)</g>'
_TEXT = re.compile(r"<text\b([^>]*)>(.*?)</text>", re.S)
_TSPAN = re.compile(r"<tspan\b[^>]*>(.*?)</tspan>", re.S)
_RECT = re.compile(r'<path d="M0,0h([-0-9.e+]+)v')
_FONT = re.compile(r'\bfont-(family|size|style|variant|weight)="([^"]*)"')
_KEY = "'k' + datum.label"


def fit_labels(vega: dict) -> dict:
    """A copy of the Vega spec whose band/point-axis labels come already measured (see above).

    Axes it cannot fit exactly are left as they are: a label ``format`` or explicit
    ``values``, label settings given by signals or by an encoding other than the label
    expressions above, or a ``labelLimit`` set in the config.

    >>> fit_labels({"marks": []})
    {'marks': []}
    """
    config = vega.get("config") or {}
    if _config_sets_limit(config):
        return vega
    vega = copy.deepcopy(vega)
    values = _data_values(vega)
    tables: list[dict] = []
    _fit_scope(vega, [], values, json.dumps(config, sort_keys=True), tables)
    if tables:
        vega["signals"] = list(vega.get("signals", [])) + [
            {"name": f"blt_fitted_{i}", "value": table} for i, table in enumerate(tables)
        ]
    return vega


def _config_sets_limit(config: dict) -> bool:
    axes = [v for k, v in config.items() if k.startswith("axis") and isinstance(v, dict)]
    styles = [v for v in (config.get("style") or {}).values() if isinstance(v, dict)]
    return any("labelLimit" in a for a in axes) or any("limit" in s for s in styles)


def _data_values(vega: dict) -> list[list]:
    found = []

    def walk(scope: dict) -> None:
        found.extend(
            d["values"] for d in scope.get("data", ()) if isinstance(d.get("values"), list)
        )
        for mark in scope.get("marks", ()):
            walk(mark)

    walk(vega)
    return found


def _fit_scope(scope: dict, scales: list, values: list, config: str, tables: list) -> None:
    scales = [*scope.get("scales", ()), *scales]  # the nearest definition of a name first
    for axis in scope.get("axes", ()):
        _fit_axis(axis, scales, values, config, tables)
    for mark in scope.get("marks", ()):
        if mark.get("type") == "group":
            _fit_scope(mark, scales, values, config, tables)


def _fit_axis(axis: dict, scales: list, values: list, config: str, tables: list) -> None:
    scale = next((s for s in scales if s.get("name") == axis.get("scale")), None)
    expression = _label_expression(axis)
    limit = axis.get("labelLimit", VEGA_LABEL_LIMIT)
    if (
        scale is None
        or scale.get("type") not in ("band", "point")
        or expression is None
        or not isinstance(limit, (int, float))
        or limit <= 0
        or axis.get("labels") is False
        or "format" in axis
        or "values" in axis
        or any(isinstance(v, dict) for k, v in axis.items() if k.startswith("label"))
    ):
        return
    labels = _labels(scale.get("domain"), values)
    if not labels:
        return
    settings = {k: v for k, v in axis.items() if k not in _PLACEMENT}
    probe = json.dumps([config, scale["type"], expression, settings], sort_keys=True)
    probe = hashlib.sha1(probe.encode("utf-8")).hexdigest()
    new = [x for x in labels if (probe, x) not in FITTED]
    if new:
        FITTED.update(_measure(probe, new, axis, scale, config, limit, expression != _ONE_LINE))
    table = {"k" + x: FITTED[probe, x] for x in labels if FITTED.get((probe, x)) is not None}
    if not table:
        return
    name = f"blt_fitted_{len(tables)}"
    tables.append(table)
    found = f"{name}[{_KEY}]"
    update = axis.setdefault("encode", {}).setdefault("labels", {}).setdefault("update", {})
    update["text"] = {"signal": f"isString({found}) ? {found} : {expression}"}
    update["limit"] = {"signal": f"{found} === 0 ? 0 : {limit}"}


def _label_expression(axis: dict) -> str | None:
    """The expression of the axis's label text, if it is one of those fitted."""
    encode = axis.get("encode")
    if not encode:
        return _ONE_LINE
    labels = encode.get("labels")
    if set(encode) != {"labels"} or set(labels) != {"update"} or set(labels["update"]) != {"text"}:
        return None
    signal = labels["update"]["text"]
    if set(signal) != {"signal"} or not isinstance(signal["signal"], str):
        return None
    expression = signal["signal"]
    return expression if _WORDS.fullmatch(expression) else None


def _labels(domain, values: list) -> list[str]:
    """The labels the axis may show, as far as the spec's own data says: texts of single spaces
    between printable words, without an ellipsis (Vega's truncation adds one)."""
    if isinstance(domain, list):
        found = domain
    elif isinstance(domain, dict):
        fields = domain.get("fields") or [domain.get("field")]
        names = [f if isinstance(f, str) else (f or {}).get("field") for f in fields]
        found = [
            row.get(name)
            for name in names
            if isinstance(name, str) and _FIELD.match(name)
            for rows in values
            for row in rows
            if isinstance(row, dict)
        ]
    else:
        return []
    wanted = (
        x
        for x in found
        if isinstance(x, str)
        and x.isprintable()
        and x.split(" ") == x.split()
        and ELLIPSIS not in x
    )
    return list(dict.fromkeys(wanted))


def _measure(
    probe: str, labels: list[str], axis: dict, scale: dict, config: str, limit: float, words: bool
) -> dict:
    """What Vega needs to draw each label as it would (see above); ``words``: the axis shows
    each word of a label on a line of its own. Labels too long seen for the first time are left
    out (Vega measures them this time)."""
    if probe not in _FONTS:
        _FONTS[probe] = _axis_font(labels[0], axis, scale, config)
    font = _FONTS[probe]
    if font is None:
        return dict.fromkeys(((probe, x) for x in labels), None)
    fitted: dict[tuple[str, str], int | str | None] = {}
    again = [x for x in labels if (probe, x) in _TOO_LONG]
    first = [x for x in labels if (probe, x) not in _TOO_LONG]
    lines = [x.split(" ") if words else [x] for x in first]
    widths = iter(_text_probe([(line, font, 0) for ls in lines for line in ls]))
    for label, ls in zip(first, lines, strict=True):
        shown = [next(widths) for _ in ls]
        if all(s is not None and s[1] < limit for s in shown):
            fitted[probe, label] = 0
        elif words or None in shown:
            fitted[probe, label] = None
        else:
            _TOO_LONG.add((probe, label))
    # seen again: what Vega shows of it, then whether that text with the spaces is shown as it
    # is with the limit as its width
    shown = [
        s[0] if s and s[0].endswith(ELLIPSIS) else None
        for s in _text_probe([(x, font, limit) for x in again])
    ]
    cut = [(x, text) for x, text in zip(again, shown, strict=True) if text is not None]
    checked = _text_probe([(text + PAD, font, limit) for _, text in cut])
    fitted.update(dict.fromkeys(((probe, x) for x in again), None))
    for (label, text), result in zip(cut, checked, strict=True):
        if result == (text, limit):
            fitted[probe, label] = text + PAD
    return fitted


def _axis_font(label: str, axis: dict, scale: dict, config: str) -> dict | None:
    """The font of the axis's labels (the SVG attributes of one drawn on a scale of it)."""
    import vl_convert as vlc

    probe_axis = {k: v for k, v in axis.items() if k not in _PLACEMENT}
    probe_axis.update(scale="probe", labelLimit=0, ticks=False, domain=False, grid=False)
    if "encode" in axis:
        probe_axis["encode"] = copy.deepcopy(axis["encode"])
    spec = {
        "width": 10,
        "height": 10,
        "config": json.loads(config),
        "scales": [{"name": "probe", "type": scale["type"], "domain": [label], "range": [0, 10]}],
        "axes": [probe_axis],
    }
    svg = vlc.vega_to_svg(spec, allowed_base_urls=[])
    groups = re.findall(_GROUP.format("axis-label"), svg, re.S)
    items = _TEXT.findall(groups[0]) if len(groups) == 1 else []
    return dict(_FONT.findall(items[0][0])) if len(items) == 1 else None


def _text_probe(items: list[tuple[str, dict, float]]) -> list[tuple[str, float] | None]:
    """Text marks of the texts in the fonts and limits given: what Vega shows of each (one
    line) and its width, as vl-convert measures it for Vega's layout."""
    import vl_convert as vlc

    if not items:
        return []
    marks = []
    for i, (text, font, limit) in enumerate(items):
        encode = {"x": {"value": 0}, "y": {"value": 0}, "align": {"value": "left"}}
        encode.update({"text": {"value": text}, "limit": {"value": limit}})
        for key, value in font.items():
            value = html.unescape(value)
            name = "font" if key == "family" else "font" + key.capitalize()
            encode[name] = {"value": float(value.removesuffix("px")) if key == "size" else value}
        marks.append({"type": "text", "name": f"t{i}", "encode": {"update": encode}})
        width = {"signal": "datum.bounds.x2 - datum.bounds.x1"}
        marks.append(
            {"type": "rect", "from": {"data": f"t{i}"}, "encode": {"update": {"width": width}}}
        )
    svg = vlc.vega_to_svg({"width": 10, "height": 10, "marks": marks}, allowed_base_urls=[])
    texts = [_lines(body) for _, body in _TEXT.findall(svg)]
    widths = [float(w) for w in _RECT.findall(svg)]
    if len(texts) != len(items) or len(widths) != len(items):
        return [None] * len(items)
    return [
        (lines[0], width) if len(lines) == 1 else None
        for lines, width in zip(texts, widths, strict=True)
    ]


def _lines(body: str) -> list[str]:
    tspans = _TSPAN.findall(body)
    return [html.unescape(x) for x in tspans] if tspans else [html.unescape(body)]
