"""Per-school slices of a metrics export: what a dashboard kernel reads, and only when needed.

A dashboard page shows one school at a time (the rubric board: one page of ~30 schools), so a
kernel need not hold the district's figures (1.9 million achievement rows, ~280 MB, on a
1,000-school district). :func:`write_slices` writes, beside an export, a copy of each table the
dashboards read, sorted by school and cut into Parquet row groups of whole schools, with an
index saying where each school's rows are. :class:`SlicedExport` opens that folder: the school
list, the years and the index are read up front (a few hundred kB); a school's rows are read
when the page asks for them (one row group, a few milliseconds), and a few recent schools are
kept. :class:`InMemory` gives the same answers from a :class:`~bltanalytics.metrics.Metrics`
in memory (a notebook opened outside the launcher, the tests).

The slices are the export's own tables, only sorted and split: nothing is computed, so a page
shows exactly what the export publishes (already suppressed). The export's CSV and Parquet
files are not touched; the copy is the dashboards' own (``dashboard_slices/`` in the
launcher's private folder).

>>> import pandas as pd
>>> from bltanalytics.metrics import Metrics
>>> data = InMemory.from_tables({"rubric": pd.DataFrame(
...     {"school_id": ["2", "1", "2"], "school_year": ["2025-26"] * 3, "value": [1, 2, 3]})})
>>> data.rows("rubric", "2")["value"].tolist()
[1, 3]
>>> data.school_ids("rubric"), data.years("rubric")
(['1', '2'], ['2025-26'])
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.metrics import Metrics

#: the folder of slices inside a prepared export
SLICES_DIR = "dashboard_slices"
INDEX_FILE = "index.json"
#: the tables the dashboards read, each with a school_id column (``schools`` is read whole)
SCHOOL_TABLES = (
    "achievement",
    "rubric",
    "rubric_summary",
    "cycles",
    "pd",
    "blended_cycle",
    "enrollment",
)
#: a row group holds whole schools, at least this many rows (one school of a large table)
GROUP_ROWS = 2048
#: (table, school) slices a kernel keeps read (a page revisits a few schools, not the district)
KEEP_SLICES = 64

__all__ = [
    "SCHOOL_TABLES",
    "SLICES_DIR",
    "DashboardData",
    "InMemory",
    "SlicedExport",
    "as_data",
    "has_slices",
    "write_slices",
]


def _school_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by school_id, each school's rows in the table's order."""
    return frame.sort_values("school_id", kind="stable").reset_index(drop=True)


def _years(frame: pd.DataFrame) -> list[str]:
    if "school_year" not in frame.columns:
        return []
    return sorted(frame["school_year"].dropna().astype("str").unique().tolist())


def write_slices(metrics: Metrics, out: str | Path) -> Path:
    """Write the per-school slices of ``metrics`` into ``out`` (made if needed); ``out``.

    One ``TABLE.parquet`` per table of :data:`SCHOOL_TABLES` (sorted by school, row groups of
    whole schools, pandas' metadata kept so dtypes read back as written), ``schools.parquet``,
    and ``index.json``: the settings, and per table its years and, per school, the row group,
    first row and row count.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    index: dict = {"settings": metrics.config.to_dict(), "tables": {}}
    for name in SCHOOL_TABLES:
        frame = _school_order(getattr(metrics, name))
        table = pa.Table.from_pandas(frame, preserve_index=False)
        ids = frame["school_id"].astype("str").to_numpy(dtype=object)
        # the start of each school's run of rows
        starts = [i for i in range(len(ids)) if i == 0 or ids[i] != ids[i - 1]]
        bounds = [*starts, len(ids)]
        where: dict[str, list[int]] = {}
        groups: list[tuple[int, int]] = []
        group_start = 0
        for k, start in enumerate(starts):
            stop = bounds[k + 1]
            if start - group_start >= GROUP_ROWS:
                groups.append((group_start, start))
                group_start = start
            where[str(ids[start])] = [len(groups), start - group_start, stop - start]
        if len(ids) or not groups:
            groups.append((group_start, len(ids)))
        path = out / f"{name}.parquet"
        with pq.ParquetWriter(path, table.schema) as writer:
            for begin, end in groups:
                writer.write_table(table.slice(begin, end - begin), row_group_size=end - begin)
        index["tables"][name] = {"years": _years(frame), "schools": where}
    metrics.schools.to_parquet(out / "schools.parquet", index=False)
    (out / INDEX_FILE).write_text(json.dumps(index), encoding="utf-8")
    return out


def has_slices(folder: str | Path) -> bool:
    """True when ``folder`` holds slices written by :func:`write_slices`."""
    return (Path(folder) / INDEX_FILE).is_file()


class DashboardData:
    """What a dashboard reads: the schools, the settings, and rows per school on demand.

    :meth:`rows` answers with the rows of one school (or several), in the table's order, with
    the dtypes of :func:`~bltanalytics.metrics.read_metrics`; :meth:`school_ids` and
    :meth:`years` say which schools and years a table has rows for.
    """

    schools: pd.DataFrame
    config: Config

    def rows(
        self, table: str, school_ids: str | Iterable[str], columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        raise NotImplementedError

    def school_ids(self, table: str) -> list[str]:
        raise NotImplementedError

    def years(self, table: str) -> list[str]:
        raise NotImplementedError

    def school(self, school_id: str, tables: Iterable[str] = SCHOOL_TABLES) -> SimpleNamespace:
        """One school's rows of each of ``tables``, as attributes (``.achievement``...)."""
        return SimpleNamespace(**{name: self.rows(name, school_id) for name in tables})


