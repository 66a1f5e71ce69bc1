"""Write a frame as CSV exactly as ``DataFrame.to_csv(path, index=False)`` would, only faster.

The metrics export of a large district holds tables of millions of rows (``achievement.csv``
of 1,000 schools is about 1.9 million rows); pandas' CSV writer formats them one Python value
at a time (about 8 s for that file). :func:`write_csv` builds every line with Arrow compute
kernels instead (about 0.5 s) and writes the same bytes:

- text as it is, quoted only when it holds the delimiter, a quote (doubled) or a line break;
- whole numbers as digits; decimals as Python's ``repr`` (the shortest text that reads back as
  the same float, ``0.0``, ``43.790849673202615``, ``1e-05``);
- missing values as empty fields; booleans as ``true``/``false`` when ``lower_bools`` (the
  contract's spelling), else as pandas writes them (``True``/``False``).

Anything it does not handle the same way for certain (a column of another dtype, a carriage
return inside a text value, a one-column frame, a small frame) goes to pandas itself, so the
output never depends on which path wrote it (the tests compare both on every case).

>>> import pandas as pd, tempfile, pathlib
>>> frame = pd.DataFrame({"school_id": ["0101", "0102"], "pct": [62.5, 0.0],
...                       "published": [True, False]})
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = pathlib.Path(tmp) / "x.csv"
...     write_csv(frame, path, min_rows=0)
...     path.read_text()
'school_id,pct,published\\n0101,62.5,true\\n0102,0.0,false\\n'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = ["csv_ready", "write_csv"]

#: Frames with fewer rows go through pandas (it is fast enough there).
MIN_ROWS = 20_000
#: Lines are built this many rows at a time (bounds the memory of the text being built).
CHUNK_ROWS = 1 << 18
_NEEDS_QUOTES = r'[,"\n]'


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Booleans as lower-case ``true``/``false`` text (the contract's spelling), for pandas.

    >>> csv_ready(pd.DataFrame({"ok": [True, False]}))["ok"].tolist()
    ['true', 'false']
    """
    bools = [c for c in frame.columns if str(frame[c].dtype) in ("bool", "boolean")]
    if not bools:
        return frame
    return frame.assign(
        **{c: frame[c].map({True: "true", False: "false"}).astype("str") for c in bools}
    )


def write_csv(
    frame: pd.DataFrame, path: str | Path, *, lower_bools: bool = True, min_rows: int = MIN_ROWS
) -> None:
    """Write ``frame`` (without its index) to ``path`` as ``frame.to_csv(path, index=False)``.

    ``lower_bools``: booleans as ``true``/``false`` (:func:`csv_ready`). ``min_rows``: frames
    with fewer rows are written by pandas. Large frames are formatted :data:`CHUNK_ROWS` rows
    at a time, so the text being built stays small whatever the size of the table.
    """
    if len(frame) < min_rows or not _arrow_can_write(frame):
        (csv_ready(frame) if lower_bools else frame).to_csv(path, index=False)
        return
    header = ",".join(_quote(str(c)) for c in frame.columns) + "\n"
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    with open(path, "wb") as out:
        out.write(header.encode("utf-8"))
        for start in range(0, len(frame), CHUNK_ROWS):
            chunk = frame.iloc[start : start + CHUNK_ROWS]
            texts = [_column_text(chunk[name], lower_bools) for name in frame.columns]
            if not any(quoted for _, quoted in texts):
                # nothing to quote: Arrow's own writer, told never to quote
                table = pa.table([t for t, _ in texts], names=[f"c{i}" for i in range(len(texts))])
                pacsv.write_csv(table, out, options)
                continue
            lines = pc.binary_join_element_wise(
                *(t for t, _ in texts), _text(","), null_handling="replace", null_replacement=""
            )
            lines = pc.binary_join_element_wise(lines, _text(""), _text("\n"))
            out.write(_data_bytes(lines))


