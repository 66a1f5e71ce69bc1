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
