"""The sections of the per-school report and of the district summary, as values.

Each builder takes a :class:`~bltanalytics.metrics.Metrics` (aggregates only, suppression
already applied) and returns a :class:`Section`: a title, a one-sentence *reading* worked out
from the figures, a chart (``alt.Chart`` or ``None``), a table with the same figures as the
chart, notes, and optionally sub-sections (*parts*). A section renders itself in a notebook
(``_repr_html_``) as the reading, the chart as inline SVG inside
``<figure role="img" aria-label=...>`` with a ``<figcaption>``, and an accessible HTML table;
the page needs no JavaScript and no network. Sections never emit ``<h1>``/``<h2>``: the notebook
owns the title and section headings, a section's parts are ``<h3>``.

What a reader sees follows the data contract's disclosure rules: a suppressed figure shows as
``*`` (never a number), a percentage at or above 95 as ``≥95%`` and at or below 5 as ``≤5%`` (a
bar never reaches past its label: top- and bottom-coded bars stop at the code), and a gap next
to a coded percentage is shown as a bound (``≤-35``). Nothing here reads student rows.

Notebooks call :func:`load`, :func:`resolve_year`, then one builder per section:

>>> metrics = load()                                  # the bundled sample district
>>> year = resolve_year(metrics, "0101", "")          # "" = the latest year with data
>>> section = achievement(metrics, "0101", year)
>>> section.title.startswith("Achievement")
True
>>> "<table" in section._repr_html_()
True
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from bltanalytics import __version__, charts, resources
from bltanalytics.achievement import ALL_GRADES, ALL_STUDENTS, DIMENSIONS, NOT_REPORTED, TERM_ORDER
from bltanalytics.cleaning import school_year_text
from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.learning import FORMAT_STAGES, PD_FORMATS
from bltanalytics.metrics import Metrics, compute_metrics, read_metrics
from bltanalytics.rubric import load_rubric
from bltanalytics.suppression import SUPPRESSED_MARK, display_labels

__all__ = [
    "SAMPLE_DIR",
    "Section",
    "achievement",
    "data_quality",
    "district_achievement",
    "district_data_quality",
    "district_gaps",
    "district_learning",
    "district_overview",
    "district_scorecard",
    "learning",
    "load",
    "overview",
    "resolve_year",
    "sample_dir",
    "scorecard",
    "team_cycles",
    "trend",
    "walkthroughs",
]

#: The sample district shipped with the package (``data/sample`` of a checkout).
SAMPLE_DIR = resources.sample_district()

#: Settings of the sample made when the source tree has none (the ``bltanalytics sample`` defaults).
SAMPLE_SETTINGS = {"schools": 6, "students_per_school": 300, "seed": 2026}

SUBJECT_ORDER = ("ELA", "Math", "Science", "Social Studies")

DIMENSION_LABELS = {
    "all": "All students",
    "sex": "Sex",
    "race_ethnicity": "Race/ethnicity",
    "english_learner": "English learner",
    "special_education": "Special education",
    "economically_disadvantaged": "Economically disadvantaged",
    "homeless": "Homeless",
    "migrant": "Migrant",
    "foster_care": "Foster care",
}
SEX_LABELS = {"F": "Female", "M": "Male", "X": "Non-binary"}
#: School levels named in the overview sentence ("an elementary school"); others are not named.
LEVEL_WORDS = ("elementary", "middle", "high")

#: How a group is named in a sentence: (dimension, group) -> words; race groups add "students".
GROUP_PHRASES = {
    ("all", ALL_STUDENTS): "all students",
    ("sex", "F"): "female students",
    ("sex", "M"): "male students",
    ("sex", "X"): "non-binary students",
    ("english_learner", "Yes"): "English learners",
    ("english_learner", "No"): "students who are not English learners",
    ("special_education", "Yes"): "students in special education",
    ("special_education", "No"): "students not in special education",
    ("economically_disadvantaged", "Yes"): "economically disadvantaged students",
    ("economically_disadvantaged", "No"): "students not economically disadvantaged",
    ("homeless", "Yes"): "students experiencing homelessness",
    ("homeless", "No"): "students not experiencing homelessness",
    ("migrant", "Yes"): "migrant students",
    ("migrant", "No"): "students who are not migrants",
    ("foster_care", "Yes"): "students in foster care",
    ("foster_care", "No"): "students not in foster care",
}

FORMAT_LABELS = {
    "online_course": "Online course",
    "micro_pd": "Micro-PD",
    "workshop": "Workshop",
    "support_meeting": "Support meeting",
    "coaching": "Coaching",
    "plc": "Professional learning community",
    "observation_feedback": "Observation and feedback",
}

CHARACTERISTIC_LABELS = {
    "systematic_process": "Systematic process",
    "focus": "Focus",
    "alignment": "Alignment",
    "data_use": "Data use",
    "fidelity": "Fidelity",
    "monitoring": "Monitoring",
}

#: What a computed indicator counts, by its rule kind (rubric.yaml ``rule``).
RULE_UNITS = {
    "teams_present": "",
    "team_steps": "teams",
    "survey_agree": "respondents",
    "coached_share": "staff",
    "meetings_shared": "meetings",
    "walkthrough_share": "walk-throughs",
    "fidelity_mean": "checks",
}
RATING_WORDS = {0: "not evident", 1: "emerging", 2: "acceptable", 3: "exemplary"}

REASON_WORDS = {
    "missing_required": "a required value was missing",
    "unknown_school": "the school is not in the schools table",
    "bad_value": "a value could not be read",
    "out_of_range": "a value was out of range",
    "duplicate": "a duplicate of another row",
    "unscorable": "a test result that cannot be scored",
}
ACTION_WORDS = {"row_dropped": "row not used", "value_blanked": "value blanked, row kept"}

#: The tables each "No data" message names.
TABLE_WORDS = {
    "walkthroughs": "walkthroughs",
    "fidelity_checks": "fidelity checks",
    "team_cycles": "teacher-team cycles",
    "pd_activities": "professional-learning activities",
    "staff": "staff",
    "rubric_ratings": "rubric ratings",
    "assessments": "assessments",
}

#: The table an indicator of the walk-through section reads, in words.
TABLES_OF = {
    "C5.walkthrough": TABLE_WORDS["walkthroughs"],
    "C5.fidelity": TABLE_WORDS["fidelity_checks"],
}

SUPPRESSION_NOTE = (
    f"{SUPPRESSED_MARK} = not shown to protect student privacy: the group has too few students, "
    "or showing it would let a small group be worked out by subtraction."
)
CODED_NOTE = (
    "Percentages at or above 95 show as ≥95% and at or below 5 as ≤5%; their bars stop at 95 or "
    "5, and a gap beside them is shown as a bound (≥ or ≤)."
)
GAP_NOTE = (
    "Gap = the group's percent proficient minus All Students', in percentage points, worked out "
    "from unrounded figures (so it can differ by a point from the rounded percentages)."
)

#: How rows that name no school are listed in the district's data-quality table.
NO_SCHOOL = "(no school)"

#: Schools per status chart in the district summary, so a chart fits a portrait page.
SCHOOLS_PER_GRID = 8

_CODED = re.compile(r"^([≥≤])\s*([0-9]+(?:\.[0-9]+)?)%$")


# --------------------------------------------------------------------------- the Section value


@dataclass(frozen=True)
class Section:
    """One section (or part of one) of a report: reading, chart, table, notes and parts.

    ``reading`` is one sentence in plain words; ``chart`` an altair chart or ``None``;
    ``table`` a frame of strings, exactly what the reader sees (its first column names the
    rows); ``caption`` the table's caption (default: the title); ``parts`` sub-sections shown
    after it under ``<h3>`` headings.

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
            out.append(_table_html(self.table, self.caption or self.title, self.key))
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
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def _escape_series(values: pd.Series) -> pd.Series:
    text = values.astype("str").fillna("")
    for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        text = text.str.replace(old, new, regex=False)
    return text


