"""Presenter mode: one school's evidence, slide by slide, in large type for a training room.

Voilà's reveal template loads reveal.js and jQuery from CDNs (blank offline), so this is the
equivalent as a widget: Previous/Next buttons, a slide counter and big type. School names can
be masked (``School A``, ``School B``...) with ``bltanalytics dashboard presenter --mask-names``;
the sample district is the default data, so it runs anywhere.

:func:`presenter_slides` is pure (aggregates in, :class:`Slide` values out) and tested without a
browser; a slide's chart is rendered to SVG only when the slide is first shown.

Gaps are ranked by what is shown (:func:`bltanalytics.present.largest_gaps`): a gap beside a
coded percentage ranks by the end of its range nearest zero, never by the exact value.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import altair as alt
import ipywidgets as widgets
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
from bltanalytics.dashboards.explorer import trend_points
from bltanalytics.dashboards.slices import SCHOOL_TABLES, DashboardData, as_data
from bltanalytics.metrics import Metrics
from bltanalytics.metrics.achievement import ALL_GRADES, ALL_STUDENTS
from bltanalytics.present import LABELS, TERM_ORDER, charts

TITLE = "Presenter mode"
#: subjects that get a "gaps" slide, when the school has results in them
GAP_SUBJECTS = ("ELA", "Math")
QUESTIONS = (
    "Which gap will the next five-step cycle go after?",
    "Which school-wide strategy will every teacher team use, and how will we see it?",
    "Which indicator with too little data should we start collecting?",
    "What will we look at again, and when?",
)

PRESENTER_CSS = """
<style>
.blt-presenter .blt-slide { min-height: 560px; padding: 18px 28px; border: 1px solid #ccc;
  border-radius: 8px; background: white; max-width: 1280px; }
