"""A report section as a value: reading, chart, table, notes and parts, rendered as HTML.

A :class:`Section` renders itself in a notebook (``_repr_html_``) as the reading, the chart as
inline SVG inside ``<figure role="img" aria-label=...>`` with a ``<figcaption>``, and an
accessible HTML table; the page needs no JavaScript and no network. Sections never emit
``<h1>``/``<h2>``: the notebook owns the title and section headings, a section's parts are
``<h3>``.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import altair as alt
import pandas as pd

from bltanalytics.present import charts

# --------------------------------------------------------------------------- the Section value


@dataclass(frozen=True)
class Section:
    """One section (or part of one) of a report: reading, chart, table, notes and parts.

    ``reading`` is one sentence in plain words; ``chart`` an altair chart or ``None``;
    ``table`` a frame of strings, exactly what the reader sees (its first column names the
    rows); ``caption`` the table's caption (default: the title); ``parts`` sub-sections shown
    after it under ``<h3>`` headings; ``links`` maps a row name of the table's first column to
    the page it links to (the district summary links each school to its report).

    >>> s = Section("Example", "Two groups are shown.",
    ...             table=pd.DataFrame({"Group": ["A", "B"], "Proficient": ["40%", "*"]}))
    >>> html = s._repr_html_()
    >>> '<th scope="col">Proficient</th>' in html, "<caption>Example</caption>" in html
    (True, True)
    """

    title: str
    reading: str
    chart: alt.TopLevelMixin | None = None
    table: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()
    parts: tuple[Section, ...] = ()
    caption: str = ""
    key: str = ""
    extra: dict = field(default_factory=dict, compare=False, repr=False)
    links: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def description(self) -> str:
        """The chart's text alternative (its ``description``), or ``""`` without a chart."""
        if self.chart is None:
            return ""
        return str(self.spec.get("description", self.title))

    @functools.cached_property
    def spec(self) -> dict:
        """The chart's Vega-Lite spec (``{}`` without a chart), built once.

        Not validated against the Vega-Lite schema here: the chart builders are (in their
        tests), and validating every chart of every school again took a fifth of a report's
        time. The package theme is applied here, by the report, whatever theme is active."""
        return {} if self.chart is None else charts.themed_spec(self.chart)

    def to_html(self, level: int = 3) -> str:
        """The section as HTML: reading, figure, table, notes, then parts under ``<h{level}>``."""
        out = [f'<section class="blt-section"{_key_attr(self.key)}>']
        out.append(f'<p class="blt-reading">{_escape(self.reading)}</p>')
        if self.chart is not None:
            out.append(_figure(self.spec))
        if self.table is not None and len(self.table.columns):
            out.append(_table_html(self.table, self.caption or self.title, self.key, self.links))
        if self.notes:
            items = "".join(f"<li>{_escape(n)}</li>" for n in self.notes)
            out.append(f'<ul class="blt-notes">{items}</ul>')
        for part in self.parts:
            out.append(f"<h{level}>{_escape(part.title)}</h{level}>")
            out.append(part.to_html(level=min(level + 1, 6)))
        out.append("</section>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        return _STYLE + self.to_html()

    def __repr__(self) -> str:
        lines = [self.title, self.reading]
        if self.table is not None and len(self.table.columns):
            lines.append(self.table.to_string(index=False))
        lines.extend(self.notes)
        lines.extend(repr(p) for p in self.parts)
        return "\n".join(lines)


_STYLE = """<style>
.blt-section { max-width: 46rem; }
.blt-section .blt-reading { font-size: 1.05rem; margin: 0.4rem 0 0.8rem; }
.blt-section figure { margin: 0.5rem 0 1rem; }
.blt-section figure svg { max-width: 100%; height: auto; }
.blt-section figcaption { font-size: 0.9rem; color: #333; }
.blt-section table.blt-table { border-collapse: collapse; margin: 0.4rem 0 1rem;
  font-size: 0.9rem; }
.blt-section table.blt-table caption { text-align: left; font-weight: bold;
  padding: 0.2rem 0; }
.blt-section table.blt-table th, .blt-section table.blt-table td {
  border: 1px solid #bbb; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
.blt-section table.blt-table thead th { background: #f0f0f0; }
.blt-section .blt-notes { font-size: 0.85rem; color: #333; }
</style>
"""


def _escape(text: object) -> str:
    return html.escape(str(text))


def _escape_series(values: pd.Series) -> pd.Series:
    return values.astype("str").fillna("").map(html.escape)


def _key_attr(key: str) -> str:
    return f' data-section="{_escape(key)}"' if key else ""


def _table_html(
    table: pd.DataFrame, caption: str, key: str = "", links: Mapping[str, str] | None = None
) -> str:
    """An accessible table: caption, column headers with scope, first column as row headers
    (linked to the page ``links`` gives for a row name)."""
    head = "".join(f'<th scope="col">{_escape(c)}</th>' for c in table.columns)
    if len(table):
        columns = [_escape_series(table[c]) for c in table.columns]
        if links:
            names = table[table.columns[0]].astype("str")
            href = names.map(lambda name: links.get(name, "")).fillna("").map(html.escape)
            columns[0] = columns[0].where(
                href == "", '<a href="' + href + '">' + columns[0] + "</a>"
            )
        rows = '<tr><th scope="row">' + columns[0] + "</th>"
        for column in columns[1:]:
            rows = rows + "<td>" + column + "</td>"
        body = "\n".join((rows + "</tr>").tolist())
    else:
        body = f'<tr><td colspan="{len(table.columns)}">No rows.</td></tr>'
    return (
        f'<table class="blt-table"{_key_attr(key)}><caption>{_escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"
    )


def _figure(spec: dict) -> str:
    """The chart as inline SVG in a ``<figure role="img">`` named by its text alternative."""
    title = spec.get("title", "")
    if isinstance(title, dict):
        title = title.get("text", "")
    title = " ".join(title) if isinstance(title, list) else str(title)
    description = str(spec.get("description") or title)
    svg = unique_ids(charts.to_svg(spec))
    return (
        f'<figure role="img" aria-label="{_escape(description)}">{svg}'
        f"<figcaption>Chart: {_escape(title)}. The table below gives the same figures."
        "</figcaption></figure>"
    )


def unique_ids(svg: str) -> str:
    """Prefix the SVG's element ids so several inline SVGs on one page never share one."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if not ids:
        return svg
    prefix = "blt" + hashlib.sha1(svg.encode("utf-8")).hexdigest()[:10] + "-"
    pattern = re.compile(
        r'(\bid="|url\(#|href="#)(' + "|".join(map(re.escape, ids)) + r')(?=["\)])'
    )
    return pattern.sub(lambda m: m.group(1) + prefix + m.group(2), svg)


def no_data(title: str, reading: str, key: str = "") -> Section:
    return Section(title=title, reading=reading, key=key)
