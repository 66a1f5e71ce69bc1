"""Achievement explorer: percent proficient by student group, gaps, trends, CSV download.

For a BLT data lead. Choose a school, year, term, subject, grade and a student-group dimension;
see each group's percent proficient with its gap to All Students (chart and table), the trend of
one group across terms and years, and download the table as shown. Everything comes from
``Metrics.achievement``, which is already suppressed: a suppressed group shows its ``display``
mark (``*``) and never a number, in the chart, the table and the CSV alike.

The pure functions below are what the widgets call; they are tested without a browser.

>>> import pandas as pd
>>> rows = pd.DataFrame({"dimension": ["all", "english_learner", "english_learner"],
...     "group": ["All Students", "Yes", "No"], "n_tested": pd.array([40, None, 31], "Int64"),
...     "pct_proficient": [50.0, None, 100.0], "suppressed": [False, True, False],
...     "suppression_reason": [None, "min_n", None], "display": ["50%", "*", "≥95%"],
...     "gap_pp": [0.0, None, 50.0]})
>>> rows = rows.assign(school_id="1", school_year="2025-26", term="Fall", subject="ELA",
...                    grade="All")
>>> view = present.achievement_view(rows, Config())
>>> present.group_table(view)["Gap to All Students (points)"].tolist()
['', '*', '+45 to +50']
"""

from __future__ import annotations

from collections import OrderedDict

import altair as alt
import ipywidgets as widgets
import numpy as np
import pandas as pd

from bltanalytics import present
from bltanalytics.config import Config
from bltanalytics.dashboards.common import (
    build_dashboard,
    chart_html,
    csv_link,
    dropdown,
    html_table,
    message,
    page,
    safe_filename,
    school_labels,
    school_options,
)
from bltanalytics.dashboards.slices import DashboardData, as_data
from bltanalytics.metrics import Metrics
from bltanalytics.metrics.achievement import ALL_GRADES, ALL_STUDENTS
from bltanalytics.present import LABELS, TERM_ORDER, charts

TITLE = "Achievement explorer"
CELL_KEYS = ["school_id", "subject", "grade"]
OPTION_KEYS = ["school_id", "school_year", "term", "subject", "grade"]
#: the dimension shown first (the contract's flag families are the usual BLT questions)
DEFAULT_DIMENSION = "economically_disadvantaged"
MINUS = "\u2212"
#: shown in the trend table for a period in which the group had no student tested
NOT_TESTED = "—"

#: selections whose rendered table and chart a kernel keeps (a revisit answers at once)
HTML_CACHE_SIZE = 256
#: width of the trend chart in pixels (its x axis is ordinal, so it has no default width)
TREND_WIDTH = 560
#: schools whose achievement rows a kernel keeps indexed (each read when first chosen)
SCHOOLS_KEPT = 8


# ------------------------------------------------------------------------------------------------
# Pure functions
# ------------------------------------------------------------------------------------------------


def selection_options(options: pd.DataFrame, school_id: str, **chosen: str) -> dict[str, list[str]]:
    """The years, terms, subjects and grades that have data, each given the choices before it.

    ``options``: distinct (school_id, school_year, term, subject, grade) of the achievement
    table. ``chosen`` may give school_year, term and subject (in that order of narrowing).

    >>> o = pd.DataFrame({"school_id": "1", "school_year": ["2024-25", "2025-26", "2025-26"],
    ...     "term": ["Fall", "Fall", "Spring"], "subject": "ELA", "grade": ["3", "All", "All"]})
    >>> selection_options(o, "1", school_year="2025-26")["term"]
    ['Fall', 'Spring']
    """
    mine = options[options["school_id"] == school_id]
    out = {"school_year": sorted(pd.unique(mine["school_year"]))}
    for key in ("term", "subject"):
        if key == "term" and "school_year" in chosen:
            mine = mine[mine["school_year"] == chosen["school_year"]]
        if key == "subject" and "term" in chosen:
            mine = mine[mine["term"] == chosen["term"]]
        out[key] = present.ordered(mine[key], key)
    if "subject" in chosen:
        mine = mine[mine["subject"] == chosen["subject"]]
    grades = present.ordered(mine["grade"], "grade")
    out["grade"] = ([ALL_GRADES] if ALL_GRADES in grades else []) + [
        g for g in grades if g != ALL_GRADES
    ]
    return out


