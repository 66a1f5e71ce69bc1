"""What a reader may know of a coded or hidden figure: bar positions, bounds, gaps, their rank.

A percentage at or above the top code shows as ``≥95%``: the reader knows it lies in [95, 100],
no more. Everything drawn or ranked from it uses that interval, never the exact value (which
the export does not even publish): a bar stops at the code, a gap beside it is the range it
must lie in (``+34 to +40``), and gaps are ranked by the end of that range nearest zero (the
contract's "a coded gap ranks by its bound"). A hidden figure (``*``) has no position at all.

>>> plot_values(pd.Series([97.0, 40.0]), pd.Series(["≥95%", "40%"])).tolist()
[95.0, 40.0]
>>> text, rank = difference(pd.Series([60.25]), pd.Series(["60%"]),
...                         pd.Series([None]), pd.Series(["≥95%"]))
>>> text.tolist(), rank.tolist()
(['+34 to +40'], [34.75])
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: A top- or bottom-coded display label: its sign and code.
CODED = re.compile(r"^([≥≤])\s*([0-9]+(?:\.[0-9]+)?)%$")


def coded(display: pd.Series) -> tuple[pd.Series, pd.Series]:
    """For each display label: the code sign (``≥``/``≤``, else NA) and the code value."""
    parts = display.astype("str").str.extract(CODED.pattern)
    return parts[0], parts[1].astype("float64")


def is_coded(display: pd.Series) -> pd.Series:
    """True where the label is a top or bottom code.

    >>> is_coded(pd.Series(["≥95%", "50%", "*"])).tolist()
    [True, False, False]
    """
    return coded(display)[0].notna()


def plot_values(pct: pd.Series, display: pd.Series) -> pd.Series:
    """Bar positions: the percentage, held at the code where it is top- or bottom-coded."""
    sign, code = coded(display)
    return pct.astype("float64").where(sign.isna(), code)


def interval(exact: pd.Series, display: pd.Series) -> tuple[pd.Series, pd.Series]:
    """What a reader can know of a percentage: [exact, exact], or [code, 100] / [0, code].

    >>> low, high = interval(pd.Series([None, 40.0]), pd.Series(["≤5%", "40%"]))
    >>> low.tolist(), high.tolist()
    ([0.0, 40.0], [5.0, 40.0])
    """
    sign, code = coded(display)
    exact = exact.astype("float64")
    low = exact.where(sign.isna(), code.where(sign == "≥", 0.0))
    high = exact.where(sign.isna(), code.where(sign == "≤", 100.0))
    return low, high


def signed(values: pd.Series) -> pd.Series:
    """Whole numbers with a sign: ``+4``, ``-3``, ``0`` (rounded half away from zero).

    >>> signed(pd.Series([3.5, -2.4, 0.2])).tolist()
    ['+4', '-2', '0']
    """
    whole = np.sign(values) * np.floor(np.abs(values) + 0.5)
    text = whole.astype("Int64").astype("str")
    return text.where(~(whole > 0), "+" + text).astype("str")


def difference(
    base: pd.Series, base_display: pd.Series, other: pd.Series, other_display: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """``other - base`` in whole points as shown, and the value to rank or plot it by.

    Both exact: the signed difference (``+4``). Either side top- or bottom-coded: the range the
    difference must lie in, widened to whole points (``+34 to +40``), so the label never tells
    more than the coded percentage does; it is ranked by the end nearest zero. Empty where
    either side is empty (hidden).

    >>> difference(pd.Series([60.25, 60.25]), pd.Series(["60%", "60%"]),
    ...            pd.Series([97.0, 23.5]), pd.Series(["≥95%", "24%"]))[0].tolist()
    ['+34 to +40', '-37']
    """
    b_low, b_high = interval(base, base_display)
    o_low, o_high = interval(other, other_display)
    low, high = o_low - b_high, o_high - b_low
    exact = (low == high).to_numpy()
    rng = signed(np.floor(low + 1e-9)) + " to " + signed(np.ceil(high - 1e-9))
    label = signed(low).where(exact, rng)
    nearest = high.where(high < 0, low.where(low > 0, 0.0))
    missing = (low.isna() | high.isna()).to_numpy()
    return label.where(~missing, "").astype("str"), nearest.where(~missing)
