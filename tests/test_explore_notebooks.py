"""The JupyterLab notebooks of ``notebooks/explore/``: thin, paired, clean, and private.

nbval runs them as well (they are under pytest's ``testpaths``); here they are also executed
once to check that no output shows a student's id, name or birth date.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from bltanalytics import resources
from bltanalytics.load import load_district

EXPLORE = Path(__file__).resolve().parents[1] / "notebooks" / "explore"
NOTEBOOKS = sorted(EXPLORE.glob("*.ipynb"))
FORBIDDEN_CODE = re.compile(r"^\s*(def|class|for|while|async|with)\b|\blambda\b", re.M)


def test_there_are_two_or_three_explore_notebooks_and_start_here_is_one():
    assert 2 <= len(NOTEBOOKS) <= 3
    assert "start_here" in [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs_thin_and_paired(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert not any(FORBIDDEN_CODE.search(c.source) for c in code)
    assert max(len(c.source.splitlines()) for c in code) <= 15  # short cells: library calls
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    paired = jupytext.read(path.with_suffix(".py"))
    assert [(c.cell_type, c.source) for c in paired.cells] == [
        (c.cell_type, c.source) for c in nb.cells
    ]


def _output_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")))
            for value in output.get("data", {}).values():
                parts.append(value if isinstance(value, str) else str(value))
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_show_no_student(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(EXPLORE)}}).execute()
    shown = _output_text(nb)
    assert "Traceback" not in shown
    assert "%" in shown or "proficient" in shown.lower()  # it did show figures
    students = load_district(resources.sample_district()).tables["students"]
    words = set(re.findall(r"[\w-]+", shown))
    for column in ("student_id", "first_name", "last_name", "birth_date"):
        if column in students:
            values = students[column].dropna().astype("str")
            if column == "birth_date":
                values = values.str.slice(0, 10)  # as a date, the way a table would show it
            values = set(values)
            # short ids like "1" would match any number; the sample's ids are 6+ characters
            leaked = sorted(v for v in values if len(v) >= 5 and v in words)
            assert leaked == [], (column, leaked[:5])