.blt-presenter .blt-slide h1 { font-size: 44px; line-height: 1.15; margin: 6px 0 16px 0; }
.blt-presenter .blt-slide .blt-kicker { font-size: 22px; color: #555; margin: 0; }
.blt-presenter .blt-slide ul { margin: 8px 0 16px 0; padding-left: 32px; }
.blt-presenter .blt-slide li { font-size: 28px; line-height: 1.4; margin-bottom: 6px; }
.blt-presenter .blt-slide figure { max-width: 1100px; }
.blt-presenter .blt-slide figure svg { width: 100%; height: auto; }
.blt-presenter .blt-slide figcaption { font-size: 16px; max-width: 1100px; }
.blt-presenter .blt-slide table.blt-table { font-size: 22px; }
.blt-presenter .blt-counter { font-size: 22px; padding: 0 16px; }
.blt-presenter .widget-button { font-size: 22px; height: 48px; }
</style>
"""


@dataclass(frozen=True)
class Slide:
    """One slide: a title, a kicker line, bullet points, and optionally a chart and a table."""

    title: str
    kicker: str = ""
    points: tuple[str, ...] = ()
    chart: alt.TopLevelMixin | None = field(default=None, compare=False)
    table: pd.DataFrame | None = field(default=None, compare=False)


# ------------------------------------------------------------------------------------------------
# Pure functions
# ------------------------------------------------------------------------------------------------


def _rows(frame: pd.DataFrame, **equal: str) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for column, value in equal.items():
        mask &= frame[column] == value
    return frame[mask.to_numpy(dtype=bool)].reset_index(drop=True)


def latest_term(achievement: pd.DataFrame) -> str | None:
    """The latest term (Fall < Winter < Spring) present in ``achievement``."""
    present = [t for t in TERM_ORDER if (achievement["term"] == t).any()]
    return present[-1] if present else None


def _title_slide(metrics, school_id, school_year, label, config) -> Slide:
    enrolled = _rows(metrics.enrollment, school_id=school_id, school_year=school_year)
    tested = _rows(metrics.achievement, school_id=school_id, school_year=school_year)
    summary = _rows(metrics.rubric_summary, school_id=school_id, school_year=school_year)
    points = []
    if len(enrolled):
        points.append(f"{int(enrolled['n_students'].sum()):,} students enrolled")
    if len(tested):
        subjects = ", ".join(pd.unique(tested["subject"]))
        terms = ", ".join(t for t in TERM_ORDER if (tested["term"] == t).any())
        points.append(f"Assessments: {subjects} ({terms})")
    if len(summary):
        points.append(
            f"Rubric: {int(summary['n_met'].sum())} of {int(summary['n_with_data'].sum())} "
            "indicators with data are met"
        )
    points.append(
        f"Groups of fewer than {config.min_n} students are hidden (*), and so are the groups "
        "hidden to protect them"
    )
    return Slide(title=label, kicker=f"Evidence walk, {school_year}", points=tuple(points))


def _achievement_slide(metrics, school_id, school_year, label, config) -> Slide:
    mine = _rows(metrics.achievement, school_id=school_id, grade=ALL_GRADES, dimension="all")
    if mine.empty:
        return Slide(title="How are students doing?", points=("No assessment results.",))
    parts = [
        trend_points(
            mine,
            school_id=school_id,
            subject=s,
            grade=ALL_GRADES,
            dimension="all",
            group=ALL_STUDENTS,
            config=config,
        ).assign(subject=s)
        for s in pd.unique(mine["subject"])
    ]
    points_frame = pd.concat(parts, ignore_index=True)
    year = points_frame[points_frame["school_year"] == school_year]
    term = latest_term(year) if len(year) else None
    bullets = []
    for subject in pd.unique(year["subject"]):
        now = year[(year["subject"] == subject) & (year["term"] == term)]
        first = year[year["subject"] == subject].iloc[0]
        if len(now):
            line = f"{subject}: {now['display'].iloc[0]} proficient in {term}"
            if first["term"] != term:
                line += f" (from {first['display']} in {first['term']})"
            bullets.append(line)
    published = points_frame[~points_frame["suppressed"].to_numpy(dtype=bool)]
    chart = charts.trend(
        published, title=f"{label}: percent proficient, All Students, all grades", color="subject"
    )
    return Slide(
        title="How are students doing?",
        kicker=f"All Students, all grades, {school_year}",
        points=tuple(bullets),
        chart=chart,
    )


def _gap_slide(metrics, school_id, school_year, label, config, subject) -> Slide | None:
    rows = _rows(
        metrics.achievement,
        school_id=school_id,
        school_year=school_year,
        subject=subject,
        grade=ALL_GRADES,
    )
    if rows.empty:
        return None
    term = latest_term(rows)
    rows = rows[(rows["term"] == term).to_numpy(dtype=bool)].reset_index(drop=True)
    title = f"Who is not yet proficient in {subject}?"
    kicker = f"{subject}, all grades, {term} {school_year}"
    view = present.achievement_view(rows, config)
    gaps = present.largest_gaps(view)
    if gaps.empty:
        return Slide(
            title=title,
            kicker=kicker,
            points=("No group below All Students is large enough to publish.",),
        )
    bullets = tuple(
        f"{d}: {g} at {p} ({s} points)"
        for d, g, p, s in zip(
            gaps["dimension_label"],
            gaps["group_label"],
            gaps["display"],
            gaps["gap_label"],
            strict=True,
        )
    )
    dimension = gaps["dimension"].iloc[0]
    family = view[view["dimension"].isin(["all", dimension]).to_numpy(dtype=bool)]
    chart = charts.proficiency_by_group(
        family,
        title=f"{label}: {subject}, {term} {school_year}",
        subtitle=f"by {LABELS.dimensions[dimension].lower()}",
    )
    return Slide(title=title, kicker=kicker, points=bullets, chart=chart)


def _rubric_slide(metrics, school_id, school_year, label) -> Slide:
    card = _rows(metrics.rubric, school_id=school_id, school_year=school_year)
    summary = _rows(metrics.rubric_summary, school_id=school_id, school_year=school_year)
    bullets = tuple(
        f"{LABELS.characteristics.get(c, c)}: {m} of {d} met"
        for c, m, d in zip(
            summary["characteristic"], summary["n_met"], summary["n_with_data"], strict=True
        )
    )
    computed = card[(card["kind"] == "computed").to_numpy(dtype=bool)]
    chart = (
        charts.indicator_values(computed, title=f"{label}: indicators from data, {school_year}")
        if len(computed)
        else None
    )
    return Slide(
        title="Culture of continuous improvement",
        kicker="Rubric, indicators with data",
        points=bullets or ("No rubric results.",),
        chart=chart,
    )


def _cycles_slide(metrics, school_id, school_year, label) -> Slide:
    cycles = _rows(metrics.cycles, school_id=school_id, school_year=school_year)
    title = "Teacher-team cycles"
    if cycles.empty:
        return Slide(title=title, points=("No five-step cycles recorded this year.",))
    published = cycles.dropna(subset=["pre_pct_proficient", "post_pct_proficient"])
    met = int(published["target_met"].astype("boolean").fillna(False).sum())
    bullets = [f"{met} of {len(published)} cycles met their target"]
    if len(cycles) > len(published):
        bullets.append(
            f"{len(cycles) - len(published)} cycles had too few matched students to show"
        )
    chart = (
        charts.pre_post(published, title=f"{label}: before and after each cycle, {school_year}")
        if len(published)
        else None
    )
    return Slide(
        title=title,
        kicker="Percent proficient before and after, with the target",
        points=tuple(bullets),
        chart=chart,
    )


def _learning_slide(metrics, school_id, school_year, label) -> Slide:
    title = "Professional learning"
    rates = _rows(metrics.pd, school_id=school_id, school_year=school_year)
    steps = _rows(metrics.blended_cycle, school_id=school_id, school_year=school_year)
    if rates.empty and steps.empty:
        return Slide(title=title, points=("No professional-learning records this year.",))
    bullets = []
    if len(rates):
        r = rates.iloc[0]
        if pd.notna(r["participation_rate"]):
            bullets.append(
                f"{r['participation_rate']:.0%} of instructional staff completed an activity"
            )
        if pd.notna(r["hours_per_staff"]):
            bullets.append(f"{r['hours_per_staff']:.1f} hours per staff member")
    chart = None
    if len(steps):
        frame = steps.assign(step_label="Step " + steps["step"].astype("str"))
        chart = charts.share_bars(
            frame,
            category="step_label",
            value="share_reached",
            title=f"{label}: staff reaching each step of the blended learning cycle",
        )
    return Slide(
        title=title,
        kicker=f"Instructional staff, {school_year}",
        points=tuple(bullets),
        chart=chart,
    )


def presenter_slides(
    metrics: Metrics | DashboardData,
    *,
    school_id: str,
    school_year: str,
    label: str,
    config: Config | None = None,
) -> list[Slide]:
    """The slides for one school and year: title, achievement, gaps, rubric, cycles, learning,
    questions. ``label`` is how the school is named on the slides (masked or not).

    ``metrics``: the district's figures, or a kernel's
    :class:`~bltanalytics.dashboards.slices.DashboardData`, from which only this school's rows
    are read."""
    config = config or Config()
    # Each table's rows of this school, read once; every slide then reads only these.
    metrics = as_data(metrics).school(school_id, SCHOOL_TABLES)
    slides = [
        _title_slide(metrics, school_id, school_year, label, config),
        _achievement_slide(metrics, school_id, school_year, label, config),
    ]
    for subject in GAP_SUBJECTS:
        slide = _gap_slide(metrics, school_id, school_year, label, config, subject)
        if slide is not None:
            slides.append(slide)
    slides += [
        _rubric_slide(metrics, school_id, school_year, label),
        _cycles_slide(metrics, school_id, school_year, label),
        _learning_slide(metrics, school_id, school_year, label),
        Slide(title="Questions for the team", points=QUESTIONS),
    ]
    return slides


def slide_html(slide: Slide) -> str:
    """A slide as HTML: large title, kicker, bullets, then the chart (SVG) and table."""
    parts = [f'<div class="blt-slide" data-title="{html.escape(slide.title)}">']
    if slide.kicker:
        parts.append(f'<p class="blt-kicker">{html.escape(slide.kicker)}</p>')
    parts.append(f"<h1>{html.escape(slide.title)}</h1>")
    if slide.points:
        parts.append("<ul>" + "".join(f"<li>{html.escape(p)}</li>" for p in slide.points) + "</ul>")
    if slide.chart is not None:
        parts.append(chart_html(slide.chart))
    if slide.table is not None:
        parts.append(html_table(slide.table))
    parts.append("</div>")
    return "".join(parts)


# ------------------------------------------------------------------------------------------------
# The widget
# ------------------------------------------------------------------------------------------------


class Presenter:
    """Previous/Next through one school's slides; :attr:`widget` is what the notebook displays."""

    def __init__(
        self, source: Metrics | DashboardData, *, mask_names: bool, config: Config
    ) -> None:
        self.data = as_data(source)
        self.config = config
        self.labels = school_labels(self.data.schools, mask=mask_names)
        years = self.data.years("enrollment")
        options = school_options(self.labels)
        self.school = dropdown("School", options, css_class="blt-school", width="340px")
        self.year = dropdown(
            "Year", years, years[-1] if years else None, css_class="blt-year", width="170px"
        )
        self.previous = widgets.Button(
            description="◀ Previous", layout=widgets.Layout(width="190px")
        )
        self.previous.add_class("blt-previous")
        self.next = widgets.Button(description="Next ▶", layout=widgets.Layout(width="190px"))
        self.next.add_class("blt-next")
        self.counter = widgets.HTML()
        self.counter.add_class("blt-counter")
        self.slide = widgets.HTML()
        self.slide.add_class("blt-slide-area")
        self.position = 0
        self._slides: list[Slide] = []
        self._html: dict[int, str] = {}
        nav = widgets.HBox(
            [self.previous, self.counter, self.next], layout=widgets.Layout(align_items="center")
        )
        self.widget = page(
            TITLE,
            [
                widgets.HTML(PRESENTER_CSS),
                widgets.HBox(
                    [self.school, self.year, nav],
                    layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self.slide,
            ],
            css_class="blt-presenter",
        )
        self.school.observe(self._restart, names="value")
        self.year.observe(self._restart, names="value")
        self.previous.on_click(lambda _: self.go(self.position - 1))
        self.next.on_click(lambda _: self.go(self.position + 1))
        if options and years:
            self._restart()
        else:
            self.slide.value = message("No schools to present.", kind="info").value

    def _restart(self, change=None) -> None:
        school = self.school.value
        self._slides = presenter_slides(
            self.data,
            school_id=school,
            school_year=self.year.value,
            label=self.labels.get(school, school),
            config=self.config,
        )
        self._html = {}
        self.go(0)

    def go(self, position: int) -> None:
        """Show slide ``position`` (clamped to the first and last slide)."""
        if not self._slides:
            return
        self.position = max(0, min(position, len(self._slides) - 1))
        if self.position not in self._html:
            self._html[self.position] = slide_html(self._slides[self.position])
        self.slide.value = self._html[self.position]
        self.counter.value = (
            f'<span class="blt-counter">Slide {self.position + 1} of {len(self._slides)}</span>'
        )
        self.previous.disabled = self.position == 0
        self.next.disabled = self.position == len(self._slides) - 1
        # The slide is on its way to the page; render the next one while the room reads this.
        following = self.position + 1
        if following < len(self._slides) and following not in self._html:
            self._html[following] = slide_html(self._slides[following])


def build_presenter(
    folder=None, *, mask_names: bool | None = None, config: Config | None = None
) -> widgets.Widget:
    """The presenter widget for a district folder (default: ``$BLT_DATA`` or the sample).

    The kernel reads the chosen school's slices of the export only; a folder that fails
    validation gives a plain message.
    """
    return build_dashboard(Presenter, folder, mask_names=mask_names, config=config, title=TITLE)
