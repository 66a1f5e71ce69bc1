"""Professional learning: participation, blended cycle and distributed PD progress."""

from __future__ import annotations

import pandas as pd
import pytest

from bltanalytics.config import Config
from bltanalytics.metrics.learning import (
    PARTICIPATION_COLUMNS,
    PD_FORMATS,
    blended_cycle_progress,
    distributed_pd_progress,
    pd_participation,
    staff_years,
)

Y1, Y2 = "2024-25", "2025-26"
# The hand-computed tests use staffs of 1-3; staff_min_n=1 shows their figures (the default, 5,
# hides them: tested below).
SHOW_ALL = Config(staff_min_n=1)


def staff_frame(rows):
    """rows: (staff_id, school_id, role, instructional, school_year or None)."""
    return pd.DataFrame(
        {
            "staff_id": [r[0] for r in rows],
            "school_id": [r[1] for r in rows],
            "role": [r[2] for r in rows],
            "instructional": pd.array([r[3] for r in rows], dtype="boolean"),
            "school_year": pd.array([r[4] for r in rows], dtype="str"),
        }
    )


def acts_frame(rows, **extra):
    """rows: (staff_id, school_year, format, hours, completed)."""
    frame = pd.DataFrame(
        {
            "staff_id": [r[0] for r in rows],
            "activity_date": pd.to_datetime(["2025-10-01"] * len(rows)),
            "school_year": [r[1] for r in rows],
            "format": [r[2] for r in rows],
            "hours": [r[3] for r in rows],
            "completed": pd.array([r[4] for r in rows], dtype="boolean"),
        }
    )
    for name, values in extra.items():
        frame[name] = pd.array(values, dtype="Int64")
    return frame


STAFF = staff_frame(
    [
        ("s1", "A", "teacher", True, None),  # every year, and also at B
        ("s1", "B", "teacher", True, Y2),
        ("s2", "A", "coach", True, Y2),
        ("s3", "A", "principal", False, Y2),  # not instructional
        ("s4", "A", "teacher", True, Y2),
        ("s5", "A", "paraprofessional", False, None),  # not instructional
    ]
)


def test_participation_hand_computed():
    acts = acts_frame(
        [
            ("s1", Y2, "coaching", 1.5, True),
            ("s1", Y2, "workshop", 3.0, True),
            ("s1", Y2, "plc", 2.0, False),  # not completed: ignored
            ("s2", Y2, "workshop", None, True),  # no hours: adds nothing
            ("s3", Y2, "workshop", 6.0, True),  # principal: ignored
            ("s4", Y1, "coaching", 1.0, True),  # another year (s4 is not at A in Y1)
            ("s9", Y2, "workshop", 1.0, True),  # not on staff anywhere
        ]
    )
    out = pd_participation(STAFF, acts, SHOW_ALL)
    assert list(out.columns) == PARTICIPATION_COLUMNS
    assert out[["school_id", "school_year"]].values.tolist() == [["A", Y1], ["A", Y2], ["B", Y2]]
    a = out.set_index(["school_id", "school_year"]).loc[("A", Y2)]
    assert a["n_instructional_staff"] == 3  # s1, s2, s4
    assert a["n_participating"] == 2  # s1, s2
    assert a["participation_rate"] == pytest.approx(2 / 3)
    assert a["hours_per_staff"] == pytest.approx(4.5 / 3)
    assert (a["n_workshop"], a["n_coaching"], a["n_plc"], a["n_online_course"]) == (2, 1, 0, 0)
    # B: s1 counts at both schools, with the same activities
    b = out.set_index(["school_id", "school_year"]).loc[("B", Y2)]
    assert (b["n_instructional_staff"], b["n_participating"], b["hours_per_staff"]) == (1, 1, 4.5)
    # A in 2024-25: only s1 (undated row) is on staff; s4's activity is not A's
    a1 = out.set_index(["school_id", "school_year"]).loc[("A", Y1)]
    assert (a1["n_instructional_staff"], a1["n_participating"], a1["n_coaching"]) == (1, 0, 0)
    assert a1["participation_rate"] == 0.0


