"""Read one district table file into an all-text frame, whatever its format.

Every value comes back as text (``str`` dtype, blanks as missing) so that ids keep their
zero padding and normalization sees exactly what the district exported. A ``source_row``
column numbers data rows from 1, as a spreadsheet user counts them below the header.

CSV may be UTF-8, UTF-8 with a byte-order mark, or Windows-1252; anything else (a binary
file, UTF-16, a corrupt export) is a :class:`DistrictFolderError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from bltanalytics.errors import DistrictFolderError

EXTENSIONS = (".csv", ".xlsx", ".parquet")
_SNIFF_BYTES = 64 * 1024


def find_table_files(folder: Path, name: str) -> list[Path]:
    """Files in ``folder`` that hold table ``name`` (``NAME.csv``, ``.xlsx`` or ``.parquet``).

    File names match case-insensitively (``Students.CSV`` is ``students``).
    """
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in EXTENSIONS and p.stem.casefold() == name
    )


def read_table_file(path: Path) -> pd.DataFrame:
    """Read ``path`` as text columns plus ``source_row``; raise a helpful error if unreadable."""
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise DistrictFolderError(
            f"{path.name} is empty (0 bytes): re-export the table with its header row and data"
        )
    try:
        if suffix == ".csv":
            frame = _read_csv(path)
        elif suffix == ".xlsx":
            frame = _read_xlsx(path)
        elif suffix == ".parquet":
            frame = _read_parquet(path)
        else:  # pragma: no cover - find_table_files only returns known suffixes
            raise DistrictFolderError(f"{path.name}: unsupported file type {suffix}")
    except DistrictFolderError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure becomes one clear message
        raise DistrictFolderError(
            f"{path.name} cannot be read as {suffix[1:].upper()}: {_first_line(exc)}. "
            f"Re-export it as CSV (UTF-8), XLSX or Parquet."
        ) from None
    frame = _tidy_headers(frame, path)
    frame.insert(0, "source_row", pd.RangeIndex(1, len(frame) + 1, name=None).to_numpy())
    return frame


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _read_csv(path: Path) -> pd.DataFrame:
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if b"\x00" in head:
        hint = (
            " (it looks like UTF-16 text: save it as UTF-8 CSV)"
            if head[:2] in (b"\xff\xfe", b"\xfe\xff")
            else " (it looks like a binary file, e.g. a spreadsheet or archive renamed to .csv)"
        )
        raise DistrictFolderError(f"{path.name} is not a text CSV file{hint}")
    errors = []
    for encoding in ("utf8", "cp1252"):
        try:
            return _read_csv_encoded(path, encoding)
        except pa.ArrowInvalid as exc:
            errors.append(_first_line(exc))
        except (UnicodeDecodeError, LookupError) as exc:
            errors.append(_first_line(exc))
    if any("UTF8" in e or "utf-8" in e.lower() or "decode" in e.lower() for e in errors):
        raise DistrictFolderError(
            f"{path.name} is neither UTF-8 nor Windows-1252 text: save it as UTF-8 CSV"
        )
    raise DistrictFolderError(f"{path.name} cannot be parsed as CSV: {errors[-1]}")


def _read_csv_encoded(path: Path, encoding: str) -> pd.DataFrame:
    # Read the header first so every column can be declared as text (ids keep their padding).
    read = pacsv.ReadOptions(encoding=encoding, block_size=1 << 24)
    with pacsv.open_csv(path, read_options=read) as reader:
        names = reader.schema.names
    convert = pacsv.ConvertOptions(
        column_types={n: pa.large_string() for n in names},
        strings_can_be_null=True,
        null_values=[""],
        quoted_strings_can_be_null=True,
    )
    try:  # the fast, parallel parse: no quoted value spans lines
        table = pacsv.read_csv(path, read_options=read, convert_options=convert)
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "utf-8" in str(exc).lower():
            raise
        # a quoted value with a line break inside: parse again, serially, allowing it
        parse = pacsv.ParseOptions(newlines_in_values=True)
        table = pacsv.read_csv(
            path, read_options=read, parse_options=parse, convert_options=convert
        )
    return _arrow_to_text_frame(table)


def _arrow_to_text_frame(table: pa.Table) -> pd.DataFrame:
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            column = _arrow_column_as_text(column)
        columns[name] = pd.Series(column.to_pandas(types_mapper=_text_mapper), dtype="str")
    return pd.DataFrame(columns)


def _text_mapper(arrow_type):
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype("pyarrow", na_value=float("nan"))
    return None


def _arrow_column_as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Parquet columns keep their type; turn them into text the normalizers understand."""
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        series = column.to_pandas()
        return pa.chunked_array([pa.array(series.dt.strftime("%Y-%m-%d"), type=pa.string())])
    if pa.types.is_floating(column.type):
        # 101.0 -> "101" so that integers stored as floats still match ids and codes
        series = pd.Series(column.to_pandas())
        text = series.map(
            lambda v: None if pd.isna(v) else format(v, "g") if v % 1 else str(int(v))
        )
        return pa.chunked_array([pa.array(text, type=pa.string())])
    return column.cast(pa.string())


def _read_xlsx(path: Path) -> pd.DataFrame:
    with path.open("rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise DistrictFolderError(
                f"{path.name} is not an Excel workbook (.xlsx files are zip archives): "
                "re-export it from Excel as .xlsx or as CSV"
            )
    raw = pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl")
    return pd.DataFrame({str(c): _excel_cells_as_text(raw[c]) for c in raw.columns})


def _excel_cells_as_text(column: pd.Series) -> pd.Series:
    def text(value):
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return None
        if isinstance(value, pd.Timestamp) or hasattr(value, "strftime"):
            return value.strftime("%Y-%m-%d")
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return pd.Series([text(v) for v in column], dtype="str", index=column.index)


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    return _arrow_to_text_frame(pq.read_table(path))


def _tidy_headers(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    headers = [str(c).lstrip("\ufeff").strip() for c in frame.columns]
    if not headers or all(h == "" or h.startswith("Unnamed:") for h in headers):
        raise DistrictFolderError(
            f"{path.name} has no header row: the first row must name the columns"
        )
    return frame.set_axis(headers, axis=1)
