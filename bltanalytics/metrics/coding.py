"""How a published percentage reads, and the words of the rule: ``*``, ``≥95%``, ``≤5%``.

>>> display_labels(np.array([95.0, 94.9, 62.5, 5.2, 5.0, 50.0]),
...                np.array([False] * 5 + [True])).tolist()
['≥95%', '94%', '63%', '6%', '≤5%', '*']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.metrics.codes import strings

_DEFAULTS = Config()

#: What a suppressed figure displays as.
SUPPRESSED_MARK = "*"
#: ``suppression_reason`` values.
REASON_MIN_N = "min_n"
REASON_COMPLEMENTARY = "complementary"
REASONS = np.array([REASON_MIN_N, REASON_COMPLEMENTARY])


def display_labels(
    pct: np.ndarray,
    suppressed: np.ndarray,
    *,
    top_code: float = _DEFAULTS.top_code,
    bottom_code: float = _DEFAULTS.bottom_code,
) -> pd.Series:
    """What a reader sees for each percentage: ``*``, ``≥95%``, ``≤5%`` or a whole number.

    Whole numbers are rounded half up and kept strictly between the codes (94.9 shows ``94%``).

    >>> display_labels(np.array([95.0, 94.9, 62.5, 5.2, 5.0, 50.0]),
    ...                np.array([False] * 5 + [True])).tolist()
    ['≥95%', '94%', '63%', '6%', '≤5%', '*']
    """
    pct = np.asarray(pct, dtype=float)
    lowest = int(np.floor(bottom_code)) + 1
    highest = int(np.ceil(top_code)) - 1
    middle = np.arange(lowest, highest + 1)
    labels = np.array(
        [SUPPRESSED_MARK, f"≥{top_code:g}%", f"≤{bottom_code:g}%", *(f"{v}%" for v in middle)]
    )
    with np.errstate(invalid="ignore"):
        whole = np.clip(np.floor(np.nan_to_num(pct) + 0.5), lowest, highest).astype(np.int64)
        code = np.select(
            [np.asarray(suppressed) | np.isnan(pct), pct >= top_code, pct <= bottom_code],
            [0, 1, 2],
            default=whole - lowest + 3,
        )
    return strings(labels, code)


def shown_pct(
    display: pd.Series,
    pct: pd.Series,
    *,
    top_code: float = _DEFAULTS.top_code,
    bottom_code: float = _DEFAULTS.bottom_code,
) -> pd.Series:
    """The percentage a reader can rank by: the published one, or the bound a code gives.

    ``≥95%`` ranks as 95 and ``≤5%`` as 5 (their exact values are not published); a hidden
    group (``*``) is empty. A coded gap ranks by its bound the same way:
    ``shown_pct(group) - shown_pct(All Students)``.

    >>> shown_pct(pd.Series(["≥95%", "63%", "≤5%", "*"]),
    ...           pd.Series([float("nan"), 62.5, float("nan"), float("nan")])).tolist()
    [95.0, 62.5, 5.0, nan]
    """
    text = display.astype("str").to_numpy()
    value = pd.to_numeric(pct, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    value = np.where(text == f"≥{top_code:g}%", top_code, value)
    value = np.where(text == f"≤{bottom_code:g}%", bottom_code, value)
    value = np.where(text == SUPPRESSED_MARK, np.nan, value)
    return pd.Series(value, index=display.index, name="shown_pct")
