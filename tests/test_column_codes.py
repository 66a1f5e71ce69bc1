"""Codes made while cleaning, reused by achievement(): the same figures, never stale codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bltanalytics.config import Config
from bltanalytics.load import CODED_COLUMNS, ColumnCodes, load_district
from bltanalytics.metrics.achievement import achievement
from bltanalytics.sample import generate_district


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    folder = tmp_path_factory.mktemp("codes")
    # messy: padded ids, variant spellings, duplicates and dropped rows all go through the codes
    generate_district(folder, schools=4, students_per_school=60, seed=7, messy=True)
    return load_district(folder)


@pytest.mark.parametrize("table", ["assessments", "students"])
def test_codes_decode_to_the_cleaned_columns(district, table):
    frame = district.tables[table]
    codes = district.codes[table]
    assert set(codes) == {c for c in CODED_COLUMNS if c in frame.columns}
    for name, coded in codes.items():
        assert coded.of(frame[name]) is coded
        assert len(coded.codes) == len(frame)
        decoded = pd.Series(
            np.append(coded.distinct, None)[coded.codes], dtype="str", name=name
        )  # -1 picks the appended None
        pd.testing.assert_series_equal(decoded, frame[name].reset_index(drop=True))
        assert len(set(coded.distinct)) == len(coded.distinct)  # one code per value


def test_achievement_is_the_same_with_and_without_the_codes(district):
    a, s = district.tables["assessments"], district.tables["students"]
    for config in (Config(), Config(min_n=3)):
        with_codes = achievement(a, s, config, codes=district.codes)
        pd.testing.assert_frame_equal(with_codes, achievement(a, s, config))


def test_codes_of_a_changed_table_are_not_used(district):
    a, s = district.tables["assessments"], district.tables["students"]
    # the same length, other ids: stale codes would count the tests under the old students
    ids = a["student_id"].to_numpy()
    changed = a.assign(student_id=pd.Series(np.roll(ids, 7), dtype="str", index=a.index))
    assert district.codes["assessments"]["student_id"].of(changed["student_id"]) is None
    pd.testing.assert_frame_equal(
        achievement(changed, s, codes=district.codes), achievement(changed, s)
    )
    assert not achievement(changed, s).equals(achievement(a, s))
    # a copy is another column too
    copied = a.copy()
    assert district.codes["assessments"]["school_id"].of(copied["school_id"]) is None


def test_column_codes_are_only_for_their_own_column():
    column = pd.Series(["b", "a", "b"], dtype="str")
    coded = ColumnCodes(
        np.array([0, 1, 0], dtype=np.int8), np.array(["b", "a"], object), column.array
    )
    assert coded.of(column) is coded
    assert coded.of(column.copy()) is None
    assert coded.of(pd.Series(["b", "a", "b"], dtype="str")) is None
