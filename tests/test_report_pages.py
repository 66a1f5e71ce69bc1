"""The sample district's real report pages: warm = fresh kernels, the theme, printing to PDF.

These render every sample school and the district summary twice (warm kernels, then
``fresh_kernels=True``) through the same API ``bltanalytics reports`` uses, and compare the pages.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pagetext import page_text
from typer.testing import CliRunner

from bltanalytics.cli import app
from bltanalytics.reports import sample_dir
from bltanalytics.reports.html import html_to_pdf
from bltanalytics.reports.plan import plan_reports
from bltanalytics.reports.run import run_reports

pytestmark = pytest.mark.slow

#: What may differ between two runs of the same report: papermill's random id for the cell it
#: injects (the runner fixes it, so this only guards against a regression in papermill).
_RUN_SPECIFIC = [(re.compile(r'id="cell-id=[0-9a-f]{8}"'), 'id="cell-id=RUN"')]


def normalised(page: str) -> str:
    for pattern, replacement in _RUN_SPECIFIC:
        page = pattern.sub(replacement, page)
    return page


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """Every sample report rendered with warm kernels (2 workers) and with fresh kernels."""
    base = tmp_path_factory.mktemp("pages")
    outs = {}
    for mode in ("warm", "fresh"):
        out = base / mode
        jobs = plan_reports(sample_dir(), out)
        summary = run_reports(jobs, out, workers=2, fresh_kernels=mode == "fresh", progress=False)
        assert summary.exit_code == 0, summary.describe()
        outs[mode] = out
    return outs


def test_warm_and_fresh_kernels_give_byte_identical_pages(rendered):
    warm, fresh = rendered["warm"], rendered["fresh"]
    pages = sorted(p.name for p in warm.glob("*.html") if p.name != "index.html")
    schools = json.loads((warm / "run.json").read_text())["counts"]["total"] - 1
    assert len(pages) == schools + 1 and "district_summary.html" in pages and schools >= 6
    assert pages == sorted(p.name for p in fresh.glob("*.html") if p.name != "index.html")
    differ = [
        name
        for name in pages
        if normalised((warm / name).read_text(encoding="utf-8"))
        != normalised((fresh / name).read_text(encoding="utf-8"))
    ]
    assert differ == []
    # the runner's own fix makes them identical without any normalising
    for name in pages:
        assert (warm / name).read_bytes() == (fresh / name).read_bytes(), name


GOLDEN = Path(__file__).resolve().parent / "golden"


def test_golden_every_sample_page_reads_as_recorded(rendered):
    """Every reading, table cell, note and chart description of the sample's pages is what
    tests/golden/ records: a refactor changes no figure or word unnoticed. After a change made
    on purpose, `BLT_UPDATE_GOLDEN=1` rewrites the record (see tests/pagetext.py) and
    `git diff tests/golden` shows the before and after."""
    pages = sorted(rendered["warm"].glob("*.html"))
    pages = [p for p in pages if p.name != "index.html"]
    texts = {p.stem: page_text(p.read_text(encoding="utf-8")) for p in pages}
    if os.environ.get("BLT_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        for old in GOLDEN.glob("*.txt"):
            old.unlink()
        for name, text in texts.items():
            (GOLDEN / f"{name}.txt").write_text(text, encoding="utf-8")
    recorded = {p.stem: p.read_text(encoding="utf-8") for p in GOLDEN.glob("*.txt")}
    assert sorted(texts) == sorted(recorded)
    for name, text in texts.items():
        assert text == recorded[name], f"{name}: run with BLT_UPDATE_GOLDEN=1 if on purpose"


def test_the_summary_links_every_school_to_its_page_and_every_link_resolves(rendered):
    out = rendered["warm"]
    summary = (out / "district_summary.html").read_text(encoding="utf-8")
    links = set(re.findall(r'<a href="(school_[^"#]+\.html)">', summary))
    pages = {p.name for p in out.glob("school_*.html")}
    assert links == pages and len(pages) >= 6
    for page in out.glob("*.html"):  # no page of the batch links to a file that is not there
        for href in re.findall(r'href="([^"#:]+)"', page.read_text(encoding="utf-8")):
            assert (out / href).exists(), (page.name, href)


def test_every_chart_of_every_page_has_the_package_theme(rendered):
    """Theme: 18 px titles and legends below (altair's default: 13 px titles, legend right)."""
    for page in sorted(rendered["warm"].glob("*.html")):
        if page.name == "index.html":
            continue
        text = page.read_text(encoding="utf-8")
        figures = text.count("<figure")
        assert figures > 0, page.name
        # each chart's title is one text mark at the theme's 18 px (every chart has a title)
        titles = len(re.findall(r'<text[^>]*font-size="18px"', text))
        assert titles >= figures, (page.name, titles, figures)


# ------------------------------------------------------------------------------ printing


def _pdf_words(pdf: Path) -> list[dict]:
    """Every word of the PDF with its page number and box (pdftotext -bbox)."""
    xml = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = []
    for number, (width, height, body) in enumerate(
        re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', xml, re.S), 1
    ):
        for _x0, _y0, x1, y1, text in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
            body,
        ):
            words.append(
                {
                    "page": number,
                    "x1": float(x1),
                    "y1": float(y1),
                    "text": html.unescape(text),
                    "width": float(width),
                    "height": float(height),
                }
            )
    return words


