"""Self-contained HTML from an executed report notebook (nbconvert's Python API, in-process).

A school report is read by people who may be offline, open it from a shared drive, or print it.
So the HTML page:

- shows no code: no input cells and no ``In [ ]``/``Out [ ]`` prompts;
- needs no network and runs no script: the template (``templates/bltreport``, nbconvert's lab
  template) emits no require.js, MathJax, mermaid or widget loader, and outputs that need
  scripts (altair's default HTML renderer, JavaScript outputs, HTML with ``<script>``,
  ipywidgets views) are left out, with a short note where a chart would have been. Charts
  belong in the report as SVG (``alt.renderers.enable("svg")``), embedded in the page as an
  image (a ``data:`` URL, no file beside it);
- keeps the headings in order, takes its ``<title>`` from the job title, says ``lang="en"``;
- prints cleanly (a small print stylesheet: no charts or table rows split across pages);
- leaves out stderr (warnings belong in the audit notebook, not in a report).

Cells tagged ``remove-cell`` are left out, and so are the outputs of cells tagged
``remove-output``.

>>> import nbformat
>>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Oak Elementary")])
>>> html = notebook_to_html(nb, title="Oak Elementary report")
>>> "<title>Oak Elementary report</title>" in html and remote_assets(html) == []
True
"""

from __future__ import annotations

import copy
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import uuid
from html import unescape
from pathlib import Path

from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbformat import NotebookNode
from traitlets.config import Config

__all__ = [
    "TEMPLATE_DIR",
    "TEMPLATE_NAME",
    "html_to_pdf",
    "notebook_to_html",
    "prepare_for_report",
    "remote_assets",
]

log = logging.getLogger(__name__)

#: Folder holding the package's nbconvert templates.
TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates"
#: The report template (nbconvert's ``lab`` template without remote assets, plus print CSS).
TEMPLATE_NAME = "bltreport"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
JAVASCRIPT = "application/javascript"
#: What replaces an output that cannot work offline.
OFFLINE_NOTE = (
    "[This output needs scripts from the internet, so it is left out of the offline report. "
    "Charts appear when the notebook renders them as SVG: alt.renderers.enable('svg').]"
)

_REMOTE_URL = r"""\s*=\s*["']?\s*(?:https?:)?//"""
_REMOTE_PATTERNS = [
    # elements that fetch what their src/href/data/srcset/poster points to (not <a href>)
    re.compile(
        r"<(?:script|link|img|iframe|frame|source|video|audio|embed|object|track|input|image)\b"
        r"""[^>]*?\b(?:src|href|data|srcset|poster|xlink:href)""" + _REMOTE_URL + r"[^\s\"'>]*",
        re.IGNORECASE,
    ),
    re.compile(r"""url\(\s*["']?\s*(?:https?:)?//[^)"']*""", re.IGNORECASE),  # CSS url()
    re.compile(r"""@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//[^\s"')]*""", re.IGNORECASE),
    re.compile(r"""\bfrom\s+["']https?://[^"']*""", re.IGNORECASE),  # ES module import
    re.compile(r"""\bimport\(\s*["']https?://[^"']*""", re.IGNORECASE),  # dynamic import
    re.compile(r"""\.src\s*=\s*["']?(?:https?:)?//[^"';\s]*""", re.IGNORECASE),  # script.src =
    # any web address inside a script: loaders build their URLs (altair's HTML renderer does)
    re.compile(r"""<script\b[^>]*>(?:(?!</script).)*?(https?://[^\s"'<>]+)""", re.I | re.S),
]
_SCRIPT = re.compile(r"<script\b", re.IGNORECASE)


