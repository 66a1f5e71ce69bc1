"""The sample district's real report pages: warm kernels = fresh kernels, theme on every chart.

These render every sample school and the district summary twice (warm kernels, then
``fresh_kernels=True``) through the same API ``bltanalytics reports`` uses, and compare the pages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bltanalytics.batch import run_reports
from bltanalytics.report import sample_dir
from bltanalytics.reporting import plan_reports

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
