"""The district's figure for a group, worked out from what the schools publish.

A school's report sets each of its groups beside the same group across the district (same
year, term, subject and grade). A district total taken from the student rows would undo the
schools' suppression: the district figure minus the other schools' published figures is the
hidden one. So the district figure here is made **only from published school figures**: for
each group, the schools whose figure is shown exactly (not hidden, not coded ``≥95%``/``≤5%``)
are added up, and the count of schools it covers is kept beside it. It tells a reader nothing
the school rows do not already tell, so it needs no suppression of its own; where every
school publishes the group it equals the district's true figure.

>>> import pandas as pd
>>> a = pd.DataFrame({"school_id": ["01", "02", "03"], "school_year": "2025-26",
...     "term": "Spring", "subject": "ELA", "grade": "All", "dimension": "sex", "group": "F",
...     "n_tested": pd.array([20, 30, None], "Int64"),
...     "n_proficient": pd.array([10, 21, None], "Int64"),
...     "pct_proficient": [50.0, 70.0, None], "suppressed": [False, False, True],
...     "display": ["50%", "70%", "*"]})
>>> district_achievement(a)[["group", "n_schools", "of_schools", "n_tested", "display"]]
  group  n_schools  of_schools  n_tested display
0     F          2           3        50     62%
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.metrics.coding import display_labels

#: The columns naming one group of one district cell.
KEYS = ["school_year", "term", "subject", "grade", "dimension", "group"]
#: The columns of :func:`district_achievement`, in order.
COLUMNS = [
    *KEYS,
    "n_schools",
    "of_schools",
    "n_tested",
    "n_proficient",
    "pct_proficient",
    "display",
]


def district_achievement(achievement: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    """Per year, term, subject, grade, dimension and group: the schools that publish it exactly,
    added up.

    ``achievement``: the published achievement rows (``metrics.achievement``) of every school.
    Returns :data:`COLUMNS`: ``n_schools`` (schools counted), ``of_schools`` (schools with
    students in the group, shown or not: a row's existence is published), ``n_tested``,
    ``n_proficient``, ``pct_proficient`` (0-100) and ``display`` (coded with ``config``'s top
    and bottom codes, as a school's figure is). Groups no school publishes exactly are left
    out. Rows keep the order of their first appearance in ``achievement``.
    """
    config = config or Config()
    coded = [f"≥{config.top_code:g}%", f"≤{config.bottom_code:g}%"]
    exact = achievement[
        ~achievement["suppressed"].astype(bool).to_numpy()
        & achievement["n_proficient"].notna().to_numpy()
        & ~achievement["display"].isin(coded).to_numpy()
    ]
    if exact.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in COLUMNS})
    sums = (
        exact.groupby(KEYS, sort=False, observed=True)
        .agg(
            n_schools=("school_id", "nunique"),
            n_tested=("n_tested", "sum"),
            n_proficient=("n_proficient", "sum"),
        )
        .reset_index()
    )
    tested = sums["n_tested"].to_numpy(dtype=np.int64)
    pct = 100.0 * sums["n_proficient"].to_numpy(dtype=np.int64) / tested
    having = achievement.groupby(KEYS, sort=False, observed=True)["school_id"].nunique()
    sums = sums.join(having.rename("of_schools"), on=KEYS)
    return sums.assign(
        n_tested=tested,
        n_proficient=sums["n_proficient"].to_numpy(dtype=np.int64),
        pct_proficient=pct,
        display=display_labels(
            pct,
            np.zeros(len(pct), dtype=bool),
            top_code=config.top_code,
            bottom_code=config.bottom_code,
        ).to_numpy(),
    )[COLUMNS]
