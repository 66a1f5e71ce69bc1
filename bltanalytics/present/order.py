"""The order things are shown in: terms, grades, subjects, dimensions.

Known values come in their natural order (Fall before Winter; K before 1; ELA before Math),
values outside it after them by name, so a district's own subject still shows.

>>> ordered(pd.Series(["Spring", "Fall", "Winter"]), "term")
['Fall', 'Winter', 'Spring']
>>> ordered(pd.Series(["10", "K", "2", "All"]), "grade")
['K', '2', '10', 'All']
>>> categorical(pd.Series(["Math", "Art", "ELA"]), "subject").sort_values().tolist()
['ELA', 'Math', 'Art']
"""

from __future__ import annotations

import pandas as pd

from bltanalytics.present.labels import LABELS

ORDERS: dict[str, tuple[str, ...]] = {
    "term": ("Fall", "Winter", "Spring"),
    "grade": ("PK", "K", *map(str, range(1, 13)), "All"),
    "subject": ("ELA", "Math", "Science", "Social Studies"),
    "dimension": tuple(LABELS.dimensions),
}

TERM_ORDER = ORDERS["term"]
SUBJECT_ORDER = ORDERS["subject"]
GRADE_ORDER = ORDERS["grade"]
DIMENSION_ORDER = ORDERS["dimension"]


def ordered(values: pd.Series, kind: str) -> list[str]:
    """The distinct non-missing values, in the order of ``kind`` (a key of :data:`ORDERS`)."""
    order = ORDERS[kind]
    present = pd.Series(values).dropna().astype("str").unique().tolist()
    rank = {v: i for i, v in enumerate(order)}
    return sorted(present, key=lambda v: (rank.get(v, len(rank)), v))


def categorical(values: pd.Series, kind: str) -> pd.Series:
    """``values`` as an ordered categorical of the values present, in :func:`ordered` order."""
    return pd.Series(
        pd.Categorical(values, categories=ordered(values, kind), ordered=True), index=values.index
    )


def rank(values: pd.Series, kind: str) -> pd.Series:
    """Each value's position in the order of ``kind`` (unknown values after the known ones)."""
    order = {v: i for i, v in enumerate(ORDERS[kind])}
    return values.map(order).fillna(len(order)).astype("float64")
