"""The shapes of the metrics export, named once: one pandera model per output table.

Each table of :class:`~bltanalytics.metrics.Metrics` (and each file of the export) has a model
here, a ``pandera.DataFrameSchema`` named like a class (``Achievement``, ``Trends``, ...): its
columns in order, their dtypes exactly as the export holds them, which may be empty, the values
they may hold, and the rules between columns (a suppressed figure is never shown). Column
lists and empty tables come from the models, never from a list typed elsewhere:

>>> columns(Schools)
['school_id', 'school_name', 'level']
>>> empty(Enrollment).dtypes.astype(str).tolist()
['str', 'str', 'str', 'int64']

:func:`check_tables` validates an export when it is written (a failure is a bug in this package,
:class:`~bltanalytics.errors.PackageBug`) and when it is read (a failure is a file changed since
it was written, :class:`~bltanalytics.errors.ExportError`). Both list every problem with its
table, column, row and value. Dtypes and columns are checked on every row; the value checks,
above :data:`~bltanalytics.schemas.SAMPLE_ROWS` rows, on a sample (as for the cleaned tables).

>>> bad = empty(Schools).astype({"school_id": "object"})
>>> check_tables({"schools": bad})
Traceback (most recent call last):
...
bltanalytics.errors.PackageBug: bltanalytics computed a table that breaks its declared shape \
(bltanalytics.metrics.shapes); this is a bug in bltanalytics, please report it (with this message):
  schools: column school_id: 'object' (expected dtype str)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from bltanalytics.errors import BUG_NOTICE, ExportError, Failure, PackageBug
from bltanalytics.load import (
    DIMENSIONS,
    GRADES,
    SCHOOL_YEAR_PATTERN,
    canonical_values,
    shape_failures,
)

# --------------------------------------------------------------------------- output vocabularies

#: ``grade`` of an achievement row: each grade, and ``All`` for all grades together
ACHIEVEMENT_GRADES: tuple[str, ...] = (*GRADES, "All")
TERMS: tuple[str, ...] = tuple(canonical_values("term"))
SUBJECTS: tuple[str, ...] = tuple(canonical_values("subject"))
LEVELS: tuple[str, ...] = tuple(canonical_values("level"))
#: the contract's professional-learning formats: ``pd`` has a column ``n_<format>`` for each
PD_FORMATS: tuple[str, ...] = tuple(canonical_values("format"))
SUPPRESSION_REASONS: tuple[str, ...] = ("min_n", "complementary")
INDICATOR_KINDS: tuple[str, ...] = ("computed", "rated")
STATUSES: tuple[str, ...] = ("met", "approaching", "not_met", "insufficient_data", "no_data")
COMPARISONS: tuple[str, ...] = ("fall_to_spring", "year_over_year")
QUARANTINE_ACTIONS: tuple[str, ...] = ("row_dropped", "value_blanked")
#: the figures of an achievement row left empty where it is suppressed
SUPPRESSION_BLANKS: tuple[str, ...] = ("n_tested", "n_proficient", "pct_proficient", "gap_pp")
DISTRIBUTED_PROGRESSIONS: tuple[str, ...] = ("format", "stage")


def _text(*checks: pa.Check, nullable: bool = False, unique: bool = False) -> pa.Column:
    return pa.Column("str", list(checks), nullable=nullable, unique=unique)


def _one_of(values, nullable: bool = False) -> pa.Column:
    return _text(pa.Check.isin(list(values)), nullable=nullable)


def _year(nullable: bool = False) -> pa.Column:
    return _text(pa.Check.str_matches(SCHOOL_YEAR_PATTERN), nullable=nullable)


def _count(dtype: str = "int64", low: int = 0, nullable: bool = False, also=()) -> pa.Column:
    """A count. ``also``: other dtypes the column may have today (see :func:`allowed_dtypes`)."""
    metadata = {"also": list(also)} if also else None
    return pa.Column(dtype, pa.Check.ge(low), nullable=nullable, metadata=metadata)


def _pct(low: float = 0, high: float = 100) -> pa.Column:
    return pa.Column("float64", pa.Check.in_range(low, high), nullable=True)


def _share() -> pa.Column:
    return pa.Column("float64", pa.Check.in_range(0, 1), nullable=True)


def _shape(name: str, columns: dict[str, pa.Column], rules=()) -> pa.DataFrameSchema:
    """An output table: exactly these columns, in this order, and the rules between them.

    A rule is a check of the whole table named ``"column: words"``: a row breaking it is
    reported once, under that column (see :func:`bltanalytics.schemas.shape_failures`)."""
    checks = [pa.Check(rule, name=words) for words, rule in rules]
    return pa.DataFrameSchema(columns, checks=checks, strict=True, ordered=True, name=name)


def _hidden(column: str):
    return lambda frame: ~frame["suppressed"] | frame[column].isna()


# The models are pandera's object API rather than ``DataFrameModel`` classes: building a
# DataFrameModel's schema imports dask.dataframe (pandera looks for dask index types), about
# a quarter of the import time of a report kernel, which reads an export.

#: ``achievement.csv``: one row per school, year, term, subject, grade, dimension and group
#: (docs/achievement.md). A suppressed row shows none of its figures.
Achievement = _shape(
    "achievement",
    {
        "school_id": _text(),
        "school_year": _year(),
        "term": _one_of(TERMS),
        "subject": _one_of(SUBJECTS),
        "grade": _one_of(ACHIEVEMENT_GRADES),
        "dimension": _one_of(DIMENSIONS),
        "group": _text(),
        "n_tested": _count("Int64", nullable=True),
        "n_proficient": _count("Int64", nullable=True),
        "pct_proficient": _pct(),
        "suppressed": pa.Column("bool"),
        "suppression_reason": _one_of(SUPPRESSION_REASONS, nullable=True),
        "display": _text(),
        "gap_pp": _pct(low=-100),
    },
    rules=[
        *((f"{c}: empty where suppressed", _hidden(c)) for c in SUPPRESSION_BLANKS),
        (
            "suppression_reason: given exactly where suppressed",
            lambda f: f["suppressed"] == f["suppression_reason"].notna(),
        ),
        (
            "n_proficient: at most n_tested",
            lambda f: (f["n_proficient"] <= f["n_tested"]).fillna(True).astype(bool),
        ),
    ],
)

#: the figures of a scale-score row left empty where it is suppressed
SCALE_BLANKS: tuple[str, ...] = ("n_tested", "mean_scale_score", "sd_scale_score", "effect_size")

#: ``scale_scores.csv``: mean scale score and Hedges' g by group, the rows of achievement that
#: have a scale score (docs/scale_scores.md). A suppressed row shows none of its figures.
ScaleScores = _shape(
    "scale_scores",
    {
        "school_id": _text(),
        "school_year": _year(),
        "term": _one_of(TERMS),
        "subject": _one_of(SUBJECTS),
        "grade": _one_of(ACHIEVEMENT_GRADES),
        "dimension": _one_of(DIMENSIONS),
        "group": _text(),
        "n_tested": _count("Int64", low=1, nullable=True),
        "mean_scale_score": pa.Column("float64", nullable=True),
        "sd_scale_score": pa.Column("float64", pa.Check.ge(0), nullable=True),
        "effect_size": pa.Column("float64", nullable=True),
        "suppressed": pa.Column("bool"),
        "suppression_reason": _one_of(SUPPRESSION_REASONS, nullable=True),
    },
    rules=[
        *((f"{c}: empty where suppressed", _hidden(c)) for c in SCALE_BLANKS),
        (
            "suppression_reason: given exactly where suppressed",
            lambda f: f["suppressed"] == f["suppression_reason"].notna(),
        ),
        (
            "mean_scale_score: given exactly where published",
            lambda f: f["suppressed"] == f["mean_scale_score"].isna(),
        ),
        (
            "sd_scale_score: empty where n_tested is below 2",
            lambda f: (f["n_tested"] >= 2).fillna(True).astype(bool) | f["sd_scale_score"].isna(),
        ),
        (
            "effect_size: empty on All Students rows",
            lambda f: (f["dimension"] != "all") | f["effect_size"].isna(),
        ),
    ],
)

#: ``rubric.csv``: one row per school, school year and indicator (docs/rubric.md).
Rubric = _shape(
    "rubric",
    {
        "school_id": _text(),
        "school_year": _year(),
        "characteristic": _text(),
        "indicator_id": _text(),
        "kind": _one_of(INDICATOR_KINDS),
        "numerator": pa.Column("float64", pa.Check.ge(0), nullable=True),
        "denominator": _count("Int64", nullable=True),
        "value": pa.Column("float64", pa.Check.ge(0), nullable=True),
        "threshold": pa.Column("float64", pa.Check.ge(0)),
        "status": _one_of(STATUSES),
    },
)

#: ``rubric_summary.csv``: per school, year and characteristic, indicators met of those with
#: data.
RubricSummary = _shape(
    "rubric_summary",
    {
        "school_id": _text(),
        "school_year": _year(),
        "characteristic": _text(),
        "n_met": _count(),
        "n_approaching": _count(),
        "n_not_met": _count(),
        "n_with_data": _count(),
        "n_indicators": _count(),
    },
    rules=[
        (
            "n_with_data: n_met + n_approaching + n_not_met",
            lambda f: f["n_met"] + f["n_approaching"] + f["n_not_met"] == f["n_with_data"],
        ),
        ("n_indicators: at least n_with_data", lambda f: f["n_indicators"] >= f["n_with_data"]),
    ],
)

#: ``cycles.csv``: one row per teacher-team five-step cycle (docs/cycles_and_learning.md).
Cycles = _shape(
    "cycles",
    {
        "cycle_id": _text(),
        "team_id": _text(),
        "school_id": _text(nullable=True),
        "school_year": _year(nullable=True),
        "subject": _text(nullable=True),
        "focus": _text(nullable=True),
        "strategy": _text(nullable=True),
        "n_matched": _count("Int64", nullable=True),
        "n_missing_post": _count("Int64", nullable=True),
        "pre_pct_proficient": _pct(),
        "post_pct_proficient": _pct(),
        "change_pp": _pct(low=-100),
        "pct_improved": _pct(),
        "target_pct": _pct(),
        "target_met": pa.Column("boolean", nullable=True),
        "suppressed": pa.Column("bool"),
    },
    rules=[
        (f"{c}: empty where suppressed", _hidden(c))
        for c in ("n_matched", "n_missing_post", "pre_pct_proficient", "post_pct_proficient")
    ],
)

#: ``pd.csv``: per school and school year, instructional staff's professional learning, with
#: a count ``n_<format>`` for each of :data:`PD_FORMATS`.
ProfessionalLearning = _shape(
    "pd",
    {
        "school_id": _text(),
        "school_year": _year(),
        "n_instructional_staff": _count(),
        # empty (Int64) where the district has no pd_activities table, int64 otherwise
        "n_participating": _count(nullable=True, also=["Int64"]),
        "participation_rate": _share(),
        "hours_per_staff": pa.Column("float64", pa.Check.ge(0), nullable=True),
        **{f"n_{f}": _count(nullable=True, also=["Int64"]) for f in PD_FORMATS},
        "suppressed": pa.Column("bool"),
    },
    rules=[
        (f"{c}: empty where suppressed", _hidden(c))
        for c in ("n_participating", "participation_rate", "hours_per_staff")
    ],
)


def _progress(name: str, progressions) -> pa.DataFrameSchema:
    return _shape(
        name,
        {
            "school_id": _text(),
            "school_year": _year(),
            "progression": _one_of(progressions),
            "step": _text(),
            "step_order": _count(low=1),
            "n_instructional_staff": _count(),
            "n_reached": _count("Int64", nullable=True),
            "share_reached": _share(),
            "suppressed": pa.Column("bool"),
        },
        rules=[
            (f"{c}: empty where suppressed", _hidden(c)) for c in ("n_reached", "share_reached")
        ],
    )


#: ``blended_cycle.csv``: per school, year and step of the blended learning cycle, the
#: instructional staff who reached it.
BlendedCycle = _progress("blended_cycle", ["blended_cycle"])

#: ``distributed_pd.csv``: per school, year and step of distributed professional development
#: (by format, and by stage), the instructional staff who reached it.
DistributedPD = _progress("distributed_pd", DISTRIBUTED_PROGRESSIONS)

#: ``trends.csv``: Fall-to-Spring and year-over-year changes of each group's percent
#: proficient; a change is empty when either end is.
Trends = _shape(
    "trends",
    {
        "school_id": _text(),
        "subject": _one_of(SUBJECTS),
        "grade": _one_of(ACHIEVEMENT_GRADES),
        "dimension": _one_of(DIMENSIONS),
        "group": _text(),
        "comparison": _one_of(COMPARISONS),
        "from_year": _year(),
        "from_term": _one_of(TERMS),
        "to_year": _year(),
        "to_term": _one_of(TERMS),
        "from_pct": _pct(),
        "to_pct": _pct(),
        "change_pp": _pct(low=-100),
        "from_display": _text(),
        "to_display": _text(),
    },
    rules=[
        (
            "change_pp: empty where either end is",
            lambda f: f["change_pp"].isna() | (f["from_pct"].notna() & f["to_pct"].notna()),
        )
    ],
)

#: ``schools.csv``: one row per school.
Schools = _shape(
    "schools",
    {
        "school_id": _text(unique=True),
        "school_name": _text(nullable=True),
        "level": _one_of(LEVELS, nullable=True),
    },
)

#: ``enrollment.csv``: students enrolled per school, school year and grade.
Enrollment = _shape(
    "enrollment",
    {
        "school_id": _text(),
        "school_year": _year(),
        "grade": _one_of(GRADES),
        "n_students": _count(low=1),
    },
)

#: ``data_quality.csv``: quarantine entries counted per school, table, action and reason
#: (school empty: the entry names no known school).
DataQuality = _shape(
    "data_quality",
    {
        "school_id": _text(nullable=True),
        "table": _text(),
        "action": _one_of(QUARANTINE_ACTIONS),
        "reason": _text(),
        "count": _count(low=1),
    },
)

#: ``quarantine.csv``: one row per input row dropped or value blanked (docs/data.md).
Quarantine = _shape(
    "quarantine",
    {
        "table": _text(),
        "file": _text(),
        "source_row": _count(low=1),
        "action": _one_of(QUARANTINE_ACTIONS),
        "reason": _text(),
        "column": _text(nullable=True),
        "value": _text(nullable=True),
        "school_id": _text(nullable=True),
    },
)


#: the model of each table of the export, by its name (a field of ``Metrics``, a file stem)
SHAPES: dict[str, pa.DataFrameSchema] = {
    "achievement": Achievement,
    "rubric": Rubric,
    "rubric_summary": RubricSummary,
    "cycles": Cycles,
    "pd": ProfessionalLearning,
    "blended_cycle": BlendedCycle,
    "distributed_pd": DistributedPD,
    "trends": Trends,
    "schools": Schools,
    "enrollment": Enrollment,
    "data_quality": DataQuality,
    "quarantine": Quarantine,
    "scale_scores": ScaleScores,
}


#: the models without dtypes: :func:`check_tables` compares dtypes itself, exactly
_VALUES: dict[str, pa.DataFrameSchema] = {
    name: model.update_columns({c: {"dtype": None} for c in model.columns})
    for name, model in SHAPES.items()
}


def columns(model: pa.DataFrameSchema) -> list[str]:
    """The model's columns, in order.

    >>> columns(DataQuality)
    ['school_id', 'table', 'action', 'reason', 'count']
    """
    return list(model.columns)


def dtypes(model: pa.DataFrameSchema) -> dict[str, object]:
    """Each column's pandas dtype, exactly as the export holds it.

    >>> {k: str(v) for k, v in dtypes(Cycles).items() if k.startswith("target")}
    {'target_pct': 'float64', 'target_met': 'boolean'}
    """
    return {name: column.dtype.type for name, column in model.columns.items()}


def allowed_dtypes(model: pa.DataFrameSchema) -> dict[str, tuple]:
    """Each column's dtype, and any other dtype it may have today: a column computed with
    one dtype on one path and another on another lists both, the first being the one
    :func:`empty` and :func:`dtypes` give (to be made one where the table is computed).

    >>> [str(d) for d in allowed_dtypes(ProfessionalLearning)["n_participating"]]
    ['int64', 'Int64']
    """
    out = {}
    for name, column in model.columns.items():
        also = (column.metadata or {}).get("also", [])
        out[name] = (column.dtype.type, *(pd.api.types.pandas_dtype(d) for d in also))
    return out


def empty(model: pa.DataFrameSchema) -> pd.DataFrame:
    """A table of the model with no rows: its columns, in order, with their dtypes.

    >>> empty(Achievement).shape
    (0, 14)
    """
    return pd.DataFrame({name: pd.Series([], dtype=d) for name, d in dtypes(model).items()})


#: the dtypes each column may have, by table
_ALLOWED: dict[str, dict[str, tuple]] = {name: allowed_dtypes(m) for name, m in SHAPES.items()}


def upgrade(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A table read from an export written before its shape was declared, with the dtypes
    of its shape where the change loses nothing: a text column then held as ``object``, or
    an all-empty one held as ``float64`` (``school_id`` of ``quarantine``, ``data_quality``).
    Anything else is left for :func:`check_tables` to report.

    >>> old = pd.DataFrame({"school_id": [float("nan")], "table": ["students"],
    ...     "action": ["row_dropped"], "reason": ["duplicate"], "count": [1]})
    >>> upgrade("data_quality", old)["school_id"].dtype
    <StringDtype(na_value=nan)>
    """
    fixes = {}
    for column, wanted in dtypes(SHAPES[name]).items():
        if column not in frame.columns or frame[column].dtype == wanted or str(wanted) != "str":
            continue
        values = frame[column]
        if values.isna().all() or (
            values.dtype == object and values.dropna().map(type).eq(str).all()
        ):
            fixes[column] = wanted
    return frame.astype(fixes) if fixes else frame


