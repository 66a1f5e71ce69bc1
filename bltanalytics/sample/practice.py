"""The tables of a school's practice: teams and their meetings, cycles and results, the staff
survey, walk-throughs, fidelity checks, professional learning and rubric ratings.

A hidden "culture" per school (``World.culture``) and each team's quality drive them together,
so schools land in every rubric status. :func:`practice_builders` gives one builder per table;
:func:`bltanalytics.sample.tables.build_tables` runs them in contract order.

>>> from bltanalytics.sample.world import World
>>> builders = practice_builders(World(n_schools=2, per_school=30, seed=7))
>>> teams = builders["teams"]()
>>> teams.columns["team_id"].to_pylist()[:3], teams.columns["name"].to_pylist()[:2]
(['0101-BLT', '0101-T01', '0101-T02'], ['Building Leadership Team', 'Grade K Team'])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bltanalytics.load import SURVEY_ITEMS
from bltanalytics.sample.columns import (
    GRADE_LABELS,
    Table,
    dates,
    floats,
    id_width,
    ids,
    ints,
    ranges,
    ranks_in_sorted,
    segments,
    take,
    text,
    weekday,
    yn,
)
from bltanalytics.sample.world import INSTRUCTIONAL, SCHOOL_YEARS, SUBJECTS, World

_FORMATS = (
    "online_course",
    "micro_pd",
    "workshop",
    "support_meeting",
    "coaching",
    "plc",
    "observation_feedback",
)
_FORMAT_P = np.array([0.15, 0.15, 0.20, 0.10, 0.0, 0.25, 0.15])  # coaching weight is per school
_FORMAT_HOURS = np.array([2.0, 0.5, 4.0, 1.0, 1.0, 1.0, 0.5])
_FORMAT_STAGE = np.array([1, 1, 1, 2, 2, 3, 3])  # the distributed-PD stage most formats serve
_INITIATIVES = ("Teacher-Based Teams", "Literacy Across Content", "Math Discourse", "Data Use")
_STRATEGIES = (
    "Think-alouds",
    "Turn and talk",
    "Exit tickets",
    "Academic vocabulary routines",
    "Number talks",
    "Close reading",
    "Checks for understanding",
    "Graphic organizers",
)
_FOCUS = {
    0: ("Inferential comprehension", "Text evidence in writing", "Vocabulary in context"),
    1: ("Fraction reasoning", "Multi-step word problems", "Math fact fluency"),
    2: ("Claim-evidence-reasoning", "Interpreting data tables", "Scientific vocabulary"),
    3: ("Sourcing documents", "Argument writing", "Map and chart reading"),
}
_EVIDENCE = (
    ("No evidence found", "Not yet started", "Not discussed this year"),
    ("Draft in progress", "Discussed at one meeting", "Started with some teams"),
    ("BLT agendas and minutes", "Shared in staff meeting", "Posted team protocols"),
    ("Minutes show monthly review", "All teams use the protocol", "Documented in school plan"),
)
RATED_INDICATORS = (
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
)
_SURVEY_ITEM_SHIFT = np.array([0.05, 0.0, -0.05, 0.08, -0.10, 0.0])


def _teams_table(w: World) -> Table:
    kind = w.kind[w.tm_school]
    band = np.array(["K-5", "6-8", "9-12", "K-8"])[kind]
    grade_text = np.array(GRADE_LABELS)[w.tm_grade + 1]
    subject_names = np.array(SUBJECTS)[np.maximum(w.tm_subject, 0)]
    name = np.where(
        w.tm_blt,
        "Building Leadership Team",
        np.where(
            kind == 2,
            np.char.add(subject_names, " Department"),
            np.char.add(np.char.add("Grade ", grade_text), " Team"),
        ),
    )
    structure = np.select([w.tm_blt, kind == 0, kind == 1], [-1, 0, 1], 2)
    return Table(
        "teams",
        {
            "team_id": w.team_id,
            "school_id": pc.take(w.school_id, pa.array(w.tm_school)),
            "team_type": take(("BLT", "TBT"), (~w.tm_blt).astype(np.int64)),
            "structure": take(
                ("horizontal", "interdisciplinary", "vertical"),
                np.maximum(structure, 0),
                structure < 0,
            ),
            "name": text(name),
            "grade_band": text(np.where(w.tm_blt | (kind == 2), band, grade_text)),
            "subject": take(SUBJECTS, np.maximum(w.tm_subject, 0), w.tm_subject < 0),
        },
        {"blt": w.tm_blt},
    )


def _team_members_table(w: World) -> Table:
    school, role, rank = w.st_school, w.st_role, w.st_rank
    n_tbt = w.n_tbt[school]
    has_tbt = n_tbt > 0
    in_tbt = has_tbt & ((role == 4) | (role == 3))  # teachers and specialists
    tbt_team = w.team_offset[school] + w.has_blt[school] + rank % np.maximum(n_tbt, 1)
    leaders = (role == 4) & (rank < np.maximum(n_tbt, 2))
    in_blt = w.has_blt[school] & ((role <= 2) | leaders)
    team = np.r_[tbt_team[in_tbt], w.team_offset[school][in_blt]]
    staff = np.r_[np.flatnonzero(in_tbt), np.flatnonzero(in_blt)]
    order = np.lexsort((staff, team))
    team, staff = team[order], staff[order]
    return Table(
        "team_members",
        {
            "team_id": pc.take(w.team_id, pa.array(team)),
            "staff_id": pc.take(w.staff_id, pa.array(staff)),
        },
    )


def _team_years(w: World, tbt_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    teams = np.flatnonzero(~w.tm_blt) if tbt_only else np.arange(w.n_teams)
    return np.repeat(teams, 2), np.tile(np.arange(2), len(teams))


def _team_meetings_table(w: World) -> Table:
    rng = w.rng("team_meetings")
    team, year = _team_years(w)
    quality = w.tm_quality[team]
    blt = w.tm_blt[team]
    base = np.where(blt, 9, 16) - rng.integers(0, 3, len(team))
    n = np.maximum(2, np.rint(base * (0.6 + 0.4 * quality))).astype(np.int64)
    m_team, m_year, m_q = np.repeat(team, n), np.repeat(year, n), np.repeat(quality, n)
    k = ranks_in_sorted(np.repeat(np.arange(len(team)), n))
    interval = np.where(w.tm_blt[m_team], 30, 14)
    days = w.year_start[m_year] + 64 + k * interval + rng.integers(0, 4, len(k))
    days = weekday(days)
    # strong teams work through all five steps; weak ones stall at steps 1-3
    cycle = np.where(m_q >= 0.45, 5, 3)
    step = k % cycle + 1
    missing_step = rng.random(len(k)) < 0.04
    minutes = rng.random(len(k)) < np.clip(m_q + 0.15, 0, 0.98)
    summary = rng.random(len(k)) < np.clip(m_q + 0.05, 0, 0.98)
    effectiveness = 1 + rng.binomial(3, np.clip(m_q, 0.05, 0.95))
    return Table(
        "team_meetings",
        {
            "team_id": pc.take(w.team_id, pa.array(m_team)),
            "meeting_date": dates(days),
            "cycle_step": ints(step, missing_step),
            "minutes_shared": yn(minutes),
            "data_summary_shared": yn(summary),
            "effectiveness": ints(effectiveness, rng.random(len(k)) < 0.1),
        },
    )


def _cycles(w: World) -> dict[str, np.ndarray]:
    """The teacher teams' five-step cycles: two a team a year (autumn and winter)."""
    rng = w.rng("team_cycles")
    team, year = _team_years(w, tbt_only=True)
    team, year = np.repeat(team, 2), np.repeat(year, 2)
    half = np.tile(np.arange(2), len(team) // 2)
    subject = np.where(w.tm_subject[team] >= 0, w.tm_subject[team], (half + w.tm_k[team]) % 2)
    start = w.year_start[year] + np.where(half == 0, 83, 203) + rng.integers(0, 10, len(team))
    start = weekday(start)
    end = weekday(start + 56 + rng.integers(0, 8, len(team)))
    return {
        "team": team,
        "year": year,
        "subject": subject,
        "start": start,
        "end": end,
        "cut": rng.choice([70, 75, 80], len(team)),
        "target": rng.choice([60, 65, 70, 75, 80], len(team)),
        "focus": rng.integers(0, 3, len(team)),
        "strategy": rng.integers(0, len(_STRATEGIES), len(team)),
    }


def _cycle_ids(n: int) -> pa.Array:
    return ids(np.arange(1, n + 1), id_width(n, 5), "C")


def _team_cycles_table(w: World, cy: dict[str, np.ndarray]) -> Table:
    n = len(cy["team"])
    focus_vocab = [f for s in range(4) for f in _FOCUS[s]]
    return Table(
        "team_cycles",
        {
            "cycle_id": _cycle_ids(n),
            "team_id": pc.take(w.team_id, pa.array(cy["team"])),
            "subject": take(SUBJECTS, cy["subject"]),
            "focus": take(focus_vocab, cy["subject"] * 3 + cy["focus"]),
            "strategy": take(_STRATEGIES, cy["strategy"]),
            "start_date": dates(cy["start"]),
            "end_date": dates(cy["end"]),
            "proficiency_cut": ints(cy["cut"]),
            "target_pct": ints(cy["target"]),
        },
    )


def _cycle_results_table(w: World, cy: dict[str, np.ndarray]) -> Table:
    rng = w.rng("cycle_results")
    # student-years sorted by (year, school, grade) so a grade or a school is a contiguous block
    order = np.lexsort((w.sy_student, w.sy_grade, w.sy_school, w.sy_year))
    n_groups = 2 * w.n_schools * 14
    group = (w.sy_year[order] * w.n_schools + w.sy_school[order]) * 14 + w.sy_grade[order] + 1
    g_start, g_count = segments(group, n_groups)
    s_start, s_count = segments(
        w.sy_year[order] * w.n_schools + w.sy_school[order], 2 * w.n_schools
    )

    team, year = cy["team"], cy["year"]
    school = w.tm_school[team]
    grade_team = w.tm_grade[team] >= 0
    gkey = (year * w.n_schools + school) * 14 + np.maximum(w.tm_grade[team], 0) + 1
    skey = year * w.n_schools + school
    start = np.where(grade_team, g_start[gkey], s_start[skey])
    count = np.where(grade_team, g_count[gkey], s_count[skey])
    length = np.minimum(count, rng.integers(28, 61, len(team)))
    start = start + (rng.random(len(team)) * (count - length + 1)).astype(np.int64)
    members = order[ranges(start, length)]
    cycle = np.repeat(np.arange(len(team)), length)

    student = w.sy_student[members]
    subject = cy["subject"][cycle]
    ability = w.ability[subject, student]
    pre = np.clip(np.rint(52 + 14 * ability + rng.normal(0, 9, len(cycle))), 0, 100)
    gain = 4 + 14 * w.tm_quality[team][cycle] + rng.normal(0, 7, len(cycle))
    post = np.clip(np.rint(pre + gain), 0, 100)
    return Table(
        "cycle_results",
        {
            "cycle_id": pc.take(_cycle_ids(len(team)), pa.array(cycle)),
            "student_id": pc.take(w.student_id, pa.array(student)),
            "pre_score": ints(pre, rng.random(len(cycle)) < 0.015),
            "post_score": ints(post, rng.random(len(cycle)) < 0.06),
        },
    )


def _active(w: World, year: int) -> np.ndarray:
    return (w.st_year < 0) | (w.st_year == year)


def _staff_survey_table(w: World) -> Table:
    rng = w.rng("staff_survey")
    staff_rows, windows = [], []
    for window in range(4):  # 2024-25 Fall, 2024-25 Spring, 2025-26 Fall, 2025-26 Spring
        active = np.flatnonzero(_active(w, window // 2))
        responded = active[rng.random(len(active)) < 0.8]
        staff_rows.append(responded)
        windows.append(np.full(len(responded), window))
    staff = np.concatenate(staff_rows)
    window = np.concatenate(windows)
    n = len(staff)
    school = w.st_school[staff]
    order = np.lexsort((staff, school, window))
    staff, window, school = staff[order], window[order], school[order]
    person = rng.normal(0, 0.12, n)
    p = w.culture[school][:, None] + 0.05 * window[:, None] + _SURVEY_ITEM_SHIFT + person[:, None]
    p = np.clip(p - 0.1, 0.03, 0.97)
    agree = rng.random((n, 6)) < p
    strong = rng.random((n, 6)) < np.where(agree, 0.4, 0.3)
    answer = np.where(agree, 3 + strong, 2 - strong)  # 1..4
    blank = rng.random((n, 6)) < 0.04
    labels = [f"{y} {t}" for y in SCHOOL_YEARS for t in ("Fall", "Spring")]
    columns = {
        "response_id": ids(np.arange(1, n + 1), id_width(n, 6), "R"),
        "school_id": pc.take(w.school_id, pa.array(school)),
        "survey_window": take(labels, window),
        # schools that run the survey anonymously leave staff_id blank
        "staff_id": take(w.staff_id, staff, w.anonymous_survey[school]),
    }
    for j, item in enumerate(SURVEY_ITEMS):
        columns[item] = ints(answer[:, j], blank[:, j])
    return Table("staff_survey", columns, {"window": window, "answer": answer, "blank": blank})


def _walkthroughs_table(w: World) -> Table:
    rng = w.rng("walkthroughs")
    # staff rows are sorted by school then role: each school's teachers and its observers
    # (principal, assistant principals, coaches) are contiguous blocks
    key = w.st_school * 8 + w.st_role
    base = np.arange(w.n_schools) * 8
    admin_start = np.searchsorted(key, base)
    admin_count = np.searchsorted(key, base + 3) - admin_start
    teacher_start = np.searchsorted(key, base + 4)
    teacher_count = np.searchsorted(key, base + 5) - teacher_start
    school = np.repeat(np.arange(w.n_schools), 2)
    year = np.tile(np.arange(2), w.n_schools)
    n = np.maximum(3, np.rint(1.2 * teacher_count[school])).astype(np.int64)
    o_school, o_year = np.repeat(school, n), np.repeat(year, n)
    total = len(o_school)
    days = weekday(w.year_start[o_year] + 70 + rng.integers(0, 250, total))
    order = np.lexsort((days, o_school, o_year))
    o_school, o_year, days = o_school[order], o_year[order], days[order]
    observed = teacher_start[o_school] + (rng.random(total) * teacher_count[o_school]).astype(
        np.int64
    )
    observer = admin_start[o_school] + (rng.random(total) * admin_count[o_school]).astype(np.int64)
    fidelity = np.clip(
        w.culture[o_school] + 0.08 * o_year + rng.normal(0, 0.1, total) - 0.05, 0.05, 0.97
    )
    focus = rng.random(total) < fidelity
    combos = [a for a in _STRATEGIES] + [
        f"{a};{b}" for i, a in enumerate(_STRATEGIES) for b in _STRATEGIES[i + 1 :]
    ]
    return Table(
        "walkthroughs",
        {
            "observation_id": ids(np.arange(1, total + 1), id_width(total, 6), "W"),
            "school_id": pc.take(w.school_id, pa.array(o_school)),
            "observation_date": dates(days),
            "observed_staff_id": pc.take(w.staff_id, pa.array(observed)),
            "observer_id": pc.take(w.staff_id, pa.array(observer)),
            "focus_strategy_observed": yn(focus),
            "strategies": take(combos, rng.integers(0, len(combos), total)),
            "engagement": ints(1 + rng.binomial(3, 0.3 + 0.5 * fidelity)),
        },
    )


def _fidelity_checks_table(w: World) -> Table:
    rng = w.rng("fidelity_checks")
    team, year = _team_years(w, tbt_only=True)
    team, year = np.repeat(team, 3), np.repeat(year, 3)
    k = np.tile(np.arange(3), len(team) // 3)
    days = weekday(
        w.year_start[year] + np.array([110, 208, 292])[k] + rng.integers(0, 14, len(team))
    )
    pct = np.clip(
        np.rint((w.tm_quality[team] + 0.05 * k + rng.normal(0, 0.1, len(team))) * 20) * 5, 10, 100
    )
    return Table(
        "fidelity_checks",
        {
            "team_id": pc.take(w.team_id, pa.array(team)),
            "check_date": dates(days),
            "strategy": take(_STRATEGIES, rng.integers(0, len(_STRATEGIES), len(team))),
            "fidelity_pct": ints(pct),
        },
    )


def _pd_activities_table(w: World) -> Table:
    rng = w.rng("pd_activities")
    staff = np.r_[np.flatnonzero(_active(w, 0)), np.flatnonzero(_active(w, 1))]
    year = np.r_[
        np.zeros(int(_active(w, 0).sum()), np.int64), np.ones(int(_active(w, 1).sum()), np.int64)
    ]
    lam = np.where(INSTRUCTIONAL[w.st_role[staff]], 4.5, 1.2)
    n = rng.poisson(lam)
    a_staff, a_year = np.repeat(staff, n), np.repeat(year, n)
    total = len(a_staff)
    school = w.st_school[a_staff]
    weights = np.broadcast_to(_FORMAT_P, (total, len(_FORMATS))).copy()
    weights[:, 4] = np.where(INSTRUCTIONAL[w.st_role[a_staff]], w.coach_weight[school], 0.0)
    weights /= weights.sum(axis=1, keepdims=True)
    fmt = (rng.random(total)[:, None] > np.cumsum(weights, axis=1)).sum(axis=1)
    fmt = np.minimum(fmt, len(_FORMATS) - 1)
    offset = rng.integers(0, 300, total)
    days = weekday(w.year_start[a_year] + 42 + offset)
    step = np.clip(1 + offset * 10 // 300 + rng.integers(-1, 2, total), 1, 10)
    stage = np.where(rng.random(total) < 0.7, _FORMAT_STAGE[fmt], rng.integers(1, 4, total))
    hours = _FORMAT_HOURS[fmt] * rng.choice([0.5, 1.0, 1.0, 1.5, 2.0], total)
    completed = rng.random(total) < 0.9
    artifact = completed & (rng.random(total) < 0.45)
    order = np.lexsort((days, a_staff, a_year))
    a_staff, days, fmt, stage, step, hours, completed, artifact = (
        x[order] for x in (a_staff, days, fmt, stage, step, hours, completed, artifact)
    )
    return Table(
        "pd_activities",
        {
            "staff_id": pc.take(w.staff_id, pa.array(a_staff)),
            "activity_date": dates(days),
            "format": take(_FORMATS, fmt),
            "initiative": take(_INITIATIVES, rng.integers(0, len(_INITIATIVES), total)),
            "stage": ints(stage),
            "cycle_step": ints(step),
            "hours": floats(hours, rng.random(total) < 0.02),
            "completed": yn(completed),
            "artifact": yn(artifact, rng.random(total) < 0.05),
        },
    )


def _rubric_ratings_table(w: World) -> Table:
    rng = w.rng("rubric_ratings")
    school = np.repeat(np.arange(w.n_schools), 2)
    year = np.tile(np.arange(2), w.n_schools)
    rates = rng.random(len(school)) < np.where(year == 0, 0.7, 0.9)
    n_rated = np.where(rates, np.where(year == 0, 5, 9), 0)
    shuffled = np.argsort(rng.random((len(school), len(RATED_INDICATORS))), axis=1)
    keep = np.arange(len(RATED_INDICATORS))[None, :] < n_rated[:, None]
    chosen = np.where(keep, shuffled, len(RATED_INDICATORS))
    chosen = np.sort(chosen, axis=1)
    r_row, r_col = np.nonzero(chosen < len(RATED_INDICATORS))
    indicator = chosen[r_row, r_col]
    r_school, r_year = school[r_row], year[r_row]
    total = len(r_row)
    rating = np.clip(
        np.rint(3 * w.culture[r_school] + 0.3 * r_year + rng.normal(0, 0.7, total) - 0.4), 0, 3
    )
    rating = rating.astype(np.int64)
    evidence_vocab = [e for row in _EVIDENCE for e in row]
    return Table(
        "rubric_ratings",
        {
            "school_id": pc.take(w.school_id, pa.array(r_school)),
            "school_year": take(SCHOOL_YEARS, r_year),
            "indicator_id": take(RATED_INDICATORS, indicator),
            "rating": ints(rating),
            "evidence": take(evidence_vocab, rating * 3 + rng.integers(0, 3, total)),
        },
    )


def practice_builders(world: World) -> dict[str, Callable[[], Table]]:
    """One function per practice table that builds it from ``world`` when called."""
    cycles = _cycles(world)  # shared by team_cycles and cycle_results
    return {
        "teams": lambda: _teams_table(world),
        "team_members": lambda: _team_members_table(world),
        "team_meetings": lambda: _team_meetings_table(world),
        "team_cycles": lambda: _team_cycles_table(world, cycles),
        "cycle_results": lambda: _cycle_results_table(world, cycles),
        "staff_survey": lambda: _staff_survey_table(world),
        "walkthroughs": lambda: _walkthroughs_table(world),
        "fidelity_checks": lambda: _fidelity_checks_table(world),
        "pd_activities": lambda: _pd_activities_table(world),
        "rubric_ratings": lambda: _rubric_ratings_table(world),
    }
