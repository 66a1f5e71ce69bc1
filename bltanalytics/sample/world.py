"""The synthetic world a sample district is drawn from: schools, students, staff and teams.

:class:`World` holds, as numpy arrays, the entities several tables share (a student's grade in
each year, a teacher's school, a team's grade), drawn once from the seed. The tables are built
from it in :mod:`bltanalytics.sample.tables`. Nothing describes a real person: names are drawn
from short built-in lists, birth dates are invented, ids are sequence numbers.

>>> w = World(n_schools=3, per_school=40, seed=7)
>>> w.n_schools, w.school_id.to_pylist(), w.unknown_school
(3, ['0101', '0102', '0103'], '9999')
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bltanalytics.load import canonical_values
from bltanalytics.sample.columns import day_number, id_width, ids, ranks_in_sorted, take, text

SCHOOL_YEARS = ("2024-25", "2025-26")
TERMS = ("Fall", "Winter", "Spring")
#: subjects in the order of :attr:`World.ability` and of the tables' subject codes
SUBJECTS = ("ELA", "Math", "Science", "Social Studies")

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

#: race/ethnicity in the vocabulary's order; the arrays below follow it
RACES = tuple(canonical_values("race_ethnicity"))
_RACE_P = np.array([0.27, 0.01, 0.05, 0.15, 0.01, 0.45, 0.06])
_RACE_ABILITY = np.array([-0.25, -0.30, 0.30, -0.35, -0.20, 0.10, 0.0])
_RACE_ED_LOGIT = np.array([0.7, 0.8, -0.3, 0.8, 0.5, -0.4, 0.0])
_RACE_EL_P = np.array([0.35, 0.05, 0.25, 0.04, 0.10, 0.02, 0.03])
#: staff roles, coded 0-6 in :attr:`World.st_role` (4 = teacher)
ROLES = (
    "principal",
    "assistant principal",
    "coach",
    "specialist",
    "teacher",
    "paraprofessional",
    "other",
)
#: whether each of :data:`ROLES` is instructional by default
INSTRUCTIONAL = np.array([False, False, True, True, True, False, False])

# school kinds in a repeating pattern of 20: E elementary, M middle, H high, S small K-8 "other"
_PATTERN = "EEMHESEMEHEEMHEEEMEH"
_KINDS = "EMHS"
_KIND_LO = np.array([0, 6, 9, 0])
_KIND_HI = np.array([5, 8, 12, 8])
_KIND_SIZE = np.array([0.8, 1.1, 1.5, 0.0])


class World:
    """Entities shared by several tables, generated once from ``seed``.

    Arrays are indexed by entity number and hold codes (positions in the lists above):

    * schools (``n_schools``): ``kind`` (0 elementary, 1 middle, 2 high, 3 small K-8),
      ``size``, grades ``lo``-``hi``, ``school_id`` and the hidden ``effect``, ``poverty``,
      ``culture`` and ``coach_weight`` that drive the tables; ``unknown_school`` is an id
      that is no school's;
    * students (``n_students``): demographics, ``ability`` [subject, student], and the
      student-year rows ``sy_student``, ``sy_school``, ``sy_grade``, ``sy_year`` in export order;
    * staff (``n_staff``): ``st_school``, ``st_role``, ``st_rank`` (position within school and
      role), ``st_year`` (-1 every year, else the one school-year index), ``staff_id``;
    * teams (``n_teams``, a school's BLT first): ``tm_school``, ``tm_blt``, ``tm_k``,
      ``tm_grade``, ``tm_subject``, ``tm_quality``, ``team_id``.
    """

    def __init__(self, n_schools: int, per_school: int, seed: int):
        self.seed = seed
        self.year_start = np.array([day_number(2024, 7, 1), day_number(2025, 7, 1)])
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
        self.id_width = id_width(numbers.max(), 4)
        unknown = "9" * self.id_width
        self.unknown_school = unknown if int(unknown) > numbers.max() else "9" + unknown
        self.n_schools = n
        self.kind = kind
        self.size = size
        self.lo = _KIND_LO[kind]
        self.hi = _KIND_HI[kind]
        self.school_id = ids(numbers, self.id_width)
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
        self.race = rng.choice(len(RACES), n, p=_RACE_P)
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
        self.first_name = take(vocab, offsets[self.sex] + (rng.random(n) * sizes[self.sex]))
        self.last_name = take(_LAST, rng.integers(0, len(_LAST), n))
        born_from = (np.datetime64("2018-09-02") - np.datetime64(0, "D")).astype(np.int64)
        self.birth_days = born_from - np.rint((first_grade) * 365.25).astype(np.int64)
        self.birth_days = self.birth_days + rng.integers(0, 365, n)
        self.student_width = id_width(n, 6)
        self.student_id = ids(np.arange(1, n + 1), self.student_width)

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
        school = np.repeat(np.repeat(np.arange(self.n_schools), len(ROLES)), flat)
        role = np.repeat(np.tile(np.arange(len(ROLES)), self.n_schools), flat)
        rank = ranks_in_sorted(school * len(ROLES) + role)
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
        self.staff_width = id_width(len(school) + 10, 5)
        self.n_staff = len(school)
        self.staff_id = ids(number[order], self.staff_width)

    # teams -----------------------------------------------------------------------------------
    def _teams(self, rng) -> None:
        per_school = self.has_blt.astype(np.int64) + self.n_tbt
        self.team_offset = np.cumsum(per_school) - per_school
        school = np.repeat(np.arange(self.n_schools), per_school)
        pos = ranks_in_sorted(school)
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
            pc.take(self.school_id, pa.array(school)), text(suffix), ""
        )
        self.n_teams = len(school)
