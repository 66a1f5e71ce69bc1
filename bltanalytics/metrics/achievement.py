"""Disaggregated achievement: percent proficient for every group, with disclosure avoidance.

For every school, school year, term, subject and grade (each grade, and ``All`` for all grades
together) and every dimension of the data contract, one row per group of students tested:
how many were tested, how many were proficient, the percentage, and the gap to All Students.
Every row goes through :func:`bltanalytics.metrics.suppression.suppress` before it leaves this
module:
the rows of one school, year, term and subject are protected together (linked suppression,
docs/achievement.md), and coded groups (``≥95%``, ``≤5%``) publish no exact proficient count.

Demographics come from ``students``, matched on (student_id, school_year). When a student has
several school rows in a year, the row of the school where the test was taken is used; if none
of the rows is for that school, the row with the lowest school_id. A tested student with no
``students`` row counts in All Students and as ``Not reported`` in every other dimension.
Groups with no students tested do not appear.

All schools are computed in one vectorized pass: keys become integer codes and each dimension
is one ``np.bincount`` over the assessment rows.

>>> import pandas as pd
>>> a = pd.DataFrame({"student_id": [f"{i:03d}" for i in range(16)], "school_id": "0101",
...     "school_year": "2025-26", "term": "Spring", "subject": "Math", "grade": "3",
...     "proficient": pd.array([True] * 12 + [False] * 4, dtype="boolean")})
>>> s = pd.DataFrame({"student_id": a["student_id"], "school_id": "0101",
...     "school_year": "2025-26", "grade": "3", "english_learner": ["Yes"] * 2 + ["No"] * 14})
>>> out = achievement(a, s)
>>> out.loc[out["dimension"].isin(["all", "english_learner"]) & (out["grade"] == "3"),
...         ["dimension", "group", "n_tested", "pct_proficient", "display", "gap_pp"]]
         dimension         group  n_tested  pct_proficient display  gap_pp
0              all  All Students        16            75.0     75%     0.0
3  english_learner           Yes      <NA>             NaN       *     NaN
4  english_learner            No      <NA>             NaN       *     NaN
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.load import NOT_REPORTED, ColumnCodes, canonical_values
from bltanalytics.metrics.codes import compact, encode, strings
from bltanalytics.metrics.suppression import FAMILY, suppress, withhold

#: Dimensions of the data contract (section 2), in contract order.
DIMENSIONS: tuple[str, ...] = (
    "all",
    "sex",
    "race_ethnicity",
    "english_learner",
    "special_education",
    "economically_disadvantaged",
    "homeless",
    "migrant",
    "foster_care",
)

#: Columns of ``achievement.csv`` (contract section 4), in order.
ACHIEVEMENT_COLUMNS: list[str] = [
    "school_id",
    "school_year",
    "term",
    "subject",
    "grade",
    "dimension",
    "group",
    "n_tested",
    "n_proficient",
    "pct_proficient",
    "suppressed",
    "suppression_reason",
    "display",
    "gap_pp",
]

ALL_STUDENTS = "All Students"
ALL_GRADES = "All"

_FLAG_GROUPS = ("Yes", "No", NOT_REPORTED)

#: Groups of each dimension in display order. A value outside these (the cleaning layer should
#: never let one through) is kept as its own group, after the known ones, before Not reported.
GROUPS: dict[str, tuple[str, ...]] = {
    "all": (ALL_STUDENTS,),
    "sex": ("F", "M", "X", NOT_REPORTED),
    "race_ethnicity": (
        *canonical_values("race_ethnicity"),
        NOT_REPORTED,
    ),
    **{d: _FLAG_GROUPS for d in DIMENSIONS[3:]},
}

TERM_ORDER: tuple[str, ...] = ("Fall", "Winter", "Spring")
GRADE_ORDER: tuple[str, ...] = ("PK", "K", *map(str, range(1, 13)))
ORDERS = {"term": TERM_ORDER, "grade": GRADE_ORDER}

_ASSESSMENT_NEEDS = ("student_id", "school_id", "school_year", "term", "subject", "grade")
_STUDENT_NEEDS = ("student_id", "school_id", "school_year")


def achievement(
    assessments: pd.DataFrame,
    students: pd.DataFrame,
    config: Config | None = None,
    *,
    codes: dict[str, dict[str, ColumnCodes]] | None = None,
) -> pd.DataFrame:
    """Percent proficient by school, year, term, subject, grade, dimension and group, suppressed.

    ``assessments`` and ``students`` are the cleaned tables (docs/design.md). Returns
    :data:`ACHIEVEMENT_COLUMNS`: ``n_tested``/``n_proficient`` (``Int64``), ``pct_proficient``
    (0-100, unrounded), ``suppressed``, ``suppression_reason``, ``display`` and ``gap_pp`` (group
    percentage minus the All Students percentage of the same school, year, term, subject and
    grade; 0 on the All Students row; empty where either is suppressed). Sorted by school, year,
    term (Fall, Winter, Spring), subject, grade (PK, K, 1-12, All), dimension, group.

    ``codes``: the integer codes cleaning made of key columns (``District.codes``: per table,
    per column); used for the columns they still describe, so ids are not hashed again.

    >>> import pandas as pd
    >>> a = pd.DataFrame({"student_id": ["1", "2"], "school_id": "0101",
    ...     "school_year": "2025-26", "term": "Fall", "subject": "ELA", "grade": ["3", "4"],
    ...     "proficient": pd.array([True, False], dtype="boolean")})
    >>> s = pd.DataFrame({"student_id": ["1"], "school_id": "0101", "school_year": "2025-26"})
    >>> out = achievement(a, s)
    >>> out.loc[(out["grade"] == "All") & (out["dimension"] == "sex"),
    ...         ["group", "suppressed", "suppression_reason", "display"]]
               group  suppressed suppression_reason display
    19  Not reported        True              min_n       *
    """
    config = config or Config()
    _require(assessments, (*_ASSESSMENT_NEEDS, "proficient"), "assessments")
    _require(students, _STUDENT_NEEDS, "students")
    if len(assessments) == 0:
        return _empty()

    # Integer codes for the keys, numbered in display order.
    cleaned_codes = codes or {}

    def given(table: str, frame: pd.DataFrame, column: str) -> ColumnCodes | None:
        found = cleaned_codes.get(table, {}).get(column)
        return found.of(frame[column]) if found is not None else None

    keys = {
        name: _ordered_codes(
            assessments[name],
            f"assessments.{name}",
            ORDERS.get(name, ()),
            given("assessments", assessments, name),
        )
        for name in ("school_id", "school_year", "term", "subject", "grade")
    }
    radix = [len(distinct) for _, distinct in keys.values()]
    school, year = keys["school_id"][0], keys["school_year"][0]

    # One id per (school, year, term, subject, grade) cell with tests, numbered in sort order.
    cell = school.astype(np.int64)
    for (codes, _), size in zip(list(keys.values())[1:], radix[1:], strict=True):
        cell *= size
        cell += codes
    cell, cell_keys = compact(cell, float(np.prod(radix, dtype=np.float64)))
    n_cells = len(cell_keys)

    rows = _student_rows(
        assessments,
        students,
        school,
        keys["school_id"][1],
        year,
        keys["school_year"][1],
        given=lambda table, column: given(
            table, assessments if table == "assessments" else students, column
        ),
    )
    groups, group_codes = _dimension_codes(students)
    del school, year

    # Counts: one bincount per dimension over (cell, group, proficient). Row key =
    # cell * width + 2 * group + proficient, so even slots count not proficient, odd proficient.
    width = 2 * max(len(g) for g in groups.values())
    cell *= width
    cell += _proficient(assessments["proficient"])
    key = np.empty_like(cell)
    tested_parts, proficient_parts = [], []
    for dimension in DIMENSIONS:
        if dimension == "all":
            key[:] = cell
        else:
            np.add(cell, np.take(2 * group_codes[dimension], rows), out=key)
        counts = np.bincount(key, minlength=n_cells * width).reshape(n_cells, width // 2, 2)
        counts = counts[:, : len(groups[dimension]), :]
        tested_parts.append(counts.sum(axis=2))
        proficient_parts.append(counts[:, :, 1])
    del cell, key, rows
    tested = np.hstack(tested_parts)
    n_prof = np.hstack(proficient_parts)
    del tested_parts, proficient_parts

    # Grade "All": cells are sorted, so the grades of one (school, year, term, subject) are
    # contiguous and reduceat sums them. Each "All" cell goes after its grades.
    n_grades = radix[4]
    parent = cell_keys // n_grades
    new_parent = _run_starts(parent)
    starts = np.flatnonzero(new_parent)
    order = np.argsort(
        np.r_[
            (np.cumsum(new_parent) - 1) * (n_grades + 1) + cell_keys % n_grades,
            np.arange(len(starts)) * (n_grades + 1) + n_grades,
        ],
        kind="stable",
    )
    tested = np.vstack([tested, np.add.reduceat(tested, starts, axis=0)])[order]
    n_prof = np.vstack([n_prof, np.add.reduceat(n_prof, starts, axis=0)])[order]
    cell_parent = np.r_[parent, parent[starts]][order]
    cell_grade = np.r_[cell_keys % n_grades, np.full(len(starts), n_grades)][order]

    # The key columns of each cell, by decoding its parent key (school, year, term, subject).
    cell_codes = {"grade": cell_grade}
    rest = cell_parent
    for name, size in zip(("subject", "term", "school_year"), radix[3:0:-1], strict=True):
        cell_codes[name] = rest % size
        rest = rest // size
    cell_codes["school_id"] = rest

    # One output row per non-empty group, already in sort order (cell, dimension, group).
    n_columns = tested.shape[1]
    present = np.flatnonzero(tested.ravel())
    row_cell = present // n_columns
    row_column = present % n_columns
    labels = list(dict.fromkeys(g for d in DIMENSIONS for g in groups[d]))
    column_dimension = np.repeat(np.arange(len(DIMENSIONS)), [len(groups[d]) for d in DIMENSIONS])
    column_label = np.array([labels.index(g) for d in DIMENSIONS for g in groups[d]])
    categories = {name: distinct for name, (_, distinct) in keys.items()}
    categories["grade"] = np.append(categories["grade"], ALL_GRADES)
    table = pd.DataFrame(
        {
            **{
                name: _category(cell_codes[name][row_cell], categories[name])
                for name in ("school_id", "school_year", "term", "subject", "grade")
            },
            "dimension": _category(column_dimension[row_column], DIMENSIONS),
            "group": _category(column_label[row_column], labels),
            "n_tested": tested.ravel()[present],
            "n_proficient": n_prof.ravel()[present],
        }
    )
    del tested, n_prof, present, row_column
    out = suppress(
        table,
        min_n=config.min_n,
        protection=config.protection,
        family=FAMILY,
        top_code=config.top_code,
        bottom_code=config.bottom_code,
    )
    del table

    # gap_pp from published figures only: empty where the group or All Students is suppressed.
    # The first row of every cell is its All Students row.
    pct = out["pct_proficient"].to_numpy()
    new_cell = _run_starts(row_cell)
    out["gap_pp"] = pct - pct[new_cell][np.cumsum(new_cell) - 1]
    for column in ("school_id", "school_year", "term", "subject", "grade", "dimension", "group"):
        values = out[column]
        out[column] = strings(values.cat.categories.to_numpy(), values.cat.codes.to_numpy()).array
    # a block that hiding cannot protect keeps its All Students rows only (docs/achievement.md)
    return withhold(out[ACHIEVEMENT_COLUMNS], config)


def _run_starts(values: np.ndarray) -> np.ndarray:
    """True where a sorted array's value differs from the one before (the first included)."""
    starts = np.ones(len(values), dtype=bool)
    starts[1:] = values[1:] != values[:-1]
    return starts


