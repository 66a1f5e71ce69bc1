"""The contract tables of a sample district, built from its :class:`~.world.World`.

Each builder returns one table of DATA_CONTRACT section 1 with canonical values, typed numbers
and dates (a :class:`~.columns.Table`). This module builds the schools, students, their
assessments and the cut scores that grade them, and staff; :mod:`~.practice` builds the tables of
the schools' practice. :func:`build_tables` yields them one at a time, in :data:`TABLE_NAMES`
order, so a writer holds one table in memory at a time. Every table draws from its own random
stream (``World.rng(name)``), so changing one table's builder leaves the others unchanged.

>>> from bltanalytics.sample.world import World
>>> tables = {t.name: t for t in build_tables(World(n_schools=2, per_school=30, seed=7))}
>>> list(tables) == list(TABLE_NAMES), tables["schools"].num_rows
(True, 2)
>>> tables["schools"].columns["level"].to_pylist()
['elementary', 'elementary']
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bltanalytics.load import DEMOGRAPHIC_FLAGS, TABLES
from bltanalytics.sample.columns import Table, dates, grade_label, ints, take, text, yn
from bltanalytics.sample.practice import practice_builders
from bltanalytics.sample.world import (
    INSTRUCTIONAL,
    RACES,
    ROLES,
    SCHOOL_YEARS,
    SUBJECTS,
    TERMS,
    World,
)

#: every table of DATA_CONTRACT section 1, in the order they are generated
TABLE_NAMES = tuple(TABLES)

_SCHOOL_ROOTS = (
    "Maple", "Riverside", "Lincoln", "Cedar Grove", "Hillcrest", "Oak Park", "Lakeview",
    "Washington", "Pine Ridge", "Sunnyside", "Franklin", "Westwood", "Eastgate", "Meadowbrook",
    "Harbor", "Jefferson", "Willow Creek", "Parkside", "Roosevelt", "Summit", "Valley View",
    "Brookside", "Garfield", "Highland", "Kennedy", "Madison", "Northfield", "Orchard",
    "Prairie", "Stonebridge",
)  # fmt: skip
#: per school kind (see ``World.kind``)
_KIND_LEVEL = ("elementary", "middle", "high", "other")
_KIND_SUFFIX = ("Elementary School", "Middle School", "High School", "Community Academy")
_TESTED_MAX_GRADE = 10
_SCIENCE_GRADES = (5, 8, 10)


def _schools_table(w: World) -> Table:
    roots = np.array(_SCHOOL_ROOTS)
    i = np.arange(w.n_schools)
    name = np.char.add(np.char.add(roots[i % len(roots)], " "), np.array(_KIND_SUFFIX)[w.kind])
    repeat = i // len(roots)
    name = np.where(repeat > 0, np.char.add(name, np.char.add(" ", (repeat + 1).astype(str))), name)
    return Table(
        "schools",
        {
            "school_id": w.school_id,
            "school_name": text(name),
            "level": take(_KIND_LEVEL, w.kind),
        },
    )


def _students_table(w: World) -> Table:
    st = pa.array(w.sy_student)
    flags = (w.el, w.sped, w.ed, w.homeless, w.migrant, w.foster)
    names = DEMOGRAPHIC_FLAGS
    columns = {
        "student_id": pc.take(w.student_id, st),
        "school_id": pc.take(w.school_id, pa.array(w.sy_school)),
        "school_year": take(SCHOOL_YEARS, w.sy_year),
        "grade": grade_label(w.sy_grade),
        "sex": take(("F", "M", "X"), w.sex[w.sy_student]),
        "race_ethnicity": take(RACES, w.race[w.sy_student]),
    }
    for j, (name, flag) in enumerate(zip(names, flags, strict=True)):
        columns[name] = yn(flag[w.sy_student], w.flag_missing[j][w.sy_student])
    columns["first_name"] = pc.take(w.first_name, st)
    columns["last_name"] = pc.take(w.last_name, st)
    columns["birth_date"] = dates(w.birth_days[w.sy_student])
    return Table("students", columns, {"year": w.sy_year})


def _score_mean(grade: np.ndarray, term: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Mean scale score by grade and term: about 11 points a grade, 8 from Fall to Spring."""
    return 160.0 + 11.0 * grade + 4.0 * term + 1.0 * year