def group_rows(
    achievement: pd.DataFrame,
    *,
    school_id: str,
    school_year: str,
    term: str,
    subject: str,
    grade: str,
    dimension: str,
) -> pd.DataFrame:
    """The All Students row and the groups of one dimension, for one school/year/term/subject/grade.

    Rows keep the achievement table's order (All Students first, then groups in display order).
    """
    a = achievement
    mask = (
        (a["school_id"] == school_id)
        & (a["school_year"] == school_year)
        & (a["term"] == term)
        & (a["subject"] == subject)
        & (a["grade"] == grade)
        & a["dimension"].isin(["all", dimension])
    )
    return a[mask.to_numpy(dtype=bool)].reset_index(drop=True)


def download_table(table: pd.DataFrame, context: dict[str, str]) -> pd.DataFrame:
    """The CSV download: the table as shown, with the selection as leading columns."""
    return table.assign(**{k: v for k, v in context.items()})[[*context, *table.columns]]


def bars_chart(view: pd.DataFrame, *, title: str, subtitle: str):
    """Percent proficient by group (an :func:`~bltanalytics.present.achievement_view`), with
    All Students as the reference line."""
    chart = charts.proficiency_by_group(view, title=title, subtitle=subtitle)
    # The text alternative names the school and the family, as the subtitle does.
    return chart.properties(description=f"{subtitle}. {chart.description}")


def trend_points(
    achievement: pd.DataFrame,
    *,
    school_id: str,
    subject: str,
    grade: str,
    dimension: str,
    group: str,
    config: Config | None = None,
) -> pd.DataFrame:
    """All Students and one group over every term and year: period, series, figures shown.

    Columns: ``period`` (``2025-26 Fall``), ``school_year``, ``term``, ``group``, ``display``,
    ``suppressed`` and ``pct_proficient`` (where a point is drawn: held at a top or bottom
    code, empty where hidden).
    In time order (year, then Fall, Winter, Spring), All Students first within a period.
    """
    a = achievement
    mask = (
        (a["school_id"] == school_id)
        & (a["subject"] == subject)
        & (a["grade"] == grade)
        & ((a["dimension"] == "all") | ((a["dimension"] == dimension) & (a["group"] == group)))
    )
    rows = a[mask.to_numpy(dtype=bool)]
    term_rank = rows["term"].map({t: i for i, t in enumerate(TERM_ORDER)}).astype("float64")
    rows = (
        rows.assign(_term=term_rank.fillna(len(TERM_ORDER)), _all=rows["dimension"] != "all")
        .sort_values(["school_year", "_term", "_all"], kind="stable")
        .reset_index(drop=True)
    )
    return pd.DataFrame(
        {
            "period": (rows["school_year"] + " " + rows["term"]).astype("str"),
            "school_year": rows["school_year"].astype("str"),
            "term": rows["term"].astype("str"),
            "group": rows["group"].astype("str"),
            "display": rows["display"].astype("str"),
            "suppressed": rows["suppressed"].astype(bool),
            "pct_proficient": present.plot_values(rows["pct_proficient"], rows["display"]).where(
                ~rows["suppressed"].astype(bool)
            ),
        }
    )


def trend_table(points: pd.DataFrame) -> pd.DataFrame:
    """One row per period, one column per series, the shown figure (``*`` where suppressed,
    :data:`NOT_TESTED` where the group had no students tested that term)."""
    if points.empty:
        return pd.DataFrame({"Period": pd.Series(dtype="str")})
    wide = points.pivot_table(
        index="period", columns="group", values="display", aggfunc="first", sort=False
    )
    series = [ALL_STUDENTS] + [g for g in wide.columns if g != ALL_STUDENTS]
    wide = wide.reindex(columns=[s for s in series if s in wide.columns]).fillna(NOT_TESTED)
    return wide.reset_index().rename(columns={"period": "Period"}).rename_axis(columns=None)