def _key_attr(key: str) -> str:
    return f' data-section="{_escape(key)}"' if key else ""


def _table_html(table: pd.DataFrame, caption: str, key: str = "") -> str:
    """An accessible table: caption, column headers with scope, first column as row headers."""
    head = "".join(f'<th scope="col">{_escape(c)}</th>' for c in table.columns)
    if len(table):
        columns = [_escape_series(table[c]) for c in table.columns]
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
    svg = _unique_ids(charts.to_svg(spec))
    return (
        f'<figure role="img" aria-label="{_escape(description)}">{svg}'
        f"<figcaption>Chart: {_escape(title)}. The table below gives the same figures."
        "</figcaption></figure>"
    )


def _unique_ids(svg: str) -> str:
    """Prefix the SVG's element ids so several inline SVGs on one page never share one."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if not ids:
        return svg
    prefix = "blt" + hashlib.sha1(svg.encode("utf-8")).hexdigest()[:10] + "-"
    pattern = re.compile(
        r'(\bid="|url\(#|href="#)(' + "|".join(map(re.escape, ids)) + r')(?=["\)])'
    )
    return pattern.sub(lambda m: m.group(1) + prefix + m.group(2), svg)


def _no_data(title: str, reading: str, key: str = "") -> Section:
    return Section(title=title, reading=reading, key=key)


# --------------------------------------------------------------------------- loading


def sample_dir() -> Path:
    """The bundled sample district: ``data/sample`` of the source tree.

    When the package is installed without its source tree, the sample is generated once (with
    the ``bltanalytics sample`` defaults) into ``$XDG_CACHE_HOME/bltanalytics`` and reused.
    """
    if _has_tables(SAMPLE_DIR):
        return SAMPLE_DIR
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bltanalytics"
    target = cache / f"sample-{__version__}"
    if _has_tables(target):
        return target
    from bltanalytics.sample import generate_district

    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".sample-"))
    try:
        generate_district(tmp, **SAMPLE_SETTINGS)
        try:
            tmp.rename(target)
        except OSError:  # another process made it first
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _has_tables(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("schools.*"))


def load(
    data_dir: str | Path = "", metrics_dir: str | Path = "", min_n: int | None = None
) -> Metrics:
    """The figures a report reads.

    ``metrics_dir`` (a folder written by ``write_metrics`` / ``bltanalytics metrics``): read it,
    as computed (``min_n`` is then the one it was computed with). Otherwise compute from the
    district folder ``data_dir`` (``""``: the bundled sample) with ``min_n`` (default
    ``Config().min_n``). Relative paths are relative to the working directory.

    >>> load(min_n=10).schools["school_id"].iloc[0]
    '0101'
    """
    if str(metrics_dir):
        return _read_metrics_cached(Path(metrics_dir))
    from bltanalytics.district import load_district

    folder = Path(data_dir) if str(data_dir) else sample_dir()
    config = Config() if min_n is None else Config(min_n=_whole(min_n, "min_n"))
    return compute_metrics(load_district(folder), config)


#: The last metrics export read by :func:`load`: (its folder, its files' signature, Metrics).
#: A warm kernel runs school after school from one export; it reads the files once. It holds
#: only what the export holds (district aggregates, shared by every school's report), and every
#: caller gets its own copy of each frame (see :func:`_read_metrics_cached`).
_EXPORT_CACHE: dict[str, tuple[Path, tuple, Metrics]] = {}


def _export_signature(folder: Path) -> tuple:
    """(name, size, modification time in ns) of every Parquet file of an export: a rewritten
    file changes it."""
    stats = [(p.name, p.stat()) for p in sorted(folder.glob("*.parquet"))]
    return tuple((name, st.st_size, st.st_mtime_ns) for name, st in stats)


def _read_metrics_cached(folder: Path) -> Metrics:
    """:func:`read_metrics`, reading the files again only when they changed.

    Each call returns new frames: copies that share their data with the cached ones until
    either side writes (pandas' copy-on-write), so whatever a notebook does to its metrics,
    including changing a column in place, never reaches the cache or the next school.
    """
    folder = folder.resolve()
    signature = _export_signature(folder) if folder.is_dir() else ()
    cached = _EXPORT_CACHE.get("last")
    if cached is None or cached[0] != folder or cached[1] != signature or not signature:
        metrics = read_metrics(folder)  # raises the helpful error for a missing export
        _EXPORT_CACHE["last"] = cached = (folder, signature, metrics)
    frames = {f.name: getattr(cached[2], f.name) for f in fields(Metrics)}
    return Metrics(**{name: frame.copy(deep=False) for name, frame in frames.items()})


def _whole(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise BltError(f"{name} must be a whole number, found {value!r}")
    return int(value)


def _check_school(metrics: Metrics, school_id: object) -> str:
    if not isinstance(school_id, str):
        raise BltError(
            f'school_id must be text such as "0101", found {school_id!r} '
            f"({type(school_id).__name__}); `papermill -p school_id 0101` turns the id into a "
            "number: pass it with `-r school_id 0101` or through the Python API"
        )
    known = metrics.schools["school_id"]
    if not (known == school_id).any():
        listed = ", ".join(known.head(10).tolist()) + (", ..." if len(known) > 10 else "")
        raise BltError(f"school {school_id!r} is not in this district; its schools are {listed}")
    return school_id


def resolve_year(metrics: Metrics, school_id: str = "", school_year: str = "") -> str:
    """The school year to report on, as ``"2025-26"``.

    ``school_year`` ``""``: the latest year with assessment results for ``school_id`` (else with
    students; with ``school_id`` ``""``, for the district). A given year may be spelled
    ``2025-2026`` or ``2026``; it must be a year the district's students table has.

    >>> m = load()
    >>> resolve_year(m, "0101", ""), resolve_year(m, "0101", "2025")
    ('2025-26', '2024-25')
    """
    if school_id:
        _check_school(metrics, school_id)
    years = metrics.school_years
    if str(school_year).strip():
        year = school_year_text(str(school_year))
        if year is None or year not in years:
            raise BltError(
                f"school year {school_year!r} has no data in this district; "
                f"years with data: {', '.join(years) or 'none'}"
            )
        return year
    scoped = [metrics.achievement, metrics.enrollment]
    if school_id:
        scoped = [f[f["school_id"] == school_id] for f in scoped]
    for frame in scoped:
        if len(frame):
            return str(frame["school_year"].max())
    if years:
        return years[-1]
    raise BltError("this district has no school years with data (the students table is empty)")


# --------------------------------------------------------------------------- shared helpers


def _school_name(metrics: Metrics, school_id: str) -> str:
    names = metrics.schools.loc[metrics.schools["school_id"] == school_id, "school_name"]
    return str(names.iloc[0]) if len(names) and pd.notna(names.iloc[0]) else school_id


def _school_labels(metrics: Metrics) -> pd.DataFrame:
    """school_id -> ``school_label`` ("Maple Elementary School (0101)") and ``name`` (for
    sentences), in schools order."""
    s = metrics.schools
    name = s["school_name"].astype("str").fillna(s["school_id"])
    return pd.DataFrame(
        {
            "school_id": s["school_id"],
            "school_label": name + " (" + s["school_id"] + ")",
            "name": name,
        }
    )


def _ordered(values: pd.Series, order: tuple[str, ...]) -> list[str]:
    present = values.dropna().unique().tolist()
    rank = {v: i for i, v in enumerate(order)}
    return sorted(present, key=lambda v: (rank.get(v, len(rank)), v))


def _coded(display: pd.Series) -> tuple[pd.Series, pd.Series]:
    """For each display label: the code sign (``≥``/``≤``, else NA) and the code value."""
    parts = display.astype("str").str.extract(_CODED.pattern)
    return parts[0], parts[1].astype("float64")


def _plot_values(pct: pd.Series, display: pd.Series) -> pd.Series:
    """Bar positions: the percentage, held at the code where it is top- or bottom-coded."""
    sign, code = _coded(display)
    return pct.astype("float64").where(sign.isna(), code)


def _signed(values: pd.Series) -> pd.Series:
    """Whole numbers with a sign: ``+4``, ``-3``, ``0`` (rounded half away from zero)."""
    whole = np.sign(values) * np.floor(np.abs(values) + 0.5)
    text = whole.astype("Int64").astype("str")
    return text.where(~(whole > 0), "+" + text).astype("str")


def _interval(exact: pd.Series, display: pd.Series) -> tuple[pd.Series, pd.Series]:
    """What a reader can know of a percentage: [exact, exact], or [code, 100] / [0, code]."""
    sign, code = _coded(display)
    exact = exact.astype("float64")
    low = exact.where(sign.isna(), code.where(sign == "≥", 0.0))
    high = exact.where(sign.isna(), code.where(sign == "≤", 100.0))
    return low, high


def _difference(
    base: pd.Series, base_display: pd.Series, other: pd.Series, other_display: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """``other - base`` in whole points as shown, and the value to rank or plot it by.

    Both exact: the signed difference (``+4``). Either side top- or bottom-coded: the range the
    difference must lie in, widened to whole points (``+34 to +40``), so the label never tells
    more than the coded percentage does; it is ranked and plotted by the end nearest zero.
    Empty where either side is empty (suppressed).

    >>> _difference(pd.Series([60.25, 60.25]), pd.Series(["60%", "60%"]),
    ...             pd.Series([97.0, 23.5]), pd.Series(["≥95%", "24%"]))[0].tolist()
    ['+34 to +40', '-37']
    """
    b_low, b_high = _interval(base, base_display)
    o_low, o_high = _interval(other, other_display)
    low, high = o_low - b_high, o_high - b_low
    exact = (low == high).to_numpy()
    rng = _signed(np.floor(low + 1e-9)) + " to " + _signed(np.ceil(high - 1e-9))
    label = _signed(low).where(exact, rng)
    nearest = high.where(high < 0, low.where(low > 0, 0.0))
    missing = (low.isna() | high.isna()).to_numpy()
    return label.where(~missing, "").astype("str"), nearest.where(~missing)


def _fixed(values: pd.Series, fmt: str, missing: str = "no data") -> pd.Series:
    """Numbers formatted with a printf-style ``fmt`` (``"%.1f"``, ``"%g"``), vectorized."""
    numbers = values.astype("float64")
    text = np.char.mod(fmt, numbers.fillna(0.0).to_numpy())
    return pd.Series(text, index=values.index, dtype="str").where(numbers.notna(), missing)


def _percent(share: pd.Series) -> pd.Series:
    """Shares (0-1) as whole percentages; empty shares as ``no data``."""
    whole = np.floor(share.astype("float64") * 100 + 0.5)
    return (whole.astype("Int64").astype("str") + "%").fillna("no data").astype("str")


def _join_words(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _say(display: str) -> str:
    """A displayed figure in a sentence: the suppression mark becomes words."""
    return "not shown (too few students)" if display == SUPPRESSED_MARK else str(display)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _group_phrases(dimension: pd.Series, group: pd.Series) -> pd.Series:
    """How each group is named in a sentence ("English learners", "Asian students")."""
    keyed = {f"{d}|{g}": phrase for (d, g), phrase in GROUP_PHRASES.items()}
    known = (dimension.astype("str") + "|" + group.astype("str")).map(keyed)
    dim_words = dimension.map(DIMENSION_LABELS).fillna(dimension).astype("str").str.lower()
    not_reported = "students whose " + dim_words + " is not reported"
    fallback = (group.astype("str") + " students").where(group != NOT_REPORTED, not_reported)
    return known.fillna(fallback).astype("str")


def _group_phrase(dimension: str, group: str) -> str:
    return _group_phrases(pd.Series([dimension]), pd.Series([group])).iloc[0]


def with_display_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """Achievement rows plus what a reader sees: labels, bar positions and gap labels.

    ``rows``: achievement rows of whole families (each family's All Students row included).
    Adds ``dimension_label``, ``group_label``, ``tested`` (count or ``*``), ``label`` (display,
    or "suppressed (small group)" for charts), ``plot`` (bar position), ``all_plot``,
    ``gap_label`` (signed whole points, a range beside a coded percentage, ``*`` where
    suppressed, empty on All Students) and ``gap_sort`` (points used to rank gaps: the end of the
    range nearest zero; empty where no gap is published).

    >>> rows = pd.DataFrame({"school_id": "A", "school_year": "2025-26", "term": "Spring",
    ...     "subject": "ELA", "grade": "All", "dimension": ["all", "sex", "sex"],
    ...     "group": ["All Students", "F", "M"], "n_tested": pd.array([40, 20, 20], "Int64"),
    ...     "pct_proficient": [60.25, 97.0, 23.5], "suppressed": False,
    ...     "display": ["60%", "≥95%", "24%"], "gap_pp": [0.0, 36.75, -36.75]})
    >>> with_display_columns(rows)[["group_label", "plot", "gap_label"]].values.tolist()
    [['All Students', 60.25, ''], ['Female', 95.0, '+34 to +40'], ['Male', 23.5, '-37']]
    """
    family = ["school_id", "school_year", "term", "subject", "grade"]
    all_rows = rows.loc[rows["dimension"] == "all", [*family, "pct_proficient", "display"]]
    all_rows = all_rows.rename(columns={"pct_proficient": "all_pct", "display": "all_display"})
    out = rows.merge(all_rows, on=family, how="left")
    suppressed = out["suppressed"].astype(bool)
    is_all = (out["dimension"] == "all").to_numpy()
    sex = out["group"].map(SEX_LABELS)
    group_label = (
        out["group"]
        .astype("str")
        .where(~(out["dimension"] == "sex") | sex.isna(), sex.astype("str"))
    )
    gap_label, gap_sort = _difference(
        out["all_pct"], out["all_display"], out["pct_proficient"], out["display"]
    )
    gap_label = gap_label.where(~suppressed, SUPPRESSED_MARK).where(~is_all, "")
    gap_sort = gap_sort.where(~suppressed & ~is_all)
    tested = out["n_tested"].astype("Int64").astype("str").where(~suppressed, SUPPRESSED_MARK)
    plot = _plot_values(out["pct_proficient"], out["display"]).where(~suppressed)
    return out.assign(
        dimension_label=out["dimension"]
        .map(DIMENSION_LABELS)
        .fillna(out["dimension"])
        .astype("str"),
        group_label=group_label.astype("str"),
        tested=tested.fillna(SUPPRESSED_MARK).astype("str"),
        label=out["display"].where(~suppressed, charts.SUPPRESSED_NOTE).astype("str"),
        plot=plot,
        all_plot=_plot_values(out["all_pct"], out["all_display"]),
        gap_label=gap_label.fillna("").astype("str"),
        gap_sort=gap_sort.astype("float64"),
    )


def _latest_term(frame: pd.DataFrame) -> str:
    return _ordered(frame["term"], TERM_ORDER)[-1]


def _rubric_rows(metrics: Metrics, school_id: str, indicator: str) -> pd.DataFrame:
    r = metrics.rubric
    return r[(r["school_id"] == school_id) & (r["indicator_id"] == indicator)]


def _table_absent(metrics: Metrics, indicator: str) -> bool:
    """True when the indicator's table was not supplied (no school has a denominator)."""
    rows = metrics.rubric[metrics.rubric["indicator_id"] == indicator]
    return bool(rows["denominator"].isna().all())


# --------------------------------------------------------------------------- school sections


def overview(metrics: Metrics, school_id: str, school_year: str) -> Section:
    """The school at a glance: name, level, students, latest results and rubric, in one table.

    >>> m = load()
    >>> overview(m, "0101", "2025-26").reading.startswith("Maple Elementary School (0101)")
    True
    """
    school_id = _check_school(metrics, school_id)
    name = _school_name(metrics, school_id)
    school = metrics.schools[metrics.schools["school_id"] == school_id].iloc[0]
    level = school["level"] if pd.notna(school["level"]) else "not given"
    enrolled = metrics.enrollment[
        (metrics.enrollment["school_id"] == school_id)
        & (metrics.enrollment["school_year"] == school_year)
    ]
    n_students = int(enrolled["n_students"].sum())
    grades = _ordered(enrolled["grade"], ("PK", "K", *map(str, range(1, 13))))
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
        term = _latest_term(latest)
        now = latest[latest["term"] == term]
        subjects = _ordered(now["subject"], SUBJECT_ORDER)
        shown = now.set_index("subject")["display"]
        rows += [(f"{s} proficient, {term} (All Students)", str(shown[s])) for s in subjects]
        results = (
            "; All Students proficient in "
            + term
            + ": "
            + _join_words([f"{s} {_say(shown[s])}" for s in subjects])
        )
    card = metrics.rubric[
        (metrics.rubric["school_id"] == school_id) & (metrics.rubric["school_year"] == school_year)
    ]
    if len(card):
        met = int((card["status"] == "met").sum())
        rows.append(("Rubric indicators met", f"{met} of {len(card)}"))
        results += f"; {met} of {len(card)} rubric indicators met"
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
    kind = f", {_article(str(level))} {level} school," if level in LEVEL_WORDS else ""
    reading = (
        f"{name} ({school_id}){kind} had {_plural(n_students, 'student', 'students')} in "
        f"{'grades' if len(grades) > 1 else 'grade'} {grade_text} in "
        f"{school_year}{results}."
    )
    table = pd.DataFrame(rows, columns=["Item", "Value"])
    return Section(
        title=f"{name} at a glance, {school_year}", reading=reading, table=table, key="overview"
    )


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def achievement(metrics: Metrics, school_id: str, school_year: str) -> Section:
    """Percent proficient of every student group, latest term of the year, one part per subject.

    All grades together (grade ``All``); every dimension of the contract. Each part has a chart
    with one block per dimension and All Students as a dashed line, and a table with the same
    figures plus the count tested and the gap to All Students (signed percentage points).
    """
    school_id = _check_school(metrics, school_id)
    title = f"Achievement by student group, {school_year}"
    a = metrics.achievement
    mine = a[
        (a["school_id"] == school_id)
        & (a["school_year"] == school_year)
        & (a["grade"] == ALL_GRADES)
    ]
    if mine.empty:
        return _no_data(
            title,
            f"No data: there are no assessment results for this school in {school_year}.",
            "achievement",
        )
    term = _latest_term(mine)
    rows = with_display_columns(mine[mine["term"] == term])
    dim_rank = {d: i for i, d in enumerate(DIMENSIONS)}
    rows = rows.assign(_d=rows["dimension"].map(dim_rank).fillna(len(dim_rank))).sort_values(
        "_d", kind="stable"
    )
    subjects = _ordered(rows["subject"], SUBJECT_ORDER)
    parts = tuple(
        _achievement_part(rows[rows["subject"] == s], s, term, school_year) for s in subjects
    )
    all_rows = rows[rows["dimension"] == "all"].set_index("subject")["display"]
    shown = [f"{_say(all_rows[s])} in {s}" for s in subjects]
    reading = (
        f"In {term} {school_year}, the share of all students at this school who were proficient "
        f"was {_join_words(shown)} (all grades together)."
    )
    notes = [SUPPRESSION_NOTE, GAP_NOTE]
    if _coded(rows["display"])[0].notna().any():
        notes.append(CODED_NOTE)
    missing = [s for s in _ordered(mine["subject"], SUBJECT_ORDER) if s not in subjects]
    if missing:
        notes.append(f"{_join_words(missing)} had no results in {term}.")
    return Section(title=title, reading=reading, notes=tuple(notes), parts=parts, key="achievement")


def _achievement_part(rows: pd.DataFrame, subject: str, term: str, school_year: str) -> Section:
    title = f"{subject}: percent proficient by student group, {term} {school_year}"
    all_row = rows[rows["dimension"] == "all"].iloc[0]
    groups = rows[rows["dimension"] != "all"]
    n_suppressed = int(groups["suppressed"].astype(bool).sum())
    ranked = groups[(groups["group"] != NOT_REPORTED) & groups["gap_sort"].notna()]
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
            low = ranked.sort_values(["gap_sort", "group"], kind="stable").iloc[0]
            if low["gap_sort"] < 0:
                reading += (
                    f"; the widest gap below All Students is for "
                    f"{_group_phrase(low['dimension'], low['group'])} ({low['display']}, "
                    f"{low['gap_label']} points)"
                )
            else:
                reading += "; no published group is below All Students"
        reading += f", and {n_suppressed} of {len(groups)} groups are suppressed."
    description = (
        f"Bar chart of percent proficient in {subject}, {term} {school_year}, by student group. "
        + "; ".join(
            (rows["dimension_label"] + ", " + rows["group_label"] + ": " + rows["label"]).tolist()
        )
        + f". All Students: {all_row['display']}."
    )
    chart = charts.groups_by_dimension(
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
        }
    )
    return Section(
        title=subject,
        reading=reading,
        chart=chart,
        table=table,
        caption=f"{title}: count tested, percent proficient and gap to All Students",
        key=f"achievement-{subject}",
        extra={"rows": rows},
    )


def trend(metrics: Metrics, school_id: str, school_year: str) -> Section:
    """All Students' percent proficient in every term of every year up to ``school_year``."""
    school_id = _check_school(metrics, school_id)
    title = f"Trend: All Students percent proficient, by term, up to {school_year}"
    a = metrics.achievement
    points = a[
        (a["school_id"] == school_id)
        & (a["school_year"] <= school_year)
        & (a["grade"] == ALL_GRADES)
        & (a["dimension"] == "all")
    ]
    if points.empty:
        return _no_data(title, "No data: there are no assessment results for this school.", "trend")
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
        plot=_plot_values(points["pct_proficient"], points["display"]).where(~suppressed),
        label=points["display"].where(~suppressed, "").astype("str"),
    )
    published = points[~suppressed]
    description = (
        f"{title}. "
        + "; ".join((points["subject"] + " " + points["when"] + ": " + points["display"]).tolist())
        + "."
    )
    chart = charts.trend_panels(
        points[["period", "subject", "plot", "label"]], title=title, description=description
    )
    table = (
        points.pivot_table(
            index="period", columns="subject", values="display", aggfunc="first", sort=False
        )
        .reindex(columns=_ordered(points["subject"], SUBJECT_ORDER))
        .fillna("no test")
        .reset_index()
        .rename(columns={"period": "Term"})
    )
    table.columns.name = None
    changes = []
    for subject in _ordered(published["subject"], SUBJECT_ORDER):
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
        "Among all students, the share proficient went: " + _join_words(changes) + "."
        if changes
        else "No figure can be published: every term had too few students tested."
    )
    notes = [
        "Each term compares different tests and, across years, different students; read the "
        "direction rather than small differences.",
        SUPPRESSION_NOTE,
    ]
    return Section(
        title=title,
        reading=reading,
        chart=chart,
        table=table,
        caption=f"{title} (All Students, all grades)",
        notes=tuple(notes),
        key="trend",
    )