@pytest.fixture(scope="module")
def printed(rendered) -> dict[str, Path]:
    """The widest pages as Letter PDFs: the district summary (its rubric table has a column per
    school) and the school whose cycles table is the longest."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils (make browser does)")
    warm = rendered["warm"]
    cycles = {
        p.name: p.read_text(encoding="utf-8").count("C00") for p in warm.glob("school_*.html")
    }
    widest_school = max(cycles, key=cycles.get)
    return {
        name: html_to_pdf(warm / name, warm / name.replace(".html", ".pdf"))
        for name in ("district_summary.html", widest_school)
    }


def test_printed_pages_are_letter_and_nothing_is_cut_off_at_the_right(printed):
    for name, pdf in printed.items():
        words = _pdf_words(pdf)
        assert words, name
        assert {(w["width"], w["height"]) for w in words} == {(612.0, 792.0)}  # Letter, points
        beyond = [w["text"] for w in words if w["x1"] > w["width"] - 0.25 * 72]
        assert beyond == [], (name, beyond[:10])


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def pdf_text(pdf: Path) -> str:
    raw = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True)
    return _squeeze(raw.stdout)


def missing_last_columns(page: str, printed_text: str) -> list[str]:
    """Last-column headers of the page's tables (and, for a table with a column per school,
    its last two schools) that the PDF shows fewer times than the page does: cut off."""
    soup = BeautifulSoup(page, "html.parser")
    shown = _squeeze(soup.body.get_text(" "))
    wanted = []
    for table in soup.select("table.blt-table"):
        headers = [_squeeze(th.get_text(" ")) for th in table.thead.find_all("th")]
        wanted += headers[-2:] if len(headers) >= 7 else headers[-1:]
    return [h for h in dict.fromkeys(wanted) if printed_text.count(h) < shown.count(h)]


def test_the_widest_tables_last_columns_are_in_the_pdf(printed, rendered):
    for name, pdf in printed.items():
        page = (rendered["warm"] / name).read_text(encoding="utf-8")
        text = pdf_text(pdf)
        assert missing_last_columns(page, text) == [], name
        if name.startswith("school_"):
            assert "Target: met?" in missing_last_columns(page, "")  # the check sees it
        else:  # the rubric table has a column per school: its last schools are checked
            assert any("(0106)" in h for h in missing_last_columns(page, ""))


def test_no_page_but_the_last_is_nearly_empty(printed):
    """Sections flow across pages: a page ends early only before a chart that needs a page."""
    for name, pdf in printed.items():
        words = _pdf_words(pdf)
        pages = max(w["page"] for w in words)
        height = words[0]["height"]
        for number in range(1, pages):
            lowest = max((w["y1"] for w in words if w["page"] == number), default=0.0)
            used = (lowest - 0.5 * 72) / (height - 1.1 * 72)
            assert used >= 0.25, (name, number, round(used, 2))


def test_reports_pdf_option_writes_a_pdf_beside_each_page(tmp_path):
    out = tmp_path / "reports"
    args = ["reports", str(sample_dir()), "--out", str(out), "--schools", "0106", "--pdf"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 PDFs beside the pages" in result.output
    for key in ("school_0106", "district_summary"):
        pdf = out / f"{key}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF")
        assert (
            "Oak Park Community Academy"
            in subprocess.run(
                ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
            ).stdout
        )


def test_school_pages_show_the_scale_score_section(rendered):
    page = (rendered["warm"] / "school_0101.html").read_text(encoding="utf-8")
    assert "Mean scale score by student group" in page
    assert "Effect size (Hedges" in page