def remote_assets(html: str) -> list[str]:
    """Every place in ``html`` that would fetch something from the network when displayed.

    Links a reader may click (``<a href="https://...">``) are not assets and are not listed.

    >>> remote_assets('<script src="https://cdn.example/vega.js"></script><a href="https://x">x</a>')
    ['<script src="https://cdn.example/vega.js']
    >>> remote_assets('<style>@import url("//fonts.example/a.css");</style>')
    ['url("//fonts.example/a.css', '@import url("//fonts.example/a.css']
    >>> remote_assets('<script>s.src = base + "x"; var u = "https://cdn.example/v.js";</script>')
    ['https://cdn.example/v.js']
    """
    return [
        match.group(match.lastindex or 0)
        for pattern in _REMOTE_PATTERNS
        for match in pattern.finditer(html)
    ]


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def _report_output(output: NotebookNode) -> NotebookNode | None:
    """The output as the offline report shows it (a new node), or None to leave it out."""
    kind = output.get("output_type")
    if kind == "stream":
        return None if output.get("name") == "stderr" else output
    if kind not in ("display_data", "execute_result"):
        return output
    data = dict(output.get("data", {}))
    metadata = dict(output.get("metadata", {}))
    widget = data.pop(WIDGET_VIEW, None) is not None
    scripted = data.pop(JAVASCRIPT, None) is not None
    if "text/html" in data and _SCRIPT.search(_text(data["text/html"])):
        del data["text/html"]
        scripted = True
    if not set(data) - {"text/plain"} and (widget or scripted):  # nothing else shows it
        if not scripted:
            return None  # a control is of no use on paper, and its text form is noise
        data = {"text/plain": OFFLINE_NOTE}
    if "image/svg+xml" in data and "alt" not in metadata:
        metadata["alt"] = svg_alt_text(_text(data["image/svg+xml"]))
    return NotebookNode({**output, "data": NotebookNode(data), "metadata": NotebookNode(metadata)})


_SVG_TITLE = re.compile(r"aria-label=\"Title text '(.*?)'\"")


def svg_alt_text(svg: str) -> str:
    """A short text alternative for a chart's SVG: its title when vega wrote one.

    >>> svg_alt_text('<svg><g aria-label="Title text &#39;Grades&#39;"></g></svg>')
    'Chart: Grades'
    >>> svg_alt_text("<svg></svg>")
    'Chart'
    """
    svg = unescape(svg)
    match = _SVG_TITLE.search(svg)
    return f"Chart: {match.group(1)}" if match else "Chart"


