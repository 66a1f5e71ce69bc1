"""A generated :class:`Table` and the small vectorized helpers that make its columns.

Numbers are generated as numpy arrays and become table columns as pyarrow arrays; these helpers,
shared by the generator's modules, turn codes into strings, numbers into ids and day numbers
into dates without a Python loop.

>>> take(("N", "Y"), np.array([1, 0, 1]), np.array([False, False, True])).to_pylist()
['Y', 'N', None]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: grade labels by ``grade + 1`` (grade -1 is pre-kindergarten, 0 kindergarten)
GRADE_LABELS = ("PK", "K", *map(str, range(1, 13)))


@dataclass
class Table:
    """One generated table: ``columns`` (pyarrow arrays of one length, contract column names)
    and ``aux``, row-aligned numpy arrays the mess step uses to choose rows (e.g. ``year``)."""

    name: str
    columns: dict[str, pa.Array]
    aux: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        return len(next(iter(self.columns.values())))


# dates ----------------------------------------------------------------------------------------


def day_number(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 (the int behind ``date32``).

    >>> day_number(1970, 1, 2), day_number(2024, 7, 1)
    (1, 19905)
    """
    return int(
        (np.datetime64(f"{year:04d}-{month:02d}-{day:02d}") - np.datetime64(0, "D")).item().days
    )


def weekday(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays to the next Monday (1970-01-01 was a Thursday).

    >>> weekday(np.array([1, 2, 3, 4]))  # Fri, Sat, Sun, Mon
    array([1, 4, 4, 4])
    """
    dow = (days + 3) % 7  # Monday = 0
    return days + np.where(dow == 5, 2, np.where(dow == 6, 1, 0))


# columns ----------------------------------------------------------------------------------------


def text(values) -> pa.Array:
    """A string column of ``values`` (any iterable of str).

    >>> text(np.array(["a", "b"])).to_pylist()
    ['a', 'b']
    """
    return pa.array(list(values), pa.string())


def take(vocab, codes: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Strings ``vocab[codes]`` (null where ``missing``), vectorized.

    >>> take(["x", "y"], np.array([1, 1, 0])).to_pylist()
    ['y', 'y', 'x']
    """
    vocab = vocab if isinstance(vocab, pa.Array) else text(vocab)
    return pc.take(vocab, pa.array(np.asarray(codes, dtype=np.int64), mask=missing))


def ids(numbers: np.ndarray, width: int, prefix: str = "") -> pa.Array:
    """Zero-padded id strings.

    >>> ids(np.array([7, 12]), 4, "R").to_pylist()
    ['R0007', 'R0012']
    """
    text = pc.utf8_lpad(pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, text, "") if prefix else text


def id_width(largest: int, minimum: int) -> int:
    """Digits an id needs for numbers up to ``largest``, at least ``minimum``.

    >>> id_width(120, 4), id_width(123456, 4)
    (4, 6)
    """
    return max(minimum, len(str(int(largest))))


def yn(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """``Y``/``N`` for true/false (null where ``missing``).

    >>> yn(np.array([True, False])).to_pylist()
    ['Y', 'N']
    """
    return take(("N", "Y"), values.astype(np.int64), missing)


def dates(days: np.ndarray) -> pa.Array:
    """A ``date32`` column from day numbers (see :func:`day_number`).

    >>> dates(np.array([0])).to_pylist()
    [datetime.date(1970, 1, 1)]
    """
    return pa.array(np.asarray(days, dtype=np.int32), pa.date32())


def ints(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """An ``int64`` column (null where ``missing``).

    >>> ints(np.array([1.0, 2.0]), np.array([False, True])).to_pylist()
    [1, None]
    """
    return pa.array(np.asarray(values, dtype=np.int64), mask=missing)


def floats(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """A ``float64`` column (null where ``missing``).

    >>> floats(np.array([0.5, 2])).to_pylist()
    [0.5, 2.0]
    """
    return pa.array(np.asarray(values, dtype=np.float64), mask=missing)


def as_text(arr: pa.Array) -> pa.Array:
    """``arr`` as a string column (already one: unchanged; dates: ISO text).

    >>> as_text(ints(np.array([3]))).to_pylist()
    ['3']
    """
    return arr if pa.types.is_string(arr.type) else arr.cast(pa.string())


def grade_label(grade: np.ndarray) -> pa.Array:
    """Canonical grade labels for grade numbers (-1 pre-kindergarten, 0 kindergarten).

    >>> grade_label(np.array([-1, 0, 3])).to_pylist()
    ['PK', 'K', '3']
    """
    return take(GRADE_LABELS, grade + 1)


# index arithmetic ------------------------------------------------------------------------------


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for each start and length, vectorized.

    >>> ranges(np.array([10, 20]), np.array([2, 3]))
    array([10, 11, 20, 21, 22])
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(np.asarray(starts, dtype=np.int64), lengths) + np.arange(total) - offsets


def segments(keys: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Start offset and count of each key value in a key-sorted array.

    >>> segments(np.array([0, 0, 2]), 3)
    (array([0, 2, 2]), array([2, 0, 1]))
    """
    counts = np.bincount(keys, minlength=n_keys)
    return np.cumsum(counts) - counts, counts


def ranks_in_sorted(groups: np.ndarray) -> np.ndarray:
    """Position within runs of equal, already grouped values.

    >>> ranks_in_sorted(np.array([5, 5, 5, 2, 2, 9]))
    array([0, 1, 2, 0, 1, 0])
    """
    if len(groups) == 0:
        return np.zeros(0, np.int64)
    starts = np.r_[0, np.flatnonzero(groups[1:] != groups[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(groups)])
    return np.arange(len(groups)) - np.repeat(starts, counts)
