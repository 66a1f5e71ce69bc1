"""What makes a sample district messy, and the list of problems it planted.

With ``messy=True`` each table's canonical values are respelled the many ways real exports spell
them (``KG``, ``Grade 3``; ``Female``; ``HI7``; ``Yes``/``T``/``1``; US dates), the assessments
and students files get the district's own column names (translated back by
:func:`mapping_yaml`), and a few bad rows of each kind are planted. :func:`mess_table` returns
the messy table with one :class:`InjectedProblem` per planted problem, at the row where a loader
following the contract finds it.

>>> from bltanalytics.sample.tables import build_tables
>>> from bltanalytics.sample.world import World
>>> world = World(n_schools=2, per_school=30, seed=7)
>>> students = next(t for t in build_tables(world) if t.name == "students")
>>> table, problems = mess_table(students, "students.csv", world)
>>> "LEP Status" in table.column_names, table.num_rows - students.num_rows
(True, 7)
>>> sorted({p.kind for p in problems})[:3]
['bad_value', 'duplicate', 'missing_required']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from bltanalytics.load import DEMOGRAPHIC_FLAGS, SURVEY_ITEMS
from bltanalytics.sample.columns import Table, as_text, take
from bltanalytics.sample.world import SCHOOL_YEARS, World


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


#: district column names in messy districts, translated back by mapping.yaml
_DISTRICT_COLUMNS = {
    "assessments": {"student_id": "Student Number", "term": "Test Term"},
    "students": {"english_learner": "LEP Status"},
}
_TERM_CODES = {"T1": "Fall", "T2": "Winter", "T3": "Spring"}


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


class _Mess:
    """Variant spellings and bad cells/rows for one table, with the problems they make.

    Cell edits are addressed by *base* row (before inserted rows); :meth:`finish` inserts the
    extra rows right after the rows they copy and reports each problem at its final position.
    """

    def __init__(self, table: Table, file: str, rng: np.random.Generator):
        self.table, self.file, self.rng = table, file, rng
        self.n = table.num_rows
        self.columns = {
            k: v if pa.types.is_date(v.type) else as_text(v) for k, v in table.columns.items()
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
        self.columns[column] = take(vocab, np.maximum(new, 0), new < 0)

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
        columns = {k: as_text(v) for k, v in self.columns.items()}  # dates left: ISO text
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
    return pc.replace_with_mask(as_text(arr), pa.array(mask), values)


def _fresh(ids: pa.Array, prefix_len: int = 0) -> list[str]:
    """A few ids beyond the largest in ``ids`` (same width and prefix)."""
    largest = max(x for x in ids.to_pylist() if x is not None)
    prefix, digits = largest[:prefix_len], largest[prefix_len:]
    return [prefix + str(int(digits) + k).zfill(len(digits)) for k in range(1, 6)]


def _mess_schools(m: _Mess, w: World) -> None:
    m.vary("level", _LEVEL_VARIANTS, 0.5)


def _mess_students(m: _Mess, w: World) -> None:
    m.vary("school_year", _YEAR_VARIANTS, 0.12)
    m.vary("grade", _GRADE_VARIANTS, 0.15)
    m.vary("sex", _SEX_VARIANTS, 0.3)
    m.vary("race_ethnicity", _RACE_VARIANTS, 0.25)
    for flag in DEMOGRAPHIC_FLAGS:
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


def _mess_assessments(m: _Mess, w: World) -> None:
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


def _mess_staff(m: _Mess, w: World) -> None:
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


def _mess_teams(m: _Mess, w: World) -> None:
    m.vary("team_type", _TEAM_TYPE_VARIANTS, 0.3)
    m.vary("structure", _STRUCTURE_VARIANTS, 0.3)
    m.vary("subject", _SUBJECT_VARIANTS, 0.3)
    for r in m.pick(1, ~m.table.aux["blt"]):
        new_id = f"{w.unknown_school}-T01"
        m.insert(
            r, {"team_id": new_id, "school_id": w.unknown_school}, "unknown_school", "school_id"
        )


def _mess_team_members(m: _Mess, w: World) -> None:
    for r in m.pick(1):
        m.insert(r, {}, "duplicate")


def _mess_team_meetings(m: _Mess, w: World) -> None:
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


def _mess_team_cycles(m: _Mess, w: World) -> None:
    m.vary("subject", _SUBJECT_VARIANTS, 0.2)
    m.dates("start_date", 0.3)
    m.dates("end_date", 0.3)
    fresh = _fresh(m.columns["cycle_id"], prefix_len=1)[0]
    for r in m.pick(1):
        m.insert(r, {"cycle_id": fresh, "target_pct": "140"}, "out_of_range", "target_pct")


def _mess_cycle_results(m: _Mess, w: World) -> None:
    for r in m.pick(1):
        m.insert(r, {}, "duplicate")
    has_pre = m.columns["pre_score"].is_valid().to_numpy(zero_copy_only=False)
    for r in m.pick(1, has_pre):
        m.set(r, "pre_score", "8O", "bad_value", "value_blanked")


def _mess_staff_survey(m: _Mess, w: World) -> None:
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


def _mess_walkthroughs(m: _Mess, w: World) -> None:
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


def _mess_fidelity_checks(m: _Mess, w: World) -> None:
    m.dates("check_date", 0.3)
    for r in m.pick(2):
        m.set(r, "fidelity_pct", "140", "out_of_range", "row_dropped")
    for r in m.pick(1):
        m.set(r, "check_date", None, "missing_required", "row_dropped")


def _mess_pd_activities(m: _Mess, w: World) -> None:
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


def _mess_cut_scores(m: _Mess, w: World) -> None:
    m.vary("subject", _SUBJECT_VARIANTS, 0.2)
    m.vary("grade", _GRADE_VARIANTS, 0.2)


def _mess_rubric_ratings(m: _Mess, w: World) -> None:
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


def mess_table(table: Table, file: str, world: World) -> tuple[pa.Table, list[InjectedProblem]]:
    """``table`` made messy as it is written to ``file``, and the problems planted in it.

    Columns come back as text (dates as ISO or US text) with the district's column names; each
    table has its own random stream (``messy <name>``).
    """
    mess = _Mess(table, file, world.rng(f"messy {table.name}"))
    _MESSERS[table.name](mess, world)
    messy, problems = mess.finish()
    renames = _DISTRICT_COLUMNS.get(table.name, {})
    return messy.rename_columns([renames.get(c, c) for c in messy.column_names]), problems


def mapping_yaml() -> str:
    """The ``mapping.yaml`` of a messy district: its column names and term codes -> the contract's.

    >>> print(mapping_yaml().splitlines()[3:6])
    ['columns:', '  assessments:', '    Student Number: student_id']
    """
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