def prepare_for_report(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` ready for the offline report (``nb`` itself is not changed).

    Removes widget state, stderr, JavaScript and widget-view outputs, and HTML outputs that
    carry scripts (replaced by :data:`OFFLINE_NOTE` when nothing else would show them).

    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell(outputs=[
    ...     nbformat.v4.new_output("stream", name="stderr", text="FutureWarning: ..."),
    ...     nbformat.v4.new_output("stream", name="stdout", text="kept"),
    ... ])
    >>> nb = nbformat.v4.new_notebook(cells=[cell])
    >>> [o.text for o in prepare_for_report(nb).cells[0].outputs]
    ['kept']
    >>> len(nb.cells[0].outputs)
    2
    """
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            shown = (_report_output(output) for output in cell.get("outputs", []))
            cell.outputs = [output for output in shown if output is not None]
    return nb


class _PageExporter(HTMLExporter):
    """nbconvert's HTML exporter without its last step: re-parsing the whole page with
    BeautifulSoup to add ``alt`` to images that lack one and ``tabindex="0"`` to the input and
    output areas. That parse took 95% of an export (0.18 s of 0.19 s for a school report of
    0.6 MB); :func:`_accessible` makes the same two additions to the page text directly."""

    def from_notebook_node(self, nb, resources=None, **kw):
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight = self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
        )
        resources = self._init_resources(resources)
        data_types = WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("highlight_code", highlight)
        self.register_filter("filter_data_type", data_types)
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return _accessible(html), resources


_MISSING_ALT = "No description has been provided for this image"
_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)([^>]*?)(\s*/?)>", re.IGNORECASE)
_FOCUSABLE = re.compile(
    r'<div\b(?![^>]*\btabindex=)([^>]*\bclass="[^"]*'
    r'\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"]*"[^>]*)>'
)


def _accessible(html: str) -> str:
    """What nbconvert's exporter adds to a page: ``alt`` text on images without one and
    ``tabindex="0"`` on input wrappers and output areas (so a keyboard can scroll them).

    >>> page = _accessible('<div class="jp-OutputArea-output x"><img src="a.png"></div>')
    >>> page.startswith('<div class="jp-OutputArea-output x" tabindex="0"><img src="a.png" alt=')
    True
    """
    html = _IMG_WITHOUT_ALT.sub(
        lambda m: f'<img{m.group(1)} alt="{_MISSING_ALT}"{m.group(2)}>', html
    )
    return _FOCUSABLE.sub(lambda m: f'<div{m.group(1)} tabindex="0">', html)


_local = threading.local()


def _nbconvert_template_dirs() -> list[str]:
    """nbconvert's own templates (``lab``, ``base``) when Jupyter's paths miss them (a venv
    made with ``--system-site-packages``): see :func:`bltanalytics.resources.extra_jupyter_paths`.
    """
    from bltanalytics.resources import extra_jupyter_paths

    dirs = [path / "nbconvert" / "templates" for path in extra_jupyter_paths()]
    return [str(path) for path in dirs if path.is_dir()]


def _exporter() -> HTMLExporter:
    """This thread's exporter (building one loads the templates: do it once per thread)."""
    exporter = getattr(_local, "exporter", None)
    if exporter is None:
        config = Config()
        config.TagRemovePreprocessor.enabled = True
        config.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "remove_cell"}
        config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output", "remove_output"}
        exporter = _PageExporter(
            config=config,
            template_name=TEMPLATE_NAME,
            extra_template_basedirs=[str(TEMPLATE_DIR), *_nbconvert_template_dirs()],
            extra_template_paths=_nbconvert_template_dirs(),  # for {% extends 'lab/...' %}
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
        )
        _local.exporter = exporter
    return exporter


def notebook_to_html(nb: NotebookNode, *, title: str | None = None) -> str:
    """The executed notebook ``nb`` as one self-contained HTML page (see the module docs).

    ``title`` becomes the page ``<title>`` (default: the notebook's ``title`` metadata, else
    "Report"). Logs a warning if the page would still fetch anything (e.g. a markdown image
    with a web address); :func:`remote_assets` lists such places.
    """
    nb = prepare_for_report(nb)
    if title:
        nb.metadata["title"] = title
    name = nb.metadata.get("title") or "Report"
    html, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": name}})
    found = remote_assets(html)
    if found:
        log.warning("report %r still refers to remote assets: %s", name, "; ".join(found[:3]))
    return html


def html_to_pdf(page: str | Path, pdf: str | Path | None = None, *, timeout: float = 120) -> Path:
    """Print the report page ``page`` to a Letter PDF with headless chromium; return its path.

    ``pdf`` defaults to the page's name with ``.pdf``. The report's print stylesheet decides
    the layout (Letter, portrait, nothing clipped). Chromium runs with the flags the browser
    tests use (:data:`bltanalytics.dashboards.serve.CHROMIUM_ARGS`: no network, no sandbox)
    and a private profile, so several can run at once. The PDF appears whole or not at all.
    Raises :class:`~bltanalytics.errors.BltError` if chromium is missing or fails.
    """
    from bltanalytics.dashboards.serve import CHROMIUM, CHROMIUM_ARGS
    from bltanalytics.errors import BltError

    page = Path(page).resolve()
    pdf = Path(pdf) if pdf is not None else page.with_suffix(".pdf")
    browser = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if browser is None:
        raise BltError(
            f"printing {page.name} to PDF needs chromium ({CHROMIUM}): apt-get install chromium"
        )
    tmp = pdf.parent / f".{pdf.name}.{uuid.uuid4().hex[:12]}.tmp"
    with tempfile.TemporaryDirectory(prefix="bltanalytics-chromium-") as profile:
        command = [
            browser,
            "--headless",
            *CHROMIUM_ARGS,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={tmp}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
            if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise BltError(f"chromium could not print {page.name} to PDF: {last}")
            os.replace(tmp, pdf)
        except subprocess.TimeoutExpired:
            message = f"chromium took more than {timeout:.0f} s to print {page.name}"
            raise BltError(message) from None
        finally:
            tmp.unlink(missing_ok=True)
    return pdf
