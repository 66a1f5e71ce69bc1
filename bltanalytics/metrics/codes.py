"""Integer codes for columns of text, and text columns from codes: shared by the metric modules.

>>> codes, distinct = encode(pd.Series(["b", "a", "b", None], dtype="str"))
>>> codes.tolist(), distinct.tolist()
([0, 1, 0, -1], ['b', 'a'])
>>> strings(np.array(["x", "y"]), np.array([1, -1, 0])).tolist()
['y', nan, 'x']
>>> compact(np.array([7, 3, 7]), 10)[0].tolist()
[1, 0, 1]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Largest key space handled with dense arrays; beyond it keys are compacted by hashing.
DENSE_LIMIT = 1 << 24


def encode(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (int32, -1 = missing) and the distinct values (object array), in first-seen order.

    Arrow's dictionary encoding when the column is Arrow-backed (several times faster than
    ``pd.factorize`` on pandas' ``str`` columns), ``pd.factorize`` otherwise.
    """
    array = values.array
    if hasattr(array, "__arrow_array__"):
        arrow = array.__arrow_array__()
        if pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type):
            encoded = pc.dictionary_encode(arrow)
            if isinstance(encoded, pa.ChunkedArray):
                encoded = encoded.combine_chunks()
            codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
            distinct = encoded.dictionary.to_numpy(zero_copy_only=False).astype(object)
            return codes.astype(np.int32, copy=False), distinct
    codes, distinct = pd.factorize(values)
    return codes.astype(np.int32), np.asarray(distinct, dtype=object)


def compact(keys: np.ndarray, space: float) -> tuple[np.ndarray, np.ndarray]:
    """Renumber int keys 0..k-1 keeping their order; returns (codes, sorted distinct keys)."""
    if space <= DENSE_LIMIT:
        seen = np.zeros(int(space), dtype=bool)
        seen[keys] = True
        distinct = np.flatnonzero(seen)
        renumber = np.cumsum(seen, dtype=np.int32) - 1
        return renumber[keys].astype(np.int64), distinct
    codes, distinct = pd.factorize(keys, sort=True)
    return codes.astype(np.int64), np.asarray(distinct, dtype=np.int64)


def strings(labels: np.ndarray, codes: np.ndarray) -> pd.Series:
    """A pandas ``str`` column of ``labels[codes]`` (code -1 = missing), built by Arrow ``take``."""
    codes = np.asarray(codes)
    taken = pa.array(np.asarray(labels, dtype=object), type=pa.large_string()).take(
        pa.array(codes, mask=codes < 0, type=pa.int64())
    )
    return pd.Series(taken, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


# Above this many possible families, family codes are compacted with a hash instead of an array.
FAMILY_DENSE_LIMIT = 1 << 26


def column_codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes 0..k-1 for a column (categoricals use their codes), and k. NA is a value."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        k = len(values.cat.categories)
        if (codes < 0).any():
            codes = np.where(codes < 0, k, codes)
            k += 1
        return codes, k
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64), max(len(uniques), 1)


def family_codes(table: pd.DataFrame, family: list[str]) -> np.ndarray:
    """One integer per row naming its family, 0..F-1."""
    combined = np.zeros(len(table), dtype=np.int64)
    size = 1
    for column in family:
        codes, k = column_codes(table[column])
        if size * k >= FAMILY_DENSE_LIMIT:
            combined, uniques = pd.factorize(combined)
            size = max(len(uniques), 1)
        combined = combined * k + codes
        size *= k
    if size < FAMILY_DENSE_LIMIT and size <= 4 * len(table) + 1024:
        return combined
    return pd.factorize(combined)[0].astype(np.int64)


def name_rank(names: pd.Series) -> np.ndarray:
    """Rank of each group name in ascending order, for tie-breaking."""
    if isinstance(names.dtype, pd.CategoricalDtype):
        categories = names.cat.categories.astype(str)
        rank_of_category = np.empty(len(categories), dtype=np.int64)
        rank_of_category[np.argsort(categories.to_numpy(), kind="stable")] = np.arange(
            len(categories)
        )
        codes = names.cat.codes.to_numpy()
        return np.where(codes < 0, len(categories), rank_of_category[codes])
    return pd.factorize(names.astype(str), sort=True)[0].astype(np.int64)
