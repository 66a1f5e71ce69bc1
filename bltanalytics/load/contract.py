"""The input tables of the data contract (DATA_CONTRACT.md section 1), declared as data.

Each table is a :class:`TableSpec`: its columns with their *kind* (how a raw value is
normalized), which are required, the key that identifies a duplicate, and which reference
checks apply (``school_id`` must name a known school, ``team_id`` a known team, ...).

>>> TABLES["assessments"].required
('student_id', 'school_id', 'school_year', 'term', 'subject', 'grade')
>>> TABLES["assessments"].key
('student_id', 'school_year', 'term', 'subject')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bltanalytics.load.vocabulary import dimensions


@dataclass(frozen=True)
class Column:
    """One contract column: ``kind`` names its normalizer in :mod:`bltanalytics.load.normalize`.

    ``low``/``high`` bound numbers (inclusive); ``vocabulary`` names a code list in
    ``data/vocabulary.yaml`` for ``enum`` columns.
    """

    name: str
    kind: str
    required: bool = False
    low: float | None = None
    high: float | None = None
    vocabulary: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """One contract table."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # conflicting duplicates of this key are `duplicate`
    references: dict[str, str] = field(default_factory=dict)  # column -> table it must exist in
    required_table: bool = False

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name, kind, required=False, **kw) -> Column:
    return Column(name, kind, required, **kw)