def _cuts() -> tuple[np.ndarray, np.ndarray]:
    """Level minimums per (subject, grade): array [subject, grade + 1, level - 1], and tested."""
    grade = np.arange(-1, 13)
    level3 = 160.0 + 11.0 * grade + 4.0  # just above the Fall mean
    steps = np.array([-np.inf, -10.0, 0.0, 11.0, 22.0])
    table = np.broadcast_to(level3[None, :, None] + steps[None, None, :], (4, 14, 5)).copy()
    table[:, :, 0] = 100.0  # level 1 starts at the bottom of the scale
    tested = np.zeros((4, 14), bool)
    tested[0:2, 1 : _TESTED_MAX_GRADE + 2] = True  # ELA and Math, K-10
    tested[2, [g + 1 for g in _SCIENCE_GRADES]] = True
    return np.rint(table), tested


def _levels(score: np.ndarray, subject: np.ndarray, grade: np.ndarray) -> np.ndarray:
    cuts, _ = _cuts()
    level = np.zeros(len(score), np.int64)
    for k in range(5):  # five passes over the rows rather than one rows x 5 matrix
        level += score >= cuts[subject, grade + 1, k]
    return level


def _assessments_table(w: World) -> Table:
    rng = w.rng("assessments")
    tested = np.flatnonzero(w.sy_grade <= _TESTED_MAX_GRADE)
    # ELA and Math, three terms
    combos_term = np.tile(np.repeat(np.arange(3), 2), len(tested))
    combos_subject = np.tile(np.tile(np.arange(2), 3), len(tested))
    row = np.repeat(tested, 6)
    science = np.flatnonzero(np.isin(w.sy_grade, _SCIENCE_GRADES))
    row = np.r_[row, science]
    term = np.r_[combos_term, np.full(len(science), 2)]
    subject = np.r_[combos_subject, np.full(len(science), 2)]
    keep = rng.random(len(row)) < 0.95  # absent on test day, moved, opted out
    row, term, subject = row[keep], term[keep], subject[keep]
    order = np.lexsort((subject, term, row))  # student-year rows are already in export order
    row, term, subject = row[order], term[order], subject[order]

    student, year, grade = w.sy_student[row], w.sy_year[row], w.sy_grade[row]
    ability = w.ability[subject, student]
    noise = rng.normal(0.0, 0.35, len(row)).astype(np.float32)
    score = _score_mean(grade, term, year) + 13.0 * (ability + noise)
    score = np.clip(np.rint(score), 100, 400)
    level = _levels(score, subject, grade)
    # which rows carry a level / proficiency (the rest are derived from cut_scores)
    science_rows = subject == 2
    has_level = (year == 0) | science_rows | (term == 0)
    has_prof = (year == 0) | science_rows
    columns = {
        "student_id": pc.take(w.student_id, pa.array(student)),
        "school_id": pc.take(w.school_id, pa.array(w.sy_school[row])),
        "school_year": take(SCHOOL_YEARS, year),
        "term": take(TERMS, term),
        "subject": take(SUBJECTS, subject),
        "grade": grade_label(grade),
        "scale_score": ints(score),
        "performance_level": ints(level, ~has_level),
        "proficient": yn(level >= 3, ~has_prof),
    }
    aux = {"year": year, "term": term, "has_level": has_level, "has_prof": has_prof}
    return Table("assessments", columns, aux)


def _staff_table(w: World) -> Table:
    rng = w.rng("staff")
    given = rng.random(w.n_staff) < 0.3  # instructional written out on some rows only
    return Table(
        "staff",
        {
            "staff_id": w.staff_id,
            "school_id": pc.take(w.school_id, pa.array(w.st_school)),
            "role": take(ROLES, w.st_role),
            "instructional": yn(INSTRUCTIONAL[w.st_role], ~given),
            "school_year": take(SCHOOL_YEARS, np.maximum(w.st_year, 0), w.st_year < 0),
        },
    )


def _cut_scores_table() -> Table:
    cuts, tested = _cuts()
    subject, grade_index = np.nonzero(tested)
    subject, grade_index = np.repeat(subject, 5), np.repeat(grade_index, 5)
    level = np.tile(np.arange(5), len(subject) // 5)
    n = len(subject)
    return Table(
        "cut_scores",
        {
            "subject": take(SUBJECTS, subject),
            "grade": grade_label(grade_index - 1),
            "level": ints(level + 1),
            "min_score": ints(cuts[subject, grade_index, level]),
            "school_year": pa.nulls(n, pa.string()),
        },
    )


def build_tables(world: World) -> Iterator[Table]:
    """Each table of :data:`TABLE_NAMES`, in that order, built when it is asked for."""
    builders = {
        "schools": lambda: _schools_table(world),
        "students": lambda: _students_table(world),
        "assessments": lambda: _assessments_table(world),
        "staff": lambda: _staff_table(world),
        "cut_scores": _cut_scores_table,
        **practice_builders(world),
    }
    for name in TABLE_NAMES:
        yield builders[name]()
