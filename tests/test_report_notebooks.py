"""The report notebooks as shipped: thin, paired, and what they show equals the metrics export.

The executed-notebook tests run real kernels on the bundled sample (``data/sample``): the school
report for two schools (one of them the smallest) and the district summary, all reading one
metrics export written once for the module.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from bltanalytics import present, reports
from bltanalytics.load import load_district
from bltanalytics.metrics import compute_metrics, write_metrics
from bltanalytics.metrics.achievement import ALL_GRADES, DIMENSIONS
from bltanalytics.reports import district as district_sections
from bltanalytics.reports import school, source

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks" / "reports"
SCHOOL = NOTEBOOKS / "school_report.ipynb"
SUMMARY = NOTEBOOKS / "district_summary.ipynb"
FORBIDDEN_CODE = re.compile(r"^\s*(def|class|for|while|async|with|lambda)\b|\blambda\b", re.M)


# --------------------------------------------------------------------------- as shipped (fast)


@pytest.mark.parametrize("path", [SCHOOL, SUMMARY], ids=lambda p: p.stem)
def test_notebook_is_thin_and_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert not any(FORBIDDEN_CODE.search(c.source) for c in code)
    # every section cell is a single library call
    calls = [c.source for c in code if c.source.startswith("reports.")]
    assert calls and all("\n" not in c for c in calls)
    # headings in order: one "#" title first, then "##" sections only
    headings = [
        line
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("#")
    ]
    assert headings[0].startswith("# ") and all(h.startswith("## ") for h in headings[1:])
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", [SCHOOL, SUMMARY], ids=lambda p: p.stem)
def test_notebook_and_its_percent_script_are_in_sync(path):
    paired = jupytext.read(path.with_suffix(".py"))
    nb = nbformat.read(path, as_version=4)
    assert [(c.cell_type, c.source) for c in paired.cells] == [
        (c.cell_type, c.source) for c in nb.cells
    ]


def test_school_report_parameters_are_typed_and_commented():
    nb = nbformat.read(SCHOOL, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    lines = dict(
        re.match(r"^(\w+): (\w+) = (.+?)  # .+$", line).group(1, 2)
        for line in cell.source.splitlines()
    )
    assert lines == {
        "school_id": "str",
        "school_year": "str",
        "data_dir": "str",
        "metrics_dir": "str",
        "min_n": "int",
    }
    assert 'school_id: str = "0101"' in cell.source


def test_default_school_is_in_the_bundled_sample():
    if not source.has_tables(reports.SAMPLE_DIR):
        pytest.skip("data/sample is not in this checkout")
    schools = load_district(reports.SAMPLE_DIR).tables["schools"]
    assert "0101" in schools["school_id"].tolist()


# --------------------------------------------------------------------------- executed (slow)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    if not source.has_tables(reports.SAMPLE_DIR):
        pytest.skip("data/sample is not in this checkout")
    district = load_district(reports.SAMPLE_DIR)
    metrics = compute_metrics(district)
    export = tmp_path_factory.mktemp("metrics")
    write_metrics(metrics, export)
    return district, metrics, export


@pytest.fixture(scope="module")
def executed(sample, tmp_path_factory):
    import papermill

    _, metrics, export = sample
    out = tmp_path_factory.mktemp("executed")
    year = metrics.school_years[-1]
    enrolled = metrics.enrollment[metrics.enrollment["school_year"] == year]
    smallest = str(enrolled.groupby("school_id")["n_students"].sum().idxmin())
    runs = {
        school: (SCHOOL, {"school_id": school, "metrics_dir": str(export)})
        for school in dict.fromkeys(["0101", smallest])
    }
    runs["district"] = (
        SUMMARY,
        {"metrics_dir": str(export), "school_reports": ["0101", smallest]},
    )
    done = {}
    for key, (notebook, parameters) in runs.items():
        target = out / f"{key}.ipynb"
        papermill.execute_notebook(
            str(notebook),
            str(target),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(NOTEBOOKS),
            progress_bar=False,
            shutdown_kernel="immediate",
        )
        done[key] = target
    done["smallest"] = smallest
    return done


def _html(path: Path) -> BeautifulSoup:
    nb = nbformat.read(path, as_version=4)
    parts = [
        o["data"]["text/html"]
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "text/html" in o.get("data", {})
    ]
    return BeautifulSoup("\n".join(parts), "html.parser")


def _table(soup: BeautifulSoup, key: str) -> pd.DataFrame:
    table = soup.find("table", attrs={"data-section": key})
    assert table is not None, f"no table {key!r}"
    head = [th.get_text() for th in table.thead.find_all("th")]
    rows = [[cell.get_text() for cell in tr.find_all(["th", "td"])] for tr in table.tbody("tr")]
    return pd.DataFrame(rows, columns=head)


def _expected_achievement(metrics, school_id: str) -> pd.DataFrame:
    year = reports.resolve_year(metrics, school_id, "")
    a = metrics.achievement
    mine = a[
        (a["school_id"] == school_id) & (a["school_year"] == year) & (a["grade"] == ALL_GRADES)
    ]
    term = [t for t in ("Fall", "Winter", "Spring") if t in set(mine["term"])][-1]
    mine = mine[mine["term"] == term]
    rank = {d: i for i, d in enumerate(DIMENSIONS)}
    return mine.assign(_d=mine["dimension"].map(rank)).sort_values("_d", kind="stable")


@pytest.mark.slow
def test_school_report_shows_the_metrics_figures(sample, executed):
    _, metrics, _ = sample
    for school_id in dict.fromkeys(["0101", executed["smallest"]]):
        soup = _html(executed[school_id])
        expected = _expected_achievement(metrics, school_id)
        for subject, rows in expected.groupby("subject", sort=False):
            shown = _table(soup, f"achievement-{subject}")
            assert shown["Proficient"].tolist() == rows["display"].tolist()
            suppressed = rows["suppressed"].to_numpy()
            tested = rows["n_tested"].astype("Int64").astype("str").where(~suppressed, "*")
            assert shown["Tested"].tolist() == tested.tolist()
            assert (
                shown["Dimension"].tolist() == present.dimension_labels(rows["dimension"]).tolist()
            )
            gaps = shown["Gap to All Students (points)"]
            groups = (rows["dimension"] != "all").to_numpy()
            assert (gaps[suppressed & groups] == "*").all()
            assert (gaps[~groups] == "").all()  # All Students is the reference
        # the rubric statuses shown are the export's, for every indicator and year
        grid = _table(soup, "rubric").set_index("Indicator")
        card = metrics.rubric[metrics.rubric["school_id"] == school_id]
        for year, statuses in card.groupby("school_year"):
            words = present.status_words(statuses["status"])
            named = present.indicator_labels(statuses["indicator_id"])
            assert grid.loc[named, year].tolist() == words.tolist()


@pytest.mark.slow
def test_school_report_smallest_school_suppresses(sample, executed):
    _, metrics, _ = sample
    soup = _html(executed[executed["smallest"]])
    expected = _expected_achievement(metrics, executed["smallest"])
    assert expected["suppressed"].any()
    for figure in soup.find_all("svg"):
        assert figure.find_parent("figure", attrs={"role": "img"})["aria-label"]
    for table in soup.find_all("table"):
        assert table.caption is not None
        assert all(th.get("scope") == "col" for th in table.thead.find_all("th"))


@pytest.mark.slow
def test_district_summary_shows_every_school(sample, executed):
    _, metrics, _ = sample
    soup = _html(executed["district"])
    shown = _table(soup, "district-achievement").set_index("School")
    year = metrics.school_years[-1]
    a = metrics.achievement
    rows = a[(a["school_year"] == year) & (a["grade"] == ALL_GRADES) & (a["dimension"] == "all")]
    term = [t for t in ("Fall", "Winter", "Spring") if t in set(rows["term"])][-1]
    rows = rows[rows["term"] == term].merge(metrics.schools, on="school_id")
    for _, row in rows.iterrows():
        label = f"{row['school_name']} ({row['school_id']})"
        assert shown.loc[label, row["subject"]] == row["display"]
    # each school with a page beside the summary links to it; the others are not links
    overview = soup.find("table", attrs={"data-section": "district-overview"})
    links = {a.get_text(): a["href"] for a in overview.find_all("a")}
    names = metrics.schools.set_index("school_id")["school_name"]
    assert links == {
        f"{names[s]} ({s})": f"school_{s}.html"
        for s in dict.fromkeys(["0101", executed["smallest"]])
    }
    board = _table(soup, "district-rubric-1").set_index("Indicator")
    assert board.shape == (25, min(len(metrics.schools), district_sections.SCHOOLS_PER_GRID))


@pytest.mark.slow
def test_no_output_contains_a_student_identifier(sample, executed):
    district, metrics, _ = sample
    students = district.tables["students"]
    ids = set(students["student_id"].dropna())
    assert all(len(i) >= 6 for i in ids)  # sample ids cannot collide with 4-digit school ids
    births = pd.to_datetime(students["birth_date"].dropna())
    dates = set(births.dt.strftime("%Y-%m-%d")) | set(births.dt.strftime("%m/%d/%Y"))
    first, last = students["first_name"].dropna(), students["last_name"].dropna()
    full_names = set(first + " " + last)
    # single names are searched too, except words that also occur in the district's own
    # non-student text (school names, cycle focus and strategy, rubric wording)
    legit = " ".join(
        metrics.schools["school_name"].tolist()
        + metrics.cycles["focus"].dropna().tolist()
        + metrics.cycles["strategy"].dropna().tolist()
        + [*(Path(m.__file__).read_text(encoding="utf-8") for m in (school, district_sections))]
        + [(NOTEBOOKS / n).read_text(encoding="utf-8") for n in ("school_report.py",)]
    )
    names = {n for n in set(first) | set(last) if not re.search(rf"\b{re.escape(n)}\b", legit)}
    id_pattern = re.compile(r"(?<![\d.])(" + "|".join(map(re.escape, ids)) + r")(?![\d.])")
    for key in ("0101", executed["smallest"], "district"):
        text = json.dumps(nbformat.read(executed[key], as_version=4), ensure_ascii=False)
        assert not id_pattern.search(text), key
        assert not [d for d in dates if d in text], key
        assert not [n for n in full_names if n in text], key
        words = set(re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", text))
        assert not names & words, (key, sorted(names & words)[:5])
