"""Trends: Fall to Spring and year over year, never computed from a suppressed figure."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.metrics.achievement import achievement
from bltanalytics.metrics.trends import TREND_COLUMNS, trends


def published(rows: list[tuple], **keys) -> pd.DataFrame:
    """Achievement-shaped rows: (school_year, term, pct or None for suppressed)."""
    base = dict(school_id="0101", subject="Math", grade="3", dimension="all", group="All Students")
    base.update(keys)
    frame = pd.DataFrame(
        [
            {
                **base,
                "school_year": year,
                "term": term,
                "pct_proficient": np.nan if pct is None else pct,
                "suppressed": pct is None,
            }
            for year, term, pct in rows
        ]
    )
    return frame.astype({c: "str" for c in [*base, "school_year", "term"]})


def as_tuples(out: pd.DataFrame) -> list[tuple]:
    columns = ["comparison", "from_year", "from_term", "to_year", "to_term"]
    return [tuple(r) for r in out[columns].itertuples(index=False)]


def test_fall_to_spring_and_year_over_year():
    out = trends(
        published(
            [
                ("2024-25", "Fall", 40.0),
                ("2024-25", "Winter", 45.0),
                ("2024-25", "Spring", 50.0),
                ("2025-26", "Fall", 30.0),
                ("2025-26", "Spring", 65.0),
            ]
        )
    )
    assert list(out.columns) == TREND_COLUMNS
    assert as_tuples(out) == [
        ("fall_to_spring", "2024-25", "Fall", "2024-25", "Spring"),
        ("fall_to_spring", "2025-26", "Fall", "2025-26", "Spring"),
        ("year_over_year", "2024-25", "Fall", "2025-26", "Fall"),
        ("year_over_year", "2024-25", "Spring", "2025-26", "Spring"),
    ]
    assert out["from_pct"].tolist() == [40.0, 30.0, 40.0, 50.0]
    assert out["to_pct"].tolist() == [50.0, 65.0, 30.0, 65.0]
    assert out["change_pp"].tolist() == [10.0, 35.0, -10.0, 15.0]  # sign: to minus from
    row = out.iloc[0]
    assert (row["school_id"], row["subject"], row["grade"], row["dimension"], row["group"]) == (
        "0101",
        "Math",
        "3",
        "all",
        "All Students",
    )


def test_year_over_year_needs_consecutive_years():
    out = trends(published([("2023-24", "Spring", 40.0), ("2025-26", "Spring", 60.0)]))
    assert len(out) == 0
    assert list(out.columns) == TREND_COLUMNS


def test_a_missing_end_gives_no_row():
    out = trends(published([("2025-26", "Fall", 40.0), ("2025-26", "Winter", 60.0)]))
    assert len(out) == 0


def test_never_a_change_from_a_suppressed_figure():
    out = trends(
        published(
            [
                ("2024-25", "Fall", None),
                ("2024-25", "Spring", 50.0),
                ("2025-26", "Fall", 45.0),
                ("2025-26", "Spring", None),
            ]
        )
    )
    assert as_tuples(out) == [
        ("fall_to_spring", "2024-25", "Fall", "2024-25", "Spring"),
        ("fall_to_spring", "2025-26", "Fall", "2025-26", "Spring"),
        ("year_over_year", "2024-25", "Fall", "2025-26", "Fall"),
        ("year_over_year", "2024-25", "Spring", "2025-26", "Spring"),
    ]
    assert out["change_pp"].isna().all()
    np.testing.assert_array_equal(out["from_pct"], [np.nan, 45.0, np.nan, 50.0])
    np.testing.assert_array_equal(out["to_pct"], [50.0, np.nan, 45.0, np.nan])


def test_a_suppressed_row_that_still_carries_a_figure_is_not_used():
    frame = published([("2025-26", "Fall", 40.0), ("2025-26", "Spring", 70.0)])
    frame.loc[1, "suppressed"] = True  # flagged suppressed but the figure was left in
    out = trends(frame)
    assert np.isnan(out["to_pct"].iloc[0]) and np.isnan(out["change_pp"].iloc[0])


def test_groups_are_kept_apart_and_in_input_order():
    frame = pd.concat(
        [
            published(
                [("2025-26", "Fall", 10.0), ("2025-26", "Spring", 20.0)], group="M", dimension="sex"
            ),
            published(
                [("2025-26", "Fall", 50.0), ("2025-26", "Spring", 40.0)], group="F", dimension="sex"
            ),
            published([("2025-26", "Fall", 70.0), ("2025-26", "Spring", 75.0)], school_id="0202"),
        ],
        ignore_index=True,
    )
    out = trends(frame)
    assert out["group"].tolist() == ["M", "F", "All Students"]
    assert out["school_id"].tolist() == ["0101", "0101", "0202"]
    assert out["change_pp"].tolist() == [10.0, -10.0, 5.0]


def test_reads_achievement_reloaded_from_csv():
    frame = published([("2025-26", "Fall", 40.0), ("2025-26", "Spring", None)])
    frame = pd.concat(
        [
            frame,
            published(
                [("2025-26", "Fall", 20.0), ("2025-26", "Spring", 30.0)], group="F", dimension="sex"
            ),
        ],
        ignore_index=True,
    )
    text = frame.to_csv(index=False)
    reloaded = pd.read_csv(io.StringIO(text), dtype={"school_id": "str", "grade": "str"})
    out = trends(reloaded)
    assert out["school_id"].tolist() == ["0101", "0101"]
    assert np.isnan(out["change_pp"].iloc[0])
    assert out["change_pp"].iloc[1] == 10.0


def test_end_to_end_from_achievement():
    ids = [f"s{i:02d}" for i in range(40)]
    rows = []
    for term, n_prof in (("Fall", 10), ("Spring", 30)):
        for i, sid in enumerate(ids):
            rows.append(
                {
                    "student_id": sid,
                    "school_id": "0101",
                    "school_year": "2025-26",
                    "term": term,
                    "subject": "ELA",
                    "grade": "5",
                    "proficient": i < n_prof,
                }
            )
    tests = pd.DataFrame(rows).astype({c: "str" for c in rows[0] if c != "proficient"})
    tests["proficient"] = tests["proficient"].astype("boolean")
    people = pd.DataFrame(
        {
            "student_id": ids,
            "school_id": "0101",
            "school_year": "2025-26",
            "sex": ["F"] * 2 + ["M"] * 38,
        }
    ).astype("str")
    out = trends(achievement(tests, people, Config()))
    all_students = out[(out["dimension"] == "all") & (out["grade"] == "5")]
    assert all_students["change_pp"].tolist() == [50.0]  # 25% -> 75%
    sex = out[out["dimension"] == "sex"]
    assert set(sex["group"]) == {"F", "M"}
    assert sex.loc[sex["group"] == "F", "change_pp"].isna().all()  # F is min_n, both terms


def test_input_is_not_mutated():
    frame = published([("2025-26", "Fall", 40.0), ("2025-26", "Spring", 50.0)])
    before = frame.copy(deep=True)
    trends(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_errors_name_the_problem():
    with pytest.raises(BltError, match="pct_proficient"):
        trends(published([("2025-26", "Fall", 40.0)]).drop(columns="pct_proficient"))
    with pytest.raises(BltError, match="not canonical"):
        trends(published([("2025", "Fall", 40.0)]))
    with pytest.raises(BltError, match="more than one row"):
        trends(published([("2025-26", "Fall", 40.0), ("2025-26", "Fall", 45.0)]))
    bad = published([("2025-26", "Fall", 40.0)])
    bad["suppressed"] = "maybe"
    with pytest.raises(BltError, match="suppressed must be true or false"):
        trends(bad)


def test_empty_input():
    out = trends(published([("2025-26", "Fall", 1.0)]).iloc[:0])
    assert len(out) == 0 and list(out.columns) == TREND_COLUMNS


def test_hash_path_gives_the_same_table(monkeypatch):
    import bltanalytics.metrics.trends as module

    frame = pd.concat(
        [
            published([("2024-25", "Fall", 40.0), ("2025-26", "Fall", 30.0)], group=g)
            for g in ("A", "B")
        ]
        + [published([("2025-26", "Fall", None), ("2025-26", "Spring", 60.0)])],
        ignore_index=True,
    )
    expected = trends(frame)
    assert len(expected) == 3
    monkeypatch.setattr(module, "_DENSE_LIMIT", 0)
    monkeypatch.setattr(module, "_DENSE_FACTOR", 0)
    pd.testing.assert_frame_equal(trends(frame), expected)


def test_a_coded_end_gives_no_exact_change():
    frame = published([("2025-26", "Fall", 40.0), ("2025-26", "Spring", 96.0)])
    out = trends(frame)
    assert out["from_pct"].tolist() == [40.0]
    assert out["to_pct"].isna().all() and out["change_pp"].isna().all()
    assert out[["from_display", "to_display"]].values.tolist() == [["40%", "≥95%"]]


def test_a_coded_end_read_from_the_display_when_its_percentage_is_empty():
    # as exported: a coded group's pct_proficient is empty, its display tells the bound
    frame = published([("2025-26", "Fall", 4.0), ("2025-26", "Spring", 30.0)])
    frame["display"] = ["≤5%", "30%"]
    frame.loc[0, "pct_proficient"] = np.nan
    out = trends(frame)
    assert out["from_pct"].isna().all() and out["change_pp"].isna().all()
    assert out["from_display"].tolist() == ["≤5%"] and out["to_pct"].tolist() == [30.0]


def test_codes_follow_the_config():
    frame = published([("2025-26", "Fall", 40.0), ("2025-26", "Spring", 92.0)])
    assert trends(frame)["change_pp"].tolist() == [52.0]
    strict = trends(frame, Config(top_code=90.0))
    assert strict["change_pp"].isna().all()
    assert strict["to_display"].tolist() == ["≥90%"]
