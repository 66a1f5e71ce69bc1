"""Synthetic sample districts: every table of the data contract, made up from a seed.

:func:`generate_district` writes a district folder (DATA_CONTRACT section 1) for demos, tests and
benchmarks. Nothing in it describes a real person: names are drawn at random from short built-in
lists, birth dates are invented, and ids are sequence numbers.

What the data look like:

* schools of every level (elementary K-5, middle 6-8, high 9-12, and one small K-8 "other"
  school of 20-30 students in every 20, the 6th, so that suppression and "insufficient data"
  show), sizes varying around ``students_per_school``;
* two school years (2024-25, 2025-26) of students who move up a grade, leave and arrive;
* assessments in ELA and Math (grades K-10, Fall/Winter/Spring) and Science (grades 5, 8, 10,
  Spring), with achievement gaps by economic disadvantage, English-learner status, special
  education and race/ethnicity, and scores that rise from Fall to Spring; performance levels
  and proficiency are given for some rows and left to be derived from ``cut_scores`` for others;
* staff, BLTs and teacher teams (one school in ten has no BLT; the small school has no teacher
  team), meetings, five-step cycles with pre/post scores, staff surveys, walk-throughs, fidelity
  checks, professional learning and BLT rubric self-ratings.

With ``messy=True`` the folder looks like a real export: variant spellings, Y/N variants, US and
ISO dates, a CSV with a byte-order mark, one in Windows-1252, staff as ``.xlsx``, district column
names that ``mapping.yaml`` translates, and a handful of bad rows of each kind. Every bad row is
listed in :attr:`SampleSummary.problems` (never as a file in the folder, where it would look like
a table).

Everything is vectorized numpy/pyarrow, so 1,000 schools of 1,000 students (about ten million
assessment rows) take well under a minute.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     summary = generate_district(tmp, schools=3, students_per_school=40, seed=7)
...     sorted(summary.files)[:3], summary.rows["schools"]
(['assessments', 'cut_scores', 'cycle_results'], 3)
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from bltanalytics.load import DEMOGRAPHIC_FLAGS, SURVEY_ITEMS, TABLES, canonical_values

__all__ = [
    "FILE_FORMATS",
    "SCHOOL_YEARS",
    "TABLE_NAMES",
    "InjectedProblem",
    "SampleSummary",
    "generate_district",
]

#: every table of DATA_CONTRACT section 1, in the order they are generated
TABLE_NAMES = tuple(TABLES)
SCHOOL_YEARS = ("2024-25", "2025-26")
TERMS = ("Fall", "Winter", "Spring")
SUBJECTS = ("ELA", "Math", "Science", "Social Studies")
FILE_FORMATS = ("mixed", "csv", "parquet")

#: in ``mixed`` format: how each table that is not a plain UTF-8 CSV is written
_MIXED_WRITERS = {"students": "csv-cp1252", "assessments": "csv-bom", "staff": "xlsx"}
#: district column names in messy districts, translated back by mapping.yaml
_DISTRICT_COLUMNS = {
    "assessments": {"student_id": "Student Number", "term": "Test Term"},
    "students": {"english_learner": "LEP Status"},
}
_TERM_CODES = {"T1": "Fall", "T2": "Winter", "T3": "Spring"}

# ----------------------------------------------------------------------------------------------
# Built-in lists (synthetic: any resemblance to a real person is chance)

_FIRST_F = (
    "Ava", "Mia", "Sofia", "Zoë", "Renée", "Chloé", "Inés", "Maya", "Emma", "Olivia", "Amara",
    "Keisha", "Lucía", "Grace", "Hannah", "Aaliyah", "Mei", "Priya", "Nora", "Leah", "Valeria",
    "Harper", "Isabela", "Jasmine",
)  # fmt: skip
_FIRST_M = (
    "José", "Liam", "Noah", "Mateo", "André", "Nicolás", "Ethan", "Jamal", "Lucas", "Omar",
    "Wei", "Arjun", "Caleb", "Diego", "Elijah", "Malik", "Henry", "Julián", "Owen", "Samuel",
    "Tyrone", "Kai", "Ezra", "Marcus",
)  # fmt: skip
_FIRST_X = ("Alex", "Jordan", "Riley", "Quinn", "Avery", "Rowan", "Sage", "Noël")
_LAST = (
    "García", "Nuñez", "Peña", "Smith", "Johnson", "Nguyen", "Patel", "Kim", "O'Brien",
    "Williams", "Brown", "Jones", "Miller", "Davis", "Rodríguez", "Martínez", "Hernández",
    "López", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Lee", "Pérez",
    "Thompson", "Harris", "Sánchez", "Clark", "Ramírez", "Walker", "Young", "Chen", "Yazzie",
    "Begay", "Kealoha", "Müller", "Novak", "Okafor",
)  # fmt: skip
_SCHOOL_ROOTS = (
    "Maple", "Riverside", "Lincoln", "Cedar Grove", "Hillcrest", "Oak Park", "Lakeview",
    "Washington", "Pine Ridge", "Sunnyside", "Franklin", "Westwood", "Eastgate", "Meadowbrook",
    "Harbor", "Jefferson", "Willow Creek", "Parkside", "Roosevelt", "Summit", "Valley View",
    "Brookside", "Garfield", "Highland", "Kennedy", "Madison", "Northfield", "Orchard",
    "Prairie", "Stonebridge",
)  # fmt: skip
_RACES = tuple(canonical_values("race_ethnicity"))
_RACE_P = np.array([0.27, 0.01, 0.05, 0.15, 0.01, 0.45, 0.06])
_RACE_ABILITY = np.array([-0.25, -0.30, 0.30, -0.35, -0.20, 0.10, 0.0])
_RACE_ED_LOGIT = np.array([0.7, 0.8, -0.3, 0.8, 0.5, -0.4, 0.0])
_RACE_EL_P = np.array([0.35, 0.05, 0.25, 0.04, 0.10, 0.02, 0.03])
_ROLES = (
    "principal",
    "assistant principal",
    "coach",
    "specialist",
    "teacher",
    "paraprofessional",
    "other",
)
_INSTRUCTIONAL = np.array([False, False, True, True, True, False, False])
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
_SURVEY_WORDS = ("Strongly disagree", "Disagree", "Agree", "Strongly agree")

# school kinds in a repeating pattern of 20: E elementary, M middle, H high, S small K-8 "other"
_PATTERN = "EEMHESEMEHEEMHEEEMEH"
_KINDS = "EMHS"
_KIND_LEVEL = ("elementary", "middle", "high", "other")
_KIND_LO = np.array([0, 6, 9, 0])
_KIND_HI = np.array([5, 8, 12, 8])
_KIND_SIZE = np.array([0.8, 1.1, 1.5, 0.0])
_KIND_SUFFIX = ("Elementary School", "Middle School", "High School", "Community Academy")
_TESTED_MAX_GRADE = 10
_SCIENCE_GRADES = (5, 8, 10)

# ----------------------------------------------------------------------------------------------
# Public result


@dataclass(frozen=True)
class InjectedProblem:
    """One deliberately bad value or row in a messy sample.

    ``source_row`` is the 1-based data row in ``file`` (the header is not counted), ``column``
    the contract column ('' for a whole-row problem such as a duplicate), ``value`` the text
    written there ('' for a blank), ``kind`` the quarantine reason the contract calls for
    (``missing_required``, ``unknown_school``, ``unknown_team``, ``bad_value``, ``out_of_range``,
    ``duplicate``, ``unscorable``, ``unrecognised_value``) and ``action`` what a loader following
    the contract does with it: ``row_dropped``, or ``value_blanked`` (the row is kept; an
    unrecognised demographic value then counts as "Not reported").
    """

    table: str
    file: str
    source_row: int
    column: str
    kind: str
    value: str
    action: str


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`generate_district` wrote."""

    path: Path
    files: dict[str, str]  # table -> file name in ``path`` (mapping.yaml is not a table)
    rows: dict[str, int]  # table -> data rows written
    problems: tuple[InjectedProblem, ...] = ()
    seed: int = 0
    messy: bool = True
    file_format: str = "mixed"
    extra_files: tuple[str, ...] = field(default=())  # e.g. ("mapping.yaml",)

    def problems_frame(self):
        """The injected problems as a pandas DataFrame (one row per problem)."""
        import pandas as pd

        columns = ["table", "file", "source_row", "column", "kind", "value", "action"]
        return pd.DataFrame([p.__dict__ for p in self.problems], columns=columns)


