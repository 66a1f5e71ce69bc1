"""The data-quality report a district data lead acts on (``bltanalytics validate FOLDER``).

Per table: rows read, used, dropped and values blanked; each reason with its count and the
first examples (file, row, column, value); values no vocabulary knew, with the ``mapping.yaml``
lines that would fix them; columns that were ignored; optional tables that are absent.

>>> report = quality_report(load_district("data/sample"))   # doctest: +SKIP
>>> print(format_report(report))                             # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bltanalytics.load.contract import REQUIRED_TABLES, TABLES
from bltanalytics.load.district import District
from bltanalytics.load.vocabulary import canonical_values

EXAMPLES_PER_REASON = 3
_VOCABULARY_OF = {
    c.name: c.vocabulary for spec in TABLES.values() for c in spec.columns if c.vocabulary
}


@dataclass(frozen=True)
class QualityReport:
    """What :func:`format_report` prints, as tables (also written by ``--json``)."""

    folder: str
    accounting: pd.DataFrame  # table, file, rows_read, rows_used, rows_dropped, values_blanked
    reasons: pd.DataFrame  # table, action, reason, column, count
    examples: pd.DataFrame  # table, action, reason, file, source_row, column, value
    unrecognised: pd.DataFrame  # table, column, value, count
    ignored_columns: dict[str, list[str]]
    absent_tables: list[str]

    @property
    def balanced(self) -> bool:
        """Every table's rows are accounted for: read = used + dropped."""
        a = self.accounting
        return bool((a["rows_read"] == a["rows_used"] + a["rows_dropped"]).all())

    def to_dict(self) -> dict:
        return {
            "folder": self.folder,
            "usable": True,
            "balanced": self.balanced,
            "tables": self.accounting.to_dict("records"),
            "reasons": self.reasons.to_dict("records"),
            "examples": self.examples.astype({"source_row": "int64"}).to_dict("records"),
            "unrecognised": self.unrecognised.to_dict("records"),
            "ignored_columns": self.ignored_columns,
            "absent_tables": self.absent_tables,
        }


def quality_report(district: District) -> QualityReport:
    """Summarize a loaded district's row accounting and quarantine."""
    q = district.quarantine
    keys = ["table", "action", "reason", "column"]
    reasons = (
        q.groupby(keys, sort=False).size().rename("count").reset_index()
        if len(q)
        else pd.DataFrame(columns=[*keys, "count"])
    )
    examples = (
        q.groupby(keys, sort=False).head(EXAMPLES_PER_REASON)[
            ["table", "action", "reason", "file", "source_row", "column", "value"]
        ]
        if len(q)
        else pd.DataFrame(
            columns=["table", "action", "reason", "file", "source_row", "column", "value"]
        )
    )
    unrecognised = (
        district.unrecognised.groupby(["table", "column", "value"], sort=False)["count"]
        .sum()
        .reset_index()
        if len(district.unrecognised)
        else district.unrecognised
    )
    return QualityReport(
        folder=str(district.folder),
        accounting=district.accounting,
        reasons=reasons,
        examples=examples,
        unrecognised=unrecognised,
        ignored_columns=district.ignored_columns,
        absent_tables=[t for t in TABLES if t not in district.tables],
    )


def mapping_suggestion(unrecognised: pd.DataFrame) -> str:
    """``mapping.yaml`` lines that would map each unrecognised value (to be completed)."""
    if unrecognised.empty:
        return ""
    lines = ["values:"]
    for column, rows in unrecognised.groupby("column", sort=False):
        vocabulary = _VOCABULARY_OF.get(column)
        if vocabulary:
            choices = ", ".join(canonical_values(vocabulary))
        elif column == "grade":
            choices = "PK, K, 1 ... 12"
        elif column == "survey_window":
            choices = "a window like 2025-26 Fall"
        else:
            choices = "Yes, No"
        lines.append(f"  {column}:   # one of: {choices}")
        for value in rows["value"].drop_duplicates():
            lines.append(f"    {_yaml_key(value)}: ???")
    return "\n".join(lines)


def _yaml_key(value: str) -> str:
    safe = value and value.replace(" ", "").replace("-", "").replace("/", "").isalnum()
    return value if safe and not value.isdigit() else '"' + value.replace('"', '\\"') + '"'


def format_report(report: QualityReport) -> str:
    """The report as plain text for a terminal."""
    out = [f"Data quality report for {report.folder}", ""]
    acc = report.accounting
    width = max(len(t) for t in acc["table"]) + 2
    out.append(f"{'table':<{width}}{'file':<26}{'read':>9}{'used':>9}{'dropped':>9}{'blanked':>9}")
    for row in acc.itertuples():
        out.append(
            f"{row.table:<{width}}{row.file:<26}{row.rows_read:>9,}{row.rows_used:>9,}"
            f"{row.rows_dropped:>9,}{row.values_blanked:>9,}"
        )
    out.append(
        "Every row is accounted for (read = used + dropped)."
        if report.balanced
        else "WARNING: row accounting does not balance; please report this."
    )
    if len(report.reasons):
        out += [
            "",
            "Rows dropped and values blanked (first examples; rows count data rows from 1):",
        ]
        for table, reasons in report.reasons.groupby("table", sort=False):
            out.append(f"  {table}")
            for r in reasons.itertuples():
                what = "rows dropped" if r.action == "row_dropped" else "values blanked"
                out.append(f"    {r.reason} in {r.column}: {r.count:,} {what}")
                ex = report.examples[
                    (report.examples["table"] == table)
                    & (report.examples["reason"] == r.reason)
                    & (report.examples["column"] == r.column)
                    & (report.examples["action"] == r.action)
                ]
                for e in ex.itertuples():
                    value = (
                        f" value {e.value!r}"
                        if isinstance(e.value, str) and e.value
                        else " (blank)"
                    )
                    out.append(f"      {e.file} row {e.source_row}, column {e.column}:{value}")
    if len(report.unrecognised):
        out += [
            "",
            "Values not recognised (blanked to 'Not reported', or the row dropped if required):",
        ]
        for r in report.unrecognised.itertuples():
            out.append(f"  {r.table}.{r.column}: {r.value!r} ({r.count:,} rows)")
        out += [
            "",
            "To fix them, add these lines to mapping.yaml in the district folder and replace ???",
            "with the contract value each code means:",
            "",
        ]
        out += ["  " + line for line in mapping_suggestion(report.unrecognised).splitlines()]
    if report.ignored_columns:
        out += [
            "",
            "Columns not in the data contract (ignored; map them in mapping.yaml if needed):",
        ]
        for table, columns in report.ignored_columns.items():
            out.append(f"  {table}: {', '.join(columns)}")
    optional_absent = [t for t in report.absent_tables if t not in REQUIRED_TABLES]
    if optional_absent:
        out += [
            "",
            "Optional tables not supplied (the report sections that need them show 'no data'):",
            "  " + ", ".join(optional_absent),
        ]
    out += ["", "Verdict: the folder is usable."]
    return "\n".join(out)