def trend_chart(points: pd.DataFrame, *, title: str) -> alt.TopLevelMixin:
    """The trend lines of the published points (suppressed points are left out, never zero)."""
    published = points[~points["suppressed"].to_numpy(dtype=bool)]
    return charts.trend(published, title=title, color="group").properties(width=TREND_WIDTH)


def describe_selection(labels: dict[str, str]) -> tuple[str, str]:
    """Chart title and subtitle of a selection (school label, year, term, subject, grade...)."""
    grade = "all grades" if labels["grade"] == ALL_GRADES else f"grade {labels['grade']}"
    title = f"{labels['subject']}, {grade}, {labels['term']} {labels['school_year']}"
    subtitle = f"{labels['school']} · by {LABELS.dimensions[labels['dimension']].lower()}"
    return title, subtitle


# ------------------------------------------------------------------------------------------------
# Indexed access: one school-subject-grade slice without scanning the district
# ------------------------------------------------------------------------------------------------


class AchievementIndex:
    """The achievement table sorted by (school, subject, grade) for fast slicing.

    Built once per school shown (from its slice of the export); :meth:`cell` returns every
    year, term, dimension and group of one school, subject and grade by binary search, so a
    widget change never scans the school's rows.
    """

    def __init__(self, achievement: pd.DataFrame) -> None:
        ordered = achievement.sort_values(CELL_KEYS, kind="stable").reset_index(drop=True)
        self._frame = ordered
        self._index = pd.MultiIndex.from_frame(ordered[CELL_KEYS])
        self.options = achievement[OPTION_KEYS].drop_duplicates().reset_index(drop=True)

    def cell(self, school_id: str, subject: str, grade: str) -> pd.DataFrame:
        try:
            where = self._index.get_loc((school_id, subject, grade))
        except KeyError:
            return self._frame.iloc[:0]
        if isinstance(where, (int, np.integer)):
            where = slice(int(where), int(where) + 1)
        return self._frame.iloc[where] if isinstance(where, slice) else self._frame[where]


# ------------------------------------------------------------------------------------------------
# The widget
# ------------------------------------------------------------------------------------------------


def _set_options(control: widgets.Dropdown, options, preferred, *, last: bool = False) -> None:
    """New options; keep ``preferred`` if offered, else the first (or ``last``) option."""
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    control.options = options
    if preferred in values:
        control.value = preferred
    elif values:
        control.value = values[-1] if last else values[0]


