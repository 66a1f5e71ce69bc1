"""Shared pieces of the dashboards: loading once per kernel, labels, SVG charts, tables, links.

Everything here is either a pure function returning a string or frame (unit-tested without a
browser) or a tiny widget factory. Nothing reads student rows after :func:`load_metrics`.

>>> masked_labels(3)
['School A', 'School B', 'School C']
>>> html_table(pd.DataFrame({"Group": ["<b>"], "Shown": ["*"]})).count("&lt;b&gt;")
1
"""

from __future__ import annotations

import base64
import functools
import html
import json
import os
import string
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import altair as alt
import ipywidgets as widgets
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.dashboards.serve import (
    DATA_ENV,
    MASK_ENV,
    METRICS_ENV,
    MIN_N_ENV,
    SAMPLE_DISTRICT,
    config_for,
)
from bltanalytics.dashboards.slices import (
    SLICES_DIR,
    DashboardData,
    InMemory,
    SlicedExport,
    has_slices,
    write_slices,
)
from bltanalytics.errors import BltError
from bltanalytics.metrics import Metrics

#: Styles shared by the three dashboards (scoped under ``.blt-dash``). Large enough for a
#: projector; status chips carry a word as well as a colour.
DASHBOARD_CSS = """
<style>
.blt-dash { font-family: Helvetica, Arial, sans-serif; color: #1a1a1a; max-width: 1400px; }
.blt-dash h2 { font-size: 26px; margin: 4px 0 2px 0; }
.blt-dash h3 { font-size: 20px; margin: 14px 0 4px 0; }
.blt-dash p, .blt-dash li { font-size: 15px; line-height: 1.45; }
.blt-dash .blt-note { color: #444; font-size: 14px; }
.blt-dash .blt-message { border-left: 6px solid #D55E00; background: #FFF4EC; padding: 12px 16px;
  font-size: 17px; max-width: 900px; }
.blt-dash .blt-message.blt-info { border-left-color: #0072B2; background: #EEF6FB; }
.blt-dash table.blt-table { border-collapse: collapse; font-size: 15px; margin: 6px 0; }
.blt-dash table.blt-table th { text-align: left; border-bottom: 2px solid #333; padding: 4px 10px; }
.blt-dash table.blt-table td { border-bottom: 1px solid #ddd; padding: 4px 10px; }
.blt-dash table.blt-table caption { text-align: left; font-weight: bold; padding: 4px 0; }
.blt-dash .blt-chip { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 14px;
  border: 1px solid #888; white-space: nowrap; }
.blt-dash figure { margin: 4px 0; max-width: 760px; }
.blt-dash figure svg { max-width: 100%; height: auto; }
.blt-dash .blt-board figure { max-width: 1300px; }
.blt-dash figcaption { font-size: 13px; color: #444; }
.blt-dash a.blt-download { font-size: 15px; font-weight: bold; }
.blt-dash .widget-dropdown > select, .blt-dash .widget-label { font-size: 15px; }
.blt-dash .widget-hbox > .widget-dropdown { margin: 3px 16px 3px 0; }
.blt-dash .widget-hbox > .widget-html { margin-right: 28px; }
</style>
"""


# ------------------------------------------------------------------------------------------------
# Where the data come from, read once per kernel
# ------------------------------------------------------------------------------------------------


def data_folder_from_env(environ: Mapping[str, str] | None = None) -> Path:
    """The district folder to serve: ``$BLT_DATA``, else the bundled sample district.

    >>> data_folder_from_env({"BLT_DATA": "/srv/district"}).as_posix()
    '/srv/district'
    >>> data_folder_from_env({}) == SAMPLE_DISTRICT
    True
    """
    environ = os.environ if environ is None else environ
    value = environ.get(DATA_ENV, "").strip()
    return Path(value) if value else SAMPLE_DISTRICT


def mask_names_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """True when the launcher asked for masked school names (``--mask-names``).

    >>> mask_names_from_env({"BLT_MASK_NAMES": "1"}), mask_names_from_env({})
    (True, False)
    """
    environ = os.environ if environ is None else environ
    return environ.get(MASK_ENV, "").strip().lower() in ("1", "true", "yes")