def test_participation_years_and_absent_tables():
    acts = acts_frame([("s1", Y2, "coaching", 1.0, True)])
    # undated staff rows hold for the years given (the metrics layer passes students' years)
    out = pd_participation(STAFF, acts, SHOW_ALL, years=[Y1, Y2, "2026-27"])
    assert sorted(out.loc[out.school_id == "A", "school_year"]) == [Y1, Y2, "2026-27"]
    no_acts = pd_participation(STAFF, None, SHOW_ALL)
    assert no_acts["n_instructional_staff"].tolist() == [3, 1]  # years from staff: 2025-26
    assert no_acts["n_participating"].isna().all() and no_acts["participation_rate"].isna().all()
    no_staff = pd_participation(None, acts, SHOW_ALL)
    assert no_staff.empty and list(no_staff.columns) == PARTICIPATION_COLUMNS


def test_school_with_only_non_instructional_staff_has_no_rate():
    staff = staff_frame([("p1", "C", "principal", False, Y2)])
    acts = acts_frame([("p1", Y2, "workshop", 2.0, True)])
    row = pd_participation(staff, acts, SHOW_ALL).iloc[0]
    # no instructional staff is fewer than any staff_min_n: nothing to show but the zero
    assert row["n_instructional_staff"] == 0 and row["suppressed"]
    assert pd.isna(row["n_participating"]) and pd.isna(row["n_workshop"])
    assert pd.isna(row["participation_rate"]) and pd.isna(row["hours_per_staff"])


def test_staff_years_dedupes_and_expands():
    staff = staff_frame(
        [
            ("s1", "A", "teacher", True, None),
            ("s1", "A", "coach", True, Y2),  # same person, same school-year
            ("s2", "A", "other", False, Y1),
            ("s2", "A", "specialist", True, Y1),  # instructional if any row is
        ]
    )
    out = staff_years(staff)
    assert out.values.tolist() == [
        ["A", Y1, "s1", True],
        ["A", Y1, "s2", True],
        ["A", Y2, "s1", True],
    ]


def test_blended_cycle_progress_funnel():
    acts = acts_frame(
        [
            ("s1", Y2, "online_course", 1.0, True),
            ("s1", Y2, "micro_pd", 1.0, True),
            ("s2", Y2, "online_course", 1.0, True),
            ("s4", Y2, "online_course", 1.0, False),  # not completed
            ("s3", Y2, "online_course", 1.0, True),  # principal
        ],
        cycle_step=[2, 10, 4, 9, 10],
    )
    out = blended_cycle_progress(STAFF, acts, SHOW_ALL)
    a = out[(out.school_id == "A") & (out.school_year == Y2)]
    assert a["step"].tolist() == [str(k) for k in range(1, 11)]
    # s1 reaches step 10 (all steps), s2 step 4, s4 nothing: of 3 instructional staff
    assert a["n_reached"].tolist() == [2, 2, 2, 2, 1, 1, 1, 1, 1, 1]
    assert a["share_reached"].iloc[0] == pytest.approx(2 / 3)
    assert (a["n_instructional_staff"] == 3).all()
    b = out[(out.school_id == "B") & (out.school_year == Y2)]
    assert b["n_reached"].tolist() == [1] * 10  # s1 counts at B too
    no_steps = acts.assign(cycle_step=pd.array([None] * 5, dtype="Int64"))
    assert blended_cycle_progress(STAFF, no_steps, SHOW_ALL).empty


def test_distributed_pd_progress_stages_and_formats():
    acts = acts_frame(
        [
            ("s1", Y2, "workshop", 1.0, True),
            ("s1", Y2, "support_meeting", 1.0, True),
            ("s2", Y2, "micro_pd", 1.0, True),
            ("s4", Y2, "coaching", 1.0, True),  # not in the format sequence
        ],
        stage=[1, 3, 2, None],
    )
    out = distributed_pd_progress(STAFF, acts, SHOW_ALL)
    a = out[(out.school_id == "A") & (out.school_year == Y2)].set_index(["progression", "step"])
    assert a.loc[("stage", "1"), "n_reached"] == 2
    assert a.loc[("stage", "2"), "n_reached"] == 2
    assert a.loc[("stage", "3"), "n_reached"] == 1
    assert a.loc[("format", "workshop"), "n_reached"] == 2
    assert a.loc[("format", "micro_pd"), "n_reached"] == 2
    assert a.loc[("format", "support_meeting"), "n_reached"] == 1
    assert a.loc[("format", "support_meeting"), "share_reached"] == pytest.approx(1 / 3)
    no_stage = distributed_pd_progress(STAFF, acts.drop(columns="stage"), SHOW_ALL)
    assert set(no_stage["progression"]) == {"format"}
    assert distributed_pd_progress(STAFF, None, SHOW_ALL).empty