# ----------------------------------------------------------------------------------------------
# Small vectorized helpers


def _day(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 (the int behind ``date32``)."""
    return int(
        (np.datetime64(f"{year:04d}-{month:02d}-{day:02d}") - np.datetime64(0, "D")).item().days
    )


def _weekday(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays to the next Monday (1970-01-01 was a Thursday)."""
    dow = (days + 3) % 7  # Monday = 0
    return days + np.where(dow == 5, 2, np.where(dow == 6, 1, 0))


def _text(values) -> pa.Array:
    return pa.array(list(values), pa.string())


def _take(vocab, codes: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Strings ``vocab[codes]`` (null where ``missing``), vectorized."""
    vocab = vocab if isinstance(vocab, pa.Array) else _text(vocab)
    return pc.take(vocab, pa.array(np.asarray(codes, dtype=np.int64), mask=missing))


def _ids(numbers: np.ndarray, width: int, prefix: str = "") -> pa.Array:
    """Zero-padded id strings: ``_ids([7], 4, "R")`` -> ``R0007``."""
    text = pc.utf8_lpad(pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, text, "") if prefix else text


def _width(largest: int, minimum: int) -> int:
    return max(minimum, len(str(int(largest))))


def _yn(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return _take(("N", "Y"), values.astype(np.int64), missing)


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), pa.date32())


def _ints(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), mask=missing)


def _floats(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.float64), mask=missing)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for each start and length, vectorized."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(np.asarray(starts, dtype=np.int64), lengths) + np.arange(total) - offsets


def _segments(keys: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Start offset and count of each key value in a key-sorted array."""
    counts = np.bincount(keys, minlength=n_keys)
    return np.cumsum(counts) - counts, counts


# ----------------------------------------------------------------------------------------------
# The world: schools, students, staff, teams as numpy arrays


@dataclass
class _Table:
    """Columns (pyarrow arrays of one length) plus row-aligned numpy helpers for messing up."""

    name: str
    columns: dict[str, pa.Array]
    aux: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        return len(next(iter(self.columns.values())))


class _World:
    """Entities shared by several tables, generated once."""

    def __init__(self, n_schools: int, per_school: int, seed: int):
        self.seed = seed
        self.year_start = np.array([_day(2024, 7, 1), _day(2025, 7, 1)])
        rng = self.rng("world")
        self._schools(rng, n_schools, per_school)
        self._students(rng)
        self._staff(rng)
        self._teams(rng)

    def rng(self, name: str) -> np.random.Generator:
        """An independent random stream per table, so tables do not shift each other."""
        return np.random.default_rng([self.seed, sum(ord(c) * 31**i for i, c in enumerate(name))])

    # schools ---------------------------------------------------------------------------------
    def _schools(self, rng, n: int, per_school: int) -> None:
        pattern = np.array([_KINDS.index(k) for k in _PATTERN])
        kind = pattern[np.arange(n) % len(pattern)]
        size = np.rint(per_school * _KIND_SIZE[kind] * rng.uniform(0.8, 1.2, n)).astype(np.int64)
        size = np.where(kind == 3, rng.integers(20, 31, n), np.maximum(size, 6))
        numbers = 101 + np.arange(n)
        self.id_width = _width(numbers.max(), 4)
        unknown = "9" * self.id_width
        self.unknown_school = unknown if int(unknown) > numbers.max() else "9" + unknown
        self.n_schools = n
        self.kind = kind
        self.size = size
        self.lo = _KIND_LO[kind]
        self.hi = _KIND_HI[kind]
        self.school_id = _ids(numbers, self.id_width)
        self.effect = rng.normal(0.0, 0.25, n)  # school-level achievement shift
        self.poverty = rng.uniform(0.2, 0.8, n)
        self.culture = rng.uniform(0.35, 0.95, n)  # drives survey, meetings, fidelity
        self.coach_weight = rng.uniform(0.03, 0.45, n)
        self.anonymous_survey = rng.random(n) < 0.4
        self.has_blt = np.arange(n) % 10 != 3
        self.n_tbt = np.select([kind == 0, kind == 1, kind == 2], [self.hi - self.lo + 1, 3, 4], 0)

    # students --------------------------------------------------------------------------------
    def _students(self, rng) -> None:
        n1 = int(self.size.sum())
        school1 = np.repeat(np.arange(self.n_schools), self.size)
        span = (self.hi - self.lo + 1)[school1]
        grade1 = self.lo[school1] + (rng.random(n1) * span).astype(np.int64)
        aged_out = grade1 == self.hi[school1]
        left = aged_out | (rng.random(n1) < 0.07)
        stay = np.flatnonzero(~left)
        new_school = school1[left]
        new_grade = np.where(aged_out[left], self.lo[new_school], grade1[left] + 1)
        n_new = int(left.sum())
        new_student = n1 + np.arange(n_new)
        self.n_students = n1 + n_new

        student = np.r_[np.arange(n1), stay, new_student]
        school = np.r_[school1, school1[stay], new_school]
        grade = np.r_[grade1, grade1[stay] + 1, new_grade]
        year = np.r_[np.zeros(n1, np.int64), np.ones(len(stay) + n_new, np.int64)]
        order = np.lexsort((student, school, year))
        self.sy_student = student[order]
        self.sy_school = school[order]
        self.sy_grade = grade[order]
        self.sy_year = year[order]

        # demographics, one draw per student
        n = self.n_students
        home = np.r_[school1, new_school]
        first_grade = np.r_[grade1, new_grade - 1]  # grade in 2024-25 (-1: entered K in 2025-26)
        self.sex = rng.choice(3, n, p=[0.49, 0.495, 0.015])
        self.race = rng.choice(len(_RACES), n, p=_RACE_P)
        logit = np.log(self.poverty[home] / (1 - self.poverty[home])) + _RACE_ED_LOGIT[self.race]
        self.ed = rng.random(n) < 1 / (1 + np.exp(-logit))
        self.el = rng.random(n) < _RACE_EL_P[self.race] * np.where(first_grade < 3, 1.4, 0.8)
        self.sped = rng.random(n) < 0.14
        self.homeless = rng.random(n) < np.where(self.ed, 0.045, 0.005)
        self.migrant = rng.random(n) < np.where(self.race == 0, 0.03, 0.002)
        self.foster = rng.random(n) < 0.006
        self.flag_missing = rng.random((6, n)) < 0.015  # demographic flags left blank
        first_lists = (_FIRST_F, _FIRST_M, _FIRST_X)
        vocab = [name for names in first_lists for name in names]
        offsets = np.cumsum([0, *map(len, first_lists)])[:-1]
        sizes = np.array([len(x) for x in first_lists])
        self.first_name = _take(vocab, offsets[self.sex] + (rng.random(n) * sizes[self.sex]))
        self.last_name = _take(_LAST, rng.integers(0, len(_LAST), n))
        born_from = (np.datetime64("2018-09-02") - np.datetime64(0, "D")).astype(np.int64)
        self.birth_days = born_from - np.rint((first_grade) * 365.25).astype(np.int64)
        self.birth_days = self.birth_days + rng.integers(0, 365, n)
        self.student_width = _width(n, 6)
        self.student_id = _ids(np.arange(1, n + 1), self.student_width)

        gap = (
            _RACE_ABILITY[self.race]
            - 0.45 * self.ed
            - 0.55 * self.el
            - 0.85 * self.sped
            + 0.30  # re-centre the district near zero
        )
        base = rng.normal(0.0, 0.8, n) + self.effect[home] + gap
        self.ability = np.stack(
            [
                base + rng.normal(0, 0.3, n) - 0.2 * self.el + 0.08 * (self.sex == 0),  # ELA
                base + rng.normal(0, 0.3, n),  # Math
                base + rng.normal(0, 0.3, n) - 0.1 * self.el,  # Science
                base + rng.normal(0, 0.3, n),  # Social Studies
            ]
        ).astype(np.float32)

    # staff -----------------------------------------------------------------------------------
    def _staff(self, rng) -> None:
        size, kind = self.size, self.kind
        counts = np.stack(
            [
                np.ones_like(size),  # principal
                ((kind == 1) | (kind == 2) | (size > 550)).astype(np.int64) + (size > 1200),
                np.where(size < 100, 0, 1 + (size > 700)),  # coaches
                np.rint(size / 250).astype(np.int64),  # specialists
                np.maximum(3, np.rint(size / 20).astype(np.int64)),  # teachers
                np.maximum(1, np.rint(size / 100).astype(np.int64)),  # paraprofessionals
                np.where(size >= 150, 1 + size // 600, 0),  # counselors ("other")
            ],
            axis=1,
        )
        flat = counts.ravel()
        school = np.repeat(np.repeat(np.arange(self.n_schools), len(_ROLES)), flat)
        role = np.repeat(np.tile(np.arange(len(_ROLES)), self.n_schools), flat)
        rank = _ranks_in_sorted(school * len(_ROLES) + role)
        year = np.full(len(school), -1)  # -1: every year
        leaver = np.flatnonzero((role == 4) & (rng.random(len(school)) < 0.06))
        year[leaver] = 0
        # replacements hired for 2025-26 take the leaver's place (same school, role and team)
        school = np.r_[school, school[leaver]]
        role = np.r_[role, role[leaver]]
        rank = np.r_[rank, rank[leaver]]
        year = np.r_[year, np.ones(len(leaver), np.int64)]
        number = np.arange(1, len(school) + 1)
        order = np.lexsort((number, role, school))
        self.st_school, self.st_role = school[order], role[order]
        self.st_rank, self.st_year = rank[order], year[order]
        self.staff_width = _width(len(school) + 10, 5)
        self.n_staff = len(school)
        self.staff_id = _ids(number[order], self.staff_width)
        self.role_counts = counts

    # teams -----------------------------------------------------------------------------------
    def _teams(self, rng) -> None:
        per_school = self.has_blt.astype(np.int64) + self.n_tbt
        self.team_offset = np.cumsum(per_school) - per_school
        school = np.repeat(np.arange(self.n_schools), per_school)
        pos = _ranks_in_sorted(school)
        is_blt = self.has_blt[school] & (pos == 0)
        k = pos - self.has_blt[school]  # TBT number within the school, -1 for the BLT
        kind = self.kind[school]
        self.tm_school, self.tm_blt, self.tm_k = school, is_blt, k
        self.tm_grade = np.where(is_blt | (kind == 2), -1, self.lo[school] + k)
        self.tm_subject = np.where(kind == 2, np.maximum(k, 0), -1)
        quality = self.culture[school] + rng.normal(0, 0.15, len(school))
        self.tm_quality = np.clip(quality, 0.05, 0.98)
        suffix = np.where(is_blt, "-BLT", np.char.add("-T", np.char.zfill((k + 1).astype(str), 2)))
        self.team_id = pc.binary_join_element_wise(
            pc.take(self.school_id, pa.array(school)), _text(suffix), ""
        )
        self.n_teams = len(school)


def _ranks_in_sorted(groups: np.ndarray) -> np.ndarray:
    """Position within runs of equal, already grouped values."""
    if len(groups) == 0:
        return np.zeros(0, np.int64)
    starts = np.r_[0, np.flatnonzero(groups[1:] != groups[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(groups)])
    return np.arange(len(groups)) - np.repeat(starts, counts)


def _grade_label(grade: np.ndarray) -> pa.Array:
    vocab = ["PK", "K", *map(str, range(1, 13))]
    return _take(vocab, grade + 1)


# ----------------------------------------------------------------------------------------------
# Tables (canonical values; typed numbers and dates)


def _schools_table(w: _World) -> _Table:
    roots = np.array(_SCHOOL_ROOTS)
    i = np.arange(w.n_schools)
    name = np.char.add(np.char.add(roots[i % len(roots)], " "), np.array(_KIND_SUFFIX)[w.kind])
    repeat = i // len(roots)
    name = np.where(repeat > 0, np.char.add(name, np.char.add(" ", (repeat + 1).astype(str))), name)
    return _Table(
        "schools",
        {
            "school_id": w.school_id,
            "school_name": _text(name),
            "level": _take(_KIND_LEVEL, w.kind),
        },
    )


def _students_table(w: _World) -> _Table:
    st = pa.array(w.sy_student)
    flags = (w.el, w.sped, w.ed, w.homeless, w.migrant, w.foster)
    names = DEMOGRAPHIC_FLAGS
    columns = {
        "student_id": pc.take(w.student_id, st),
        "school_id": pc.take(w.school_id, pa.array(w.sy_school)),
        "school_year": _take(SCHOOL_YEARS, w.sy_year),
        "grade": _grade_label(w.sy_grade),
        "sex": _take(("F", "M", "X"), w.sex[w.sy_student]),
        "race_ethnicity": _take(_RACES, w.race[w.sy_student]),
    }
    for j, (name, flag) in enumerate(zip(names, flags, strict=True)):
        columns[name] = _yn(flag[w.sy_student], w.flag_missing[j][w.sy_student])
    columns["first_name"] = pc.take(w.first_name, st)
    columns["last_name"] = pc.take(w.last_name, st)
    columns["birth_date"] = _dates(w.birth_days[w.sy_student])
    return _Table("students", columns, {"year": w.sy_year})


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


def _assessments_table(w: _World) -> _Table:
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
        "school_year": _take(SCHOOL_YEARS, year),
        "term": _take(TERMS, term),
        "subject": _take(SUBJECTS, subject),
        "grade": _grade_label(grade),
        "scale_score": _ints(score),
        "performance_level": _ints(level, ~has_level),
        "proficient": _yn(level >= 3, ~has_prof),
    }
    aux = {"year": year, "term": term, "has_level": has_level, "has_prof": has_prof}
    return _Table("assessments", columns, aux)


def _staff_table(w: _World) -> _Table:
    rng = w.rng("staff")
    given = rng.random(w.n_staff) < 0.3  # instructional written out on some rows only
    return _Table(
        "staff",
        {
            "staff_id": w.staff_id,
            "school_id": pc.take(w.school_id, pa.array(w.st_school)),
            "role": _take(_ROLES, w.st_role),
            "instructional": _yn(_INSTRUCTIONAL[w.st_role], ~given),
            "school_year": _take(SCHOOL_YEARS, np.maximum(w.st_year, 0), w.st_year < 0),
        },
    )


def _teams_table(w: _World) -> _Table:
    kind = w.kind[w.tm_school]
    band = np.array(["K-5", "6-8", "9-12", "K-8"])[kind]
    grade_text = np.array(["PK", "K", *map(str, range(1, 13))])[w.tm_grade + 1]
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
    return _Table(
        "teams",
        {
            "team_id": w.team_id,
            "school_id": pc.take(w.school_id, pa.array(w.tm_school)),
            "team_type": _take(("BLT", "TBT"), (~w.tm_blt).astype(np.int64)),
            "structure": _take(
                ("horizontal", "interdisciplinary", "vertical"),
                np.maximum(structure, 0),
                structure < 0,
            ),
            "name": _text(name),
            "grade_band": _text(np.where(w.tm_blt | (kind == 2), band, grade_text)),
            "subject": _take(SUBJECTS, np.maximum(w.tm_subject, 0), w.tm_subject < 0),
        },
        {"blt": w.tm_blt},
    )


def _team_members_table(w: _World) -> _Table:
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
    return _Table(
        "team_members",
        {
            "team_id": pc.take(w.team_id, pa.array(team)),
            "staff_id": pc.take(w.staff_id, pa.array(staff)),
        },
    )


def _team_years(w: _World, tbt_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    teams = np.flatnonzero(~w.tm_blt) if tbt_only else np.arange(w.n_teams)
    return np.repeat(teams, 2), np.tile(np.arange(2), len(teams))


def _team_meetings_table(w: _World) -> _Table:
    rng = w.rng("team_meetings")
    team, year = _team_years(w)
    quality = w.tm_quality[team]
    blt = w.tm_blt[team]
    base = np.where(blt, 9, 16) - rng.integers(0, 3, len(team))
    n = np.maximum(2, np.rint(base * (0.6 + 0.4 * quality))).astype(np.int64)
    m_team, m_year, m_q = np.repeat(team, n), np.repeat(year, n), np.repeat(quality, n)
    k = _ranks_in_sorted(np.repeat(np.arange(len(team)), n))
    interval = np.where(w.tm_blt[m_team], 30, 14)
    days = w.year_start[m_year] + 64 + k * interval + rng.integers(0, 4, len(k))
    days = _weekday(days)
    # strong teams work through all five steps; weak ones stall at steps 1-3
    cycle = np.where(m_q >= 0.45, 5, 3)
    step = k % cycle + 1
    missing_step = rng.random(len(k)) < 0.04
    minutes = rng.random(len(k)) < np.clip(m_q + 0.15, 0, 0.98)
    summary = rng.random(len(k)) < np.clip(m_q + 0.05, 0, 0.98)
    effectiveness = 1 + rng.binomial(3, np.clip(m_q, 0.05, 0.95))
    return _Table(
        "team_meetings",
        {
            "team_id": pc.take(w.team_id, pa.array(m_team)),
            "meeting_date": _dates(days),
            "cycle_step": _ints(step, missing_step),
            "minutes_shared": _yn(minutes),
            "data_summary_shared": _yn(summary),
            "effectiveness": _ints(effectiveness, rng.random(len(k)) < 0.1),
        },
    )


def _cycles(w: _World) -> dict[str, np.ndarray]:
    """The teacher teams' five-step cycles: two a team a year (autumn and winter)."""
    rng = w.rng("team_cycles")
    team, year = _team_years(w, tbt_only=True)
    team, year = np.repeat(team, 2), np.repeat(year, 2)
    half = np.tile(np.arange(2), len(team) // 2)
    subject = np.where(w.tm_subject[team] >= 0, w.tm_subject[team], (half + w.tm_k[team]) % 2)
    start = w.year_start[year] + np.where(half == 0, 83, 203) + rng.integers(0, 10, len(team))
    start = _weekday(start)
    end = _weekday(start + 56 + rng.integers(0, 8, len(team)))
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
    return _ids(np.arange(1, n + 1), _width(n, 5), "C")


def _team_cycles_table(w: _World, cy: dict[str, np.ndarray]) -> _Table:
    n = len(cy["team"])
    focus_vocab = [f for s in range(4) for f in _FOCUS[s]]
    return _Table(
        "team_cycles",
        {
            "cycle_id": _cycle_ids(n),
            "team_id": pc.take(w.team_id, pa.array(cy["team"])),
            "subject": _take(SUBJECTS, cy["subject"]),
            "focus": _take(focus_vocab, cy["subject"] * 3 + cy["focus"]),
            "strategy": _take(_STRATEGIES, cy["strategy"]),
            "start_date": _dates(cy["start"]),
            "end_date": _dates(cy["end"]),
            "proficiency_cut": _ints(cy["cut"]),
            "target_pct": _ints(cy["target"]),
        },
    )


def _cycle_results_table(w: _World, cy: dict[str, np.ndarray]) -> _Table:
    rng = w.rng("cycle_results")
    # student-years sorted by (year, school, grade) so a grade or a school is a contiguous block
    order = np.lexsort((w.sy_student, w.sy_grade, w.sy_school, w.sy_year))
    n_groups = 2 * w.n_schools * 14
    group = (w.sy_year[order] * w.n_schools + w.sy_school[order]) * 14 + w.sy_grade[order] + 1
    g_start, g_count = _segments(group, n_groups)
    s_start, s_count = _segments(
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
    members = order[_ranges(start, length)]
    cycle = np.repeat(np.arange(len(team)), length)

    student = w.sy_student[members]
    subject = cy["subject"][cycle]
    ability = w.ability[subject, student]
    pre = np.clip(np.rint(52 + 14 * ability + rng.normal(0, 9, len(cycle))), 0, 100)
    gain = 4 + 14 * w.tm_quality[team][cycle] + rng.normal(0, 7, len(cycle))
    post = np.clip(np.rint(pre + gain), 0, 100)
    return _Table(
        "cycle_results",
        {
            "cycle_id": pc.take(_cycle_ids(len(team)), pa.array(cycle)),
            "student_id": pc.take(w.student_id, pa.array(student)),
            "pre_score": _ints(pre, rng.random(len(cycle)) < 0.015),
            "post_score": _ints(post, rng.random(len(cycle)) < 0.06),
        },
    )


def _active(w: _World, year: int) -> np.ndarray:
    return (w.st_year < 0) | (w.st_year == year)


def _staff_survey_table(w: _World) -> _Table:
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
        "response_id": _ids(np.arange(1, n + 1), _width(n, 6), "R"),
        "school_id": pc.take(w.school_id, pa.array(school)),
        "survey_window": _take(labels, window),
        # schools that run the survey anonymously leave staff_id blank
        "staff_id": _take(w.staff_id, staff, w.anonymous_survey[school]),
    }
    for j, item in enumerate(SURVEY_ITEMS):
        columns[item] = _ints(answer[:, j], blank[:, j])
    return _Table("staff_survey", columns, {"window": window, "answer": answer, "blank": blank})


def _walkthroughs_table(w: _World) -> _Table:
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
    days = _weekday(w.year_start[o_year] + 70 + rng.integers(0, 250, total))
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
    return _Table(
        "walkthroughs",
        {
            "observation_id": _ids(np.arange(1, total + 1), _width(total, 6), "W"),
            "school_id": pc.take(w.school_id, pa.array(o_school)),
            "observation_date": _dates(days),
            "observed_staff_id": pc.take(w.staff_id, pa.array(observed)),
            "observer_id": pc.take(w.staff_id, pa.array(observer)),
            "focus_strategy_observed": _yn(focus),
            "strategies": _take(combos, rng.integers(0, len(combos), total)),
            "engagement": _ints(1 + rng.binomial(3, 0.3 + 0.5 * fidelity)),
        },
    )


def _fidelity_checks_table(w: _World) -> _Table:
    rng = w.rng("fidelity_checks")
    team, year = _team_years(w, tbt_only=True)
    team, year = np.repeat(team, 3), np.repeat(year, 3)
    k = np.tile(np.arange(3), len(team) // 3)
    days = _weekday(
        w.year_start[year] + np.array([110, 208, 292])[k] + rng.integers(0, 14, len(team))
    )
    pct = np.clip(
        np.rint((w.tm_quality[team] + 0.05 * k + rng.normal(0, 0.1, len(team))) * 20) * 5, 10, 100
    )
    return _Table(
        "fidelity_checks",
        {
            "team_id": pc.take(w.team_id, pa.array(team)),
            "check_date": _dates(days),
            "strategy": _take(_STRATEGIES, rng.integers(0, len(_STRATEGIES), len(team))),
            "fidelity_pct": _ints(pct),
        },
    )


def _pd_activities_table(w: _World) -> _Table:
    rng = w.rng("pd_activities")
    staff = np.r_[np.flatnonzero(_active(w, 0)), np.flatnonzero(_active(w, 1))]
    year = np.r_[
        np.zeros(int(_active(w, 0).sum()), np.int64), np.ones(int(_active(w, 1).sum()), np.int64)
    ]
    lam = np.where(_INSTRUCTIONAL[w.st_role[staff]], 4.5, 1.2)
    n = rng.poisson(lam)
    a_staff, a_year = np.repeat(staff, n), np.repeat(year, n)
    total = len(a_staff)
    school = w.st_school[a_staff]
    weights = np.broadcast_to(_FORMAT_P, (total, len(_FORMATS))).copy()
    weights[:, 4] = np.where(_INSTRUCTIONAL[w.st_role[a_staff]], w.coach_weight[school], 0.0)
    weights /= weights.sum(axis=1, keepdims=True)
    fmt = (rng.random(total)[:, None] > np.cumsum(weights, axis=1)).sum(axis=1)
    fmt = np.minimum(fmt, len(_FORMATS) - 1)
    offset = rng.integers(0, 300, total)
    days = _weekday(w.year_start[a_year] + 42 + offset)
    step = np.clip(1 + offset * 10 // 300 + rng.integers(-1, 2, total), 1, 10)
    stage = np.where(rng.random(total) < 0.7, _FORMAT_STAGE[fmt], rng.integers(1, 4, total))
    hours = _FORMAT_HOURS[fmt] * rng.choice([0.5, 1.0, 1.0, 1.5, 2.0], total)
    completed = rng.random(total) < 0.9
    artifact = completed & (rng.random(total) < 0.45)
    order = np.lexsort((days, a_staff, a_year))
    a_staff, days, fmt, stage, step, hours, completed, artifact = (
        x[order] for x in (a_staff, days, fmt, stage, step, hours, completed, artifact)
    )
    return _Table(
        "pd_activities",
        {
            "staff_id": pc.take(w.staff_id, pa.array(a_staff)),
            "activity_date": _dates(days),
            "format": _take(_FORMATS, fmt),
            "initiative": _take(_INITIATIVES, rng.integers(0, len(_INITIATIVES), total)),
            "stage": _ints(stage),
            "cycle_step": _ints(step),
            "hours": _floats(hours, rng.random(total) < 0.02),
            "completed": _yn(completed),
            "artifact": _yn(artifact, rng.random(total) < 0.05),
        },
    )


def _cut_scores_table() -> _Table:
    cuts, tested = _cuts()
    subject, grade_index = np.nonzero(tested)
    subject, grade_index = np.repeat(subject, 5), np.repeat(grade_index, 5)
    level = np.tile(np.arange(5), len(subject) // 5)
    n = len(subject)
    return _Table(
        "cut_scores",
        {
            "subject": _take(SUBJECTS, subject),
            "grade": _grade_label(grade_index - 1),
            "level": _ints(level + 1),
            "min_score": _ints(cuts[subject, grade_index, level]),
            "school_year": pa.nulls(n, pa.string()),
        },
    )


def _rubric_ratings_table(w: _World) -> _Table:
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
    return _Table(
        "rubric_ratings",
        {
            "school_id": pc.take(w.school_id, pa.array(r_school)),
            "school_year": _take(SCHOOL_YEARS, r_year),
            "indicator_id": _take(RATED_INDICATORS, indicator),
            "rating": _ints(rating),
            "evidence": _take(evidence_vocab, rating * 3 + rng.integers(0, 3, total)),
        },
    )


# ----------------------------------------------------------------------------------------------
# Messiness: variant spellings and injected problems (messy=True)


def _ordinal(g: int) -> str:
    return f"{g}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(g if g < 20 else g % 10, 'th') }"


_GRADE_VARIANTS = {
    "K": ["KG", "00", "Kindergarten", "0K", "k"],
    **{str(g): [f"{g:02d}", f"Grade {g}", _ordinal(g)] for g in range(1, 13)},
}
_YEAR_VARIANTS = {"2024-25": ["2024-2025", "2025"], "2025-26": ["2025-2026", "2026"]}
_FLAG_VARIANTS = {
    "Y": ["Yes", "yes", "True", "1", "T", "y", " Y"],
    "N": ["No", "no", "False", "0", "F", "n", "N "],
}
_SEX_VARIANTS = {"F": ["Female", "f"], "M": ["Male", "m"], "X": ["Non-binary"]}
_RACE_VARIANTS = {
    "Hispanic/Latino": ["Hispanic", "HI7", "hispanic or latino"],
    "American Indian/Alaska Native": ["American Indian", "AM7"],
    "Asian": ["AS7", "asian"],
    "Black/African American": ["African American", "Black", "BL7"],
    "Native Hawaiian/Pacific Islander": ["Pacific Islander", "PI7"],
    "White": ["WH7", "white", " White "],
    "Two or More Races": ["Multiracial", "MU7"],
}
_SUBJECT_VARIANTS = {
    "ELA": ["Reading", "English Language Arts", " ela"],
    "Math": ["Mathematics", "math ", "MATH"],
    "Science": ["science", "SCI"],
    "Social Studies": ["social studies"],
}
_TERM_VARIANTS = {
    "Fall": ["BOY", "fall"],
    "Winter": ["MOY", "winter "],
    "Spring": ["EOY", "SPRING"],
}
_LEVEL_VARIANTS = {
    "elementary": ["Elementary", "ES"],
    "middle": ["Middle School", "MS"],
    "high": ["High School", " high"],
    "other": ["K-8"],
}
_ROLE_VARIANTS = {
    "teacher": ["Teacher", "Classroom Teacher", "TEACHER"],
    "coach": ["Instructional Coach"],
    "specialist": ["Reading Specialist", "Interventionist"],
    "principal": ["Principal"],
    "assistant principal": ["Assistant Principal", "AP"],
    "paraprofessional": ["Para", "Paraprofessional"],
    "other": ["Counselor"],
}
_TEAM_TYPE_VARIANTS = {"BLT": ["blt", "Building Leadership Team"], "TBT": ["tbt", "Teacher Team"]}
_STRUCTURE_VARIANTS = {
    "horizontal": ["Grade Level"],
    "interdisciplinary": ["Interdisciplinary"],
    "vertical": ["Vertical"],
}
_FORMAT_VARIANTS = {
    "online_course": ["Online Course"],
    "micro_pd": ["Micro PD", "micro-pd"],
    "workshop": ["Workshop"],
    "support_meeting": ["Support Meeting"],
    "coaching": ["Coaching", "Instructional Coaching"],
    "plc": ["PLC"],
    "observation_feedback": ["Observation Feedback", "observation-feedback"],
}
_WORD_ANSWERS = {
    "1": ["Strongly disagree", "strongly disagree"],
    "2": ["Disagree"],
    "3": ["Agree", "agree"],
    "4": ["Strongly agree", "Strongly Agree"],
}
_DEMOGRAPHIC_FLAGS = (
    "english_learner",
    "special_education",
    "economically_disadvantaged",
    "homeless",
    "migrant",
    "foster_care",
)


def _as_text(arr: pa.Array) -> pa.Array:
    return arr if pa.types.is_string(arr.type) else arr.cast(pa.string())


class _Mess:
    """Variant spellings and bad cells/rows for one table, with the problems they make.

    Cell edits are addressed by *base* row (before inserted rows); :meth:`finish` inserts the
    extra rows right after the rows they copy and reports each problem at its final position.
    """

    def __init__(self, table: _Table, file: str, rng: np.random.Generator):
        self.table, self.file, self.rng = table, file, rng
        self.n = table.num_rows
        self.columns = {
            k: v if pa.types.is_date(v.type) else _as_text(v) for k, v in table.columns.items()
        }
        self.touched: set[int] = set()
        self.edits: dict[str, dict[int, str | None]] = {}
        self.inserts: list[tuple[int, dict[str, str | None]]] = []
        self.marks: list[tuple[int, int | None, str, str, str, str]] = []

    # variant spellings ------------------------------------------------------------------------
    def vary(self, column: str, variants: dict[str, list[str]], share: float, where=None) -> None:
        """Respell ``share`` of the rows (within ``where``) with a random variant of their value."""
        encoded = pc.dictionary_encode(self.columns[column])
        values = encoded.dictionary.to_pylist()
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        if not values:  # nothing but blanks
            return
        vocab = list(values)
        first = np.zeros(len(values), np.int64)
        count = np.zeros(len(values), np.int64)
        for i, value in enumerate(values):
            options = variants.get(value, [])
            first[i], count[i] = len(vocab), len(options)
            vocab.extend(options)
        chosen = (self.rng.random(self.n) < share) & (codes >= 0)
        if where is not None:
            chosen &= where
        chosen &= count[np.maximum(codes, 0)] > 0
        pick = (self.rng.random(self.n) * count[np.maximum(codes, 0)]).astype(np.int64)
        new = np.where(chosen, first[np.maximum(codes, 0)] + pick, codes)
        self.columns[column] = _take(vocab, np.maximum(new, 0), new < 0)

    def dates(self, column: str, us_share: float) -> None:
        """Write a date column as text, ``us_share`` of it as US ``MM/DD/YYYY``."""
        arr = self.columns[column]
        iso = arr.cast(pa.string())
        us = pc.strftime(arr, format="%m/%d/%Y")
        self.columns[column] = pc.if_else(pa.array(self.rng.random(self.n) < us_share), us, iso)

    # problems -------------------------------------------------------------------------------
    def pick(self, k: int, where: np.ndarray | None = None) -> list[int]:
        """``k`` distinct rows not touched before (within ``where``)."""
        pool = np.flatnonzero(where) if where is not None else None
        size = len(pool) if pool is not None else self.n
        want = min(size, k + len(self.touched))
        if want <= 0:
            return []
        cand = self.rng.choice(pool if pool is not None else self.n, want, replace=False)
        rows = [int(r) for r in cand if int(r) not in self.touched][:k]
        self.touched.update(rows)
        return rows

    def cell(self, row: int, column: str) -> str | None:
        return self.columns[column][row].as_py()

    def set(self, row: int, column: str, value: str | None, kind: str, action: str) -> None:
        self.edits.setdefault(column, {})[row] = value
        self.marks.append((row, None, column, kind, value or "", action))

    def insert(
        self,
        row: int,
        changes: dict[str, str | None],
        kind: str,
        column: str = "",
        action: str = "row_dropped",
        on_original: bool = False,
        value: str | None = None,
    ) -> None:
        """Insert a copy of ``row`` (with ``changes``) right after it; the copy is the problem
        unless ``on_original``."""
        self.inserts.append((row, changes))
        shown = value if value is not None else (changes.get(column) or "")
        where = (row, None) if on_original else (row, len(self.inserts) - 1)
        self.marks.append((*where, column, kind, shown, action))

    def finish(self) -> tuple[pa.Table, list[InjectedProblem]]:
        columns = {k: _as_text(v) for k, v in self.columns.items()}  # dates left: ISO text
        for column, edits in self.edits.items():
            columns[column] = _replace(columns[column], edits)
        table = pa.table(columns)
        order = sorted(range(len(self.inserts)), key=lambda j: self.inserts[j][0])
        bases = np.array([self.inserts[j][0] for j in order], dtype=np.int64)
        copy_pos = {j: int(bases[i]) + 1 + i for i, j in enumerate(order)}
        if self.inserts:
            table = table.take(pa.array(np.insert(np.arange(self.n), bases + 1, bases)))
            columns = {name: table.column(name).combine_chunks() for name in table.column_names}
            changed: dict[str, dict[int, str | None]] = {}
            for j, (_, changes) in enumerate(self.inserts):
                for column, value in changes.items():
                    changed.setdefault(column, {})[copy_pos[j]] = value
            for column, edits in changed.items():
                columns[column] = _replace(columns[column], edits)
            table = pa.table(columns)
        problems = []
        for row, copy, column, kind, value, action in self.marks:
            if copy is None:
                position = row + int(np.searchsorted(bases, row, side="left"))
            else:
                position = copy_pos[copy]
            problems.append(
                InjectedProblem(
                    self.table.name, self.file, position + 1, column, kind, value, action
                )
            )
        problems.sort(key=lambda p: (p.source_row, p.column))
        return table, problems


def _replace(arr: pa.Array, edits: dict[int, str | None]) -> pa.Array:
    rows = np.array(sorted(edits), dtype=np.int64)
    mask = np.zeros(len(arr), bool)
    mask[rows] = True
    values = pa.array([edits[r] for r in rows.tolist()], pa.string())
    return pc.replace_with_mask(_as_text(arr), pa.array(mask), values)


def _fresh(ids: pa.Array, prefix_len: int = 0) -> list[str]:
    """A few ids beyond the largest in ``ids`` (same width and prefix)."""
    largest = max(x for x in ids.to_pylist() if x is not None)
    prefix, digits = largest[:prefix_len], largest[prefix_len:]
    return [prefix + str(int(digits) + k).zfill(len(digits)) for k in range(1, 6)]


def _mess_schools(m: _Mess, w: _World) -> None:
    m.vary("level", _LEVEL_VARIANTS, 0.5)


def _mess_students(m: _Mess, w: _World) -> None:
    m.vary("school_year", _YEAR_VARIANTS, 0.12)
    m.vary("grade", _GRADE_VARIANTS, 0.15)
    m.vary("sex", _SEX_VARIANTS, 0.3)
    m.vary("race_ethnicity", _RACE_VARIANTS, 0.25)
    for flag in _DEMOGRAPHIC_FLAGS:
        m.vary(flag, _FLAG_VARIANTS, 0.15)
    m.dates("birth_date", 0.4)
    fresh = iter(_fresh(m.columns["student_id"]))
    # bad rows are extra rows with new ids, so no real student loses a record
    bad_rows = (
        ({"student_id": next(fresh), "grade": None}, "missing_required", "grade"),
        ({"student_id": None}, "missing_required", "student_id"),
        ({"student_id": next(fresh), "school_id": w.unknown_school}, "unknown_school", "school_id"),
        ({"student_id": next(fresh), "school_id": w.unknown_school}, "unknown_school", "school_id"),
        ({"student_id": next(fresh), "grade": "3x"}, "bad_value", "grade"),
    )
    for r, (changes, kind, column) in zip(m.pick(len(bad_rows)), bad_rows, strict=False):
        m.insert(r, changes, kind, column)
    for r in m.pick(2):
        m.insert(r, {}, "duplicate")
    for r in m.pick(2):
        m.set(r, "race_ethnicity", "Martian", "unrecognised_value", "value_blanked")
    for r in m.pick(1):
        m.set(r, "birth_date", "02/30/2015", "bad_value", "value_blanked")


def _mess_assessments(m: _Mess, w: _World) -> None:
    aux = m.table.aux
    m.vary("school_year", _YEAR_VARIANTS, 0.08)
    # the older system coded terms T1/T2/T3 (mapping.yaml translates them)
    m.vary("term", {t: [c] for c, t in _TERM_CODES.items()}, 1.0, where=aux["year"] == 0)
    m.vary("term", _TERM_VARIANTS, 0.15, where=aux["year"] == 1)
    m.vary("subject", _SUBJECT_VARIANTS, 0.12)
    m.vary("grade", _GRADE_VARIANTS, 0.1)
    m.vary("proficient", _FLAG_VARIANTS, 0.15)
    for r in m.pick(2):
        m.set(r, "subject", None, "missing_required", "row_dropped")
    for r in m.pick(2):
        m.set(r, "school_id", w.unknown_school, "unknown_school", "row_dropped")
    for r in m.pick(1):
        m.set(r, "grade", "3x", "bad_value", "row_dropped")
    levelled = aux["has_level"] & aux["has_prof"]
    for r in m.pick(1, levelled):
        m.set(r, "scale_score", "12O", "bad_value", "value_blanked")
    for r in m.pick(2, levelled):
        m.set(r, "performance_level", "7", "out_of_range", "value_blanked")
    for r in m.pick(1, aux["has_level"]):
        m.set(r, "proficient", "maybe", "bad_value", "value_blanked")
    for r in m.pick(2):
        m.insert(r, {}, "duplicate")
    score_only = ~aux["has_level"] & ~aux["has_prof"]
    for j, r in enumerate(m.pick(2, score_only)):
        score = int(m.cell(r, "scale_score"))
        if j == 0:  # a later, higher score for the same key: the earlier row is the one dropped
            changes = {"scale_score": str(score + 9)}
            m.insert(r, changes, "duplicate", "scale_score", on_original=True, value=str(score))
        else:  # a later, lower score: the later row is dropped
            m.insert(r, {"scale_score": str(score - 7)}, "duplicate", "scale_score")
    for r in m.pick(3, score_only):
        m.set(r, "scale_score", None, "unscorable", "row_dropped")


def _mess_staff(m: _Mess, w: _World) -> None:
    m.vary("role", _ROLE_VARIANTS, 0.3)
    m.vary("instructional", _FLAG_VARIANTS, 0.3)
    m.vary("school_year", _YEAR_VARIANTS, 0.3)
    fresh = iter(_fresh(m.columns["staff_id"]))
    for j, r in enumerate(m.pick(2)):
        if j == 0:
            changes = {"staff_id": next(fresh), "school_id": w.unknown_school}
            m.insert(r, changes, "unknown_school", "school_id")
        else:
            m.insert(r, {"staff_id": next(fresh), "role": None}, "missing_required", "role")
    for r in m.pick(1):
        m.set(r, "instructional", "maybe", "bad_value", "value_blanked")
    for r in m.pick(1):
        m.insert(r, {}, "duplicate")


def _mess_teams(m: _Mess, w: _World) -> None:
    m.vary("team_type", _TEAM_TYPE_VARIANTS, 0.3)
    m.vary("structure", _STRUCTURE_VARIANTS, 0.3)
    m.vary("subject", _SUBJECT_VARIANTS, 0.3)
    for r in m.pick(1, ~m.table.aux["blt"]):
        new_id = f"{w.unknown_school}-T01"
        m.insert(
            r, {"team_id": new_id, "school_id": w.unknown_school}, "unknown_school", "school_id"
        )


def _mess_team_members(m: _Mess, w: _World) -> None:
    for r in m.pick(1):
        m.insert(r, {}, "duplicate")


def _mess_team_meetings(m: _Mess, w: _World) -> None:
    m.dates("meeting_date", 0.5)
    m.vary("minutes_shared", _FLAG_VARIANTS, 0.2)
    m.vary("data_summary_shared", _FLAG_VARIANTS, 0.2)
    for r in m.pick(1):
        team = m.cell(r, "team_id")
        m.set(r, "team_id", team.split("-")[0] + "-T99", "unknown_team", "row_dropped")
    for r in m.pick(1):
        m.set(r, "meeting_date", "02/30/2025", "bad_value", "row_dropped")
    for r in m.pick(1):
        m.set(r, "cycle_step", "7", "out_of_range", "value_blanked")
    for r in m.pick(1):
        m.set(r, "minutes_shared", "maybe", "bad_value", "value_blanked")
    for r in m.pick(1):
        m.insert(r, {}, "duplicate")


def _mess_team_cycles(m: _Mess, w: _World) -> None:
    m.vary("subject", _SUBJECT_VARIANTS, 0.2)
    m.dates("start_date", 0.3)
    m.dates("end_date", 0.3)
    fresh = _fresh(m.columns["cycle_id"], prefix_len=1)[0]
    for r in m.pick(1):
        m.insert(r, {"cycle_id": fresh, "target_pct": "140"}, "out_of_range", "target_pct")


def _mess_cycle_results(m: _Mess, w: _World) -> None:
    for r in m.pick(1):
        m.insert(r, {}, "duplicate")
    has_pre = m.columns["pre_score"].is_valid().to_numpy(zero_copy_only=False)
    for r in m.pick(1, has_pre):
        m.set(r, "pre_score", "8O", "bad_value", "value_blanked")


def _mess_staff_survey(m: _Mess, w: _World) -> None:
    window = m.table.aux["window"]
    labels = [f"{y} {t}" for y in SCHOOL_YEARS for t in ("Fall", "Spring")]
    m.vary("survey_window", {x: [x.lower()] for x in labels}, 0.05)
    for item in SURVEY_ITEMS:
        m.vary(item, _WORD_ANSWERS, 1.0, where=window < 2)  # last year's form used words
        m.vary(item, _WORD_ANSWERS, 0.05, where=window >= 2)
    for j, r in enumerate(m.pick(2)):
        m.set(r, SURVEY_ITEMS[(2 * j + 1) % 6], "maybe", "bad_value", "value_blanked")
    for r in m.pick(1):
        m.set(r, "survey_window", None, "missing_required", "row_dropped")
    for r in m.pick(1):
        m.set(r, "school_id", w.unknown_school, "unknown_school", "row_dropped")
    for r in m.pick(1):
        m.insert(r, {}, "duplicate")


def _mess_walkthroughs(m: _Mess, w: _World) -> None:
    m.dates("observation_date", 0.3)
    m.vary("focus_strategy_observed", _FLAG_VARIANTS, 0.2)
    for r in m.pick(1):
        m.set(r, "focus_strategy_observed", "maybe", "bad_value", "row_dropped")
    for r in m.pick(1):
        m.set(r, "engagement", "9", "out_of_range", "value_blanked")
    for r in m.pick(1):
        m.set(r, "school_id", w.unknown_school, "unknown_school", "row_dropped")
    for r in m.pick(1):
        m.set(r, "observation_date", None, "missing_required", "row_dropped")


def _mess_fidelity_checks(m: _Mess, w: _World) -> None:
    m.dates("check_date", 0.3)
    for r in m.pick(2):
        m.set(r, "fidelity_pct", "140", "out_of_range", "row_dropped")
    for r in m.pick(1):
        m.set(r, "check_date", None, "missing_required", "row_dropped")


def _mess_pd_activities(m: _Mess, w: _World) -> None:
    m.dates("activity_date", 0.3)
    m.vary("format", _FORMAT_VARIANTS, 0.3)
    m.vary("completed", _FLAG_VARIANTS, 0.2)
    m.vary("artifact", _FLAG_VARIANTS, 0.2)
    for r in m.pick(1):
        m.set(r, "hours", "two", "bad_value", "value_blanked")
    for r in m.pick(1):
        m.set(r, "stage", "4", "out_of_range", "value_blanked")
    for r in m.pick(1):
        m.set(r, "staff_id", None, "missing_required", "row_dropped")
    for r in m.pick(1):
        m.insert(r, {}, "duplicate")


def _mess_cut_scores(m: _Mess, w: _World) -> None:
    m.vary("subject", _SUBJECT_VARIANTS, 0.2)
    m.vary("grade", _GRADE_VARIANTS, 0.2)


def _mess_rubric_ratings(m: _Mess, w: _World) -> None:
    m.vary("school_year", _YEAR_VARIANTS, 0.2)
    for r in m.pick(1):
        m.set(r, "rating", "5", "out_of_range", "row_dropped")
    for r in m.pick(1):
        m.set(r, "school_id", w.unknown_school, "unknown_school", "row_dropped")


_MESSERS = {
    "schools": _mess_schools,
    "students": _mess_students,
    "assessments": _mess_assessments,
    "staff": _mess_staff,
    "teams": _mess_teams,
    "team_members": _mess_team_members,
    "team_meetings": _mess_team_meetings,
    "team_cycles": _mess_team_cycles,
    "cycle_results": _mess_cycle_results,
    "staff_survey": _mess_staff_survey,
    "walkthroughs": _mess_walkthroughs,
    "fidelity_checks": _mess_fidelity_checks,
    "pd_activities": _mess_pd_activities,
    "cut_scores": _mess_cut_scores,
    "rubric_ratings": _mess_rubric_ratings,
}


# ----------------------------------------------------------------------------------------------
# Writers


_FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
_FIXED_STAMP = "2026-01-01T00:00:00Z"


def _csv(table: pa.Table, sink) -> None:
    """CSV without quotes unless a value needs them (as spreadsheet exports look)."""
    needs_quotes = any(
        pa.types.is_string(col.type)
        and any(pc.any(pc.match_substring(col, ch)).as_py() for ch in (",", '"', "\n", "\r"))
        for col in table.columns
    )
    style = "needed" if needs_quotes else "none"
    sink.write((",".join(table.column_names) + "\n").encode("utf-8"))  # pyarrow quotes headers
    options = pacsv.WriteOptions(include_header=False, quoting_style=style)
    pacsv.write_csv(table, sink, options)


def _write_xlsx(table: pa.Table, path: Path, sheet: str) -> None:
    """One sheet, every cell text (so ``000123`` stays ``000123``), byte-reproducible."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append(table.column_names)
    for row in zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True):
        ws.append(list(row))  # openpyxl has no columnar writer; staff tables are small
    buffer = io.BytesIO()
    book.save(buffer)
    # zip entry times and the workbook's created/modified stamps would differ run to run
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", _FIXED_STAMP.encode(), data)
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)


def _write(table: pa.Table, folder: Path, name: str, how: str) -> str:
    """Write ``table`` as ``how`` (csv, csv-bom, csv-cp1252, xlsx, parquet); return file name."""
    if how == "parquet":
        pq.write_table(table, folder / f"{name}.parquet")
        return f"{name}.parquet"
    if how == "xlsx":
        _write_xlsx(table, folder / f"{name}.xlsx", name)
        return f"{name}.xlsx"
    path = folder / f"{name}.csv"
    if how == "csv-cp1252":
        buffer = io.BytesIO()
        _csv(table, buffer)
        path.write_bytes(buffer.getvalue().decode("utf-8").encode("cp1252"))
    else:
        with open(path, "wb") as sink:
            if how == "csv-bom":
                sink.write(b"\xef\xbb\xbf")
            _csv(table, sink)
    return path.name


def _mapping_yaml() -> str:
    columns = {
        table: {v: k for k, v in names.items()} for table, names in _DISTRICT_COLUMNS.items()
    }
    body = yaml.safe_dump(
        {"columns": columns, "values": {"term": dict(_TERM_CODES)}},
        sort_keys=False,
        allow_unicode=True,
    )
    return (
        "# This district's export names -> the data contract's (see DATA_CONTRACT.md).\n"
        "# Written by bltanalytics.sample; without it the assessments and students files\n"
        "# cannot be read (their columns have the student-information system's names).\n" + body
    )


# ----------------------------------------------------------------------------------------------
# The entry point


def generate_district(
    out: str | Path,
    *,
    schools: int = 6,
    students_per_school: int = 300,
    seed: int = 2026,
    messy: bool = True,
    file_format: str = "mixed",
) -> SampleSummary:
    """Write a synthetic district folder to ``out`` and describe what was written.

    ``schools`` schools (the 6th of every 20 is a small K-8 school of 20-30 students), each
    with about ``students_per_school`` students a year, for 2024-25 and 2025-26. The same
    arguments always give byte-identical files.

    ``file_format``: ``"mixed"`` writes CSV, with ``students.csv`` in Windows-1252,
    ``assessments.csv`` in UTF-8 with a byte-order mark and ``staff.xlsx``; ``"csv"`` plain
    UTF-8 CSV; ``"parquet"`` Parquet. ``messy=True`` adds variant spellings, district column
    names (with the ``mapping.yaml`` that translates them) and a few bad rows of each kind,
    listed in :attr:`SampleSummary.problems`; ``messy=False`` writes canonical values only.

    Files of the same table names already in ``out`` (any extension) are replaced; nothing else
    in the folder is touched.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     s = generate_district(tmp, schools=2, students_per_school=30, messy=False,
    ...                           file_format="parquet")
    ...     s.files["staff"], s.problems
    ('staff.parquet', ())
    """
    if file_format not in FILE_FORMATS:
        raise ValueError(
            f"file_format must be one of {', '.join(FILE_FORMATS)}, not {file_format!r}"
        )
    if int(schools) < 1 or int(students_per_school) < 1:
        raise ValueError("schools and students_per_school must be at least 1")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLE_NAMES:
        for ext in (".csv", ".xlsx", ".parquet"):
            (folder / f"{name}{ext}").unlink(missing_ok=True)
    (folder / "mapping.yaml").unlink(missing_ok=True)

    world = _World(int(schools), int(students_per_school), int(seed))
    cycles: dict[str, np.ndarray] = {}

    def cycle_data() -> dict[str, np.ndarray]:
        if not cycles:
            cycles.update(_cycles(world))
        return cycles

    builders = {
        "schools": lambda: _schools_table(world),
        "students": lambda: _students_table(world),
        "assessments": lambda: _assessments_table(world),
        "staff": lambda: _staff_table(world),
        "teams": lambda: _teams_table(world),
        "team_members": lambda: _team_members_table(world),
        "team_meetings": lambda: _team_meetings_table(world),
        "team_cycles": lambda: _team_cycles_table(world, cycle_data()),
        "cycle_results": lambda: _cycle_results_table(world, cycle_data()),
        "staff_survey": lambda: _staff_survey_table(world),
        "walkthroughs": lambda: _walkthroughs_table(world),
        "fidelity_checks": lambda: _fidelity_checks_table(world),
        "pd_activities": lambda: _pd_activities_table(world),
        "cut_scores": _cut_scores_table,
        "rubric_ratings": lambda: _rubric_ratings_table(world),
    }
    files: dict[str, str] = {}
    rows: dict[str, int] = {}
    problems: list[InjectedProblem] = []
    for name in TABLE_NAMES:
        generated = builders[name]()
        how = _MIXED_WRITERS.get(name, "csv") if file_format == "mixed" else file_format
        ext = {"parquet": ".parquet", "xlsx": ".xlsx"}.get(how, ".csv")
        if messy:
            mess = _Mess(generated, f"{name}{ext}", world.rng(f"messy {name}"))
            _MESSERS[name](mess, world)
            table, found = mess.finish()
            problems.extend(found)
            renames = _DISTRICT_COLUMNS.get(name, {})
            table = table.rename_columns([renames.get(c, c) for c in table.column_names])
        else:
            table = pa.table(generated.columns)
        del generated
        files[name] = _write(table, folder, name, how)
        rows[name] = table.num_rows
        del table
    extra: tuple[str, ...] = ()
    if messy:
        (folder / "mapping.yaml").write_text(_mapping_yaml(), encoding="utf-8")
        extra = ("mapping.yaml",)
    return SampleSummary(
        path=folder,
        files=files,
        rows=rows,
        problems=tuple(problems),
        seed=int(seed),
        messy=messy,
        file_format=file_format,
        extra_files=extra,
    )
