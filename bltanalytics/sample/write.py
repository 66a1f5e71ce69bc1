"""Writing a sample district folder: :func:`generate_district` and its :class:`SampleSummary`.

Tables come from :mod:`~bltanalytics.sample.tables` (made messy by
:mod:`~bltanalytics.sample.mess` when asked) and are written one at a time with pyarrow:
plain UTF-8 CSV, CSV with a byte-order mark, Windows-1252 CSV, ``.xlsx`` or Parquet. Every
writer is byte-reproducible: the same arguments give the same files.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field, fields
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bltanalytics.sample.mess import InjectedProblem, mapping_yaml, mess_table
from bltanalytics.sample.tables import TABLE_NAMES, build_tables
from bltanalytics.sample.world import World

FILE_FORMATS = ("mixed", "csv", "parquet")
#: in ``mixed`` format: how each table that is not a plain UTF-8 CSV is written
_MIXED_WRITERS = {"students": "csv-cp1252", "assessments": "csv-bom", "staff": "xlsx"}
_FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
_FIXED_STAMP = "2026-01-01T00:00:00Z"


def _csv(table: pa.Table, sink) -> None:
    """CSV without quotes unless a value needs them (as spreadsheet exports look)."""
    needs_quotes = any(
        pa.types.is_string(col.type)
        and any(pc.any(pc.match_substring(col, ch)).as_py() for ch in (",", '"', "\n", "\r"))
        for col in table.columns
    )
    style = "needed" if needs_quotes else "none"
    sink.write((",".join(table.column_names) + "\n").encode("utf-8"))  # pyarrow quotes headers
    options = pacsv.WriteOptions(include_header=False, quoting_style=style)
    pacsv.write_csv(table, sink, options)


def _write_xlsx(table: pa.Table, path: Path, sheet: str) -> None:
    """One sheet, every cell text (so ``000123`` stays ``000123``), byte-reproducible."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append(table.column_names)
    for row in zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True):
        ws.append(list(row))  # openpyxl has no columnar writer; staff tables are small
    buffer = io.BytesIO()
    book.save(buffer)
    # zip entry times and the workbook's created/modified stamps would differ run to run
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", _FIXED_STAMP.encode(), data)
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, data)


def _write(table: pa.Table, folder: Path, name: str, how: str) -> str:
    """Write ``table`` as ``how`` (csv, csv-bom, csv-cp1252, xlsx, parquet); return file name."""
    if how == "parquet":
        pq.write_table(table, folder / f"{name}.parquet")
        return f"{name}.parquet"
    if how == "xlsx":
        _write_xlsx(table, folder / f"{name}.xlsx", name)
        return f"{name}.xlsx"
    path = folder / f"{name}.csv"
    if how == "csv-cp1252":
        buffer = io.BytesIO()
        _csv(table, buffer)
        path.write_bytes(buffer.getvalue().decode("utf-8").encode("cp1252"))
    else:
        with open(path, "wb") as sink:
            if how == "csv-bom":
                sink.write(b"\xef\xbb\xbf")
            _csv(table, sink)
    return path.name


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`generate_district` wrote."""

    path: Path
    files: dict[str, str]  # table -> file name in ``path`` (mapping.yaml is not a table)
    rows: dict[str, int]  # table -> data rows written
    problems: tuple[InjectedProblem, ...] = ()
    seed: int = 0
    messy: bool = True
    file_format: str = "mixed"
    extra_files: tuple[str, ...] = field(default=())  # e.g. ("mapping.yaml",)

    def problems_frame(self):
        """The injected problems as a pandas DataFrame (one row per problem)."""
        import pandas as pd

        columns = [f.name for f in fields(InjectedProblem)]
        return pd.DataFrame([p.__dict__ for p in self.problems], columns=columns)


def generate_district(
    out: str | Path,
    *,
    schools: int = 6,
    students_per_school: int = 300,
    seed: int = 2026,
    messy: bool = True,
    file_format: str = "mixed",
) -> SampleSummary:
    """Write a synthetic district folder to ``out`` and describe what was written.

    ``schools`` schools (the 6th of every 20 is a small K-8 school of 20-30 students), each
    with about ``students_per_school`` students a year, for 2024-25 and 2025-26. The same
    arguments always give byte-identical files.

    ``file_format``: ``"mixed"`` writes CSV, with ``students.csv`` in Windows-1252,
    ``assessments.csv`` in UTF-8 with a byte-order mark and ``staff.xlsx``; ``"csv"`` plain
    UTF-8 CSV; ``"parquet"`` Parquet. ``messy=True`` adds variant spellings, district column
    names (with the ``mapping.yaml`` that translates them) and a few bad rows of each kind,
    listed in :attr:`SampleSummary.problems`; ``messy=False`` writes canonical values only.

    Files of the same table names already in ``out`` (any extension) are replaced; nothing else
    in the folder is touched.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     s = generate_district(tmp, schools=2, students_per_school=30, messy=False,
    ...                           file_format="parquet")
    ...     s.files["staff"], s.problems
    ('staff.parquet', ())
    """
    if file_format not in FILE_FORMATS:
        raise ValueError(
            f"file_format must be one of {', '.join(FILE_FORMATS)}, not {file_format!r}"
        )
    if int(schools) < 1 or int(students_per_school) < 1:
        raise ValueError("schools and students_per_school must be at least 1")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLE_NAMES:
        for ext in (".csv", ".xlsx", ".parquet"):
            (folder / f"{name}{ext}").unlink(missing_ok=True)
    (folder / "mapping.yaml").unlink(missing_ok=True)

    world = World(int(schools), int(students_per_school), int(seed))
    files: dict[str, str] = {}
    rows: dict[str, int] = {}
    problems: list[InjectedProblem] = []
    for generated in build_tables(world):
        name = generated.name
        how = _MIXED_WRITERS.get(name, "csv") if file_format == "mixed" else file_format
        ext = {"parquet": ".parquet", "xlsx": ".xlsx"}.get(how, ".csv")
        if messy:
            table, found = mess_table(generated, f"{name}{ext}", world)
            problems.extend(found)
        else:
            table = pa.table(generated.columns)
        del generated
        files[name] = _write(table, folder, name, how)
        rows[name] = table.num_rows
        del table
    extra: tuple[str, ...] = ()
    if messy:
        (folder / "mapping.yaml").write_text(mapping_yaml(), encoding="utf-8")
        extra = ("mapping.yaml",)
    return SampleSummary(
        path=folder,
        files=files,
        rows=rows,
        problems=tuple(problems),
        seed=int(seed),
        messy=messy,
        file_format=file_format,
        extra_files=extra,
    )
