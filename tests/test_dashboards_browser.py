"""The dashboards in a real browser: a real Voilà server per dashboard, Debian's chromium.

Each module-scoped fixture starts ``bltanalytics dashboard NAME`` (the launcher a data lead uses)
on a free port as a subprocess in its own process group, waits until its preheated kernels are
ready, and kills the group at teardown. Every page is opened with all requests that are not to
127.0.0.1/localhost aborted AND recorded, and each test asserts none was even attempted: the
charts must render with no network. Screenshots go to ``reports/screenshots/`` (not committed);
first-chart and widget-change times go to ``reports/dashboard_timings.json``.

Playwright's own browser download does not work here: chromium comes from Debian (``make
browser``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from bltanalytics.dashboards.serve import CHROMIUM, CHROMIUM_ARGS, free_port

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "reports" / "screenshots"
TIMINGS = REPO / "reports" / "dashboard_timings.json"
LOCAL = {"127.0.0.1", "localhost"}
SERVER_START_TIMEOUT = 120
FIRST_CHART_TIMEOUT_MS = 60_000
CHANGE_TIMEOUT_MS = 20_000

# ------------------------------------------------------------------------------------------------
# Servers, browser, pages
# ------------------------------------------------------------------------------------------------


class ServerUrl(str):
    """The address of a server started by :func:`dashboard_server`, with its process and log."""

    process: subprocess.Popen
    log: Path


@contextmanager
def dashboard_server(name: str, data: Path, *extra: str, log: Path):
    """``bltanalytics dashboard NAME --data DATA --port P``; yields its :class:`ServerUrl`."""
    launcher = shutil.which("bltanalytics")
    if launcher is None:
        pytest.fail("the bltanalytics command is not on PATH: pip install -e '.[test]'")
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [launcher, "dashboard", name, "--data", str(data), "--port", str(port), *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Voilà and kernels die with it
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while "is filled with" not in log.read_text(errors="replace"):
            if process.poll() is not None:
                pytest.fail(f"the {name} dashboard exited early:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the {name} dashboard did not get ready:\n{log.read_text()}")
            time.sleep(0.25)
        with urllib.request.urlopen(url + "voila/static/voila.js", timeout=10) as answer:
            assert answer.status == 200
        served = ServerUrl(url)
        served.process, served.log = process, log
        yield served
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium; "
            "Playwright's own browser download does not work here)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    from bltanalytics.sample import generate_district

    folder = tmp_path_factory.mktemp("district")
    generate_district(folder, schools=4, students_per_school=150, seed=2026)
    return folder


@pytest.fixture(scope="module")
def identifiers(district) -> set[str]:
    """Every student id, first name, last name and birth date of the data served."""
    from bltanalytics.load import load_district

    students = load_district(district).tables["students"]
    found = set(students["student_id"].astype("str"))
    for column in ("first_name", "last_name"):
        found |= set(students[column].dropna().astype("str"))
    births = students["birth_date"].dropna()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%-m/%-d/%Y"):
        found |= set(births.dt.strftime(fmt))
    return {value for value in found if value.strip()}


@pytest.fixture(scope="module")
def timings():
    record: dict[str, list[float]] = {}
    yield record
    if record:
        TIMINGS.parent.mkdir(parents=True, exist_ok=True)
        old = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
        old.update({k: [round(v, 3) for v in vals] for k, vals in record.items()})
        TIMINGS.write_text(json.dumps(old, indent=2, sort_keys=True) + "\n")


class OfflinePage:
    """A page whose every non-local request is aborted and recorded (so none can be missed)."""

    def __init__(self, browser, viewport=(1400, 1800)):
        self.context = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True
        )
        self.external: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("websocket", self._websocket)
        self.page.on("request", self._request)

    def _local(self, url: str) -> bool:
        parsed = urlparse(url)
        return parsed.scheme in ("data", "blob", "about") or parsed.hostname in LOCAL

    def _route(self, route):
        if self._local(route.request.url):
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort()

    def _request(self, request):
        if not self._local(request.url) and request.url not in self.external:
            self.external.append(request.url)

    def _websocket(self, socket):
        if not self._local(socket.url):
            self.external.append(socket.url)

    def open(self, url: str, ready: str) -> float:
        """Load ``url`` and wait for selector ``ready``; seconds from request to ready."""
        start = time.perf_counter()
        self.page.goto(url, wait_until="commit")
        self.page.wait_for_selector(ready, timeout=FIRST_CHART_TIMEOUT_MS)
        return time.perf_counter() - start

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


def changed(page, selector: str, attribute: str | None, before: str) -> float:
    """Wait until the element's attribute (or text) differs from ``before``; seconds waited."""
    start = time.perf_counter()
    page.wait_for_function(
        """([selector, attribute, before]) => {
            const el = document.querySelector(selector);
            if (!el) return false;
            const now = attribute ? el.getAttribute(attribute) : el.innerText;
            return now !== null && now !== before;
        }""",
        arg=[selector, attribute, before],
        timeout=CHANGE_TIMEOUT_MS,
    )
    return time.perf_counter() - start