def config_from_env(environ: Mapping[str, str] | None = None) -> Config:
    """Policy settings for the kernel: defaults, with ``$BLT_MIN_N`` when the launcher set it.

    >>> config_from_env({"BLT_MIN_N": "15"}).min_n
    15
    """
    environ = os.environ if environ is None else environ
    value = environ.get(MIN_N_ENV, "").strip()
    return config_for(int(value) if value else None)


_METRICS: dict[tuple[str, str], Metrics] = {}
#: in a prepared metrics folder: where its figures came from (see :func:`prepare_metrics`)
SOURCE_FILE = "dashboard_source.json"


def _source(folder: Path, config: Config) -> dict[str, str]:
    return {"data": str(folder.resolve()), "config": repr(config)}


def prepare_metrics(folder: str | Path, config: Config, out: str | Path) -> Metrics:
    """Compute the district's metrics once and write them to ``out`` for the kernels to share.

    The launcher calls this before starting Voilà, so no kernel cleans the district's files
    again, and none ever holds student rows. Beside the export it writes the per-school slices
    (:func:`~bltanalytics.dashboards.slices.write_slices`, in ``dashboard_slices/``) that each
    kernel reads lazily (:func:`load_data`). Raises :class:`BltError` for a folder that cannot
    be used (nothing is written then, and each page shows the message).
    """
    from bltanalytics.load import load_district
    from bltanalytics.metrics import compute_metrics, write_metrics

    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise BltError(
            f"the data folder {folder} does not exist or is not a folder; "
            "pass --data with a district folder (see docs/data.md)"
        )
    metrics = compute_metrics(load_district(folder), config)
    out = Path(out)
    write_metrics(metrics, out)
    write_slices(metrics, out / SLICES_DIR)
    (out / SOURCE_FILE).write_text(json.dumps(_source(folder, config)), encoding="utf-8")
    return metrics


