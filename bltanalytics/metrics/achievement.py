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

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.load import (
    DEMOGRAPHICS,
    DIMENSIONS,
    NOT_REPORTED,
    ColumnCodes,
    canonical_values,
)
from bltanalytics.metrics.codes import compact, encode, strings
from bltanalytics.metrics.shapes import Achievement, columns
from bltanalytics.metrics.suppression import FAMILY, suppress, withheld_mask

#: Columns of ``achievement.csv`` (contract section 4), in order: from its shape.
ACHIEVEMENT_COLUMNS: list[str] = columns(Achievement)

ALL_STUDENTS = "All Students"
ALL_GRADES = "All"

_FLAG_GROUPS = ("Yes", "No", NOT_REPORTED)

#: Groups of each dimension in display order (``data/vocabulary.yaml`` declares the dimensions).
#: A value outside these (the cleaning layer should never let one through) is kept as its own
#: group, after the known ones, before Not reported.
GROUPS: dict[str, tuple[str, ...]] = {
    "all": (ALL_STUDENTS,),
    **{
        d: _FLAG_GROUPS if kind == "flag" else (*canonical_values(d), NOT_REPORTED)
        for d, kind in DEMOGRAPHICS.items()
    },
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
    layout: GroupLayout | None = None,
    withhold_blocks: bool = True,
    counts_out: dict | None = None,
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
    ``layout``: :func:`group_layout` of the same tables, when the caller already has it.
    ``withhold_blocks``: drop the rows of blocks that hiding cannot protect
    (:func:`~bltanalytics.metrics.suppression.withhold`; the default); ``False`` keeps every
    row, for a table linked to this one row for row (scale scores) to withhold the same.
    ``counts_out``: a dict that receives the true ``n_tested`` and ``n_proficient`` of the
    returned rows (int64 arrays, hidden rows included), for the privacy audit to start from
    (:func:`bltanalytics.metrics.audit.audit`, ``counts=``); never to be published.

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
    if len(assessments) == 0:
        _require(students, _STUDENT_NEEDS, "students")
        return _empty()
    layout = layout or group_layout(assessments, students, codes=codes)
    counts = layout.count(_proficient(assessments["proficient"]), 2)
    tested = counts.sum(axis=2)
    present = np.flatnonzero(tested.ravel())
    table = pd.DataFrame(
        {
            **layout.key_columns(present),
            "n_tested": tested.ravel()[present],
            "n_proficient": counts[:, :, 1].ravel()[present],
        }
    )
    del counts, tested
    true_n, true_p = table["n_tested"].to_numpy(), table["n_proficient"].to_numpy()
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
    out["gap_pp"] = pct - pct[first_of_cell(present // layout.n_columns)]
    out = text_keys(out)[ACHIEVEMENT_COLUMNS]
    # a block that hiding cannot protect keeps its All Students rows only (docs/achievement.md)
    true = {"n_tested": true_n, "n_proficient": true_p}
    keep = withheld_mask(out, config, true) if withhold_blocks else np.ones(len(out), dtype=bool)
    if counts_out is not None:
        counts_out.update(n_tested=true_n[keep], n_proficient=true_p[keep])
    return out if keep.all() else out[keep].reset_index(drop=True)


#: the key columns of an achievement-shaped table, in order
KEY_COLUMNS: tuple[str, ...] = (
    "school_id",
    "school_year",
    "term",
    "subject",
    "grade",
    "dimension",
    "group",
)


def text_keys(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its categorical :data:`KEY_COLUMNS` (from
    :meth:`GroupLayout.key_columns`) as text columns."""
    out = table.copy(deep=False)
    for column in KEY_COLUMNS:
        values = out[column]
        out[column] = strings(values.cat.categories.to_numpy(), values.cat.codes.to_numpy()).array
    return out


def first_of_cell(row_cell: np.ndarray) -> np.ndarray:
    """For sorted cell numbers of rows, the position of the first row of each row's cell.

    >>> first_of_cell(np.array([0, 0, 0, 3, 3, 5])).tolist()
    [0, 0, 0, 3, 3, 5]
    """
    new_cell = _run_starts(row_cell)
    return np.flatnonzero(new_cell)[np.cumsum(new_cell) - 1]


@dataclass(frozen=True)
class GroupLayout:
    """Where every assessment row counts: its cell and its group in each dimension.

    A *cell* is one school, year, term, subject and grade; cells are numbered in the sort
    order of :func:`achievement`, each grade ``All`` cell after the grades of its school, year,
    term and subject. A *column* is one group of one dimension (:data:`DIMENSIONS` order, then
    each dimension's groups in display order). :meth:`count` and :meth:`total` give figures
    per (cell, column); :meth:`key_columns` names the (cell, column) pairs asked for.
    Made by :func:`group_layout`; shared by :mod:`.achievement` and :mod:`.scale_scores` so both
    match students and code keys the same way.
    """

    row_cell: np.ndarray  # each assessment row's cell among the grade cells
    n_grade_cells: int
    rows: np.ndarray  # each assessment row's students row (len(students) if none)
    groups: dict[str, tuple[str, ...]]
    group_codes: dict[str, np.ndarray]
    all_order: np.ndarray  # grade cells then grade-All cells -> sort order
    all_starts: np.ndarray  # first grade cell of each (school, year, term, subject)
    block: np.ndarray  # each cell's (school, year, term, subject), numbered from 0
    grade_block: np.ndarray  # the same of each grade cell (numbered as row_cell)
    codes: dict[str, np.ndarray]  # each cell's code of the key columns
    categories: dict[str, np.ndarray]  # the values of each key column's codes

    @property
    def n_columns(self) -> int:
        return sum(len(g) for g in self.groups.values())

    @property
    def n_cells(self) -> int:
        return len(self.block)

    def row_block(self) -> np.ndarray:
        """Each assessment row's (school, year, term, subject) number (as :attr:`block`)."""
        return self.grade_block[self.row_cell]

    def count(self, slot: np.ndarray, n_slots: int) -> np.ndarray:
        """Rows counted by (cell, column, slot), shape ``(n_cells, n_columns, n_slots)``.

        ``slot``: each assessment row's slot, 0 to ``n_slots - 1`` (proficient or not, say).
        """
        width = n_slots * max(len(g) for g in self.groups.values())
        cell = self.row_cell * width
        cell += slot
        key = np.empty_like(cell)
        parts = []
        for dimension in DIMENSIONS:
            if dimension == "all":
                key[:] = cell
            else:
                np.add(cell, np.take(n_slots * self.group_codes[dimension], self.rows), out=key)
            counts = np.bincount(key, minlength=self.n_grade_cells * width)
            counts = counts.reshape(self.n_grade_cells, width // n_slots, n_slots)
            parts.append(counts[:, : len(self.groups[dimension]), :])
        del cell, key
        return self.with_all_grades(np.hstack(parts))

    def total(self, values: np.ndarray) -> np.ndarray:
        """Sums of ``values`` (float, one per assessment row) by (cell, column)."""
        width = max(len(g) for g in self.groups.values())
        cell = self.row_cell * width
        key = np.empty_like(cell)
        parts = []
        for dimension in DIMENSIONS:
            if dimension == "all":
                key[:] = cell
            else:
                np.add(cell, np.take(self.group_codes[dimension], self.rows), out=key)
            sums = np.bincount(key, weights=values, minlength=self.n_grade_cells * width)
            parts.append(sums.reshape(self.n_grade_cells, width)[:, : len(self.groups[dimension])])
        return self.with_all_grades(np.hstack(parts))

    def with_all_grades(self, by_grade: np.ndarray) -> np.ndarray:
        """Figures of the grade cells, plus their grade ``All`` sums, in cell order."""
        return np.concatenate([by_grade, np.add.reduceat(by_grade, self.all_starts, axis=0)])[
            self.all_order
        ]

    def key_columns(self, present: np.ndarray) -> dict[str, pd.Categorical]:
        """The :data:`KEY_COLUMNS` (categorical) of the (cell, column) pairs at flat positions
        ``present`` of a ``(n_cells, n_columns)`` array."""
        n_columns = self.n_columns
        row_cell = present // n_columns
        row_column = present % n_columns
        dims = DIMENSIONS
        labels = list(dict.fromkeys(g for d in dims for g in self.groups[d]))
        column_dimension = np.repeat(np.arange(len(dims)), [len(self.groups[d]) for d in dims])
        column_label = np.array([labels.index(g) for d in dims for g in self.groups[d]])
        return {
            **{
                name: _category(self.codes[name][row_cell], self.categories[name])
                for name in KEY_COLUMNS[:5]
            },
            "dimension": _category(column_dimension[row_column], dims),
            "group": _category(column_label[row_column], labels),
        }


def group_layout(
    assessments: pd.DataFrame,
    students: pd.DataFrame,
    *,
    codes: dict[str, dict[str, ColumnCodes]] | None = None,
) -> GroupLayout:
    """The :class:`GroupLayout` of cleaned ``assessments`` (not empty) and ``students``.

    ``codes``: as for :func:`achievement`.

    >>> import pandas as pd
    >>> a = pd.DataFrame({"student_id": ["1", "2"], "school_id": "0101",
    ...     "school_year": "2025-26", "term": "Fall", "subject": "ELA", "grade": ["4", "3"]})
    >>> s = pd.DataFrame({"student_id": ["1"], "school_id": "0101", "school_year": "2025-26"})
    >>> layout = group_layout(a, s)
    >>> layout.count(np.zeros(2, dtype=np.int64), 1)[:, 0, 0].tolist()   # grades 3, 4, All
    [1, 1, 2]
    """
    _require(assessments, _ASSESSMENT_NEEDS, "assessments")
    _require(students, _STUDENT_NEEDS, "students")
    cleaned_codes = codes or {}

    def given(table: str, frame: pd.DataFrame, column: str) -> ColumnCodes | None:
        found = cleaned_codes.get(table, {}).get(column)
        return found.of(frame[column]) if found is not None else None

    # Integer codes for the keys, numbered in display order.
    keys = {
        name: _ordered_codes(
            assessments[name],
            f"assessments.{name}",
            ORDERS.get(name, ()),
            given("assessments", assessments, name),
        )
        for name in KEY_COLUMNS[:5]
    }
    radix = [len(distinct) for _, distinct in keys.values()]
    school, year = keys["school_id"][0], keys["school_year"][0]

    # One id per (school, year, term, subject, grade) cell with tests, numbered in sort order.
    cell = school.astype(np.int64)
    for (key_codes, _), size in zip(list(keys.values())[1:], radix[1:], strict=True):
        cell *= size
        cell += key_codes
    cell, cell_keys = compact(cell, float(np.prod(radix, dtype=np.float64)))

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

    # Grade "All": cells are sorted, so the grades of one (school, year, term, subject) are
    # contiguous and reduceat sums them. Each "All" cell goes after its grades.
    n_grades = radix[4]
    parent = cell_keys // n_grades
    new_parent = _run_starts(parent)
    starts = np.flatnonzero(new_parent)
    block_of = np.cumsum(new_parent) - 1
    order = np.argsort(
        np.r_[
            block_of * (n_grades + 1) + cell_keys % n_grades,
            np.arange(len(starts)) * (n_grades + 1) + n_grades,
        ],
        kind="stable",
    )
    cell_parent = np.r_[parent, parent[starts]][order]
    cell_grade = np.r_[cell_keys % n_grades, np.full(len(starts), n_grades)][order]

    # The key columns of each cell, by decoding its parent key (school, year, term, subject).
    cell_codes = {"grade": cell_grade}
    rest = cell_parent
    for name, size in zip(("subject", "term", "school_year"), radix[3:0:-1], strict=True):
        cell_codes[name] = rest % size
        rest = rest // size
    cell_codes["school_id"] = rest
    categories = {name: distinct for name, (_, distinct) in keys.items()}
    categories["grade"] = np.append(categories["grade"], ALL_GRADES)
    return GroupLayout(
        row_cell=cell,
        n_grade_cells=len(cell_keys),
        rows=rows,
        groups=groups,
        group_codes=group_codes,
        all_order=order,
        all_starts=starts,
        block=np.r_[block_of, np.arange(len(starts))][order],
        grade_block=block_of,
        codes=cell_codes,
        categories=categories,
    )


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
