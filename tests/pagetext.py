"""What a reader reads on a report page, as plain text: the record the golden-page test keeps.

Headings, the one-sentence readings, every table row (cells joined by `` | ``), the notes and
each chart's text alternative, in page order; no markup, no SVG, nothing run-specific. A change
to any figure, label or sentence of a page changes this text, and the test's diff shows it.

    BLT_UPDATE_GOLDEN=1 python -m pytest tests/test_report_pages.py -k golden

rewrites ``tests/golden/*.txt`` after a change made on purpose; ``git diff tests/golden`` is
then the before/after of every sample page.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

_SPACE = re.compile(r"\s+")


def _squeeze(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def page_text(html: str) -> str:
    """The readable text of one report page (see the module docstring)."""
    soup = BeautifulSoup(html, "html.parser")
    lines = []
    wanted = ["h1", "h2", "h3", "h4", "p", "table", "li", "figure"]
    for element in soup.body.find_all(wanted):
        name = element.name
        if name == "table":
            for row in element.find_all("tr"):
                cells = [_squeeze(c.get_text(" ")) for c in row.find_all(["th", "td"])]
                lines.append("  " + " | ".join(cells))
        elif name == "figure":
            lines.append("[chart] " + _squeeze(element.get("aria-label", "")))
        elif element.find_parent(["table", "figure"]) is None:
            text = _squeeze(element.get_text(" "))
            if text:
                lines.append(("# " if name.startswith("h") else "") + text)
    return "\n".join(lines) + "\n"
