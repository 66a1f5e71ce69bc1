"""Rubric board: every school against every indicator, and one school's evidence in detail.

For evaluators. The board is a school x indicator grid, each cell coloured by status AND
labelled with the status word (:func:`bltanalytics.present.charts.status_board`). Choosing a school
shows its six characteristics, each indicator with its value, threshold and status, and for
computed indicators the numerator and denominator behind the value.

>>> import pandas as pd
>>> card = pd.DataFrame({"school_id": ["1"], "school_year": ["2025-26"],
...     "characteristic": ["focus"], "indicator_id": ["C2.list"], "kind": ["computed"],
...     "numerator": [9.0], "denominator": pd.array([12], "Int64"), "value": [0.75],
...     "threshold": [0.75], "status": ["met"]})
>>> indicator_detail(card, school_id="1", school_year="2025-26")[
...     ["Indicator", "Numerator", "Denominator", "Value", "Threshold", "Status"]].values.tolist()
[['C2.list', '9', '12', '75%', '75%', 'met']]
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
import pandas as pd

from bltanalytics import present
from bltanalytics.config import Config
from bltanalytics.dashboards.common import (
    build_dashboard,
    chart_html,
    dropdown,
    html_table,
    message,
    page,
    school_labels,
    school_options,
)
from bltanalytics.dashboards.slices import DashboardData, as_data
from bltanalytics.metrics import Metrics
from bltanalytics.metrics.rubric import RubricSpec, load_rubric
from bltanalytics.present import LABELS, charts

TITLE = "Rubric board: culture of continuous improvement"
#: schools per page of the board (a district of 1,000 schools is paged, never drawn at once)
PAGE_SIZE = 30
#: pixels per indicator column on the board (room for the word "approaching")
BOARD_CELL_WIDTH = 64
DETAIL_COLUMNS = [
    "Indicator",
    "What it looks for",
    "Kind",
    "Source",
    "Numerator",
    "Denominator",
    "Value",
    "Threshold",
    "Status",
]


# ------------------------------------------------------------------------------------------------
# Pure functions
# ------------------------------------------------------------------------------------------------


def board_rows(
    rubric: pd.DataFrame, labels: pd.Series, *, school_year: str, school_ids=None
) -> pd.DataFrame:
    """The rubric rows of one year with a ``school_label`` column, schools in ``labels`` order.

    ``labels``: school label by school_id (:func:`~bltanalytics.dashboards.common.school_labels`);
    ``school_ids`` restricts the board to those schools (one page of it).
    """
    rows = rubric[(rubric["school_year"] == school_year).to_numpy(dtype=bool)]
    if school_ids is not None:
        rows = rows[rows["school_id"].isin(list(school_ids)).to_numpy(dtype=bool)]
    rank = pd.Series(np.arange(len(labels)), index=labels.index)
    order = rows["school_id"].map(rank).fillna(len(labels))
    label = rows["school_id"].map(labels).fillna(rows["school_id"]).astype("str")
    return (
        rows.assign(school_label=label, _order=order)
        .sort_values("_order", kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def board_charts(rows: pd.DataFrame, school_year: str) -> list:
    """Two boards: the indicators computed from data, then those the BLT rates.

    Split so each cell is wide enough for its status word (``approaching``) at a readable size.
    """
    out = []
    for kind, what in (("computed", "computed from data"), ("rated", "rated by the BLT")):
        part = rows[(rows["kind"] == kind).to_numpy(dtype=bool)]
        if len(part):
            chart = charts.status_board(part, title=f"Indicators {what}, {school_year}")
            # Rows in the order of ``rows`` (School Z before School AA), not alphabetical.
            order = part["school_label"].drop_duplicates().tolist()
            for layer in chart.layer:
                layer.encoding.y.sort = order
            out.append(chart.properties(width=BOARD_CELL_WIDTH * part["indicator_id"].nunique()))
    return out


def pages(labels: pd.Series, size: int = PAGE_SIZE) -> list[tuple[str, tuple[str, ...]]]:
    """The board's pages: (``"Schools 1-30 (A to F)"``-like caption, school ids), in the order
    of ``labels``.

    >>> pages(pd.Series(["A", "B", "C"], index=["1", "2", "3"]), size=2)
    [('Schools 1-2 (A to B)', ('1', '2')), ('Schools 3-3 (C to C)', ('3',))]
    """
    ids, names = labels.index.to_numpy(dtype=object), labels.to_numpy(dtype=object)
    n = len(labels)
    return [
        (
            f"Schools {s + 1}-{min(s + size, n)} ({names[s]} to {names[min(s + size, n) - 1]})",
            tuple(str(i) for i in ids[s : s + size]),
        )
        for s in range(0, n, size)
    ]


def _number(value: float) -> str:
    if pd.isna(value):
        return ""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def indicator_detail(
    rubric: pd.DataFrame,
    *,
    school_id: str,
    school_year: str,
    spec: RubricSpec | None = None,
) -> pd.DataFrame:
    """One school-year's indicators as shown: value, threshold, numerator and denominator.

    Columns :data:`DETAIL_COLUMNS` plus ``characteristic`` and ``status`` (the code, for the
    colour). Rated indicators show the BLT's rating (``2 (acceptable)``) and no numerator.
    """
    spec = spec or load_rubric()
    texts = {i.id: i.text for i in spec.indicators}
    sources = {i.id: i.source for i in spec.indicators}
    rows = rubric[
        ((rubric["school_id"] == school_id) & (rubric["school_year"] == school_year)).to_numpy(
            dtype=bool
        )
    ].reset_index(drop=True)
    kind = rows["kind"].astype("str")
    computed = (kind == "computed").to_numpy()
    value = present.short_value_text(kind, rows["value"])
    threshold = present.short_value_text(kind, rows["threshold"])
    numerator = rows["numerator"].astype("float64").map(_number).where(computed, "")
    denominator = (
        rows["denominator"].astype("Float64").map(_number).where(computed, "").astype("str")
    )
    return pd.DataFrame(
        {
            "characteristic": rows["characteristic"].astype("str"),
            "Indicator": rows["indicator_id"].astype("str"),
            "What it looks for": rows["indicator_id"].map(texts).fillna("").astype("str"),
            "Kind": kind,
            "Source": np.where(
                computed, rows["indicator_id"].map(sources).fillna(""), "BLT rating"
            ),
            "Numerator": numerator.astype("str"),
            "Denominator": denominator,
            "Value": value,
            "Threshold": threshold,
            "Status": present.status_words(rows["status"]).where(
                rows["status"].isin(list(LABELS.statuses)), rows["status"]
            ),
            "status": rows["status"].astype("str"),
        }
    ).astype({"Source": "str"})


def characteristic_summary(
    rubric_summary: pd.DataFrame, *, school_id: str, school_year: str
) -> dict[str, str]:
    """``{characteristic: "3 of 4 indicators with data met (5 in all)"}`` for one school-year."""
    rows = rubric_summary[
        (
            (rubric_summary["school_id"] == school_id)
            & (rubric_summary["school_year"] == school_year)
        ).to_numpy(dtype=bool)
    ]
    return {
        c: f"{m} of {d} indicators with data met ({n} in all)"
        for c, m, d, n in zip(
            rows["characteristic"],
            rows["n_met"],
            rows["n_with_data"],
            rows["n_indicators"],
            strict=True,
        )
    }


def _chip(status: str, word: str) -> str:
    color = charts.STATUS_COLORS.get(status, "#FFFFFF")
    ink = "white" if status in ("met", "not_met") else "black"
    return (
        f'<span class="blt-chip" style="background:{color};color:{ink}">{html.escape(word)}</span>'
    )


def detail_html(
    detail: pd.DataFrame, summary: dict[str, str], spec: RubricSpec | None = None
) -> str:
    """The six characteristics, each with its roll-up line and its indicators' table."""
    spec = spec or load_rubric()
    parts = []
    for number, characteristic in enumerate(spec.characteristics, start=1):
        rows = detail[detail["characteristic"] == characteristic.id]
        chips = [_chip(st, w) for st, w in zip(rows["status"], rows["Status"], strict=True)]
        table = html_table(rows[DETAIL_COLUMNS].assign(Status=chips), html_columns=("Status",))
        rollup = html.escape(summary.get(characteristic.id, "no indicators"))
        name = LABELS.characteristics.get(characteristic.id, characteristic.id)
        parts.append(
            f'<section class="blt-characteristic" data-characteristic="{characteristic.id}">'
            f"<h3>{number}. {html.escape(name)}: "
            f"{html.escape(characteristic.title)}</h3>"
            f'<p class="blt-note">{rollup}</p>'
            f"{table}</section>"
        )
    return "".join(parts)