def page_words(page) -> set[str]:
    """Words a viewer can get at: the page's text, every attribute inside the dashboard (SVG
    aria-labels, titles...) and the CSV behind each download link."""
    attributes = page.evaluate(
        """() => [...document.querySelectorAll('.blt-dash, .blt-dash *')]
                 .flatMap(e => [...e.attributes].map(a => a.value))"""
    )
    csv = [
        base64.b64decode(unquote(m)).decode("utf-8", "replace")
        for a in attributes
        for m in re.findall(r"^data:text/csv;charset=utf-8;base64,(.+)$", a)
    ]
    text = " ".join([page.inner_text("body"), *attributes, *csv])
    return set(re.findall(r"[^\s<>\"=;:,()]+", text)) | set(re.findall(r"[\w'’-]+", text))


def assert_no_student_identifier(page, identifiers: set[str]) -> None:
    leaked = page_words(page) & identifiers
    assert not leaked, f"student identifiers on the page: {sorted(leaked)[:10]}"


# ------------------------------------------------------------------------------------------------
# Explorer
# ------------------------------------------------------------------------------------------------

BARS = ".blt-bars svg .mark-rect path"


@pytest.fixture(scope="module")
def explorer_url(district, tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "explorer.log"
    with dashboard_server("explorer", district, log=log) as url:
        yield url


@pytest.fixture(scope="module")
def explorer_page(browser, explorer_url, timings):
    page = OfflinePage(browser)
    timings.setdefault("explorer_first_chart_s", []).append(page.open(explorer_url, BARS))
    yield page
    page.close()


def test_explorer_renders_offline(explorer_page):
    page = explorer_page.page
    assert page.locator(BARS).count() > 0
    assert page.get_attribute(".blt-dimension select", "disabled") is None
    assert page.locator(".blt-trend svg path").count() > 0
    assert page.locator(".blt-group-table table tbody tr").count() >= 2
    assert "Achievement explorer" in page.inner_text("body")
    assert "Traceback" not in page.inner_text("body")
    explorer_page.screenshot("explorer")
    assert explorer_page.external == []


def test_explorer_widget_change_updates_chart_and_table(explorer_page, timings):
    page = explorer_page.page
    figure = ".blt-bars figure"
    before_chart = page.get_attribute(figure, "aria-label")
    before_table = page.inner_text(".blt-group-table table")
    page.locator(".blt-dimension select").select_option(label="Race/ethnicity")
    timings.setdefault("explorer_change_s", []).append(
        changed(page, figure, "aria-label", before_chart)
    )
    changed(page, ".blt-group-table table", None, before_table)
    assert "White" in page.get_attribute(figure, "aria-label")
    assert "White" in page.inner_text(".blt-group-table table")
    assert page.locator(BARS).count() > 0
    for term in ("Fall", "Winter"):
        before_chart = page.get_attribute(figure, "aria-label")
        page.locator(".blt-term select").select_option(label=term)
        timings["explorer_change_s"].append(changed(page, figure, "aria-label", before_chart))
        assert f"{term} " in page.inner_text(".blt-group-table caption")
    before_trend = page.get_attribute(".blt-trend figure", "aria-label")
    options = [
        o.replace("\xa0", " ")  # ipywidgets shows spaces in options as no-break spaces
        for o in page.locator(".blt-trend-group select option").all_inner_texts()
    ]
    page.locator(".blt-trend-group select").select_option(label=options[-1])
    if len(options) > 1:
        changed(page, ".blt-trend figure", "aria-label", before_trend)
    assert options[-1] in page.inner_text(".blt-trend-table")
    explorer_page.screenshot("explorer_changed")
    assert explorer_page.external == []


def test_explorer_downloads_the_table_as_shown(explorer_page):
    page = explorer_page.page
    with page.expect_download() as download:
        page.click("a.blt-download")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("school,school_year,term,subject,grade,student_groups,Student group")
    shown = page.locator(".blt-group-table tbody tr").all_inner_texts()
    assert len(lines) - 1 == len(shown)
    for line in lines[1:]:
        cells = line.split(",")
        if "hidden" in cells[-1]:  # fewer than min_n, or hidden to protect a smaller group
            assert cells[7] == "*" and cells[8] == "*" and cells[9] == "*"
    assert explorer_page.external == []


def test_explorer_shows_no_student_identifier(explorer_page, identifiers):
    page = explorer_page.page
    assert_no_student_identifier(page, identifiers)
    for label in ("Sex", "English learner", "Race/ethnicity"):
        before = page.get_attribute(".blt-bars figure", "aria-label")
        page.locator(".blt-dimension select").select_option(label=label)
        changed(page, ".blt-bars figure", "aria-label", before)
        assert_no_student_identifier(page, identifiers)


def test_three_sessions_at_once_all_render(browser, explorer_url, timings):
    pages = [OfflinePage(browser, viewport=(1200, 900)) for _ in range(3)]
    try:
        start = time.perf_counter()
        for p in pages:
            p.page.goto(explorer_url, wait_until="commit")
        for p in pages:
            p.page.wait_for_selector(BARS, timeout=FIRST_CHART_TIMEOUT_MS)
        timings["explorer_three_sessions_s"] = [time.perf_counter() - start]
        for i, p in enumerate(pages):
            assert p.page.locator(BARS).count() > 0
            assert p.external == []
            p.screenshot(f"explorer_session_{i + 1}")
        # each session has its own kernel: a change in one leaves the others alone
        first = pages[0].page
        before = first.get_attribute(".blt-bars figure", "aria-label")
        first.locator(".blt-dimension select").select_option(label="Sex")
        changed(first, ".blt-bars figure", "aria-label", before)
        assert pages[1].page.get_attribute(".blt-bars figure", "aria-label") == before
    finally:
        for p in pages:
            p.close()


# ------------------------------------------------------------------------------------------------
# Rubric board
# ------------------------------------------------------------------------------------------------

BOARD = ".blt-board svg .mark-rect path"


@pytest.fixture(scope="module")
def rubric_url(district, tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "rubric.log"
    with dashboard_server("rubric", district, log=log) as url:
        yield url


@pytest.fixture(scope="module")
def rubric_page(browser, rubric_url, timings):
    page = OfflinePage(browser)
    timings.setdefault("rubric_first_chart_s", []).append(page.open(rubric_url, BOARD))
    yield page
    page.close()


def test_rubric_board_renders_offline_with_words(rubric_page):
    page = rubric_page.page
    assert page.locator(BOARD).count() >= 4 * 12  # 4 schools x 12 computed indicators
    board_text = page.inner_text(".blt-board")
    assert "approaching" in board_text or "not met" in board_text
    assert page.locator(".blt-detail section").count() == 6
    assert page.locator(".blt-detail-chart svg path").count() > 0
    rubric_page.screenshot("rubric")
    assert rubric_page.external == []


def test_rubric_school_change_updates_detail(rubric_page, timings, identifiers):
    page = rubric_page.page
    before_chart = page.get_attribute(".blt-detail-chart figure", "aria-label")
    before_table = page.inner_text(".blt-detail")
    options = [
        o.replace("\xa0", " ") for o in page.locator(".blt-school select option").all_inner_texts()
    ]
    page.locator(".blt-school select").select_option(label=options[-1])
    timings.setdefault("rubric_change_s", []).append(
        changed(page, ".blt-detail-chart figure", "aria-label", before_chart)
    )
    changed(page, ".blt-detail", None, before_table)
    assert options[-1] in page.get_attribute(".blt-detail-chart figure", "aria-label")
    assert "Numerator" in page.inner_text(".blt-detail")
    rubric_page.screenshot("rubric_changed")
    assert_no_student_identifier(page, identifiers)
    assert rubric_page.external == []


# ------------------------------------------------------------------------------------------------
# Presenter (names masked)
# ------------------------------------------------------------------------------------------------

SLIDE = ".blt-slide-area .blt-slide h1"


@pytest.fixture(scope="module")
def presenter_url(district, tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "presenter.log"
    with dashboard_server("presenter", district, "--mask-names", log=log) as url:
        yield url


@pytest.fixture(scope="module")
def presenter_page(browser, presenter_url, timings):
    page = OfflinePage(browser)
    timings.setdefault("presenter_first_slide_s", []).append(page.open(presenter_url, SLIDE))
    yield page
    page.close()


def test_presenter_walks_one_school_offline(presenter_page, district, identifiers, timings):
    from bltanalytics.load import load_district

    page = presenter_page.page
    assert page.inner_text(SLIDE) == "School A"
    assert "Slide 1 of" in page.inner_text(".blt-counter")
    presenter_page.screenshot("presenter_1")
    titles = ["School A"]
    for number in range(2, 5):
        before = page.inner_text(SLIDE)
        page.click("button.blt-next")
        timings.setdefault("presenter_next_s", []).append(changed(page, SLIDE, None, before))
        titles.append(page.inner_text(SLIDE))
        assert f"Slide {number} of" in page.inner_text(".blt-counter")
        assert page.locator(".blt-slide svg path").count() > 0  # slides 2-4 carry a chart
        presenter_page.screenshot(f"presenter_{number}")
    assert titles[1] == "How are students doing?"
    names = load_district(district).tables["schools"]["school_name"]
    words = page_words(page)
    assert not any(name in page.content() for name in names), "a school name is not masked"
    assert "School" in words
    assert_no_student_identifier(page, identifiers)
    assert presenter_page.external == []


def test_presenter_school_change_starts_over(presenter_page):
    page = presenter_page.page
    counter = page.inner_text(".blt-counter")
    if "Slide 1 of" in counter:  # leave slide 1 so a reset shows
        before = page.inner_text(SLIDE)
        page.click("button.blt-next")
        changed(page, SLIDE, None, before)
        changed(page, ".blt-counter", None, counter)
    # the page is shared with earlier tests: switch to a school other than the current one
    select = page.locator(".blt-school select")
    current = select.evaluate("s => s.options[s.selectedIndex].text")
    target = "School B" if current != "School B" else "School A"
    before = page.inner_text(SLIDE)
    counter = page.inner_text(".blt-counter")  # not slide 1 (left above)
    select.select_option(label=target)
    changed(page, SLIDE, None, before)
    assert page.inner_text(SLIDE) == target
    # the counter is a widget of its own: its update may reach the page after the slide's
    changed(page, ".blt-counter", None, counter)
    assert "Slide 1 of" in page.inner_text(".blt-counter")
    assert presenter_page.external == []


# ------------------------------------------------------------------------------------------------
# A data folder that fails validation
# ------------------------------------------------------------------------------------------------


def test_bad_data_folder_shows_a_plain_message(browser, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "schools.csv").write_text("school_id,school_name\n0101,Maple\n", encoding="utf-8")
    log = tmp_path / "bad.log"
    with dashboard_server("explorer", bad, "--pool-size", "1", log=log) as url:
        page = OfflinePage(browser, viewport=(1200, 700))
        try:
            page.open(url, ".blt-message")
            text = page.page.inner_text("body")
            assert "This data folder cannot be shown" in text
            assert "students" in text  # names the missing table
            assert "Traceback" not in text and "error when executing" not in text
            assert page.page.locator(".jp-OutputArea-output pre").count() == 0
            page.screenshot("explorer_bad_folder")
            assert page.external == []
        finally:
            page.close()
    assert "warning:" in log.read_text()


# ------------------------------------------------------------------------------------------------
# Kernels: freed when a page goes, a ceiling on visitors (one server: pool of 1, ceiling of 3)
# ------------------------------------------------------------------------------------------------

ROOM_POOL = 1
ROOM_CEILING = 3


@pytest.fixture(scope="module")
def room_url(district, tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "room.log"
    extra = ("--pool-size", str(ROOM_POOL), "--max-kernels", str(ROOM_CEILING))
    with dashboard_server("explorer", district, *extra, log=log) as url:
        yield url


def kernel_ids(server: ServerUrl) -> set[str]:
    """Ids of the kernels running under ``server``, from their processes' connection files."""
    import psutil

    found = set()
    for child in psutil.Process(server.process.pid).children(recursive=True):
        try:
            command = " ".join(child.cmdline())
        except psutil.Error:  # exited meanwhile
            continue
        match = re.search(r"ipykernel_launcher.*kernel-([0-9a-f-]{36})\.json", command)
        if match:
            found.add(match.group(1))
    return found


def wait_for_kernels(server: ServerUrl, done, timeout: float, what: str) -> set[str]:
    """Poll the server's kernels until ``done(ids)``; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        ids = kernel_ids(server)
        if done(ids):
            return ids
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: still {len(ids)} kernel(s) after {timeout:.0f} s")
        time.sleep(0.1)


def page_kernel(page) -> str:
    """The kernel a Voilà page is connected to (its page config)."""
    return page.evaluate(
        "() => JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId"
    )


def test_closed_pages_free_their_kernels(browser, room_url, timings):
    from bltanalytics.dashboards.serve import RELEASE_AFTER_SECONDS

    wait_for_kernels(room_url, lambda ids: len(ids) == ROOM_POOL, 60, "pool at start")
    for visit in range(10):
        page = OfflinePage(browser, viewport=(1000, 700))
        page.open(room_url, BARS)
        kernel = page_kernel(page.page)
        assert kernel in kernel_ids(room_url)
        assert page.external == []
        if visit % 3 == 2:
            # a page that vanishes without beforeunload (a phone's browser dropping it): its
            # kernel goes once its connection has been closed for RELEASE_AFTER_SECONDS
            page.close()
            continue
        assert "_xsrf" in {cookie["name"] for cookie in page.context.cookies()}
        start = time.perf_counter()
        page.page.close(run_before_unload=True)  # as closing the tab does
        # freed well before the disconnect release could have done it: the page's request did
        wait_for_kernels(
            room_url, lambda ids, k=kernel: k not in ids, RELEASE_AFTER_SECONDS / 2, "closed page"
        )
        timings.setdefault("kernel_freed_after_close_s", []).append(time.perf_counter() - start)
        page.close()
    wait_for_kernels(
        room_url,
        lambda ids: len(ids) == ROOM_POOL,
        RELEASE_AFTER_SECONDS + 20,
        "after 10 pages opened and closed",
    )
    log = room_url.log.read_text(errors="replace")
    assert not re.search(r"403 POST /voila/api/shutdown", log), "a shutdown request was refused"


def test_reloads_do_not_grow_the_kernels(browser, room_url):
    wait_for_kernels(room_url, lambda ids: len(ids) == ROOM_POOL, 60, "pool before reloads")
    page = OfflinePage(browser, viewport=(1000, 700))
    try:
        page.open(room_url, BARS)
        seen = []
        for _ in range(5):
            page.page.reload(wait_until="commit")
            page.page.wait_for_selector(BARS, timeout=FIRST_CHART_TIMEOUT_MS)
            seen.append(len(kernel_ids(room_url)))
        # the page's one kernel and the pool; a moment's overlap while the pool refills
        assert max(seen) <= ROOM_POOL + 2, seen
        kernel = page_kernel(page.page)
        ids = wait_for_kernels(
            room_url, lambda ids: len(ids) == ROOM_POOL + 1, 30, "after 5 reloads"
        )
        assert kernel in ids
        assert page.external == []
    finally:
        page.close()


def test_a_visitor_past_the_ceiling_gets_the_plain_page(browser, room_url):
    wait_for_kernels(room_url, lambda ids: len(ids) == ROOM_POOL, 60, "pool before the room")
    room = [OfflinePage(browser, viewport=(1000, 700)) for _ in range(ROOM_CEILING)]
    late = OfflinePage(browser, viewport=(1000, 700))
    try:
        for visitor in room:
            visitor.open(room_url, BARS)
        start = time.perf_counter()
        answer = late.page.goto(room_url)
        assert time.perf_counter() - start < 5  # told at once, not a hung page
        assert answer.status == 503
        assert answer.headers.get("retry-after") == "60"
        text = late.page.inner_text("body")
        assert "The dashboard is full" in text and "try again in a minute" in text
        assert f"All {ROOM_CEILING} places are taken" in text
        assert late.page.locator("script").count() == 0
        late.screenshot("dashboard_full")
        held = kernel_ids(room_url)
        assert len(held) <= ROOM_CEILING + ROOM_POOL  # the refused visitor started none
        # someone leaves; the visitor who was told to wait gets in
        leaving = room.pop(0)
        kernel = page_kernel(leaving.page)
        leaving.page.close(run_before_unload=True)  # returns before the page has unloaded
        wait_for_kernels(room_url, lambda ids: kernel not in ids, 5, "the leaver's kernel")
        leaving.close()
        late.open(room_url, BARS)
        assert late.page.locator(BARS).count() > 0
        assert late.external == [] and all(v.external == [] for v in room)
    finally:
        for visitor in [*room, late]:
            visitor.close()
