"""Load a whole district folder: read, map, clean and cross-check every table.

>>> district = load_district("data/sample")          # doctest: +SKIP
>>> district.tables["assessments"].columns[:3].tolist()  # doctest: +SKIP
['source_row', 'student_id', 'school_id']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bltanalytics.errors import DistrictFolderError
from bltanalytics.load.cleaning import CleanResult, ColumnCodes, References, clean_table
from bltanalytics.load.contract import LOAD_ORDER, REQUIRED_TABLES, TABLES
from bltanalytics.load.indicators import rated_indicator_ids
from bltanalytics.load.mapping import Mapping
from bltanalytics.load.quarantine import empty_quarantine
from bltanalytics.load.readers import find_table_files, read_table_file
from bltanalytics.load.schemas import check_shape


@dataclass(frozen=True)
class District:
    """A district's cleaned tables, with the record of every row that was not used as-is."""

    folder: Path
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    accounting: pd.DataFrame
    unrecognised: pd.DataFrame
    ignored_columns: dict[str, list[str]]
    files: dict[str, Path]
    #: integer codes of the key columns of assessments and students, made while cleaning
    #: (see :class:`~bltanalytics.load.cleaning.ColumnCodes`); the metrics layer reuses them
    codes: dict[str, dict[str, ColumnCodes]] = field(default_factory=dict, repr=False)

    def has(self, name: str) -> bool:
        """True when the district supplied table ``name`` (possibly with zero usable rows)."""
        return name in self.tables

    def get(self, name: str) -> pd.DataFrame | None:
        """The cleaned table, or None when the district did not supply it."""
        return self.tables.get(name)

    @property
    def school_years(self) -> list[str]:
        """School years found in ``students``, oldest first."""
        return sorted(self.tables["students"]["school_year"].dropna().unique().tolist())


def locate_tables(folder: Path) -> dict[str, Path]:
    """The file of each contract table present in ``folder``; errors name the problem file."""
    folder = Path(folder)
    if not folder.exists():
        raise DistrictFolderError(f"district folder {folder} does not exist")
    if not folder.is_dir():
        raise DistrictFolderError(f"{folder} is a file; give the folder that holds the tables")
    files: dict[str, Path] = {}
    for name in TABLES:
        found = find_table_files(folder, name)
        if len(found) > 1:
            raise DistrictFolderError(
                f"table {name} is given twice ({', '.join(p.name for p in found)}): keep one file"
            )
        if found:
            files[name] = found[0]
    missing = [t for t in REQUIRED_TABLES if t not in files]
    if missing:
        raise DistrictFolderError(
            f"{folder} has no {' / '.join(f'{m}.csv' for m in missing)}: the required table(s) "
            f"{', '.join(missing)} must be present (as .csv, .xlsx or .parquet)"
        )
    return files


def load_district(folder: str | Path, mapping: Mapping | None = None) -> District:
    """Read and clean every table of a district folder (contract section 1).

    Raises :class:`~bltanalytics.errors.DistrictFolderError` (nothing is returned) when a
    required table is missing or empty, when any file cannot be parsed, or when a table lacks
    a required column. Bad *rows* never raise: they are quarantined.
    """
    folder = Path(folder)
    files = locate_tables(folder)
    mapping = mapping if mapping is not None else Mapping.read(folder)
    references = References(rated_indicators=pd.Index(list(rated_indicator_ids())))
    results: dict[str, CleanResult] = {}
    for name in LOAD_ORDER:
        if name not in files:
            continue
        path = files[name]
        raw = read_table_file(path)
        if name in REQUIRED_TABLES and raw.empty:
            raise DistrictFolderError(
                f"{path.name} has a header but no data rows: the required table {name} "
                "must list at least one row"
            )
        result = clean_table(name, raw, file=path.name, mapping=mapping, references=references)
        results[name] = result
        _remember(references, name, result.frame)
    for name in REQUIRED_TABLES:
        if results[name].frame.empty:
            raise DistrictFolderError(
                f"{files[name].name}: none of its {results[name].rows_read} rows could be used "
                f"(run `bltanalytics validate {folder}` to see why)"
            )
    tables = {name: check_shape(name, r.frame) for name, r in results.items()}
    issues = [r.issues for r in results.values() if len(r.issues)]
    quarantine = pd.concat(issues, ignore_index=True) if issues else empty_quarantine()
    accounting = pd.DataFrame(
        [
            {
                "table": name,
                "file": r.file,
                "rows_read": r.rows_read,
                "rows_used": len(r.frame),
                "rows_dropped": r.rows_dropped,
                "values_blanked": r.values_blanked,
            }
            for name, r in results.items()
        ]
    )
    unrecognised = [r.unrecognised for r in results.values() if len(r.unrecognised)]
    return District(
        folder=folder,
        tables=tables,
        quarantine=quarantine,
        accounting=accounting,
        unrecognised=(
            pd.concat(unrecognised, ignore_index=True)
            if unrecognised
            else pd.DataFrame(columns=["table", "column", "value", "count"])
        ),
        ignored_columns={n: r.ignored_columns for n, r in results.items() if r.ignored_columns},
        files=files,
        codes={name: r.codes for name, r in results.items() if r.codes},
    )


def _remember(references: References, name: str, frame: pd.DataFrame) -> None:
    if name == "schools":
        references.school_ids = pd.Index(frame["school_id"])
    elif name == "cut_scores":
        references.cut_scores = frame
    elif name == "teams":
        references.teams = frame[["team_id", "school_id"]]
    elif name == "team_cycles":
        references.cycle_ids = pd.Index(frame["cycle_id"])
    elif name == "staff":
        references.staff_ids = pd.Index(frame["staff_id"].unique())