def _require(table: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise BltError(
            f"{name} is missing the column(s) {', '.join(missing)}; "
            f"it has {', '.join(map(str, table.columns))}. Pass the cleaned table."
        )


def _proficient(values: pd.Series) -> np.ndarray:
    if values.isna().any():
        raise BltError(
            f"assessments.proficient has {int(values.isna().sum())} missing value(s); "
            "cleaning should have scored or quarantined those rows"
        )
    return values.to_numpy(dtype=bool)


def _ordered_codes(
    values: pd.Series, name: str, order: tuple[str, ...] = (), given: ColumnCodes | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Codes numbered in display order (``order`` first, then by name), and the values.

    ``given``: ready codes of ``values`` (from cleaning) instead of encoding them."""
    codes, distinct = (given.codes, given.distinct) if given is not None else encode(values)
    if len(codes) and codes.min() < 0:
        raise BltError(f"{name} has missing values; cleaning should have dropped those rows")
    known = {v: i for i, v in enumerate(order)}
    by_display = sorted(
        range(len(distinct)), key=lambda i: (known.get(distinct[i], len(known)), distinct[i])
    )
    rank = np.empty(len(distinct), dtype=np.int32)
    rank[by_display] = np.arange(len(distinct), dtype=np.int32)
    return rank[codes], distinct[by_display]


def _codes_in(
    values: pd.Series, uniques: np.ndarray, given: ColumnCodes | None = None
) -> np.ndarray:
    """Position of each value in ``uniques`` (-1 if absent or missing), via its distinct values."""
    codes, distinct = (given.codes, given.distinct) if given is not None else encode(values)
    where = np.append(pd.Index(uniques).get_indexer(pd.Index(distinct)), -1)
    return where[codes]


def _student_rows(
    assessments: pd.DataFrame,
    students: pd.DataFrame,
    school: np.ndarray,
    school_u: np.ndarray,
    year: np.ndarray,
    year_u: np.ndarray,
    given=lambda table, column: None,
) -> np.ndarray:
    """For each assessment, the position of its ``students`` row (``len(students)`` if none).

    Matched on (student_id, school_year). With several rows, the one for the school where the
    test was taken wins, else the one with the lowest school_id (first in table order on ties).
    ``school`` and ``year`` are the assessments' codes of ``school_u`` and ``year_u``.
    """
    n_students = len(students)
    if n_students == 0:
        return np.zeros(len(assessments), dtype=np.int64)
    n_years = len(year_u)
    s_year = _codes_in(students["school_year"], year_u, given("students", "school_year"))
    s_school = _codes_in(students["school_id"], school_u, given("students", "school_id"))
    s_school_rank = _ordered_codes(
        students["school_id"], "students.school_id", given=given("students", "school_id")
    )[0]
    ready = given("students", "student_id")
    s_sid, sid_u = (ready.codes, ready.distinct) if ready else encode(students["student_id"])
    valid = np.flatnonzero((s_year >= 0) & (s_sid >= 0))

    # Fallback row per (student, year): lowest school_id, then table order.
    s_key = s_sid[valid].astype(np.int64) * n_years + s_year[valid]
    by_key = np.lexsort((s_school_rank[valid], s_key))
    sorted_key = s_key[by_key]
    first = _run_starts(sorted_key)
    space = len(sid_u) * n_years
    lookup = np.full(space + 1, n_students, dtype=np.int64)  # last slot: not in students
    lookup[sorted_key[first]] = valid[by_key[first]]
    several_rows = np.zeros(space + 1, dtype=bool)
    several_rows[sorted_key[first][np.diff(np.r_[np.flatnonzero(first), len(first)]) > 1]] = True

    ready = given("assessments", "student_id")
    if ready is not None:  # each distinct id looked up once, then spread to its rows
        where = _arrow_index_in(pd.Series(ready.distinct, dtype="str"), sid_u)
        a_key = np.append(where, -1)[ready.codes]
    else:
        a_key = _arrow_index_in(assessments["student_id"], sid_u)
    found = a_key >= 0
    a_key *= n_years
    a_key += year
    a_key[~found] = space
    rows = lookup[a_key]

    # Students with several school rows that year: prefer the row of the testing school.
    several = np.flatnonzero(several_rows[a_key])
    if several.size:
        n_schools = len(school_u)
        at_tested_school = valid[s_school[valid] >= 0]
        s3 = (
            s_sid[at_tested_school].astype(np.int64) * n_years + s_year[at_tested_school]
        ) * n_schools + s_school[at_tested_school]
        by_s3 = np.argsort(s3, kind="stable")
        s3 = s3[by_s3]
        wanted = a_key[several] * n_schools + school[several]
        pos = np.minimum(np.searchsorted(s3, wanted), max(len(s3) - 1, 0))
        hit = s3[pos] == wanted if len(s3) else np.zeros(len(wanted), dtype=bool)
        rows[several[hit]] = at_tested_school[by_s3[pos[hit]]]
    return rows


def _arrow_index_in(values: pd.Series, value_set: np.ndarray) -> np.ndarray:
    """Position of each value in ``value_set`` (-1 if absent), hashing with Arrow."""
    array = values.array
    if hasattr(array, "__arrow_array__"):
        haystack = array.__arrow_array__()
    else:
        haystack = pa.array(values.astype(str).to_numpy(dtype=object), from_pandas=True)
    haystack = haystack.cast(pa.large_string())
    needles = pa.array(np.asarray(value_set, dtype=object), type=pa.large_string())
    found = pc.index_in(haystack, value_set=needles)
    if isinstance(found, pa.ChunkedArray):
        found = found.combine_chunks()
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _dimension_codes(
    students: pd.DataFrame,
) -> tuple[dict[str, tuple[str, ...]], dict[str, np.ndarray]]:
    """Groups of each dimension, and each student row's group code in it.

    The code arrays have one extra last entry, ``Not reported``, for tests whose student has no
    ``students`` row. A missing value, or a missing column, is ``Not reported`` too.
    """
    groups: dict[str, tuple[str, ...]] = {"all": GROUPS["all"]}
    group_codes: dict[str, np.ndarray] = {}
    for dimension in DIMENSIONS[1:]:
        known = GROUPS[dimension]
        if dimension in students.columns:
            codes, distinct = encode(students[dimension])
            distinct = [str(v) for v in distinct]
        else:
            codes, distinct = np.full(len(students), -1, dtype=np.int32), []
        extra = sorted(set(distinct) - set(known))
        labels = (*known[:-1], *extra, NOT_REPORTED)
        position = {g: i for i, g in enumerate(labels)}
        not_reported = position[NOT_REPORTED]
        # A trailing Not reported entry, so code -1 (missing) maps to Not reported.
        where = np.array([position[v] for v in distinct] + [not_reported], dtype=np.int16)
        groups[dimension] = labels
        group_codes[dimension] = np.append(where[codes], np.int16(not_reported))
    return groups, group_codes


def _category(codes: np.ndarray, categories) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(categories), dtype="str"))


def _empty() -> pd.DataFrame:
    text = pd.StringDtype("pyarrow", na_value=np.nan)
    dtypes = {
        "n_tested": "Int64",
        "n_proficient": "Int64",
        "pct_proficient": "float64",
        "suppressed": "bool",
        "gap_pp": "float64",
    }
    return pd.DataFrame({c: pd.Series([], dtype=dtypes.get(c, text)) for c in ACHIEVEMENT_COLUMNS})