def check_tables(frames: dict[str, pd.DataFrame], *, read_from: str | Path | None = None) -> None:
    """Validate tables of the export against their models, all of them, every problem listed.

    ``read_from=None``: tables bltanalytics computed (about to be written), so a failure is a
    :class:`~bltanalytics.errors.PackageBug`. Otherwise the folder they were read from: a
    failure is an :class:`~bltanalytics.errors.ExportError` naming each file.
    """
    failures: list[Failure] = []
    for name, frame in frames.items():
        failures += shape_failures(_VALUES[name], frame, name, exact_dtypes=_ALLOWED[name])
    if not failures:
        return
    lines = "\n".join(
        f"  {f.table if read_from is None else f.table + '.parquet'}: {f.describe()}"
        for f in failures[:12]
    )
    if len(failures) > 12:
        lines += f"\n  ... and {len(failures) - 12} more"
    if read_from is None:
        raise PackageBug(
            "bltanalytics computed a table that breaks its declared shape "
            "(bltanalytics.metrics.shapes); "
            f"{BUG_NOTICE}:\n{lines}",
            failures,
        )
    raise ExportError(
        f"{read_from} is not a metrics export as bltanalytics writes it (was a file edited, cut "
        "short, or written by another version?); write it again with `bltanalytics metrics "
        f"DISTRICT_FOLDER --out {read_from}`:\n{lines}",
        failures,
    )