class Explorer:
    """The explorer's widgets and callbacks; :attr:`widget` is what the notebook displays."""

    def __init__(
        self, source: Metrics | DashboardData, *, mask_names: bool, config: Config
    ) -> None:
        self.config = config
        self.data = as_data(source)
        self._indexes: OrderedDict[str, AchievementIndex] = OrderedDict()
        self.labels = school_labels(self.data.schools, mask=mask_names)
        options = school_options(self.labels, self.data.school_ids("achievement"))
        self._busy = False
        self._shown: dict[str, tuple] = {}
        self._html: OrderedDict[tuple, tuple[str, str]] = OrderedDict()
        self.school = dropdown("School", options, css_class="blt-school", width="340px")
        self.year = dropdown("Year", [], css_class="blt-year", width="170px")
        self.term = dropdown("Term", [], css_class="blt-term", width="150px")
        self.subject = dropdown("Subject", [], css_class="blt-subject", width="190px")
        self.grade = dropdown("Grade", [], css_class="blt-grade", width="130px")
        dimensions = [(v, k) for k, v in LABELS.dimensions.items() if k != "all"]
        self.dimension = dropdown(
            "Student groups",
            dimensions,
            DEFAULT_DIMENSION,
            css_class="blt-dimension",
            width="330px",
        )
        self.trend_group = dropdown("Trend of", [], css_class="blt-trend-group", width="330px")
        self.chart = widgets.HTML(layout=widgets.Layout(flex="1 1 560px", max_width="760px"))
        self.chart.add_class("blt-bars")
        self.table = widgets.HTML(layout=widgets.Layout(flex="1 1 460px"))
        self.table.add_class("blt-group-table")
        self.trend = widgets.HTML(layout=widgets.Layout(flex="1 1 560px", max_width="760px"))
        self.trend.add_class("blt-trend")
        self.trend_tbl = widgets.HTML(layout=widgets.Layout(flex="1 1 360px"))
        self.trend_tbl.add_class("blt-trend-table")
        self.status = widgets.HTML()
        note = widgets.HTML(
            '<p class="blt-note">* = hidden to protect privacy: fewer than '
            f"{config.min_n} students were tested in the group, or showing it would let a smaller "
            "group be worked out by subtraction. ≥95% and ≤5% are shown instead of exact "
            "figures near 0 and 100. Gaps are in percentage points (pp) from All Students; "
            "— = no student of the group was tested that term.</p>"
        )
        controls = widgets.HBox(
            [self.school, self.year, self.term, self.subject, self.grade, self.dimension],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        wrap = widgets.Layout(flex_flow="row wrap", align_items="flex-start")
        self.widget = page(
            TITLE,
            [
                controls,
                self.status,
                widgets.HBox([self.chart, self.table], layout=wrap),
                widgets.HTML("<h3>Trend across terms and years</h3>"),
                self.trend_group,
                widgets.HBox([self.trend, self.trend_tbl], layout=wrap),
                note,
            ],
            css_class="blt-explorer",
        )
        for control in (
            self.school,
            self.year,
            self.term,
            self.subject,
            self.grade,
            self.dimension,
            self.trend_group,
        ):
            control.observe(self._on_change, names="value")
        if options:
            self._on_change(None)
        else:
            self.status.value = message("No assessment results to show.", kind="info").value

    def index(self, school_id: str) -> AchievementIndex:
        """The school's achievement rows, indexed; read from its slice when first chosen."""
        kept = self._indexes
        if school_id in kept:
            kept.move_to_end(school_id)
        else:
            kept[school_id] = AchievementIndex(self.data.rows("achievement", school_id))
            while len(kept) > SCHOOLS_KEPT:
                kept.popitem(last=False)
        return kept[school_id]

    # -- callbacks --------------------------------------------------------------------------
    def _on_change(self, change) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self._sync_options()
        finally:
            self._busy = False
        self._render()

    def _sync_options(self) -> None:
        school = self.school.value
        opts = self.index(school).options
        found = selection_options(opts, school)
        _set_options(self.year, found["school_year"], self.year.value, last=True)
        found = selection_options(opts, school, school_year=self.year.value)
        _set_options(self.term, found["term"], self.term.value, last=True)
        found = selection_options(opts, school, school_year=self.year.value, term=self.term.value)
        _set_options(self.subject, found["subject"], self.subject.value)
        found = selection_options(
            opts,
            school,
            school_year=self.year.value,
            term=self.term.value,
            subject=self.subject.value,
        )
        _set_options(self.grade, found["grade"], self.grade.value or ALL_GRADES)
        cell = self.index(school).cell(school, self.subject.value, self.grade.value)
        groups = cell.loc[cell["dimension"] == self.dimension.value, "group"]
        groups = list(dict.fromkeys(groups.tolist()))
        preferred = self.trend_group.value if self.trend_group.value in groups else None
        if preferred is None:
            published = cell.loc[
                (cell["dimension"] == self.dimension.value) & ~cell["suppressed"], "group"
            ]
            named = published[published != "Not reported"]  # a real group makes a better start
            preferred = (named if len(named) else published).iloc[0] if len(published) else None
        _set_options(self.trend_group, groups, preferred)

    def selection(self) -> dict[str, str]:
        """The current choices (ids and values, as the pure functions take them)."""
        return {
            "school_id": self.school.value,
            "school_year": self.year.value,
            "term": self.term.value,
            "subject": self.subject.value,
            "grade": self.grade.value,
            "dimension": self.dimension.value,
        }

    def _render(self) -> None:
        sel = self.selection()
        if any(v is None for v in sel.values()):
            return
        bars_key = tuple(sel.values())
        if self._shown.get("bars") != bars_key:
            self._shown["bars"] = bars_key
            table, chart = self._cached(self._bars, bars_key, "bars")
            self.table.value = table  # the cheap part first: it reaches the page at once
            self.chart.value = chart
        trend_key = (
            sel["school_id"],
            sel["subject"],
            sel["grade"],
            sel["dimension"],
            self.trend_group.value,
        )
        if self._shown.get("trend") != trend_key:
            self._shown["trend"] = trend_key
            table, chart = self._cached(self._trend, trend_key, "trend")
            self.trend_tbl.value = table
            self.trend.value = chart

    def _cached(self, make, key: tuple, kind: str) -> tuple[str, str]:
        """(table HTML, chart HTML) for a selection, made once per kernel (LRU-bounded)."""
        cache = self._html
        if (kind, key) in cache:
            cache.move_to_end((kind, key))
        else:
            cache[(kind, key)] = make(*key)
            while len(cache) > HTML_CACHE_SIZE:
                cache.popitem(last=False)
        return cache[(kind, key)]

    def _label(self, school_id: str) -> str:
        return str(self.labels.get(school_id, school_id))

    def _bars(self, school_id, school_year, term, subject, grade, dimension) -> tuple[str, str]:
        sel = {
            "school_id": school_id,
            "school_year": school_year,
            "term": term,
            "subject": subject,
            "grade": grade,
            "dimension": dimension,
        }
        rows = group_rows(self.index(school_id).cell(school_id, subject, grade), **sel)
        if rows.empty:
            return "", message("No students were tested for this choice.", kind="info").value
        title, subtitle = describe_selection({**sel, "school": self._label(school_id)})
        view = present.achievement_view(rows, self.config)
        table = present.group_table(view)
        context = {
            "school": self._label(school_id),
            "school_year": school_year,
            "term": term,
            "subject": subject,
            "grade": grade,
            "student_groups": LABELS.dimensions[dimension],
        }
        filename = safe_filename(
            self._label(school_id), school_year, term, subject, f"grade-{grade}", dimension
        )
        table_html = html_table(table, caption=f"{title} — {subtitle}") + csv_link(
            download_table(table, context), filename=filename
        )
        chart = bars_chart(view, title=title, subtitle=subtitle)
        return table_html, chart_html(chart)

    def _trend(self, school_id, subject, grade, dimension, group) -> tuple[str, str]:
        if group is None:
            return "", message("No group to follow for this choice.", kind="info").value
        points = trend_points(
            self.index(school_id).cell(school_id, subject, grade),
            school_id=school_id,
            subject=subject,
            grade=grade,
            dimension=dimension,
            group=group,
            config=self.config,
        )
        grades = "all grades" if grade == ALL_GRADES else f"grade {grade}"
        title = f"{subject}, {grades}: {LABELS.dimensions[dimension]} = {group} and All Students"
        table = html_table(trend_table(points), caption=f"{self._label(school_id)} — {title}")
        return table, chart_html(trend_chart(points, title=title))


def build_explorer(
    folder=None, *, mask_names: bool | None = None, config: Config | None = None
) -> widgets.Widget:
    """The explorer widget for a district folder (default: ``$BLT_DATA`` or the sample district).

    The kernel reads one school's slice of the export at a time
    (:func:`~bltanalytics.dashboards.common.load_data`); a folder that fails validation gives
    a plain message instead of the dashboard.
    """
    return build_dashboard(Explorer, folder, mask_names=mask_names, config=config, title=TITLE)