def team_cycles(metrics: Metrics, school_id: str, school_year: str) -> Section:
    """Teacher-team five-step cycles of the year: percent proficient before and after, target."""
    school_id = _check_school(metrics, school_id)
    title = f"Teacher-team five-step cycles, {school_year}"
    c = metrics.cycles
    if c.empty:
        return _no_data(
            title, f"No data: the district did not supply {TABLE_WORDS['team_cycles']}.", "cycles"
        )
    mine = c[
        (c["school_id"] == school_id)
        & ((c["school_year"] == school_year) | c["school_year"].isna())
    ]
    if mine.empty:
        return _no_data(
            title,
            f"No teacher-team cycles were recorded at this school in {school_year}.",
            "cycles",
        )
    config = Config()
    codes = {"top_code": config.top_code, "bottom_code": config.bottom_code}
    pre, post = mine["pre_pct_proficient"], mine["post_pct_proficient"]
    published = pre.notna() & post.notna()
    pre_show = display_labels(pre.to_numpy(), pre.isna().to_numpy(), **codes)
    post_show = display_labels(post.to_numpy(), post.isna().to_numpy(), **codes)
    improved = mine["pct_improved"]
    improved_show = display_labels(improved.to_numpy(), improved.isna().to_numpy(), **codes)
    pre_show.index = post_show.index = improved_show.index = mine.index
    change, change_nearest = _difference(pre, pre_show, post, post_show)
    change = change.where(published, SUPPRESSED_MARK)
    target_met = mine["target_met"].astype("boolean").map({True: "yes", False: "no"}).astype("str")
    target_met = target_met.where(published, SUPPRESSED_MARK).fillna(SUPPRESSED_MARK)
    cycle = (mine["cycle_id"] + " " + mine["subject"].fillna("")).str.strip()
    target_text = (_fixed(mine["target_pct"], "%.0f") + "%").where(mine["target_pct"].notna(), "")
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
            "Students": mine["n_matched"].astype("str").to_numpy(),
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
            f"{_plural(len(mine), 'teacher-team cycle', 'teacher-team cycles')} ran in "
            f"{school_year}; of the {n_pub} with enough students to report, {n_met} reached "
            "their target, and the median change in the share proficient was "
            f"{_signed(pd.Series([median_change])).iloc[0]} points."
        )
    else:
        reading = (
            f"{len(mine)} teacher-team cycles ran in {school_year}, none with enough students "
            "matched before and after to report."
        )
    clipped = shown.assign(
        pre_pct_proficient=_plot_values(shown["pre_pct_proficient"], pre_show[published]),
        post_pct_proficient=_plot_values(shown["post_pct_proficient"], post_show[published]),
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
        SUPPRESSION_NOTE.replace("the group has too few students", "too few students were matched"),
    ]
    if mine["school_year"].isna().any():
        notes.append("Cycles without dates are listed in every year.")
    return Section(
        title=title, reading=reading, chart=chart, table=table, notes=tuple(notes), key="cycles"
    )


