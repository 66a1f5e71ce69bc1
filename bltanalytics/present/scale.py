"""Scale-score rows made ready to show: labels, the mean to 1 decimal, Hedges' g in words.

>>> from bltanalytics.config import Config
>>> rows = pd.DataFrame({"school_id": "A", "school_year": "2025-26", "term": "Spring",
...     "subject": "ELA", "grade": "All", "dimension": ["all", "sex", "sex", "sex"],
...     "group": ["All Students", "F", "M", "X"], "n_tested": pd.array([42, 20, 20, None], "Int64"),
...     "mean_scale_score": [201.25, 205.04, 196.3, None], "sd_scale_score": [10.0, 9.0, 9.5, None],
...     "effect_size": [None, 0.4249, -0.418, None], "suppressed": [False, False, False, True],
...     "suppression_reason": [None, None, None, "min_n"]})
>>> view = scale_view(rows, Config())
>>> view[["group_label", "tested", "mean_label", "sd_label"]]
    group_label tested mean_label sd_label
0  All Students     42      201.2     10.0
1        Female     20      205.0      9.0
2          Male     20      196.3      9.5
3    Non-binary      *          *        *
>>> view["g_label"].tolist()[1:]
['g = 0.42 (higher than the rest of the family)', 'g = −0.42 (lower than the rest of the \
family)', '*']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.present.labels import LABELS, dimension_labels, group_labels
from bltanalytics.present.notes import reason_notes
from bltanalytics.present.words import SUPPRESSED_MARK, fixed

MINUS = "\u2212"


def effect_words(g: pd.Series) -> pd.Series:
    """Hedges' g to 2 decimals with its words (``g = −0.42 (lower than ...)``); empty ones
    ``not computed``.

    >>> effect_words(pd.Series([-0.004, 0.8, None])).tolist()
    ['g = 0.00 (the same as the rest of the family)', 'g = 0.80 (higher than the rest of the \
family)', 'not computed']
    """
    words = LABELS.effect_size
    rounded = g.astype("float64").round(2)
    text = fixed(rounded.abs(), "%.2f", "")
    sign = np.where(rounded < 0, MINUS, "")
    kind = np.select([rounded < 0, rounded > 0], [words["lower"], words["higher"]], words["equal"])
    out = "g = " + pd.Series(sign, index=g.index) + text + " (" + pd.Series(kind, index=g.index)
    return (out + ")").where(rounded.notna(), words["none"]).astype("str")


def effect_size_note(config: Config) -> str:
    """What the mean and g mean, in plain words."""
    return " ".join(LABELS.notes["effect_size"].split())


def scale_view(rows: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Scale-score rows plus what a reader sees of each: ``dimension_label``, ``group_label``,
    ``tested`` (students with a score, or ``*``), ``mean_label`` (1 decimal, or ``*``),
    ``sd_label``, ``g_label`` (g in words; ``*`` where hidden, empty on All Students) and
    ``note`` (why hidden, the achievement section's words; empty when shown)."""
    hidden = rows["suppressed"].astype(bool).to_numpy()
    is_all = (rows["dimension"] == "all").to_numpy()
    g = effect_words(rows["effect_size"]).to_numpy()
    g = np.where(hidden, SUPPRESSED_MARK, np.where(is_all, "", g))
    tested = rows["n_tested"].astype("Int64").astype("str").where(~hidden, SUPPRESSED_MARK)
    return rows.assign(
        dimension_label=dimension_labels(rows["dimension"]).to_numpy(),
        group_label=group_labels(rows["dimension"], rows["group"]).to_numpy(),
        tested=tested.fillna(SUPPRESSED_MARK).astype("str").to_numpy(),
        mean_label=fixed(rows["mean_scale_score"], "%.1f", SUPPRESSED_MARK).to_numpy(),
        sd_label=fixed(rows["sd_scale_score"], "%.1f", "").where(~hidden, SUPPRESSED_MARK),
        g_label=pd.array(g, dtype="str"),
        note=reason_notes(rows["suppression_reason"], config).where(hidden, "").to_numpy(),
    )


def scale_table(view: pd.DataFrame) -> pd.DataFrame:
    """The table a reader sees: group, students with a score, mean, SD, g, and why hidden."""
    return pd.DataFrame(
        {
            "Dimension": view["dimension_label"].to_numpy(),
            "Group": view["group_label"].to_numpy(),
            "Students with a score": view["tested"].to_numpy(),
            "Mean scale score": view["mean_label"].to_numpy(),
            "SD": view["sd_label"].astype("str").to_numpy(),
            "Effect size (Hedges' g)": view["g_label"].astype("str").to_numpy(),
            "Note": view["note"].to_numpy(),
        }
    )
