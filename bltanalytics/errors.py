"""The package's errors: one small hierarchy, each message says what, where and what to do.

Errors about a table's shape carry the place as fields, for code that wants more than the
message (a dashboard naming the column, a test asserting the row):

>>> error = ExportError("achievement.parquet is not as written",
...                     [Failure("achievement", "grade", 3, "13", "isin")])
>>> (error.table, error.column, error.row, error.value)
('achievement', 'grade', 3, '13')
>>> isinstance(error, BltError), isinstance(error, PackageBug)
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass


class BltError(Exception):
    """Base class for every error bltanalytics raises on purpose.

    Each one is shown to a person as its message (the command line prints it, a dashboard
    shows it). All but :class:`PackageBug` are about the input; a :class:`PackageBug` says
    so in its message, so that nobody goes looking for a fault in their data.
    """


class DistrictFolderError(BltError):
    """A district folder cannot be used: a required table is missing, empty or unreadable."""


class MappingError(BltError):
    """``mapping.yaml`` is malformed."""


class ConfigError(BltError):
    """A configuration file or value is invalid."""


@dataclass(frozen=True)
class Failure:
    """One problem with a table's shape.

    ``row``: the 1-based data row (the header not counted, as ``source_row`` counts), or None
    when the problem is the whole column (missing, or of the wrong dtype) or table.
    ``value``: the offending value (for a dtype problem, the dtype found). ``check``: what was
    expected, in words.
    """

    table: str
    column: str | None
    row: int | None
    value: object
    check: str

    def describe(self) -> str:
        """One line for a person.

        >>> Failure("rubric", "status", 7, "done", "one of met, not_met").describe()
        "column status, row 7: 'done' (expected one of met, not_met)"
        """
        where = f"column {self.column}" if self.column is not None else f"table {self.table}"
        if self.row is not None:
            where += f", row {self.row}"
        found = "" if self.value is None else f": {self.value!r}"
        return f"{where}{found} (expected {self.check})"


class ShapeError(BltError):
    """A table does not have its declared shape.

    ``failures``: every problem found (validation is lazy, so one run lists them all);
    ``table``, ``column``, ``row``, ``value``: those of the first.
    """

    def __init__(self, message: str, failures: list[Failure]) -> None:
        super().__init__(message)
        self.failures = list(failures)
        first = self.failures[0] if self.failures else Failure("", None, None, None, "")
        self.table, self.column, self.row, self.value = (
            first.table,
            first.column,
            first.row,
            first.value,
        )


class ExportError(ShapeError):
    """A metrics export read back is not as bltanalytics wrote it (edited, cut short, or
    written by another version): bad data, to be fixed by writing the export again."""


class PackageBug(ShapeError):
    """bltanalytics itself produced a table that breaks its declared shape.

    Not the user's data (bad input is quarantined before any table is built): the message
    asks for a bug report, with the table, column, row and value.
    """


#: how a package bug is introduced to the person who meets it
BUG_NOTICE = "this is a bug in bltanalytics, please report it (with this message)"