def status_legend(config: Config | None = None) -> str:
    """The status words with their colours, as shown on the board."""
    config = config or Config()
    chips = " ".join(_chip(s, w) for s, w in LABELS.statuses.items())
    return (
        f'<p class="blt-note">{chips} — "approaching": within '
        f'{config.approaching_band:.0%} below the threshold; "too few": '
        f'{config.insufficient_max} or fewer responses or records to judge; "no data": '
        "nothing to count (table absent, nothing recorded, or no BLT rating).</p>"
    )


# ------------------------------------------------------------------------------------------------
# The widget
# ------------------------------------------------------------------------------------------------


class RubricBoard:
    """The board's widgets and callbacks; :attr:`widget` is what the notebook displays."""

    def __init__(
        self, source: Metrics | DashboardData, *, mask_names: bool, config: Config
    ) -> None:
        self.data = as_data(source)
        self.config = config
        self.spec = load_rubric()
        self.labels = school_labels(self.data.schools, mask=mask_names)
        scored = self.labels.index.isin(self.data.school_ids("rubric"))
        self.labels = self.labels[scored]
        years = self.data.years("rubric")
        self.pages = pages(self.labels)
        options = school_options(self.labels)
        self.year = dropdown(
            "Year", years, years[-1] if years else None, css_class="blt-year", width="170px"
        )
        self.page = dropdown(
            "Board",
            [(c, i) for i, (c, _) in enumerate(self.pages)],
            css_class="blt-page",
            width="420px",
        )
        self.page.layout.display = "flex" if len(self.pages) > 1 else "none"
        self.school = dropdown("School", options, css_class="blt-school", width="340px")
        self.board = widgets.HTML()
        self.board.add_class("blt-board")
        self.detail_chart = widgets.HTML()
        self.detail_chart.add_class("blt-detail-chart")
        self.detail = widgets.HTML()
        self.detail.add_class("blt-detail")
        self._shown: dict[str, tuple] = {}
        self.widget = page(
            TITLE,
            [
                widgets.HBox([self.year, self.page]),
                widgets.HTML(status_legend(config)),
                self.board,
                widgets.HTML("<h3>One school's evidence</h3>"),
                self.school,
                self.detail_chart,
                self.detail,
            ],
            css_class="blt-rubric",
        )
        for control in (self.year, self.page, self.school):
            control.observe(self._render, names="value")
        if options and years:
            self._render()
        else:
            self.board.value = message("No rubric results to show.", kind="info").value

    def _render(self, change=None) -> None:
        year, school = self.year.value, self.school.value
        if year is None or school is None:
            return
        page_ids = self.pages[self.page.value or 0][1]
        board_key = (year, page_ids)
        if self._shown.get("board") != board_key:
            self._shown["board"] = board_key
            # the page's schools only, not the district's rubric
            rows = board_rows(self.data.rows("rubric", page_ids), self.labels, school_year=year)
            self.board.value = "".join(chart_html(chart) for chart in board_charts(rows, year))
        detail_key = (year, school)
        if self._shown.get("detail") != detail_key:
            self._shown["detail"] = detail_key
            label = self.labels.get(school, school)
            card = self.data.rows("rubric", school)
            detail = indicator_detail(card, school_id=school, school_year=year, spec=self.spec)
            summary = characteristic_summary(
                self.data.rows("rubric_summary", school), school_id=school, school_year=year
            )
            self.detail.value = detail_html(detail, summary, self.spec)
            computed = card[
                ((card["school_year"] == year) & (card["kind"] == "computed")).to_numpy(dtype=bool)
            ]
            chart = charts.indicator_values(
                computed, title=f"{label}, {year}: computed indicators against their thresholds"
            )
            self.detail_chart.value = chart_html(chart)


def build_rubric_board(
    folder=None, *, mask_names: bool | None = None, config: Config | None = None
) -> widgets.Widget:
    """The rubric board widget for a district folder (default: ``$BLT_DATA`` or the sample).

    The kernel reads the slices of the schools on screen only; a folder that fails validation
    gives a plain message.
    """
    return build_dashboard(RubricBoard, folder, mask_names=mask_names, config=config, title=TITLE)