def _ids(school_ids: str | Iterable[str]) -> list[str]:
    return [school_ids] if isinstance(school_ids, str) else [str(s) for s in school_ids]


class InMemory(DashboardData):
    """:class:`DashboardData` over a :class:`~bltanalytics.metrics.Metrics` held in memory."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.schools = metrics.schools
        self.config = metrics.config

    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame], config: Config | None = None):
        """From some tables only (the rest empty): for examples and tests."""
        schools = tables.get("schools", pd.DataFrame({"school_id": pd.Series(dtype="str")}))
        self = cls.__new__(cls)
        self.metrics = SimpleNamespace(**tables)
        self.schools, self.config = schools, config or Config()
        return self

    def rows(self, table, school_ids, columns=None):
        frame = getattr(self.metrics, table)
        ids = _ids(school_ids)
        mask = frame["school_id"].isin(ids) if len(ids) > 1 else frame["school_id"] == ids[0]
        picked = frame[mask.to_numpy(dtype=bool)].reset_index(drop=True)
        return picked if columns is None else picked[list(columns)]

    def school_ids(self, table):
        return sorted(getattr(self.metrics, table)["school_id"].astype("str").unique().tolist())

    def years(self, table):
        return _years(getattr(self.metrics, table))


class SlicedExport(DashboardData):
    """:class:`DashboardData` over a folder of slices (:func:`write_slices`), read lazily.

    Opening it reads the index and the school list only; each table's Parquet footer is read
    on its first use, a school's rows when they are asked for. At most :data:`KEEP_SLICES`
    slices are kept.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not has_slices(self.folder):
            raise BltError(f"{self.folder} holds no dashboard slices ({INDEX_FILE} is missing)")
        index = json.loads((self.folder / INDEX_FILE).read_text(encoding="utf-8"))
        self.config = Config.from_dict(index["settings"])
        self._tables = index["tables"]
        self.schools = pd.read_parquet(self.folder / "schools.parquet")
        self._files: dict[str, object] = {}
        self._kept: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
        self.reads = 0  # row groups read, for tests and benchmarks

    def _file(self, table: str):
        import pyarrow.parquet as pq

        if table not in self._files:
            self._files[table] = pq.ParquetFile(self.folder / f"{table}.parquet")
        return self._files[table]

    def _one(self, table: str, school_id: str) -> pd.DataFrame:
        key = (table, school_id)
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        found = self._tables[table]["schools"].get(school_id)
        file = self._file(table)
        if found is None:
            rows = file.schema_arrow.empty_table().to_pandas()
        else:
            group, first, count = found
            self.reads += 1
            rows = file.read_row_group(group).slice(first, count).to_pandas()
        self._kept[key] = rows
        while len(self._kept) > KEEP_SLICES:
            self._kept.popitem(last=False)
        return rows

    def rows(self, table, school_ids, columns=None):
        ids = _ids(school_ids)
        if len(ids) == 1:
            picked = self._one(table, ids[0])
        else:
            known = self._tables[table]["schools"]
            order = sorted(set(ids), key=lambda s: (s not in known, known.get(s, [0, 0])[:2]))
            picked = pd.concat([self._one(table, s) for s in order], ignore_index=True)
        return picked if columns is None else picked[list(columns)]

    def school_ids(self, table):
        return sorted(self._tables[table]["schools"])

    def years(self, table):
        return list(self._tables[table]["years"])


def as_data(source: Metrics | DashboardData) -> DashboardData:
    """``source`` as :class:`DashboardData` (a :class:`~bltanalytics.metrics.Metrics` is
    wrapped in :class:`InMemory`)."""
    return source if isinstance(source, DashboardData) else InMemory(source)
