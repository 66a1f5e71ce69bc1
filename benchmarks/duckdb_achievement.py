"""The achievement table computed independently, by one DuckDB SQL query: reference and check.

:func:`achievement_sql` writes, in SQL only, what
:func:`bltanalytics.metrics.achievement.achievement`
computes: students tested and proficient per school, school year, term, subject and grade
(each grade and ``All``), dimension and group, and the data contract's primary suppression
(``min_n``). The linked secondary suppression (a search with an exact check) is not redone in
SQL: :func:`compare` checks that every figure the package publishes equals the recount, that
both hide exactly the same groups as too small, and that nothing else the package hides is
small. It reads the cleaned assessments and students from Parquet (:func:`write_cleaned` writes
them once). It shares no code with the package, so agreement between the two (:func:`compare`)
is a correctness check as well as a speed reference.

The demographic rules are the package's (docs/achievement.md): a test takes the student's
``students`` row of the same school year at the tested school, else the row with the lowest
school_id; a test with no such row, or a missing value, counts as ``Not reported``.
"""

from __future__ import annotations

from pathlib import Path

DEMOGRAPHICS = (
    "sex",
    "race_ethnicity",
    "english_learner",
    "special_education",
    "economically_disadvantaged",
    "homeless",
    "migrant",
    "foster_care",
)
CELL = ("school_id", "school_year", "term", "subject", "grade")
KEYS = (*CELL, "dimension", "group")
COMPARED = (*KEYS, "n_tested", "n_proficient", "pct_proficient")


def write_cleaned(district: Path, out: Path) -> dict[str, Path]:
    """Load (clean) the district once and write its assessments and students as Parquet."""
    from bltanalytics.load import load_district

    out.mkdir(parents=True, exist_ok=True)
    tables = load_district(district).tables
    paths = {}
    for name, columns in (
        ("assessments", [*CELL[:1], "student_id", *CELL[1:], "proficient"]),
        ("students", ["student_id", "school_id", "school_year", *DEMOGRAPHICS]),
    ):
        path = out / f"{name}.parquet"
        tables[name][columns].to_parquet(path, index=False)
        paths[name] = path
    return paths


def achievement_sql(assessments: Path, students: Path, min_n: int) -> str:
    """The query: one row per group, with ``suppression_reason`` and blanked figures."""
    pick = ",\n    ".join(
        f"coalesce(CASE WHEN e.student_id IS NOT NULL THEN e.{d} ELSE f.{d} END, "
        f"'Not reported') AS {d}"
        for d in DEMOGRAPHICS
    )
    unpivot = "\n  UNION ALL ".join(
        [
            "SELECT school_id, school_year, term, subject, grade, 'all' AS dimension, "
            "'All Students' AS \"group\", n, p FROM cells"
        ]
        + [
            f"SELECT school_id, school_year, term, subject, grade, '{d}', {d}, n, p FROM cells"
            for d in DEMOGRAPHICS
        ]
    )
    return f"""
WITH a AS (
  SELECT student_id, school_id, school_year, term, subject, grade, proficient
  FROM read_parquet('{assessments}')
),
s AS (
  SELECT * FROM read_parquet('{students}', file_row_number = true)
),
s_exact AS (  -- the student's row at the tested school (first in the file if several)
  SELECT * FROM s
  QUALIFY row_number() OVER (
    PARTITION BY student_id, school_year, school_id ORDER BY file_row_number) = 1
),
s_first AS (  -- otherwise the row with the lowest school_id
  SELECT * FROM s
  QUALIFY row_number() OVER (
    PARTITION BY student_id, school_year ORDER BY school_id, file_row_number) = 1
),
tests AS (
  SELECT a.school_id, a.school_year, a.term, a.subject, a.grade, a.proficient,
    {pick}
  FROM a
  LEFT JOIN s_exact e
    ON e.student_id = a.student_id AND e.school_year = a.school_year
    AND e.school_id = a.school_id
  LEFT JOIN s_first f
    ON f.student_id = a.student_id AND f.school_year = a.school_year
),
cells AS (  -- tests counted once per combination of every dimension's group
  SELECT school_id, school_year, term, subject, grade, {", ".join(DEMOGRAPHICS)},
    count(*) AS n, count_if(proficient) AS p
  FROM tests
  GROUP BY ALL
),
long AS (
  {unpivot}
),
counts AS (  -- each grade, and All grades together
  SELECT school_id, school_year, term, subject,
    CASE WHEN grouping(grade) = 1 THEN 'All' ELSE grade END AS grade,
    dimension, "group", sum(n)::BIGINT AS n_tested, sum(p)::BIGINT AS n_proficient
  FROM long
  GROUP BY GROUPING SETS (
    (school_id, school_year, term, subject, grade, dimension, "group"),
    (school_id, school_year, term, subject, dimension, "group"))
),
reasons AS (
  SELECT *, CASE WHEN n_tested < {int(min_n)} THEN 'min_n' END AS suppression_reason
  FROM counts
)
SELECT school_id, school_year, term, subject, grade, dimension, "group",
  n_tested, n_proficient, 100.0::DOUBLE * n_proficient / n_tested AS pct_proficient,
  suppression_reason
FROM reasons
"""