#: the demographic dimensions (data/vocabulary.yaml ``dimensions``): name -> kind
DEMOGRAPHICS: dict[str, str] = dimensions()
#: the dimensions that are Y/N columns of ``students``
DEMOGRAPHIC_FLAGS: tuple[str, ...] = tuple(d for d, k in DEMOGRAPHICS.items() if k == "flag")
#: every dimension of contract section 2, All Students (``all``) first, in display order
DIMENSIONS: tuple[str, ...] = ("all", *DEMOGRAPHICS)
SURVEY_ITEMS = (
    "UNDERSTANDS_PROCESS",
    "USES_PROCESS",
    "CAN_LIST_STRATEGIES",
    "ENDORSES_GOALS",
    "INTERPRETS_DATA",
    "DATA_DISCUSSIONS",
)
#: columns whose values identify a student; never written to a shared output, and withheld
#: from quarantine.csv values (the source_row finds the row).
STUDENT_PRIVATE_COLUMNS = ("student_id", "first_name", "last_name", "birth_date")

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in [
        TableSpec(
            "schools",
            (
                _c("school_id", "id", True),
                _c("school_name", "text", True),
                _c("level", "enum", vocabulary="level"),
            ),
            key=("school_id",),
            required_table=True,
        ),
        TableSpec(
            "students",
            (
                _c("student_id", "id", True),
                _c("school_id", "id", True),
                _c("school_year", "school_year", True),
                _c("grade", "grade", True),
                *(
                    _c(d, "demographic_flag")
                    if kind == "flag"
                    else _c(d, "demographic", vocabulary=d)
                    for d, kind in DEMOGRAPHICS.items()
                ),
                _c("first_name", "text"),
                _c("last_name", "text"),
                _c("birth_date", "date"),
            ),
            key=("student_id", "school_id", "school_year"),
            references={"school_id": "schools"},
            required_table=True,
        ),
        TableSpec(
            "assessments",
            (
                _c("student_id", "id", True),
                _c("school_id", "id", True),
                _c("school_year", "school_year", True),
                _c("term", "enum", True, vocabulary="term"),
                _c("subject", "enum", True, vocabulary="subject"),
                _c("grade", "grade", True),
                _c("scale_score", "number"),
                _c("performance_level", "integer", low=1, high=5),
                _c("proficient", "flag"),
            ),
            key=("student_id", "school_year", "term", "subject"),
            references={"school_id": "schools"},
            required_table=True,
        ),
        TableSpec(
            "staff",
            (
                _c("staff_id", "id", True),
                _c("school_id", "id", True),
                _c("role", "enum", True, vocabulary="role"),
                _c("instructional", "flag"),
                _c("school_year", "school_year"),
            ),
            key=("staff_id", "school_id", "school_year"),
            references={"school_id": "schools"},
        ),
        TableSpec(
            "teams",
            (
                _c("team_id", "id", True),
                _c("school_id", "id", True),
                _c("team_type", "enum", True, vocabulary="team_type"),
                _c("structure", "enum", vocabulary="structure"),
                _c("name", "text"),
                _c("grade_band", "text"),
                _c("subject", "enum", vocabulary="subject"),
            ),
            key=("team_id",),
            references={"school_id": "schools"},
        ),
        TableSpec(
            "team_members",
            (_c("team_id", "id", True), _c("staff_id", "id", True)),
            key=("team_id", "staff_id"),
            references={"team_id": "teams"},
        ),
        TableSpec(
            "team_meetings",
            (
                _c("team_id", "id", True),
                _c("meeting_date", "date", True),
                _c("cycle_step", "integer", low=1, high=5),
                _c("minutes_shared", "flag"),
                _c("data_summary_shared", "flag"),
                _c("effectiveness", "integer", low=1, high=4),
            ),
            references={"team_id": "teams"},
        ),
        TableSpec(
            "team_cycles",
            (
                _c("cycle_id", "id", True),
                _c("team_id", "id", True),
                _c("subject", "enum", True, vocabulary="subject"),
                _c("focus", "text"),
                _c("strategy", "text"),
                _c("start_date", "date"),
                _c("end_date", "date"),
                _c("proficiency_cut", "number", True),
                _c("target_pct", "number", True, low=0, high=100),
            ),
            key=("cycle_id",),
            references={"team_id": "teams"},
        ),
        TableSpec(
            "cycle_results",
            (
                _c("cycle_id", "id", True),
                _c("student_id", "id", True),
                _c("pre_score", "number"),
                _c("post_score", "number"),
            ),
            key=("cycle_id", "student_id"),
            references={"cycle_id": "team_cycles"},
        ),
        TableSpec(
            "staff_survey",
            (
                _c("response_id", "id", True),
                _c("school_id", "id", True),
                _c("survey_window", "survey_window", True),
                _c("staff_id", "id"),
                *(_c(item, "survey_item") for item in SURVEY_ITEMS),
            ),
            key=("response_id",),
            references={"school_id": "schools"},
        ),
        TableSpec(
            "walkthroughs",
            (
                _c("observation_id", "id", True),
                _c("school_id", "id", True),
                _c("observation_date", "date", True),
                _c("observed_staff_id", "id"),
                _c("observer_id", "id"),
                _c("focus_strategy_observed", "flag", True),
                _c("strategies", "text"),
                _c("engagement", "integer", low=1, high=4),
            ),
            key=("observation_id",),
            references={"school_id": "schools"},
        ),
        TableSpec(
            "fidelity_checks",
            (
                _c("team_id", "id", True),
                _c("check_date", "date", True),
                _c("strategy", "text"),
                _c("fidelity_pct", "number", True, low=0, high=100),
            ),
            references={"team_id": "teams"},
        ),
        TableSpec(
            "pd_activities",
            (
                _c("staff_id", "id", True),
                _c("activity_date", "date", True),
                _c("format", "enum", True, vocabulary="format"),
                _c("initiative", "text"),
                _c("stage", "integer", low=1, high=3),
                _c("cycle_step", "integer", low=1, high=10),
                _c("hours", "number", low=0, high=1000),
                _c("completed", "flag"),
                _c("artifact", "flag"),
            ),
            references={"staff_id": "staff"},
        ),
        TableSpec(
            "cut_scores",
            (
                _c("subject", "enum", True, vocabulary="subject"),
                _c("grade", "grade", True),
                _c("level", "integer", True, low=1, high=5),
                _c("min_score", "number", True),
                _c("school_year", "school_year"),
            ),
            key=("subject", "grade", "level", "school_year"),
        ),
        TableSpec(
            "rubric_ratings",
            (
                _c("school_id", "id", True),
                _c("school_year", "school_year", True),
                _c("indicator_id", "id", True),
                _c("rating", "integer", True, low=0, high=3),
                _c("evidence", "text"),
            ),
            key=("school_id", "school_year", "indicator_id"),
            references={"school_id": "schools", "indicator_id": "rubric"},
        ),
    ]
}

#: the order tables are cleaned in: referenced tables before the tables that point at them
LOAD_ORDER = (
    "schools",
    "cut_scores",
    "students",
    "assessments",
    "staff",
    "teams",
    "team_members",
    "team_meetings",
    "team_cycles",
    "cycle_results",
    "staff_survey",
    "walkthroughs",
    "fidelity_checks",
    "pd_activities",
    "rubric_ratings",
)
REQUIRED_TABLES = tuple(name for name, spec in TABLES.items() if spec.required_table)
#: dated tables: the column whose date decides the school year (July 1 to June 30)
DATED = {
    "team_meetings": "meeting_date",
    "walkthroughs": "observation_date",
    "fidelity_checks": "check_date",
    "pd_activities": "activity_date",
}
