"""Rubric scorecard: every rule kind, every status and its boundaries, spec loading."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bltanalytics.config import Config
from bltanalytics.errors import ConfigError
from bltanalytics.metrics.rubric import (
    REGISTRY,
    RUBRIC_COLUMNS,
    RubricSpecError,
    load_rubric,
    parse_rubric,
    rollup,
    score_rubric,
)

Y1, Y2 = "2024-25", "2025-26"

COMPUTED_IDS = [
    "C1.teams",
    "C1.steps",
    "C1.understand",
    "C1.use",
    "C2.list",
    "C2.coached",
    "C2.endorse",
    "C3.shared",
    "C4.interpret",
    "C5.walkthrough",
    "C5.fidelity",
    "C6.discuss",
]
RATED_IDS = [
    "C1.procedures",
    "C2.strategies",
    "C2.assignments",
    "C2.coaching_support",
    "C2.hiring",
    "C3.aligned",
    "C4.relevant_data",
    "C5.identify",
    "C5.share",
    "C5.support",
    "C6.meetings",
    "C6.implementation",
    "C6.data_use",
]


# --------------------------------------------------------------------------- helpers


def students(*pairs: tuple[str, str]) -> pd.DataFrame:
    """One student row per (school_id, school_year) pair."""
    return pd.DataFrame(
        {
            "student_id": [f"s{n}" for n in range(len(pairs))],
            "school_id": [p[0] for p in pairs],
            "school_year": [p[1] for p in pairs],
            "grade": ["3"] * len(pairs),
        }
    )


def walks(school: str, year: str, n_true: int, n_false: int) -> pd.DataFrame:
    n = n_true + n_false
    return pd.DataFrame(
        {
            "observation_id": [f"{school}{year}{k}" for k in range(n)],
            "school_id": [school] * n,
            "observation_date": pd.to_datetime(["2025-10-01"] * n),
            "school_year": [year] * n,
            "focus_strategy_observed": pd.array([True] * n_true + [False] * n_false, "boolean"),
        }
    )


def cell(card: pd.DataFrame, indicator: str, school: str = "A", year: str = Y2) -> pd.Series:
    rows = card[
        (card["indicator_id"] == indicator)
        & (card["school_id"] == school)
        & (card["school_year"] == year)
    ]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def survey(rows: list[tuple[str, str, object]], item: str = "UNDERSTANDS_PROCESS") -> pd.DataFrame:
    """Cleaned staff_survey rows (school_id, survey_window, answer of ``item``)."""
    items = [
        "UNDERSTANDS_PROCESS",
        "USES_PROCESS",
        "CAN_LIST_STRATEGIES",
        "ENDORSES_GOALS",
        "INTERPRETS_DATA",
        "DATA_DISCUSSIONS",
    ]
    frame = pd.DataFrame(
        {
            "response_id": [f"r{k}" for k in range(len(rows))],
            "school_id": [r[0] for r in rows],
            "survey_window": [r[1] for r in rows],
            "school_year": [r[1].split(" ")[0] for r in rows],
            "window_term": [r[1].split(" ")[1] for r in rows],
            "staff_id": pd.array([None] * len(rows), dtype="str"),
        }
    )
    for name in items:
        values = [r[2] for r in rows] if name == item else [None] * len(rows)
        frame[name] = pd.array(values, dtype="boolean")
    return frame


# --------------------------------------------------------------------------- spec


def test_packaged_rubric_declares_the_contract_indicators():
    spec = load_rubric()
    assert spec.version == 1
    assert [c.id for c in spec.characteristics] == [
        "systematic_process",
        "focus",
        "alignment",
        "data_use",
        "fidelity",
        "monitoring",
    ]
    assert [i.id for i in spec.indicators if i.kind == "computed"] == COMPUTED_IDS
    assert [i.id for i in spec.indicators if i.kind == "rated"] == RATED_IDS
    thresholds = {i.id: i.threshold for i in spec.indicators if i.kind == "computed"}
    assert thresholds == {**dict.fromkeys(COMPUTED_IDS, 0.75), "C1.teams": 1.0, "C3.shared": 1.0}
    for ind in spec.indicators:
        number = ind.id[1]
        assert ind.characteristic == spec.characteristics[int(number) - 1].id
        assert ind.text and ind.rule in REGISTRY


def _minimal(**indicator):
    entry = {
        "id": "C5.walkthrough",
        "characteristic": "fidelity",
        "text": "Strategies seen in classrooms.",
        "source": "walkthroughs",
        "rule": "walkthrough_share",
        "threshold": 0.75,
        "params": {"flag": "focus_strategy_observed"},
    }
    entry.update(indicator)
    return {
        "version": 1,
        "characteristics": [{"id": "fidelity", "title": "Fidelity"}],
        "indicators": [entry],
    }


def test_parse_minimal_spec():
    spec = parse_rubric(_minimal())
    assert [i.id for i in spec.indicators] == ["C5.walkthrough"]
    assert spec.indicators[0].params["flag"] == "focus_strategy_observed"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rule": "walk_share"}, r"indicator 'C5.walkthrough': unknown rule kind 'walk_share'"),
        ({"characteristic": "focs"}, r"indicator 'C5.walkthrough': unknown characteristic 'focs'"),
        ({"threshold": 1.5}, r"indicator 'C5.walkthrough': threshold must be a share"),
        ({"threshold": "high"}, r"indicator 'C5.walkthrough': threshold must be a share"),
        ({"params": {}}, r"indicator 'C5.walkthrough': rule 'walkthrough_share' needs param"),
        ({"params": {"flag": "x", "typo": 1}}, r"'C5.walkthrough': .* has no param\(s\) typo"),
        ({"source": "teams"}, r"indicator 'C5.walkthrough': rule 'walkthrough_share' reads"),
        ({"text": ""}, r"indicator 'C5.walkthrough': field 'text' must be non-empty"),
        ({"colour": "red"}, r"indicator 'C5.walkthrough': unknown field\(s\) colour"),
    ],
)
def test_spec_errors_name_the_entry(change, message):
    with pytest.raises(RubricSpecError, match=message):
        parse_rubric(_minimal(**change), "rubric.yaml")


def test_spec_error_missing_field_names_indicator():
    data = _minimal()
    del data["indicators"][0]["threshold"]
    with pytest.raises(
        RubricSpecError, match=r"indicator 'C5.walkthrough': missing field.*threshold"
    ):
        parse_rubric(data)


def test_spec_error_duplicate_id():
    data = _minimal()
    data["indicators"].append(dict(data["indicators"][0]))
    with pytest.raises(RubricSpecError, match=r"duplicate indicator id 'C5.walkthrough'"):
        parse_rubric(data)


def test_spec_error_survey_item_and_rated_threshold():
    data = _minimal(
        id="C1.use",
        rule="survey_agree",
        source="staff_survey",
        params={"item": "USES_PROCES"},
    )
    with pytest.raises(RubricSpecError, match=r"'C1.use': param 'item' must be one of"):
        parse_rubric(data)
    rated = _minimal(id="C5.share", rule="rating", source="rubric_ratings", params={})
    with pytest.raises(RubricSpecError, match=r"'C5.share': a rated indicator's threshold"):
        parse_rubric(rated)


def test_spec_error_version_and_characteristic():
    with pytest.raises(RubricSpecError, match="version must be 1, found 2"):
        parse_rubric({**_minimal(), "version": 2})
    data = _minimal()
    data["characteristics"].append({"id": "fidelity", "title": "Again"})
    with pytest.raises(RubricSpecError, match="duplicate characteristic id 'fidelity'"):
        parse_rubric(data)


def test_load_rubric_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "rubric.yaml"
    bad.write_text(
        "version: 1\ncharacteristics: [{id: focus, title: Focus}]\n"
        "indicators:\n  - {id: C2.x, characteristic: focus, text: t, source: staff_survey,\n"
        "     rule: nosuch, threshold: 0.5, params: {}}\n",
        encoding="utf-8",
    )
    with pytest.raises(RubricSpecError, match=r"rubric.yaml: indicator 'C2.x': unknown rule"):
        load_rubric(bad)
    with pytest.raises(RubricSpecError, match="does not exist"):
        load_rubric(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: [1\n", encoding="utf-8")
    with pytest.raises(RubricSpecError, match="broken.yaml: not valid YAML"):
        load_rubric(broken)


# --------------------------------------------------------------------------- shape


def test_25_rows_per_school_year_found_in_students():
    # A has two years, B one: three school-years, 75 rows; no (B, Y1) row.
    card = score_rubric({"students": students(("A", Y1), ("A", Y2), ("B", Y2), ("B", Y2))})
    assert list(card.columns) == RUBRIC_COLUMNS
    assert len(card) == 75
    sizes = card.groupby(["school_id", "school_year"]).size()
    assert sizes.to_dict() == {("A", Y1): 25, ("A", Y2): 25, ("B", Y2): 25}
    one = card[(card.school_id == "A") & (card.school_year == Y2)]
    assert one["indicator_id"].tolist() == [i.id for i in load_rubric().indicators]
    assert (one["kind"] == "computed").sum() == 12 and (one["kind"] == "rated").sum() == 13
    # nothing but students: every indicator no_data, counts empty (tables absent)
    assert set(card["status"]) == {"no_data"}
    assert card["numerator"].isna().all() and card["denominator"].isna().all()


def test_no_students_gives_empty_frame_with_columns():
    card = score_rubric({"students": None})
    assert card.empty and list(card.columns) == RUBRIC_COLUMNS


def test_inputs_are_not_mutated():
    tables = {"students": students(("A", Y2)), "walkthroughs": walks("A", Y2, 3, 2)}
    before = {k: v.copy() for k, v in tables.items()}
    score_rubric(tables)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, before[name])


# --------------------------------------------------------------------------- statuses


def test_status_boundaries_walkthrough():
    schools = {
        "A": (6, 2),  # 6/8 = 0.75 -> met
        "B": (3, 2),  # 3/5 = 0.60 = 0.75 - 0.15 -> approaching
        "C": (5999, 4001),  # 0.5999 -> not_met
        "D": (4, 0),  # denominator 4 -> insufficient_data
        "E": (5, 0),  # denominator 5 -> scored
    }
    frames = [walks(s, Y2, t, f) for s, (t, f) in schools.items()]
    tables = {
        "students": students(*[(s, Y2) for s in [*schools, "F"]]),
        "walkthroughs": pd.concat(frames, ignore_index=True),
    }
    card = score_rubric(tables)
    got = {s: cell(card, "C5.walkthrough", s)["status"] for s in [*schools, "F"]}
    assert got == {
        "A": "met",
        "B": "approaching",
        "C": "not_met",
        "D": "insufficient_data",
        "E": "met",
        "F": "no_data",  # F has no walk-throughs: 0 of 0
    }
    a = cell(card, "C5.walkthrough", "A")
    assert (a["numerator"], a["denominator"], a["value"], a["threshold"]) == (6, 8, 0.75, 0.75)
    f = cell(card, "C5.walkthrough", "F")
    assert (f["numerator"], f["denominator"]) == (0, 0) and pd.isna(f["value"])
    d = cell(card, "C5.walkthrough", "D")
    assert d["value"] == 1.0  # insufficient even though the value would be met


def test_table_absent_is_no_data_with_empty_counts():
    card = score_rubric({"students": students(("A", Y2)), "walkthroughs": None})
    row = cell(card, "C5.walkthrough")
    assert row["status"] == "no_data"
    assert pd.isna(row["numerator"]) and pd.isna(row["denominator"]) and pd.isna(row["value"])


def test_fidelity_mean_float_boundaries():
    def checks(school, pcts):
        return pd.DataFrame(
            {
                "team_id": [f"{school}t"] * len(pcts),
                "school_id": [school] * len(pcts),
                "check_date": pd.to_datetime(["2025-10-01"] * len(pcts)),
                "school_year": [Y2] * len(pcts),
                "fidelity_pct": pcts,
            }
        )

    tables = {
        "students": students(("A", Y2), ("B", Y2), ("C", Y2), ("D", Y2)),
        "fidelity_checks": pd.concat(
            [
                checks("A", [60.0] * 5),  # mean 60 -> 0.60 approaching
                checks("B", [59.99] * 5),  # 0.5999 -> not_met
                checks("C", [100.0, 50.0, 75.0, 80.0, 70.0]),  # mean 75 -> met
                checks("D", [90.0] * 4),  # 4 checks -> insufficient
            ],
            ignore_index=True,
        ),
    }
    card = score_rubric(tables)
    assert cell(card, "C5.fidelity", "A")["status"] == "approaching"
    assert cell(card, "C5.fidelity", "B")["status"] == "not_met"
    c = cell(card, "C5.fidelity", "C")
    assert c["status"] == "met"
    assert c["numerator"] == pytest.approx(3.75) and c["denominator"] == 5
    assert c["value"] == pytest.approx(0.75)
    assert cell(card, "C5.fidelity", "D")["status"] == "insufficient_data"


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 40), data=st.data())
def test_status_matches_exact_arithmetic(n, data):
    k = data.draw(st.integers(0, n))
    tables = {"students": students(("A", Y2)), "walkthroughs": walks("A", Y2, k, n - k)}
    status = cell(score_rubric(tables), "C5.walkthrough")["status"]
    if n == 0:
        expected = "no_data"
    elif n <= 4:
        expected = "insufficient_data"
    elif Fraction(k, n) >= Fraction(3, 4):
        expected = "met"
    elif Fraction(k, n) >= Fraction(3, 5):
        expected = "approaching"
    else:
        expected = "not_met"
    assert status == expected


def test_config_overrides_threshold_band_and_insufficient_max():
    tables = {
        "students": students(("A", Y2), ("B", Y2)),
        "walkthroughs": pd.concat([walks("A", Y2, 3, 2), walks("B", Y2, 4, 0)]),
    }
    base = score_rubric(tables)
    assert cell(base, "C5.walkthrough")["status"] == "approaching"
    lowered = score_rubric(tables, Config(thresholds={"C5.walkthrough": 0.6}))
    assert cell(lowered, "C5.walkthrough")["status"] == "met"
    assert cell(lowered, "C5.walkthrough")["threshold"] == 0.6
    assert cell(lowered, "C2.list")["threshold"] == 0.75  # others untouched
    narrow = score_rubric(tables, Config(approaching_band=0.1))
    assert cell(narrow, "C5.walkthrough")["status"] == "not_met"
    small = score_rubric(tables, Config(insufficient_max=3))
    assert cell(small, "C5.walkthrough", "B")["status"] == "met"


def test_threshold_override_for_unknown_or_rated_indicator_is_an_error():
    tables = {"students": students(("A", Y2))}
    with pytest.raises(ConfigError, match="C5.fidelty"):
        score_rubric(tables, Config(thresholds={"C5.fidelty": 0.8}))
    with pytest.raises(ConfigError, match="C2.hiring"):
        score_rubric(tables, Config(thresholds={"C2.hiring": 0.5}))


# --------------------------------------------------------------------------- rule kinds


def test_teams_present():
    teams = pd.DataFrame(
        {
            "team_id": ["a1", "b1", "b2", "c1", "c2"],
            "school_id": ["A", "B", "B", "C", "C"],
            "team_type": ["BLT", "BLT", "TBT", "TBT", "DLT"],
        }
    )
    tables = {
        "students": students(("A", Y1), ("A", Y2), ("B", Y1), ("B", Y2), ("C", Y2), ("D", Y2)),
        "teams": teams,
    }
    card = score_rubric(tables)
    for year in (Y1, Y2):  # teams have no year: the same value every year
        a = cell(card, "C1.teams", "A", year)  # BLT only
        assert (a["numerator"], a["denominator"], a["value"], a["status"]) == (0, 1, 0, "not_met")
        b = cell(card, "C1.teams", "B", year)  # BLT + TBT; denominator 1 is not "insufficient"
        assert (b["numerator"], b["denominator"], b["value"], b["status"]) == (1, 1, 1, "met")
    assert cell(card, "C1.teams", "C")["status"] == "not_met"  # TBT + DLT, no BLT
    assert cell(card, "C1.teams", "D")["value"] == 0  # no teams at all
    absent = score_rubric({"students": tables["students"]})
    assert cell(absent, "C1.teams")["status"] == "no_data"


def _meetings(rows):
    """rows: (team_id, school_year, cycle_step, minutes_shared, data_summary_shared)."""
    return pd.DataFrame(
        {
            "team_id": [r[0] for r in rows],
            "meeting_date": pd.to_datetime(["2025-10-01"] * len(rows)),
            "school_year": [r[1] for r in rows],
            "cycle_step": pd.array([r[2] for r in rows], dtype="Int64"),
            "minutes_shared": pd.array([r[3] for r in rows], dtype="boolean"),
            "data_summary_shared": pd.array([r[4] for r in rows], dtype="boolean"),
        }
    )


def test_team_steps():
    ids = ["b1", "t1", "t2", "t3", "t4", "t5", "t6", "d1"]
    teams = pd.DataFrame(
        {"team_id": ids, "school_id": ["A"] * 8, "team_type": ["BLT"] + ["TBT"] * 6 + ["DLT"]}
    )
    rows = []
    for team in ["b1", "t1", "t2", "t3", "t4"]:  # four distinct steps (one repeated)
        rows += [(team, Y2, s, True, True) for s in (1, 2, 3, 4, 4)]
    rows += [("t5", Y2, s, True, True) for s in (1, 2, 3, None)]  # three steps only
    rows += [("t6", Y1, s, True, True) for s in (1, 2, 3, 5)]  # met only in Y1
    rows += [("d1", Y2, 1, True, True)]  # DLT: not counted
    meetings = _meetings(rows).assign(school_id="A")
    tables = {"students": students(("A", Y1), ("A", Y2)), "teams": teams, "team_meetings": meetings}
    card = score_rubric(tables)
    y2 = cell(card, "C1.steps", "A", Y2)
    assert (y2["numerator"], y2["denominator"]) == (5, 6)
    assert y2["value"] == pytest.approx(5 / 6) and y2["status"] == "met"
    y1 = cell(card, "C1.steps", "A", Y1)
    assert (y1["numerator"], y1["denominator"], y1["status"]) == (1, 1, "insufficient_data")
    no_teams = score_rubric({**tables, "teams": None})
    assert cell(no_teams, "C1.steps")["status"] == "no_data"


def test_meeting_school_year_not_date_decides_the_year():
    # Cleaning assigns June 30 to 2024-25 and July 1 to 2025-26; the metric follows school_year.
    teams = pd.DataFrame({"team_id": ["t1"], "school_id": ["A"], "team_type": ["TBT"]})
    meetings = pd.DataFrame(
        {
            "team_id": ["t1"] * 10,
            "school_id": ["A"] * 10,
            "meeting_date": pd.to_datetime(["2025-06-30"] * 5 + ["2025-07-01"] * 5),
            "school_year": [Y1] * 5 + [Y2] * 5,
            "cycle_step": pd.array([1] * 10, dtype="Int64"),
            "minutes_shared": pd.array([True] * 5 + [False] * 5, dtype="boolean"),
            "data_summary_shared": pd.array([True] * 10, dtype="boolean"),
        }
    )
    tables = {"students": students(("A", Y1), ("A", Y2)), "teams": teams, "team_meetings": meetings}
    card = score_rubric(tables)
    june, july = cell(card, "C3.shared", "A", Y1), cell(card, "C3.shared", "A", Y2)
    assert (june["numerator"], june["denominator"], june["status"]) == (5, 5, "met")
    assert (july["numerator"], july["denominator"], july["status"]) == (0, 5, "not_met")


def test_walkthrough_dates_in_june_and_july_use_school_year():
    june = walks("A", Y1, 5, 0).assign(observation_date=pd.Timestamp("2025-06-15"))
    july = walks("A", Y2, 0, 5).assign(observation_date=pd.Timestamp("2025-07-15"))
    tables = {
        "students": students(("A", Y1), ("A", Y2)),
        "walkthroughs": pd.concat([june, july], ignore_index=True),
    }
    card = score_rubric(tables)
    assert cell(card, "C5.walkthrough", "A", Y1)["value"] == 1.0
    assert cell(card, "C5.walkthrough", "A", Y2)["value"] == 0.0


def test_meetings_shared_counts_tbt_meetings_only():
    teams = pd.DataFrame(
        {
            "team_id": ["b1", "t1", "t2"],
            "school_id": ["A", "A", "B"],
            "team_type": ["BLT", "TBT", "TBT"],
        }
    )
    rows = [("t1", Y2, 1, True, True)] * 9 + [("t1", Y2, 2, True, None)]  # 9/10, NA = not shared
    rows += [("b1", Y2, 1, False, False)] * 3  # BLT meetings do not count
    rows += [("t2", Y2, 1, True, True)] * 5
    meetings = _meetings(rows)  # no school_id column: taken from teams
    tables = {"students": students(("A", Y2), ("B", Y2)), "teams": teams, "team_meetings": meetings}
    card = score_rubric(tables)
    a = cell(card, "C3.shared", "A")
    assert (a["numerator"], a["denominator"]) == (9, 10)
    assert a["status"] == "approaching"  # 0.9 >= 1.0 - 0.15
    assert cell(card, "C3.shared", "B")["status"] == "met"


def test_survey_latest_window_counts():
    rows = [("A", f"{Y2} Fall", True)] * 6  # Fall: all agree, but Spring is later
    rows += [("A", f"{Y2} Spring", v) for v in (True, True, True, False, False, None)]
    rows += [("B", f"{Y2} Fall", v) for v in (True, True, True, True, True, False)]  # Fall only
    rows += [("A", f"{Y1} Winter", v) for v in (True,) * 5]
    rows += [("A", f"{Y1} Fall", v) for v in (False,) * 5]
    tables = {
        "students": students(("A", Y1), ("A", Y2), ("B", Y2)),
        "staff_survey": survey(rows),
    }
    card = score_rubric(tables)
    a = cell(card, "C1.understand", "A")
    # Spring: 6 responses, 5 valid answers, 3 agree
    assert (a["numerator"], a["denominator"], a["value"], a["status"]) == (3, 5, 0.6, "approaching")
    b = cell(card, "C1.understand", "B")
    assert (b["numerator"], b["denominator"], b["status"]) == (5, 6, "met")
    assert cell(card, "C1.understand", "A", Y1)["value"] == 1.0  # Winter beats Fall
    # other items were never answered in the counted window: 0 of 0
    other = cell(card, "C1.use", "A")
    assert (other["denominator"], other["status"]) == (0, "no_data")


def test_survey_window_names_its_school_year():
    # "2025-26 Fall" counts toward 2025-26, also when only survey_window is given.
    rows = [("A", f"{Y2} Fall", True)] * 5
    raw = survey(rows, item="DATA_DISCUSSIONS").drop(columns=["school_year", "window_term"])
    for frame in (survey(rows, item="DATA_DISCUSSIONS"), raw):
        card = score_rubric({"students": students(("A", Y1), ("A", Y2)), "staff_survey": frame})
        assert cell(card, "C6.discuss", "A", Y2)["status"] == "met"
        assert cell(card, "C6.discuss", "A", Y1)["status"] == "no_data"


def test_coached_share():
    staff = pd.DataFrame(
        {
            "staff_id": ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s1"],
            "school_id": ["A"] * 7 + ["B"],
            "role": ["teacher"] * 5 + ["principal", "teacher", "teacher"],
            "instructional": pd.array([True] * 5 + [False, True, True], dtype="boolean"),
            "school_year": pd.array([None] * 6 + [Y1, Y2], dtype="str"),
        }
    )
    pd_acts = pd.DataFrame(
        {
            "staff_id": ["s1", "s2", "s3", "s4", "s6"],
            "activity_date": pd.to_datetime(["2025-09-01"] * 3 + ["2025-03-01", "2025-09-01"]),
            "school_year": [Y2, Y2, Y2, Y1, Y2],
            "format": ["coaching", "coaching", "workshop", "coaching", "coaching"],
            "completed": pd.array([True, False, True, True, True], dtype="boolean"),
        }
    )
    tables = {
        "students": students(("A", Y1), ("A", Y2), ("B", Y2)),
        "staff": staff,
        "pd_activities": pd_acts,
    }
    card = score_rubric(tables)
    # A 2025-26: s1..s5 (undated rows); s1 coached; s2 not completed; s6 not instructional
    a = cell(card, "C2.coached", "A", Y2)
    assert (a["numerator"], a["denominator"], a["value"], a["status"]) == (1, 5, 0.2, "not_met")
    # A 2024-25: s1..s5 plus s7 (dated 2024-25); s4 coached that year
    a1 = cell(card, "C2.coached", "A", Y1)
    assert (a1["numerator"], a1["denominator"]) == (1, 6)
    # B: s1 also works here, and counts here too
    b = cell(card, "C2.coached", "B", Y2)
    assert (b["numerator"], b["denominator"], b["status"]) == (1, 1, "insufficient_data")
    assert cell(score_rubric({**tables, "pd_activities": None}), "C2.coached")["status"] == (
        "no_data"
    )


def test_rated_indicators():
    ratings = pd.DataFrame(
        {
            "school_id": ["A", "A", "A", "A", "A", "B"],
            "school_year": [Y2, Y2, Y2, Y2, Y1, Y2],
            "indicator_id": [
                "C2.hiring",
                "C5.share",
                "C6.meetings",
                "C3.aligned",
                "C1.procedures",
                "C2.hiring",
            ],
            "rating": pd.array([2, 1, 3, 0, 3, pd.NA], dtype="Int64"),
        }
    )
    tables = {"students": students(("A", Y1), ("A", Y2), ("B", Y2)), "rubric_ratings": ratings}
    card = score_rubric(tables)
    hiring = cell(card, "C2.hiring")
    assert (hiring["numerator"], hiring["denominator"], hiring["value"]) == (2, 1, 2)
    assert (hiring["threshold"], hiring["status"], hiring["kind"]) == (2, "met", "rated")
    assert cell(card, "C5.share")["status"] == "not_met"  # 1: never "approaching"
    assert cell(card, "C6.meetings")["status"] == "met"
    assert cell(card, "C3.aligned")["status"] == "not_met"
    procedures = cell(card, "C1.procedures")  # rated only for 2024-25
    assert procedures["status"] == "no_data" and pd.isna(procedures["numerator"])
    assert cell(card, "C1.procedures", "A", Y1)["status"] == "met"
    assert cell(card, "C2.hiring", "B")["status"] == "no_data"  # blank rating
    stricter = score_rubric(tables, Config(rating_met=3))
    assert cell(stricter, "C2.hiring")["status"] == "not_met"
    assert cell(stricter, "C2.hiring")["threshold"] == 3
    absent = score_rubric({"students": tables["students"]})
    assert set(absent.loc[absent.kind == "rated", "status"]) == {"no_data"}


def test_custom_spec_scores_only_its_indicators():
    spec = parse_rubric(_minimal(threshold=0.5))
    tables = {"students": students(("A", Y2)), "walkthroughs": walks("A", Y2, 3, 3)}
    card = score_rubric(tables, spec=spec)
    assert card["indicator_id"].tolist() == ["C5.walkthrough"]
    assert card["status"].tolist() == ["met"]


# --------------------------------------------------------------------------- rollup


def test_rollup_counts():
    card = pd.DataFrame(
        {
            "school_id": ["A"] * 6 + ["B"],
            "school_year": [Y2] * 7,
            "characteristic": ["focus"] * 5 + ["fidelity", "focus"],
            "status": [
                "met",
                "approaching",
                "not_met",
                "insufficient_data",
                "no_data",
                "met",
                "no_data",
            ],
        }
    )
    out = rollup(card)
    assert out[["school_id", "characteristic"]].values.tolist() == [
        ["A", "focus"],
        ["A", "fidelity"],
        ["B", "focus"],
    ]
    assert out[
        ["n_met", "n_approaching", "n_not_met", "n_with_data", "n_indicators"]
    ].values.tolist() == [
        [1, 1, 1, 3, 5],
        [1, 0, 0, 1, 1],
        [0, 0, 0, 0, 1],
    ]


def test_rollup_of_scored_rubric_has_six_characteristics():
    card = score_rubric({"students": students(("A", Y2))})
    out = rollup(card)
    assert out["characteristic"].tolist() == [c.id for c in load_rubric().characteristics]
    assert out["n_indicators"].tolist() == [5, 7, 2, 2, 5, 4]
    assert out["n_indicators"].sum() == 25 and out["n_with_data"].sum() == 0


def test_float_rounding_does_not_move_a_boundary():
    # 0.2 - 0.15 is 0.05000000000000002 in floats, and 1/20 is 0.05: exactly on the band edge.
    tables = {"students": students(("A", Y2)), "walkthroughs": walks("A", Y2, 1, 19)}
    card = score_rubric(tables, Config(thresholds={"C5.walkthrough": 0.2}))
    assert cell(card, "C5.walkthrough")["status"] == "approaching"
    # nine checks of 65%: 5.85 / 9 is 0.6499999999999999 in floats, exactly 0.65 in fact.
    checks = pd.DataFrame(
        {
            "team_id": ["t1"] * 9,
            "school_id": ["A"] * 9,
            "check_date": pd.to_datetime(["2025-10-01"] * 9),
            "school_year": [Y2] * 9,
            "fidelity_pct": [65.0] * 9,
        }
    )
    card = score_rubric(
        {"students": students(("A", Y2)), "fidelity_checks": checks},
        Config(thresholds={"C5.fidelity": 0.65}),
    )
    assert cell(card, "C5.fidelity")["status"] == "met"