def run_query(assessments: Path, students: Path, min_n: int):
    """The query's result as an Arrow table (DuckDB in this process, its default threads)."""
    import duckdb

    with duckdb.connect() as con:
        result = con.sql(achievement_sql(assessments, students, min_n))
        fetch = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
        return fetch()


BLOCK_KEYS = "school_id, school_year, term, subject"
#: blocks the package withheld to their All Students rows (no row outside the `all` dimension)
WITHHELD = (
    f"SELECT {BLOCK_KEYS} FROM ours GROUP BY {BLOCK_KEYS} "
    "HAVING bool_and(dimension = 'all') AND bool_and(suppressed)"
)


def compare(ours, theirs) -> dict:
    """Where the package's achievement and the query's recount disagree, counted.

    ``ours``: the package's achievement frame (or Arrow table); ``theirs``: the query's, with
    every group's true counts and only the ``min_n`` reason. Counted: groups only one side has
    (``only_ours``, ``only_duckdb``, as multisets of keys; the group rows of a block the
    package withheld to its All Students rows are counted apart, ``withheld``), figures the
    package publishes that differ from the recount (``wrong_figures``: n_tested, and
    n_proficient and pct_proficient where published, compared as exact floats), and groups
    hidden for size on one side only (``min_n_differs``).
    """
    import duckdb
    import pyarrow as pa

    if not isinstance(ours, pa.Table):
        ours = pa.Table.from_pandas(ours, preserve_index=False)
    keys = ", ".join(f'"{c}"' for c in KEYS)
    joined = " AND ".join(f'o."{c}" = t."{c}"' for c in KEYS)
    with duckdb.connect() as con:
        con.register("ours", ours)
        con.register("theirs", theirs)

        def count(sql: str) -> int:
            return con.execute(sql).fetchall()[0][0]

        return {
            "rows_ours": ours.num_rows,
            "rows_duckdb": theirs.num_rows,
            "only_ours": count(
                f"SELECT count(*) FROM (SELECT {keys} FROM ours "
                f"EXCEPT ALL SELECT {keys} FROM theirs)"
            ),
            # a block hiding cannot protect keeps only its All Students rows (withheld)
            "only_duckdb": count(
                f"SELECT count(*) FROM (SELECT {keys} FROM theirs "
                f"EXCEPT ALL SELECT {keys} FROM ours) x "
                f"WHERE ({BLOCK_KEYS}) NOT IN ({WITHHELD})"
            ),
            "withheld": count(
                f"SELECT count(*) FROM (SELECT {keys} FROM theirs "
                f"EXCEPT ALL SELECT {keys} FROM ours) x "
                f"WHERE ({BLOCK_KEYS}) IN ({WITHHELD})"
            ),
            "wrong_figures": count(
                f"SELECT count(*) FROM ours o JOIN theirs t ON {joined} "
                "WHERE NOT o.suppressed AND ("
                "o.n_tested <> t.n_tested"
                " OR (o.n_proficient IS NOT NULL AND o.n_proficient <> t.n_proficient)"
                " OR (o.pct_proficient IS NOT NULL AND o.pct_proficient <> t.pct_proficient))"
            ),
            "min_n_differs": count(
                f"SELECT count(*) FROM ours o JOIN theirs t ON {joined} WHERE "
                "(o.suppression_reason = 'min_n') <> (t.suppression_reason = 'min_n')"
                " OR (t.suppression_reason = 'min_n' AND NOT o.suppressed)"
            ),
            "suppressed": count("SELECT count(*) FROM ours WHERE suppressed"),
            "complementary": count(
                "SELECT count(*) FROM ours WHERE suppression_reason = 'complementary'"
            ),
        }


def agrees(result: dict) -> bool:
    return (
        result["rows_ours"] + result.get("withheld", 0) == result["rows_duckdb"]
        and result["only_ours"] == 0
        and result["only_duckdb"] == 0
        and result["wrong_figures"] == 0
        and result["min_n_differs"] == 0
    )
