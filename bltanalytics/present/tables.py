"""Tables as a reader sees them: one row per thing, one column per term, year or school.

>>> long = pd.DataFrame({"period": ["Fall", "Fall", "Spring"], "subject": ["ELA", "Math", "ELA"],
...                      "display": ["40%", "*", "55%"]})
>>> wide(long, row="period", column="subject", value="display", columns=["ELA", "Math"],
...      fill="no test", row_header="Term").values.tolist()
[['Fall', '40%', '*'], ['Spring', '55%', 'no test']]
"""

from __future__ import annotations

import pandas as pd


def wide(
    frame: pd.DataFrame,
    *,
    row: str,
    column: str,
    value: str,
    columns: list[str],
    fill: str,
    row_header: str,
) -> pd.DataFrame:
    """``frame``'s ``value`` (text, as shown) with a row per ``row`` in first-seen order and a
    column per entry of ``columns`` in that order; an empty cell shows ``fill``; the first
    column is headed ``row_header``."""
    table = (
        frame.pivot_table(index=row, columns=column, values=value, aggfunc="first", sort=False)
        .reindex(columns=columns)
        .fillna(fill)
        .reset_index()
        .rename(columns={row: row_header})
    )
    table.columns.name = None
    return table