def _value_text(card: pd.DataFrame) -> pd.Series:
    """What an indicator's value was, in words: ``9 of 12 respondents (75%)``, ``rating 2 ...``."""
    spec = load_rubric()
    units = card["indicator_id"].map({i.id: RULE_UNITS.get(i.rule, "") for i in spec.indicators})
    num = card["numerator"].astype("float64")
    den = card["denominator"].astype("float64")
    pct = _percent(card["value"])
    counted = (
        _fixed(num, "%g")
        + " of "
        + den.astype("Int64").astype("str")
        + (" " + units.fillna("")).str.rstrip()
        + " ("
        + pct
        + ")"
    )
    mean = "average " + pct + " over " + den.astype("Int64").astype("str") + " checks"
    teams = num.map({1.0: "yes", 0.0: "no"}).astype("str")
    rating = num.where(card["kind"] == "rated").round().astype("Int64")
    rated = "rating " + rating.astype("str") + " (" + rating.map(RATING_WORDS).astype("str") + ")"
    rule = card["indicator_id"].map({i.id: i.rule for i in spec.indicators})
    text = counted.where(rule != "fidelity_mean", mean).where(rule != "teams_present", teams)
    text = text.where(card["kind"] != "rated", rated)
    return text.where(den > 0, "no data").fillna("no data").astype("str")


