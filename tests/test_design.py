"""docs/design.md describes the code as it is: its `Metrics` block lists the real fields."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from bltanalytics.metrics import Metrics

DESIGN = Path(__file__).resolve().parents[1] / "docs" / "design.md"


def test_design_lists_the_fields_of_metrics_in_order():
    text = DESIGN.read_text(encoding="utf-8")
    block = re.search(r"class Metrics:\n(.*?)```", text, re.S).group(1)
    documented = re.findall(r"^    (\w+): ", block, re.M)
    assert documented == [f.name for f in fields(Metrics)]


def test_design_names_every_module_of_the_package():
    text = DESIGN.read_text(encoding="utf-8")
    package = DESIGN.parents[1] / "bltanalytics"
    modules = [
        p.relative_to(package).as_posix()
        for p in package.rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py")
    ]
    missing = [m for m in modules if Path(m).name not in text]
    assert missing == []


ADD_A_DIMENSION = r"""
import pandas as pd
from bltanalytics.load import TABLES
from bltanalytics.metrics.achievement import achievement
from bltanalytics.metrics import audit
from bltanalytics import present

assert "gifted" in [c.name for c in TABLES["students"].columns]
ids = [f"{i:03d}" for i in range(30)]
tests = pd.DataFrame({"student_id": ids, "school_id": "0101", "school_year": "2025-26",
    "term": "Spring", "subject": "Math", "grade": "3",
    "proficient": pd.array([i % 2 == 0 for i in range(30)], dtype="boolean")})
students = pd.DataFrame({"student_id": ids, "school_id": "0101", "school_year": "2025-26",
    "grade": "3", "gifted": ["Yes"] * 12 + ["No"] * 18})
out = achievement(tests, students)
rows = out[(out["dimension"] == "gifted") & (out["grade"] == "3")]
print(rows["group"].tolist(), rows["n_tested"].tolist())
print(present.dimension_labels(pd.Series(["gifted"])).iloc[0])
print(audit.audit(out).protected)
"""


def test_a_dimension_is_added_by_editing_data_files_only(tmp_path):
    """docs/design.md "Adding a dimension": a copy of the package with one line in
    vocabulary.yaml and its label in labels.yaml disaggregates by the new dimension."""
    import shutil
    import subprocess
    import sys

    package = DESIGN.parents[1] / "bltanalytics"
    copy = tmp_path / "bltanalytics"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "_bundled"))
    vocabulary = copy / "data" / "vocabulary.yaml"
    text = vocabulary.read_text(encoding="utf-8")
    vocabulary.write_text(
        text.replace("  foster_care: flag\n", "  foster_care: flag\n  gifted: flag\n"), "utf-8"
    )
    labels = copy / "data" / "labels.yaml"
    text = labels.read_text(encoding="utf-8")
    labels.write_text(
        text.replace(
            "  foster_care: Foster care\n", "  foster_care: Foster care\n  gifted: Gifted\n", 1
        ),
        "utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-c", ADD_A_DIMENSION],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['Yes', 'No'] [12, 18]", "Gifted", "True"]