def test_format_columns_cover_every_format():
    out = pd_participation(STAFF, acts_frame([("s1", Y2, "plc", 1.0, True)]), SHOW_ALL)
    assert [c for c in out.columns if c.startswith("n_") and c[2:] in PD_FORMATS] == [
        f"n_{f}" for f in PD_FORMATS
    ]


def test_inputs_not_mutated():
    acts = acts_frame([("s1", Y2, "coaching", 1.0, True)], cycle_step=[3], stage=[1])
    before = STAFF.copy(), acts.copy()
    pd_participation(STAFF, acts, SHOW_ALL)
    blended_cycle_progress(STAFF, acts, SHOW_ALL)
    distributed_pd_progress(STAFF, acts, SHOW_ALL)
    pd.testing.assert_frame_equal(STAFF, before[0])
    pd.testing.assert_frame_equal(acts, before[1])


def test_blank_completed_is_not_completed_and_no_column_means_all_completed():
    acts = acts_frame([("s1", Y2, "workshop", 1.0, None), ("s2", Y2, "workshop", 2.0, True)])
    a = pd_participation(STAFF, acts, SHOW_ALL).set_index(["school_id", "school_year"])
    assert a.loc[("A", Y2), "n_participating"] == 1  # s2 only
    untracked = pd_participation(STAFF, acts.drop(columns="completed"), SHOW_ALL)
    a = untracked.set_index(["school_id", "school_year"])
    assert (a.loc[("A", Y2), "n_participating"], a.loc[("A", Y2), "n_workshop"]) == (2, 2)


def big_staff(n, school="A"):
    return staff_frame([(f"t{k}", school, "teacher", True, Y2) for k in range(n)])


def test_a_small_staff_shows_its_learning_figures_as_suppressed():
    acts = acts_frame([("t0", Y2, "coaching", 2.0, True), ("t1", Y2, "workshop", 1.0, True)])
    small = pd_participation(big_staff(4), acts, Config()).iloc[0]
    assert bool(small["suppressed"]) and small["n_instructional_staff"] == 4
    hidden = ["n_participating", "participation_rate", "hours_per_staff"]
    assert all(pd.isna(small[c]) for c in [*hidden, *(f"n_{f}" for f in PD_FORMATS)])
    five = pd_participation(big_staff(5), acts, Config()).iloc[0]  # staff_min_n = 5: shown
    assert not five["suppressed"]
    assert (five["n_participating"], five["participation_rate"], five["n_coaching"]) == (2, 0.4, 1)
    stricter = pd_participation(big_staff(5), acts, Config(staff_min_n=6)).iloc[0]
    assert stricter["suppressed"] and pd.isna(stricter["n_participating"])


def test_small_staff_progress_tables_are_suppressed_too():
    acts = acts_frame(
        [("t0", Y2, "workshop", 1.0, True), ("t1", Y2, "micro_pd", 1.0, True)],
        cycle_step=[3, 7],
        stage=[1, 2],
    )
    for staff, hidden in ((big_staff(3), True), (big_staff(6), False)):
        blended = blended_cycle_progress(staff, acts, Config())
        distributed = distributed_pd_progress(staff, acts, Config())
        for table in (blended, distributed):
            assert table["suppressed"].eq(hidden).all()
            assert table["n_reached"].isna().all() == hidden
            assert table["share_reached"].isna().all() == hidden
            assert (table["n_instructional_staff"] == len(staff)).all()
    shown = blended_cycle_progress(big_staff(6), acts, Config())
    assert shown["n_reached"].tolist() == [2, 2, 2, 1, 1, 1, 1, 0, 0, 0]