def _quote(text: str) -> str:
    if any(ch in text for ch in ',"\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _data_bytes(array: pa.Array) -> memoryview:
    """The characters of a large_string array, as one contiguous buffer (null: none)."""
    array = array.cast(pa.large_string()) if array.type != pa.large_string() else array
    if len(array) == 0 or array.buffers()[2] is None:
        return memoryview(b"")
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)
    first, last = offsets[array.offset], offsets[array.offset + len(array)]
    return memoryview(array.buffers()[2])[first:last]


def _arrow_can_write(frame: pd.DataFrame) -> bool:
    """Whether every column has a dtype formatted here exactly as pandas would."""
    if frame.shape[1] < 2 or any(not isinstance(c, str) or "\r" in c for c in frame.columns):
        return False  # a one-field line and odd headers have their own quoting rules
    for name in frame.columns:
        dtype = frame[name].dtype
        if isinstance(dtype, pd.StringDtype):
            text = _data_bytes(_arrow(frame[name]).cast(pa.large_string()))
            if (np.frombuffer(text, dtype=np.uint8) == ord("\r")).any():
                return False  # whether a bare carriage return is quoted depends on Python
        elif not (
            pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_integer_dtype(dtype)
            or dtype == np.float64
        ):
            return False
    return True


_SPECIAL = np.zeros(256, dtype=bool)
_SPECIAL[[ord(","), ord('"'), ord("\n")]] = True


def _column_text(column: pd.Series, lower_bools: bool) -> tuple[pa.Array, bool]:
    """A column as large_string (null = empty field), and whether any value was quoted.

    Only for the dtypes :func:`_arrow_can_write` accepts."""
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype):
        array = _arrow(column).cast(pa.large_string())
        characters = np.frombuffer(_data_bytes(array), dtype=np.uint8)
        if not _SPECIAL[characters].any():  # one pass over the bytes: the usual case
            return array, False
        needs = pc.fill_null(pc.match_substring_regex(array, _NEEDS_QUOTES), False)
        quoted = pc.binary_join_element_wise(
            _text('"'), pc.replace_substring(array, '"', '""'), _text('"'), _text("")
        )
        return pc.if_else(needs, quoted, array), True
    if pd.api.types.is_bool_dtype(dtype):  # bool and nullable boolean
        values = _arrow(column)
        words = ("true", "false") if lower_bools else ("True", "False")
        return pc.if_else(values, _text(words[0]), _text(words[1])), False
    if pd.api.types.is_integer_dtype(dtype):  # int* and nullable Int*
        return _arrow(column).cast(pa.large_string()), False
    return _float_text(column.to_numpy()), False


def _arrow(column: pd.Series) -> pa.Array:
    values = column.array
    if hasattr(values, "__arrow_array__"):
        array = values.__arrow_array__()
    else:
        array = pa.array(column.to_numpy(), from_pandas=True)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _has(text: pa.Array, part: str) -> np.ndarray:
    found = pc.fill_null(pc.match_substring(text, part), False)
    return found.to_numpy(zero_copy_only=False)


def _float_text(values: np.ndarray) -> pa.Array:
    """Python's ``repr`` of each float (missing: null), built by Arrow for the common cases.

    Arrow's cast writes the same shortest round-trip digits as ``repr`` in fixed notation;
    it differs only in where it switches to exponent notation and in dropping ``.0`` from
    whole numbers. Those values (few in practice) are formatted by ``repr`` itself.
    """
    missing = np.isnan(values)
    text = pa.array(values, mask=missing).cast(pa.large_string())
    size = np.abs(values)
    with np.errstate(invalid="ignore"):
        whole = ~missing & (values == np.round(values)) & (size < 1e15)
        odd = ~missing & ~whole & ((size < 1e-4) | (size >= 1e15))
    odd |= _has(text, "e")  # exponent notation (where Arrow has no ".", it has an "e")
    if whole.any():
        dotted = pc.binary_join_element_wise(text, _text(".0"), _text(""))
        text = pc.if_else(pa.array(whole & ~odd), dotted, text)
    if odd.any():
        exact = pa.array([repr(float(v)) for v in values[odd]], type=pa.large_string())
        text = pc.replace_with_mask(text, pa.array(odd), exact)
    return text
