"""The quarantine: one entry for every row dropped and every value blanked, with its reason.

Its columns are :data:`QUARANTINE_COLUMNS`. ``action`` is ``row_dropped`` or ``value_blanked``;
``reason`` is one of

* ``missing_required``: a required value is blank;
* ``bad_value``: a value cannot be read, or is a code no vocabulary or mapping knew;
* ``out_of_range``: a number outside its column's bounds;
* ``unknown_school`` / ``unknown_team`` / ``unknown_cycle`` / ``unknown_staff`` /
  ``unknown_indicator``: a reference to a row the district's other tables do not have
  (:data:`REFERENCE_REASON`);
* ``unscorable``: an assessment whose proficiency can be neither read nor derived;
* ``duplicate``: a repeat of an earlier row's key (``value`` says which row was kept).

A student identifier, name or birth date is never written: its value reads :data:`WITHHELD`.

>>> import numpy as np
>>> rows = pd.DataFrame({"source_row": [1, 2], "student_id": ["S1", "S2"],
...                      "school_id": ["01", "99"]})
>>> ledger = Ledger("students", "students.csv", rows)
>>> ledger.add(np.array([False, True]), "row_dropped", "unknown_school", "school_id")
>>> ledger.add(np.array([True, False]), "row_dropped", "duplicate", "student_id")
>>> ledger.frame_of_issues()[["source_row", "reason", "value"]].to_dict("records")
[{'source_row': 1, 'reason': 'duplicate', 'value': '(withheld: student identifier)'}, \
{'source_row': 2, 'reason': 'unknown_school', 'value': '99'}]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bltanalytics.load.contract import STUDENT_PRIVATE_COLUMNS
from bltanalytics.load.normalize import BAD, RANGE, UNKNOWN

#: the columns of a district's quarantine table
QUARANTINE_COLUMNS = [
    "table",
    "file",
    "source_row",
    "action",
    "reason",
    "column",
    "value",
    "school_id",
]
#: the value written instead of a student identifier, name or birth date
WITHHELD = "(withheld: student identifier)"
#: the reason recorded for a value of each unreadable normalization status
STATUS_REASON = {BAD: "bad_value", RANGE: "out_of_range", UNKNOWN: "bad_value"}
#: the reason recorded for a reference to a row of each table that the district lacks
REFERENCE_REASON = {
    "schools": "unknown_school",
    "teams": "unknown_team",
    "team_cycles": "unknown_cycle",
    "staff": "unknown_staff",
    "rubric": "unknown_indicator",
}


class Ledger:
    """Collects quarantine entries for one table as column arrays (cheap at any size).

    ``frame`` holds the table's rows as read (``source_row``, raw values, ``school_id`` when the
    table has one), aligned with the masks given to :meth:`add`.
    """

    def __init__(self, table: str, file: str, frame: pd.DataFrame):
        self.table, self.file, self.frame = table, file, frame
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: np.ndarray, action: str, reason: str, column: str, values=None):
        """Record one entry per row where ``mask`` is True; ``values`` defaults to ``column``'s."""
        if not mask.any():
            return
        rows = self.frame.loc[mask]
        if values is None:
            values = rows[column] if column in rows else pd.Series("", index=rows.index)
        if column in STUDENT_PRIVATE_COLUMNS:
            values = pd.Series(WITHHELD, index=rows.index).where(values.notna(), "")
        school = rows["school_id"] if "school_id" in rows else pd.Series(pd.NA, index=rows.index)
        self.parts.append(
            pd.DataFrame(
                {
                    "table": self.table,
                    "file": self.file,
                    "source_row": rows["source_row"].to_numpy(),
                    "action": action,
                    "reason": reason,
                    "column": column,
                    "value": pd.Series(values, index=rows.index)
                    .astype("str")
                    .fillna("")
                    .to_numpy(),
                    "school_id": school.astype("str").to_numpy(),
                }
            )
        )

    def frame_of_issues(self) -> pd.DataFrame:
        """Every entry so far, as a :data:`QUARANTINE_COLUMNS` table in source-row order."""
        if not self.parts:
            return empty_quarantine()
        return pd.concat(self.parts, ignore_index=True).sort_values(
            ["source_row", "action"], kind="stable", ignore_index=True
        )


def empty_quarantine() -> pd.DataFrame:
    """A quarantine table with no entries (the right columns and dtypes)."""
    frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in QUARANTINE_COLUMNS})
    return frame.astype({"source_row": "int64"})
