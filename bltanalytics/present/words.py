"""Numbers and lists in words, vectorized where a column is formatted.

>>> percent(pd.Series([0.754, None])).tolist()
['75%', 'no data']
>>> join_words(["ELA", "Math", "Science"])
'ELA, Math and Science'
>>> plural(1, "student", "students"), plural(1200, "student", "students")
('1 student', '1,200 students')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bltanalytics.present.labels import LABELS

#: What a hidden figure shows as, in every table, chart label and export.
SUPPRESSED_MARK = "*"


def fixed(values: pd.Series, fmt: str, missing: str = "no data") -> pd.Series:
    """Numbers formatted with a printf-style ``fmt`` (``"%.1f"``, ``"%g"``), vectorized.

    >>> fixed(pd.Series([1.25, None]), "%.1f").tolist()
    ['1.2', 'no data']
    """
    numbers = values.astype("float64")
    text = np.char.mod(fmt, numbers.fillna(0.0).to_numpy())
    return pd.Series(text, index=values.index, dtype="str").where(numbers.notna(), missing)


def percent(share: pd.Series) -> pd.Series:
    """Shares (0-1) as whole percentages (half up); empty shares as ``no data``."""
    whole = np.floor(share.astype("float64") * 100 + 0.5)
    return (whole.astype("Int64").astype("str") + "%").fillna("no data").astype("str")


def join_words(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def say(display: str) -> str:
    """A displayed figure inside a sentence: the suppression mark becomes words.

    >>> say("*"), say("45%")
    ('not shown (too few students)', '45%')
    """
    return LABELS.say_suppressed if display == SUPPRESSED_MARK else str(display)


def lower_first(text: str) -> str:
    """``Walk-throughs`` -> ``walk-throughs``."""
    return text[:1].lower() + text[1:]


def plural(n: int, one: str, many: str) -> str:
    """A count with its noun, thousands separated."""
    return f"{n:,} {one if n == 1 else many}"


def article(word: str) -> str:
    """``a`` or ``an`` before ``word``.

    >>> article("elementary"), article("middle")
    ('an', 'a')
    """
    return "an" if word[:1].lower() in "aeiou" else "a"
