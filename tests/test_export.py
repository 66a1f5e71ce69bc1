"""HTML export: no code, no network, no scripts; headings, title, SVG charts survive."""

from __future__ import annotations

import base64
import copy
import re

import altair as alt
import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from bltanalytics.reports.html import (
    OFFLINE_NOTE,
    notebook_to_html,
    prepare_for_report,
    remote_assets,
)

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40">'
    "<text x='5' y='20'>Enrolment chart 0101</text></svg>"
)
CDN_HTML = '<div id="vis"></div><script src="https://cdn.jsdelivr.net/npm/vega@6"></script>'
WIDGET_VIEW = {"model_id": "abc123", "version_major": 2, "version_minor": 0}
WIDGET_STATE = {
    "application/vnd.jupyter.widget-state+json": {
        "state": {"abc123": {"model_name": "IntSliderModel", "state": {"value": 5}}},
        "version_major": 2,
        "version_minor": 0,
    }
}


def report_notebook() -> nbformat.NotebookNode:
    """A hand-made executed report: headings, code, an SVG chart and every kind of trouble."""
    params = new_code_cell('school_id = "0101"  # PARAMETER_SOURCE', execution_count=1)
    params.metadata["tags"] = ["parameters"]
    cells = [
        params,
        new_markdown_cell("# Oak Elementary"),
        new_code_cell(
            "SECRET_CODE = compute()",
            execution_count=2,
            outputs=[
                new_output("stream", name="stdout", text="Students: 412\n"),
                new_output("stream", name="stderr", text="FutureWarning: noisy\n"),
            ],
        ),
        new_markdown_cell("## Achievement"),
        new_code_cell(
            "chart",
            execution_count=3,
            outputs=[
                new_output(
                    "execute_result",
                    data={"image/svg+xml": SVG, "text/plain": "alt.Chart(...)"},
                    execution_count=3,
                )
            ],
        ),
        new_markdown_cell("## Teams"),
        new_code_cell(
            "slider",
            execution_count=4,
            outputs=[
                new_output(
                    "display_data",
                    data={
                        "application/vnd.jupyter.widget-view+json": WIDGET_VIEW,
                        "text/plain": "IntSlider(value=5)",
                    },
                )
            ],
        ),
        new_code_cell(
            "html_chart",
            execution_count=5,
            outputs=[
                new_output("display_data", data={"text/html": CDN_HTML, "text/plain": "Chart"}),
                new_output(
                    "display_data",
                    data={"application/javascript": "require(['https://unpkg.com/x.js'])"},
                ),
            ],
        ),
        new_markdown_cell("### Next steps"),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["widgets"] = WIDGET_STATE
    return nb


@pytest.fixture(scope="module")
def page() -> str:
    return notebook_to_html(report_notebook(), title="Oak Elementary: BLT report")


def svg_images(html: str) -> list[tuple[str, str]]:
    """(alt text, SVG document) of each chart embedded as a data: image in the page body."""
    found = re.findall(r'<img alt="([^"]*)" src="data:image/svg\+xml;base64,([^"]+)"', body(html))
    return [(alt, base64.b64decode(data).decode("utf-8")) for alt, data in found]


def body(html: str) -> str:
    """The page body (the head's stylesheet names prompts and cells in its selectors)."""
    return html.split("<body", 1)[1]


def test_page_has_no_network_dependency_and_no_script(page):
    assert '<script src="http' not in page
    assert "https://cdn" not in page
    for host in ("cdnjs", "jsdelivr", "unpkg", "mathjax", "require.min.js", "mermaid.esm"):
        assert host not in page.lower()
    assert "<script" not in page.lower()
    assert remote_assets(page) == []


def test_page_shows_no_code_and_no_prompts(page):
    shown = body(page)
    assert "SECRET_CODE" not in shown
    assert "PARAMETER_SOURCE" not in shown
    assert "jp-InputPrompt" not in shown
    assert "jp-OutputPrompt" not in shown
    assert "In&nbsp;[" not in shown and "Out[" not in shown
    assert "Students: 412" in shown  # the outputs are there


def test_page_title_language_and_heading_order(page):
    assert "<title>Oak Elementary: BLT report</title>" in page
    assert '<html lang="en">' in page
    headings = re.findall(r"<h([1-6])[^>]*>([^<]+)", page)
    assert headings == [
        ("1", "Oak Elementary"),
        ("2", "Contents"),  # under the title: one link per section
        ("2", "Achievement"),
        ("2", "Teams"),
        ("3", "Next steps"),
    ]


def test_page_links_back_to_the_index_and_to_each_section(page):
    assert '<a href="index.html">All reports</a>' in page
    contents = re.search(r'<nav class="blt-contents".*?</nav>', page, re.S).group(0)
    assert re.findall(r'href="#([^"]+)"', contents) == ["Achievement", "Teams"]
    assert 'id="Achievement"' in page and 'id="Teams"' in page


def test_svg_chart_and_stdout_survive_stderr_does_not(page):
    charts = svg_images(page)
    assert len(charts) == 1
    assert charts[0][1] == SVG
    assert "Students: 412" in page
    assert "FutureWarning: noisy" not in page


def test_scripted_outputs_leave_a_note_widgets_leave_nothing(page):
    # one note for the CDN chart, one for the JavaScript output; none for the slider
    assert body(page).count(OFFLINE_NOTE[1:40]) == 2
    assert "IntSlider" not in page
    assert "widget-state" not in page and "widget-view" not in page


def test_page_has_a_print_stylesheet(page):
    css = re.search(r"@media print \{(.*?)\n\}", page, re.S)
    assert css is not None
    assert "break-inside: avoid" in css.group(1)


def test_export_does_not_change_the_notebook():
    nb = report_notebook()
    before = copy.deepcopy(nb)
    notebook_to_html(nb, title="x")
    prepare_for_report(nb)
    assert nb == before


def test_prepare_for_report_keeps_other_rich_output_of_a_scripted_bundle():
    cell = new_code_cell(
        outputs=[
            new_output(
                "display_data",
                data={"text/html": CDN_HTML, "image/png": "iVBORw0KGgo=", "text/plain": "c"},
            )
        ]
    )
    out = prepare_for_report(new_notebook(cells=[cell])).cells[0].outputs
    assert [sorted(o.data) for o in out] == [["image/png", "text/plain"]]


def test_cells_tagged_remove_cell_or_remove_output_are_left_out():
    hidden = new_markdown_cell("## HIDDEN HEADING")
    hidden.metadata["tags"] = ["remove-cell"]
    quiet = new_code_cell(
        "x", execution_count=1, outputs=[new_output("stream", name="stdout", text="QUIET OUTPUT")]
    )
    quiet.metadata["tags"] = ["remove-output"]
    shown = new_markdown_cell("## SHOWN HEADING")
    html = notebook_to_html(new_notebook(cells=[hidden, quiet, shown]), title="t")
    assert "SHOWN HEADING" in html
    assert "HIDDEN HEADING" not in html
    assert "QUIET OUTPUT" not in html


def test_real_altair_charts_svg_kept_default_renderer_replaced():
    chart = (
        alt.Chart(pd.DataFrame({"grade": ["K", "1"], "students": [20, 22]}), title="Grades 0101")
        .mark_bar()
        .encode(x="grade", y="students")
    )
    with alt.renderers.enable("svg"):
        svg_bundle = chart._repr_mimebundle_()
    with alt.renderers.enable("default"):
        html_bundle = chart._repr_mimebundle_()
    cells = [
        new_code_cell(outputs=[new_output("display_data", data=svg_bundle)]),
        new_code_cell(outputs=[new_output("display_data", data=html_bundle)]),
    ]
    page = notebook_to_html(new_notebook(cells=cells), title="charts")
    charts = svg_images(page)
    assert len(charts) == 1
    assert charts[0][0] == "Chart: Grades 0101"  # the text alternative
    assert "Grades 0101" in charts[0][1]
    assert "<script" not in page.lower() and remote_assets(page) == []
    assert "alt.renderers.enable" in page  # the note where the CDN chart was


@pytest.mark.parametrize(
    "html",
    [
        '<script src="https://cdn.example/a.js"></script>',
        "<script src='//cdn.example/a.js'></script>",
        '<link rel="stylesheet" href="https://fonts.example/f.css">',
        '<img src="http://example.org/logo.png">',
        '<iframe src="https://example.org/embed"></iframe>',
        "<style>body { background: url('https://example.org/bg.png'); }</style>",
        '<style>@import "https://fonts.example/f.css";</style>',
        '<script type="module">import x from "https://cdn.example/m.js";</script>',
        '<script>const s = document.createElement("script"); s.src = "https://u.example/a.js";</script>',
    ],
)
def test_remote_assets_found(html):
    assert remote_assets(html) != []


@pytest.mark.parametrize(
    "html",
    [
        '<a href="https://example.org/more">read more</a>',
        '<img src="data:image/svg+xml;base64,PHN2Zy8+">',
        "<style>/* see https://github.com/x for the palette */ body { color: #000; }</style>",
        '<svg xmlns="http://www.w3.org/2000/svg"></svg>',
    ],
)
def test_links_data_urls_and_comments_are_not_remote_assets(html):
    assert remote_assets(html) == []