def _goal_text(card: pd.DataFrame) -> pd.Series:
    goal = _percent(card["threshold"])
    rated = "rating " + card["threshold"].astype("float64").map("{:g}".format).astype("str") + "+"
    rule = card["indicator_id"].map({i.id: i.rule for i in load_rubric().indicators})
    goal = goal.where(rule != "teams_present", "yes")
    return goal.where(card["kind"] != "rated", rated).astype("str")


def scorecard(metrics: Metrics, school_id: str, school_year: str) -> Section:
    """The rubric: status of every indicator over the years, then each characteristic's values."""
    school_id = _check_school(metrics, school_id)
    title = f"Rubric scorecard, {school_year}"
    r = metrics.rubric
    mine = r[(r["school_id"] == school_id) & (r["school_year"] <= school_year)]
    now = mine[mine["school_year"] == school_year]
    if now.empty:
        return _no_data(
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
    grid = charts.status_grid(
        mine,
        title=f"Rubric status by indicator, {years[0]} to {years[-1]}"
        if len(years) > 1
        else f"Rubric status by indicator, {school_year}",
        column="school_year",
    )
    words = mine.assign(word=mine["status"].map(charts.STATUS_WORDS).astype("str"))
    grid_table = (
        words.pivot_table(
            index="indicator_id", columns="school_year", values="word", aggfunc="first", sort=False
        )
        .reindex(columns=years)
        .fillna("")
        .reset_index()
        .rename(columns={"indicator_id": "Indicator"})
    )
    grid_table.columns.name = None
    spec = load_rubric()
    texts = {i.id: i.text for i in spec.indicators}
    now = now.assign(
        value_text=_value_text(now),
        goal_text=_goal_text(now),
        status_word=now["status"].map(charts.STATUS_WORDS).astype("str"),
    )
    parts = []
    for number, characteristic in enumerate(spec.characteristics, start=1):
        rows = now[now["characteristic"] == characteristic.id]
        if rows.empty:
            continue
        parts.append(_characteristic_part(rows, number, characteristic, texts))
    notes = (
        "Computed indicators are shares worked out from the district's data, met at the goal and "
        "'approaching' within 15 points below it; 'too few' means 1 to 4 responses or records, "
        "too few to judge. Rated indicators are the BLT's own rating (0 not evident, 1 emerging, "
        "2 acceptable, 3 exemplary), met at 2.",
    )
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
    label = CHARACTERISTIC_LABELS.get(characteristic.id, characteristic.id)
    met = rows.loc[rows["status"] == "met", "indicator_id"].tolist()
    not_met = rows.loc[rows["status"].isin(["not_met", "approaching"]), "indicator_id"].tolist()
    unknown = rows.loc[rows["status"].isin(["insufficient_data", "no_data"]), "indicator_id"]
    reading = f"{characteristic.title}: {len(met)} of {len(rows)} indicators met"
    if not_met:
        reading += f"; not yet met: {_join_words(not_met)}"
    if len(unknown):
        reading += f"; cannot be judged: {_join_words(unknown.tolist())}"
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
    school_id = _check_school(metrics, school_id)
    title = f"Walk-throughs and fidelity, up to {school_year}"
    measures = {"C5.walkthrough": "Walk-throughs", "C5.fidelity": "Fidelity checks"}
    absent = {i: _table_absent(metrics, i) for i in measures}
    missing = [TABLES_OF[i] for i, a in absent.items() if a]
    if len(missing) == 2:
        return _no_data(
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
        value_text=_value_text(rows),
        goal_text=_goal_text(rows),
        status_word=rows["status"].map(charts.STATUS_WORDS).astype("str"),
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
                f"walk-throughs ({_percent(this['value']).iloc[0]}; goal {row['goal_text']}: "
                f"{row['status_word']})"
            )
        else:
            sentences.append(
                f"teacher-team fidelity checks averaged {_percent(this['value']).iloc[0]} over "
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
        notes.append(f"No data: the district did not supply {_join_words(missing)}.")
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
    school_id = _check_school(metrics, school_id)
    title = f"Professional learning, {school_year}"
    p = metrics.pd[
        (metrics.pd["school_id"] == school_id) & (metrics.pd["school_year"] <= school_year)
    ]
    if metrics.pd.empty:
        return _no_data(
            title,
            f"No data: the district did not supply {TABLE_WORDS['staff']} or "
            f"{TABLE_WORDS['pd_activities']}.",
            "learning",
        )
    if metrics.pd["n_participating"].isna().all():
        return _no_data(
            title,
            f"No data: the district did not supply {TABLE_WORDS['pd_activities']}.",
            "learning",
        )
    now = p[p["school_year"] == school_year]
    if now.empty or int(now["n_instructional_staff"].iloc[0]) == 0:
        return _no_data(
            title,
            f"No instructional staff are listed for this school in {school_year}.",
            "learning",
        )
    row = now.iloc[0]
    counts = pd.DataFrame(
        {
            "format": [FORMAT_LABELS[f] for f in PD_FORMATS],
            "n": [int(row[f"n_{f}"]) for f in PD_FORMATS],
        }
    )
    ranked = counts.sort_values("n", ascending=False, kind="stable")
    top, bottom = ranked.iloc[0], ranked.iloc[-1]
    reading = (
        f"In {school_year}, {int(row['n_participating'])} of {int(row['n_instructional_staff'])} "
        f"instructional staff ({_percent(now['participation_rate']).iloc[0]}) completed at least "
        f"one professional-learning activity, averaging {row['hours_per_staff']:.1f} hours each."
    )
    total = int(counts["n"].sum())
    formats_reading = (
        f"Instructional staff completed {_plural(total, 'activity', 'activities')} in "
        f"{school_year}; the most common format was {_lower_first(top['format'])} ({top['n']}) "
        f"and the least common {_lower_first(bottom['format'])} ({bottom['n']})."
        if total
        else f"Instructional staff completed no professional-learning activities in {school_year}."
    )
    years = p["school_year"].tolist()
    measures = {
        "Instructional staff": p["n_instructional_staff"].astype("str"),
        "Completed at least one activity": p["n_participating"].astype("Int64").astype("str"),
        "Participation rate": _percent(p["participation_rate"]),
        "Hours per staff member": _fixed(p["hours_per_staff"], "%.1f"),
        **{
            f"{FORMAT_LABELS[f]} (activities)": p[f"n_{f}"].astype("Int64").astype("str")
            for f in PD_FORMATS
        },
    }
    table = pd.DataFrame(
        {
            "Measure": list(measures),
            **{y: [m.iloc[i] for m in measures.values()] for i, y in enumerate(years)},
        }
    )
    chart = charts.count_bars(
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
            "Share of instructional staff": _percent(frame["share_reached"]).to_numpy(),
        }
    )
    n = int(frame["n_instructional_staff"].iloc[0])
    first, last = frame.iloc[0], frame.iloc[-1]
    share = _percent(frame["share_reached"])
    reading = (
        f"Of {n} instructional staff, {int(first['n_reached'])} ({share.iloc[0]}) reached "
        f"{_lower_first(steps.iloc[0])} and {int(last['n_reached'])} ({share.iloc[-1]}) reached "
        f"{_lower_first(steps.iloc[-1])}, the end of {what}."
    )
    return Section(title=heading, reading=reading, chart=chart, table=table, caption=title, key=key)


def _blended_part(metrics: Metrics, school_id: str, school_year: str) -> Section:
    b = metrics.blended_cycle
    mine = b[(b["school_id"] == school_id) & (b["school_year"] == school_year)]
    title = f"Blended learning cycle, {school_year}"
    if mine.empty:
        return _no_data(
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
            _no_data(
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
                labels={f: FORMAT_LABELS[f] for f in FORMAT_STAGES},
                key="learning-sequence",
            )
        )
    return parts


def data_quality(metrics: Metrics, school_id: str) -> Section:
    """Input rows of this school that were set aside or repaired, and why (all years)."""
    school_id = _check_school(metrics, school_id)
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
            "What happened": mine["action"].map(ACTION_WORDS).fillna(mine["action"]).to_numpy(),
            "Why": mine["reason"].map(REASON_WORDS).fillna(mine["reason"]).to_numpy(),
            "Rows": mine["count"].astype("str").to_numpy(),
        }
    )
    worst = mine.sort_values("count", ascending=False, kind="stable").iloc[0]
    reading = (
        f"{_plural(dropped, 'input row', 'input rows')} for this school "
        f"{'was' if dropped == 1 else 'were'} not used and {_plural(blanked, 'value', 'values')} "
        f"{'was' if blanked == 1 else 'were'} blanked (row kept); the most frequent reason is "
        f"{worst['table']}: {REASON_WORDS.get(worst['reason'], worst['reason'])} "
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


# --------------------------------------------------------------------------- district sections


def district_overview(metrics: Metrics, school_year: str) -> Section:
    """Every school side by side: level, students and rubric indicators met."""
    labels = _school_labels(metrics)
    enrolled = (
        metrics.enrollment[metrics.enrollment["school_year"] == school_year]
        .groupby("school_id")["n_students"]
        .sum()
    )
    card = metrics.rubric[metrics.rubric["school_year"] == school_year]
    met = card.assign(met=card["status"] == "met").groupby("school_id")["met"].agg(["sum", "size"])
    s = metrics.schools.merge(labels, on="school_id")
    n_students = s["school_id"].map(enrolled).fillna(0).astype("int64")
    n_met = s["school_id"].map(met["sum"]).astype("Int64")
    n_ind = s["school_id"].map(met["size"]).astype("Int64")
    table = pd.DataFrame(
        {
            "School": s["school_label"].to_numpy(),
            "Level": s["level"].fillna("not given").astype("str").to_numpy(),
            "Students": n_students.map("{:,}".format).to_numpy(),
            "Rubric indicators met": (n_met.astype("str") + " of " + n_ind.astype("str"))
            .fillna("no data")
            .to_numpy(),
        }
    )
    reading = (
        f"In {school_year} the district has {len(s)} schools and {int(n_students.sum()):,} students"
    )
    if n_met.notna().any():
        reading += (
            f"; rubric indicators met range from {int(n_met.min())} to {int(n_met.max())} "
            f"of {int(n_ind.max())}"
        )
    reading += "."
    return Section(
        title=f"Schools at a glance, {school_year}",
        reading=reading,
        table=table,
        key="district-overview",
    )


def district_scorecard(metrics: Metrics, school_year: str) -> Section:
    """School x indicator rubric statuses, as coloured and worded grids of up to 8 schools."""
    title = f"Rubric status by school and indicator, {school_year}"
    card = metrics.rubric[metrics.rubric["school_year"] == school_year]
    if card.empty:
        return _no_data(title, f"No data: no rubric scores in {school_year}.", "district-rubric")
    card = card.merge(_school_labels(metrics), on="school_id", how="left")
    card = card.assign(school_label=card["school_label"].fillna(card["school_id"]))
    met = card.assign(met=card["status"] == "met")
    by_indicator = met.groupby("indicator_id", sort=False)["met"].sum()
    n_schools = card["school_id"].nunique()
    most, least = by_indicator.idxmax(), by_indicator.idxmin()
    reading = (
        f"Across {n_schools} schools in {school_year}, the indicator met most often is {most} "
        f"({int(by_indicator[most])} of {n_schools} schools) and the least often is {least} "
        f"({int(by_indicator[least])} of {n_schools})."
        if by_indicator.max() > 0
        else f"No school meets any rubric indicator in {school_year}."
    )
    schools = card["school_label"].drop_duplicates().tolist()
    chunks = [schools[i : i + SCHOOLS_PER_GRID] for i in range(0, len(schools), SCHOOLS_PER_GRID)]
    words = card.assign(word=card["status"].map(charts.STATUS_WORDS).astype("str"))
    parts = []
    for k, chunk in enumerate(chunks, start=1):
        rows = words[words["school_label"].isin(chunk)]
        name = (
            f"Schools {SCHOOLS_PER_GRID * (k - 1) + 1}-{SCHOOLS_PER_GRID * (k - 1) + len(chunk)}"
            f" of {len(schools)}"
            if len(chunks) > 1
            else "All schools"
        )
        table = (
            rows.pivot_table(
                index="indicator_id",
                columns="school_label",
                values="word",
                aggfunc="first",
                sort=False,
            )
            .reindex(columns=chunk)
            .fillna("")
            .reset_index()
            .rename(columns={"indicator_id": "Indicator"})
        )
        table.columns.name = None
        counts = rows["status"].value_counts()
        parts.append(
            Section(
                title=name,
                reading=(
                    f"{counts.get('met', 0)} met, {counts.get('approaching', 0)} approaching, "
                    f"{counts.get('not_met', 0)} not met, {counts.get('insufficient_data', 0)} "
                    f"too few and {counts.get('no_data', 0)} no data among these "
                    f"{len(chunk)} schools' {len(rows)} indicator scores."
                ),
                chart=charts.status_grid(
                    rows, title=f"{title}: {name.lower()}", column="school_label"
                ),
                table=table,
                caption=f"{title}: {name.lower()} (status words)",
                key=f"district-rubric-{k}",
            )
        )
    return Section(
        title=title,
        reading=reading,
        notes=(
            "Statuses are written in each cell as well as coloured. 'too few': 1 to 4 responses "
            "or records; 'no data': nothing to count, or the table was not supplied.",
        ),
        parts=tuple(parts),
        key="district-rubric",
    )


def _district_latest(metrics: Metrics, school_year: str) -> tuple[pd.DataFrame, str | None]:
    a = metrics.achievement
    rows = a[(a["school_year"] == school_year) & (a["grade"] == ALL_GRADES)]
    if rows.empty:
        return rows, None
    term = _latest_term(rows)
    return rows[rows["term"] == term], term


def district_achievement(metrics: Metrics, school_year: str) -> Section:
    """All Students percent proficient by school and subject, latest term of the year."""
    title = f"All Students percent proficient by school, {school_year}"
    rows, term = _district_latest(metrics, school_year)
    if term is None:
        return _no_data(
            title, f"No data: no assessment results in {school_year}.", "district-achievement"
        )
    title = f"All Students percent proficient by school, {term} {school_year}"
    all_rows = rows[rows["dimension"] == "all"].merge(
        _school_labels(metrics), on="school_id", how="left"
    )
    subject_rank = {s: i for i, s in enumerate(SUBJECT_ORDER)}
    school_rank = {s: i for i, s in enumerate(metrics.schools["school_id"])}
    all_rows = all_rows.assign(
        _s=all_rows["subject"].map(subject_rank).fillna(len(subject_rank)),
        _k=all_rows["school_id"].map(school_rank),
    ).sort_values(["_s", "subject", "_k"], kind="stable")
    suppressed = all_rows["suppressed"].astype(bool)
    frame = all_rows.assign(
        plot=_plot_values(all_rows["pct_proficient"], all_rows["display"]).where(~suppressed),
        label=all_rows["display"].where(~suppressed, charts.SUPPRESSED_NOTE).astype("str"),
    )
    subjects = _ordered(frame["subject"], SUBJECT_ORDER)
    table = (
        frame.pivot_table(
            index="school_label", columns="subject", values="display", aggfunc="first", sort=False
        )
        .reindex(columns=subjects)
        .fillna("no test")
        .reset_index()
        .rename(columns={"school_label": "School"})
    )
    table.columns.name = None
    ranges = []
    for subject in subjects:
        pub = frame[(frame["subject"] == subject) & frame["plot"].notna()]
        if len(pub) > 1:
            low = pub.loc[pub["pct_proficient"].idxmin()]
            high = pub.loc[pub["pct_proficient"].idxmax()]
            ranges.append(
                f"{subject} from {low['display']} ({low['name']}) "
                f"to {high['display']} ({high['name']})"
            )
        elif len(pub) == 1:
            ranges.append(f"{subject} {pub['display'].iloc[0]} (one school)")
    reading = (
        f"In {term} {school_year}, the share of all students proficient ranged: "
        + _join_words(ranges)
        + "."
        if ranges
        else "No school had enough students tested to publish a figure."
    )
    description = (
        f"{title}. "
        + "; ".join(
            (frame["school_label"] + ", " + frame["subject"] + ": " + frame["label"]).tolist()
        )
        + "."
    )
    chart = charts.school_subject_bars(frame, title=title, description=description)
    return Section(
        title=title,
        reading=reading,
        chart=chart,
        table=table,
        notes=(SUPPRESSION_NOTE,)
        + ((CODED_NOTE,) if _coded(frame["display"])[0].notna().any() else ()),
        key="district-achievement",
    )


def district_gaps(metrics: Metrics, school_year: str) -> Section:
    """For each school and subject, the published group furthest below All Students."""
    title = f"Largest gap below All Students, by school and subject, {school_year}"
    rows, term = _district_latest(metrics, school_year)
    if term is None:
        return _no_data(title, f"No data: no assessment results in {school_year}.", "district-gaps")
    title = f"Largest gap below All Students, by school and subject, {term} {school_year}"
    shown = with_display_columns(rows)
    candidates = shown[
        (shown["dimension"] != "all") & (shown["group"] != NOT_REPORTED) & shown["gap_sort"].notna()
    ]
    candidates = candidates[candidates["gap_sort"] < 0]
    if candidates.empty:
        return _no_data(
            title, "No school has a published group below its All Students figure.", "district-gaps"
        )
    widest = candidates.sort_values(
        ["gap_sort", "dimension", "group"], kind="stable"
    ).drop_duplicates(["school_id", "subject"])
    widest = widest.merge(_school_labels(metrics), on="school_id", how="left")
    subject_rank = {s: i for i, s in enumerate(SUBJECT_ORDER)}
    school_rank = {s: i for i, s in enumerate(metrics.schools["school_id"])}
    widest = widest.assign(
        _k=widest["school_id"].map(school_rank),
        _s=widest["subject"].map(subject_rank).fillna(len(subject_rank)),
    ).sort_values(["_s", "subject", "_k"], kind="stable")
    phrase = _group_phrases(widest["dimension"], widest["group"])
    frame = widest.assign(
        row_label=widest["school_label"] + ", " + widest["subject"],
        plot=widest["gap_sort"],
        label=widest["gap_label"] + " pts, " + phrase,
    )
    worst = frame.sort_values("gap_sort", kind="stable").iloc[0]
    reading = (
        f"The widest gap in {term} {school_year} is at {worst['name']} in "
        f"{worst['subject']}: {_group_phrase(worst['dimension'], worst['group'])} were "
        f"{worst['display']} proficient against {worst['all_display']} for all students "
        f"({worst['gap_label']} points)."
    )
    table = pd.DataFrame(
        {
            "School": frame["school_label"].to_numpy(),
            "Subject": frame["subject"].to_numpy(),
            "Group": (frame["dimension_label"] + ": " + frame["group_label"]).to_numpy(),
            "Group proficient": frame["display"].to_numpy(),
            "All Students proficient": frame["all_display"].to_numpy(),
            "Gap (points)": frame["gap_label"].to_numpy(),
        }
    )
    description = (
        f"{title}. " + "; ".join((frame["row_label"] + ": " + frame["label"]).tolist()) + "."
    )
    chart = charts.gap_bars(frame, title=title, description=description)
    return Section(
        title=title,
        reading=reading,
        chart=chart,
        table=table,
        notes=(
            "Only published groups count (not suppressed, not 'Not reported'); grade All.",
            GAP_NOTE,
        ),
        key="district-gaps",
    )


def district_learning(metrics: Metrics, school_year: str) -> Section:
    """Professional-learning participation of instructional staff, by school."""
    title = f"Professional-learning participation by school, {school_year}"
    if metrics.pd.empty or metrics.pd["n_participating"].isna().all():
        return _no_data(
            title,
            f"No data: the district did not supply {TABLE_WORDS['pd_activities']}.",
            "district-learning",
        )
    p = metrics.pd[metrics.pd["school_year"] == school_year].merge(
        _school_labels(metrics), on="school_id", how="left"
    )
    school_rank = {s: i for i, s in enumerate(metrics.schools["school_id"])}
    p = p.assign(_k=p["school_id"].map(school_rank)).sort_values("_k", kind="stable")
    chart = charts.share_bars(
        p,
        category="school_label",
        value="participation_rate",
        title=title,
        goal=None,
        axis_title="Share of instructional staff with a completed activity",
    )
    table = pd.DataFrame(
        {
            "School": p["school_label"].to_numpy(),
            "Instructional staff": p["n_instructional_staff"].astype("str").to_numpy(),
            "Completed at least one activity": p["n_participating"]
            .astype("Int64")
            .astype("str")
            .to_numpy(),
            "Participation rate": _percent(p["participation_rate"]).to_numpy(),
            "Hours per staff member": _fixed(p["hours_per_staff"], "%.1f").to_numpy(),
        }
    )
    rate = p["participation_rate"]
    low_high = _percent(pd.Series([rate.min(), rate.max()]))
    reading = (
        f"In {school_year}, {int(p['n_participating'].sum()):,} of "
        f"{int(p['n_instructional_staff'].sum()):,} instructional staff across the district "
        "completed at least one activity; school rates range from "
        f"{low_high.iloc[0]} to {low_high.iloc[1]}."
    )
    return Section(title=title, reading=reading, chart=chart, table=table, key="district-learning")


def district_data_quality(metrics: Metrics) -> Section:
    """Rows set aside or repaired, per school (all years)."""
    q = metrics.data_quality
    title = "Data-quality notes by school"
    if q.empty:
        return Section(
            title=title, reading="Every input row was used as supplied.", key="district-quality"
        )
    counts = (
        q.assign(school_id=q["school_id"].fillna(NO_SCHOOL))
        .pivot_table(
            index="school_id", columns="action", values="count", aggfunc="sum", fill_value=0
        )
        .reindex(columns=list(ACTION_WORDS), fill_value=0)
        .reset_index()
    )
    labels = _school_labels(metrics).assign(_k=lambda f: np.arange(len(f)))
    counts = counts.merge(labels, on="school_id", how="left")
    known = counts["school_label"].notna()
    counts = counts.assign(
        school_label=counts["school_label"].where(
            known | (counts["school_id"] == NO_SCHOOL),
            counts["school_id"] + " (not in the schools table)",
        ),
        _k=counts["_k"]
        .fillna(len(labels))
        .where(counts["school_id"] != NO_SCHOOL, len(labels) + 1),
    ).sort_values(["_k", "school_id"], kind="stable")
    table = pd.DataFrame(
        {
            "School": counts["school_label"].fillna(counts["school_id"]).to_numpy(),
            "Rows not used": counts["row_dropped"].astype("int64").astype("str").to_numpy(),
            "Values blanked (row kept)": counts["value_blanked"]
            .astype("int64")
            .astype("str")
            .to_numpy(),
        }
    )
    reading = (
        f"{int(counts['row_dropped'].sum()):,} input rows were not used and "
        f"{int(counts['value_blanked'].sum()):,} values were blanked across the district; each "
        "school report lists its own by table and reason."
    )
    return Section(title=title, reading=reading, table=table, key="district-quality")