def _prepared_folder(folder: Path, config: Config, environ: Mapping[str, str]) -> Path | None:
    """The launcher's prepared export for this folder and config, if there is one."""
    where = environ.get(METRICS_ENV, "").strip()
    if not where:
        return None
    try:
        made_from = json.loads((Path(where) / SOURCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Path(where) if made_from == _source(folder, config) else None


def _prepared(folder: Path, config: Config, environ: Mapping[str, str]) -> Metrics | None:
    """The launcher's prepared metrics for this folder and config, if there are any."""
    from bltanalytics.metrics import read_metrics

    where = _prepared_folder(folder, config, environ)
    return None if where is None else read_metrics(where)


_DATA: dict[tuple[str, str], DashboardData] = {}


def load_data(
    folder: str | Path, config: Config | None = None, environ: Mapping[str, str] | None = None
) -> DashboardData:
    """What a dashboard kernel reads: the launcher's per-school slices when it prepared them.

    With a prepared export for this folder and config (``$BLT_METRICS``) that has slices, a
    :class:`~bltanalytics.dashboards.slices.SlicedExport`: the school list, years and index
    now, each school's rows when a page asks for them (the kernel never holds the district).
    Otherwise the whole :func:`load_metrics` in memory
    (:class:`~bltanalytics.dashboards.slices.InMemory`). Once per kernel, as
    :func:`load_metrics`.
    """
    config = config or Config()
    environ = os.environ if environ is None else environ
    folder = Path(folder).expanduser()
    key = (str(folder.resolve()), repr(config))
    if key not in _DATA:
        where = _prepared_folder(folder, config, environ)
        if where is not None and has_slices(where / SLICES_DIR):
            _DATA[key] = SlicedExport(where / SLICES_DIR)
        else:
            _DATA[key] = InMemory(load_metrics(folder, config, environ))
    return _DATA[key]


def load_metrics(
    folder: str | Path, config: Config | None = None, environ: Mapping[str, str] | None = None
) -> Metrics:
    """The district's :class:`Metrics`, read once per kernel.

    From the launcher's prepared export when there is one for this folder and config
    (``$BLT_METRICS``), else by reading and cleaning the folder. Later calls with the same folder
    and settings return the same object: a widget change never re-reads files. Raises
    :class:`~bltanalytics.errors.BltError` for a folder that cannot be used.
    """
    from bltanalytics.load import load_district
    from bltanalytics.metrics import compute_metrics

    config = config or Config()
    environ = os.environ if environ is None else environ
    folder = Path(folder).expanduser()
    key = (str(folder.resolve()), repr(config))
    if key not in _METRICS:
        metrics = _prepared(folder, config, environ)
        if metrics is None:
            if not folder.is_dir():
                raise BltError(
                    f"the data folder {folder} does not exist or is not a folder; "
                    "pass --data with a district folder (see docs/data.md)"
                )
            metrics = compute_metrics(load_district(folder), config)
        _METRICS[key] = metrics
    return _METRICS[key]


def guarded(build: Callable[[], widgets.Widget], *, title: str) -> widgets.Widget:
    """Run ``build``; a :class:`BltError` becomes a plain message in the page, not a traceback."""
    try:
        return build()
    except BltError as exc:
        return page(title, [message(f"This data folder cannot be shown. {exc}")])


# ------------------------------------------------------------------------------------------------
# School labels
# ------------------------------------------------------------------------------------------------


def build_dashboard(
    view, folder=None, *, mask_names: bool | None, config: Config | None, title: str
) -> widgets.Widget:
    """Build dashboard ``view`` (a class taking metrics) for a district folder.

    Defaults come from the launcher's environment (``$BLT_DATA`` or the sample district, the
    name mask, policy settings). The folder is read once per kernel (:func:`load_metrics`); a
    folder that fails validation gives a plain message instead of the dashboard (:func:`guarded`).
    """
    folder = data_folder_from_env() if folder is None else folder
    mask_names = mask_names_from_env() if mask_names is None else mask_names
    config = config or config_from_env()

    def build() -> widgets.Widget:
        data = load_data(folder, config)
        # format with the settings the figures were computed with
        return view(data, mask_names=mask_names, config=data.config).widget

    return guarded(build, title=title)


def _letters(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (spreadsheet column letters)."""
    out = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        out = string.ascii_uppercase[rest] + out
    return out


def masked_labels(n: int) -> list[str]:
    """``School A``, ``School B``, ... ``School Z``, ``School AA``, ...

    >>> masked_labels(28)[-3:]
    ['School Z', 'School AA', 'School AB']
    """
    return [f"School {_letters(i)}" for i in range(n)]


def school_labels(schools: pd.DataFrame, *, mask: bool) -> pd.Series:
    """Label of each school, indexed by school_id, in the order menus and boards list them.

    Masked: ``School A``, ``School B``... given and listed in school_id order (so ``School Z``
    comes before ``School AA``), and neither id nor name shows. Otherwise the school's name (its
    id when the name is blank; names shared by two schools get the id added), listed by name.

    >>> s = pd.DataFrame({"school_id": ["0102", "0101", "0103"],
    ...                   "school_name": ["Oak", "Elm", "Ash"]})
    >>> school_labels(s, mask=True).to_dict()
    {'0101': 'School A', '0102': 'School B', '0103': 'School C'}
    >>> school_labels(s, mask=False).tolist()
    ['Ash', 'Elm', 'Oak']
    """
    frame = schools.drop_duplicates("school_id").sort_values("school_id", kind="stable")
    ids = frame["school_id"].astype("str")
    if mask:
        return pd.Series(
            masked_labels(len(frame)), index=pd.Index(ids, name="school_id"), dtype="str"
        )
    names = frame["school_name"].astype("str").str.strip()
    names = names.where(names.ne("") & frame["school_name"].notna(), ids)
    shared = names.duplicated(keep=False)
    names = names.where(~shared, names + " (" + ids + ")")
    labels = pd.Series(names.to_numpy(), index=pd.Index(ids, name="school_id"), dtype="str")
    return labels.sort_values(kind="stable")


def school_options(labels: pd.Series, school_ids=None) -> list[tuple[str, str]]:
    """``(label, school_id)`` pairs for a menu, in the order of ``labels``.

    >>> school_options(pd.Series(["School A", "School B"], index=["1", "2"]), ["2"])
    [('School B', '2')]
    """
    if school_ids is not None:
        labels = labels[labels.index.isin(list(school_ids))]
    return list(zip(labels.tolist(), labels.index.tolist(), strict=True))


# ------------------------------------------------------------------------------------------------
# Charts as SVG (rendered in the kernel by vl-convert: no network, no JavaScript in the page)
# ------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _svg(spec_json: str) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(json.loads(spec_json), allowed_base_urls=[])


def chart_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an SVG string; identical charts are rendered once per kernel.

    The spec is not re-validated here: the builders in :mod:`bltanalytics.present.charts` are tested
    against the schema, and validation costs more than the rendering of a small chart.
    """
    return _svg(json.dumps(chart.to_dict(validate=False), sort_keys=True, default=str))


def chart_html(chart: alt.TopLevelMixin, *, css_class: str = "blt-chart") -> str:
    """The chart's SVG in a ``<figure>`` whose caption is the chart's text alternative."""
    description = getattr(chart, "description", None)
    text = description if isinstance(description, str) else ""
    return (
        f'<figure class="{css_class}" aria-label="{html.escape(text)}">'
        f"{chart_svg(chart)}"
        f"<figcaption>{html.escape(text)}</figcaption></figure>"
    )


# ------------------------------------------------------------------------------------------------
# Tables, downloads, messages
# ------------------------------------------------------------------------------------------------


def html_table(
    frame: pd.DataFrame,
    *,
    caption: str = "",
    css_class: str = "blt-table",
    html_columns: Collection[str] = (),
) -> str:
    """An HTML table of ``frame`` (no index; missing values as blanks).

    Every value is escaped except in ``html_columns``, whose values are trusted markup made by
    this package (status chips).
    """
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    text = frame.astype("object").where(frame.notna(), "")
    raw = [c in html_columns for c in frame.columns]
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{v if r else html.escape(str(v))}</td>" for v, r in zip(row, raw, strict=True)
        )
        + "</tr>"
        for row in text.itertuples(index=False, name=None)
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<table class="{css_class}">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def csv_text(frame: pd.DataFrame) -> str:
    """The frame as CSV text (UTF-8, no index), exactly as shown on screen."""
    return frame.to_csv(index=False, lineterminator="\n")


def csv_link(frame: pd.DataFrame, *, filename: str, text: str = "Download this table (CSV)") -> str:
    """An HTML link that downloads ``frame`` as CSV from a ``data:`` URI: works offline.

    >>> link = csv_link(pd.DataFrame({"a": [1]}), filename="t.csv")
    >>> link.startswith('<a class="blt-download" download="t.csv" href="data:text/csv;')
    True
    """
    payload = base64.b64encode(("\ufeff" + csv_text(frame)).encode("utf-8")).decode("ascii")
    return (
        f'<a class="blt-download" download="{html.escape(filename)}" '
        f'href="data:text/csv;charset=utf-8;base64,{payload}">{html.escape(text)}</a>'
    )


def safe_filename(*parts: str) -> str:
    """A file name from words: letters, digits and dashes only.

    >>> safe_filename("School A", "2025-26", "ELA")
    'school-a_2025-26_ela.csv'
    """
    cleaned = [
        "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in p.lower()).strip("-")
        for p in parts
    ]
    return "_".join(p for p in cleaned if p) + ".csv"


def message(text: str, *, kind: str = "error") -> widgets.HTML:
    """A plain-language message box (``kind``: ``error`` or ``info``)."""
    css = "blt-message" + (" blt-info" if kind == "info" else "")
    return widgets.HTML(f'<div class="{css}" role="status">{html.escape(text)}</div>')


def page(title: str, children: list[widgets.Widget], *, css_class: str = "") -> widgets.VBox:
    """The outer box of a dashboard: shared styles, a title, then ``children``."""
    header = widgets.HTML(DASHBOARD_CSS + f"<h2>{html.escape(title)}</h2>")
    box = widgets.VBox([header, *children])
    box.add_class("blt-dash")
    if css_class:
        box.add_class(css_class)
    return box


def dropdown(description: str, options, value=None, *, css_class: str, width: str = "auto"):
    """A labelled Dropdown with a CSS class (the browser tests find widgets by class)."""
    extra = {} if value is None else {"value": value}
    control = widgets.Dropdown(
        options=options,
        description=description,
        style={"description_width": "initial"},
        layout=widgets.Layout(width=width),
        **extra,
    )
    control.add_class(css_class)
    return control
