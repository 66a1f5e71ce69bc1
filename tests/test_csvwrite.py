"""The fast CSV writer writes exactly the bytes pandas writes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bltanalytics.metrics.csvwrite import csv_ready, write_csv


def both(frame: pd.DataFrame, tmp_path, **kwargs) -> tuple[bytes, bytes]:
    """(what pandas writes, what write_csv writes with its fast path forced)."""
    expected = tmp_path / "pandas.csv"
    ours = tmp_path / "ours.csv"
    csv_ready(frame).to_csv(expected, index=False)
    write_csv(frame, ours, min_rows=0, **kwargs)
    return expected.read_bytes(), ours.read_bytes()


TRICKY_FLOATS = [
    0.0,
    -0.0,
    1.0,
    100.0,
    43.790849673202615,
    1e-4,
    9.99e-05,
    1e-05,
    2.5e-07,
    -7.105427357601002e-15,
    1e14,
    1e15,
    123456789012345.6,
    1e16,
    1.2345e16,
    1e21,
    1e22,
    float("inf"),
    float("-inf"),
    float("nan"),
    5e-324,
    1.7976931348623157e308,
    1 / 3,
    2 / 3 * 100,
]


def test_the_fast_path_matches_pandas_on_every_dtype(tmp_path):
    n = len(TRICKY_FLOATS)
    frame = pd.DataFrame(
        {
            "school_id": pd.Series([f"{i:04d}" for i in range(n)], dtype="str"),
            "text": pd.Series(
                ["plain", "a,b", 'say "hi"', "two\nlines", "", None, " padded ", "é ≥95% *"]
                + ["x"] * (n - 8),
                dtype="str",
            ),
            "value": TRICKY_FLOATS,
            "count": pd.array([1, None, 3] + list(range(n - 3)), dtype="Int64"),
            "plain_int": np.arange(n, dtype=np.int64) - 5,
            "flag": [True, False] * (n // 2),
            "maybe": pd.array([True, None, False] + [None] * (n - 3), dtype="boolean"),
        }
    )
    expected, ours = both(frame, tmp_path)
    assert ours == expected
    # the quoted text made it through the slower joined path; without it Arrow's writer runs
    plain = frame.drop(columns="text")
    expected, ours = both(plain, tmp_path)
    assert ours == expected


def test_booleans_as_pandas_writes_them_when_asked(tmp_path):
    frame = pd.DataFrame({"a": [True, False], "b": pd.array([True, None], dtype="boolean")})
    path = tmp_path / "x.csv"
    write_csv(frame, path, min_rows=0, lower_bools=False)
    assert path.read_text() == frame.to_csv(index=False) == "a,b\nTrue,True\nFalse,\n"


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"only": ["a", "", None]}, dtype="str"),  # one field per line
        pd.DataFrame({"a": ["x\ry", "z"], "b": [1, 2]}).astype({"a": "str"}),  # bare CR
        pd.DataFrame({"a": pd.Series(["x", None], dtype=object), "b": [1, 2]}),  # object
        pd.DataFrame({"when": pd.to_datetime(["2025-01-02", None]), "b": [1.5, 2.0]}),
    ],
)
def test_what_it_does_not_handle_goes_to_pandas(frame, tmp_path):
    expected, ours = both(frame, tmp_path)
    assert ours == expected


def test_large_frames_are_written_in_chunks(tmp_path, monkeypatch):
    import bltanalytics.metrics.csvwrite as module

    monkeypatch.setattr(module, "CHUNK_ROWS", 7)
    frame = pd.DataFrame(
        {"a": pd.Series([f"v,{i}" for i in range(50)], dtype="str"), "b": np.arange(50) / 7}
    )
    expected, ours = both(frame, tmp_path)
    assert ours == expected


def test_small_frames_use_pandas_and_empty_frames_work(tmp_path):
    frame = pd.DataFrame({"a": pd.Series([], dtype="str"), "b": pd.Series([], dtype=float)})
    expected, ours = both(frame, tmp_path)
    assert ours == expected == b"a,b\n"


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)
# text a file can hold: no lone surrogates (not encodable as UTF-8), no CR or NUL
texts = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(blacklist_characters="\r\x00", blacklist_categories=("Cs",))),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(
        st.tuples(finite_or_not, texts, st.one_of(st.none(), st.integers(-(2**62), 2**62))),
        min_size=1,
        max_size=40,
    )
)
def test_any_floats_texts_and_integers_match_pandas(values, tmp_path):
    frame = pd.DataFrame(
        {
            "f": [v[0] for v in values],
            "t": pd.Series([v[1] for v in values], dtype="str"),
            "i": pd.array([v[2] for v in values], dtype="Int64"),
        }
    )
    expected, ours = both(frame, tmp_path)
    assert ours == expected


def test_float_text_is_python_repr():
    from bltanalytics.metrics.csvwrite import _float_text

    values = np.array([v for v in TRICKY_FLOATS if not math.isnan(v)])
    assert _float_text(values).to_pylist() == [repr(float(v)) for v in values]
