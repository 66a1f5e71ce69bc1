"""Several visitors at once, each on its own school, each shown that school's published figures.

``bltanalytics dashboard explorer`` (the launcher, so each kernel reads the per-school slices it
prepared) on a small generated district; three chromium contexts open the page at the same
moment, each then picks another school and student-group dimension. Every visitor must see a
chart, and the table on each page must be exactly the export's figures for that visitor's
choice (the pure functions of the explorer applied to the whole metrics, computed here): a
kernel reading another school's slice, or a slice cut wrong, would show other figures. Times
are not asserted (see benchmarks/room_bench.py for the ten-visitor figures).
"""

from __future__ import annotations

import pytest

from bltanalytics import present
from bltanalytics.config import Config
from bltanalytics.dashboards.common import school_labels
from bltanalytics.dashboards.explorer import group_rows
from bltanalytics.present import LABELS
from tests.test_dashboards_browser import (
    BARS,
    OfflinePage,
    browser,  # noqa: F401  (the module's chromium fixture)
    dashboard_server,
)

pytestmark = pytest.mark.browser

VISITORS = 3
#: generous: this test is about what each visitor sees, not how fast (a loaded CI machine
#: running the other browser tests beside it took over 60 s for three first charts)
VISITOR_TIMEOUT_MS = 240_000
DIMENSIONS = ("Sex", "Race/ethnicity", "English learner")


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    from bltanalytics.sample import generate_district

    folder = tmp_path_factory.mktemp("district")
    generate_district(folder, schools=5, students_per_school=120, seed=31)
    return folder


@pytest.fixture(scope="module")
def metrics(district):
    from bltanalytics.load import load_district
    from bltanalytics.metrics import compute_metrics

    return compute_metrics(load_district(district), Config())


@pytest.fixture(scope="module")
def url(district, tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "explorer.log"
    with dashboard_server("explorer", district, log=log) as served:
        yield served


def chosen(page, css: str) -> str:
    return page.eval_on_selector(f"{css} select", "s => s.options[s.selectedIndex].text")


def expected_table(metrics, selection: dict[str, str]) -> list[list[str]]:
    rows = group_rows(metrics.achievement, **selection)
    table = present.group_table(present.achievement_view(rows, metrics.config))
    text = table.astype("object").where(table.notna(), "")
    return [[str(v) for v in row] for row in text.itertuples(index=False, name=None)]


def shown_table(page) -> list[list[str]]:
    rows = page.locator(".blt-group-table table tbody tr")
    return [
        [c.replace("\xa0", " ") for c in rows.nth(i).locator("td").all_inner_texts()]
        for i in range(rows.count())
    ]


def test_visitors_at_once_each_see_their_schools_figures(browser, url, metrics):  # noqa: F811
    labels = school_labels(metrics.schools, mask=False)
    ids = {label: school_id for school_id, label in labels.items()}
    dimension_ids = {v: k for k, v in LABELS.dimensions.items()}
    pages = [OfflinePage(browser, viewport=(1200, 900)) for _ in range(VISITORS)]
    try:
        for p in pages:  # all arrive together
            p.page.goto(url, wait_until="commit")
        for p in pages:
            p.page.wait_for_selector(BARS, timeout=VISITOR_TIMEOUT_MS)
        schools = list(labels)[1 : VISITORS + 1]
        for p, school, dimension in zip(pages, schools, DIMENSIONS, strict=True):
            p.page.locator(".blt-school select").select_option(label=school)
            p.page.locator(".blt-dimension select").select_option(label=dimension)
        for p, school, dimension in zip(pages, schools, DIMENSIONS, strict=True):
            figure = p.page.locator(".blt-bars figure")
            figure.wait_for(timeout=VISITOR_TIMEOUT_MS)
            p.page.wait_for_function(
                """([school, dimension]) => {
                    const f = document.querySelector('.blt-bars figure');
                    const c = document.querySelector('.blt-group-table caption');
                    const label = f && f.getAttribute('aria-label');
                    return label && label.includes(school) && c && c.innerText.includes(school)
                        && label.toLowerCase().includes(dimension.toLowerCase());
                }""",
                arg=[school, dimension],
                timeout=VISITOR_TIMEOUT_MS,
            )
            assert p.page.locator(BARS).count() > 0
            selection = {
                "school_id": ids[school],
                "school_year": chosen(p.page, ".blt-year"),
                "term": chosen(p.page, ".blt-term"),
                "subject": chosen(p.page, ".blt-subject"),
                "grade": chosen(p.page, ".blt-grade"),
                "dimension": dimension_ids[dimension],
            }
            want = expected_table(metrics, selection)
            assert len(want) >= 2  # All Students and the groups: a real comparison
            assert shown_table(p.page) == want, selection
            assert p.external == []
    finally:
        for p in pages:
            p.close()
