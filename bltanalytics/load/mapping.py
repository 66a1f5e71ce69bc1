"""The optional ``mapping.yaml`` of a district folder: the district's names -> the contract's.

.. code-block:: yaml

    columns:            # per table: district column name -> contract column name
      assessments:
        Student Number: student_id
    values:             # per contract column: district value -> contract value
      term:
        T1: Fall

Column names and values match case- and whitespace-insensitively.

>>> m = Mapping.from_dict({"values": {"term": {"T1": "Fall"}}})
>>> m.value_map("term")
{'t1': 'Fall'}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bltanalytics.errors import MappingError
from bltanalytics.load.contract import TABLES
from bltanalytics.load.vocabulary import match_key

FILE_NAME = "mapping.yaml"


@dataclass(frozen=True)
class Mapping:
    """Column renames per table and value translations per contract column."""

    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str = FILE_NAME

    @classmethod
    def from_dict(cls, data: dict | None, source: str = FILE_NAME) -> Mapping:
        data = data or {}
        if not isinstance(data, dict):
            raise MappingError(f"{source}: expected the sections 'columns:' and 'values:'")
        unknown = sorted(set(data) - {"columns", "values"})
        if unknown:
            raise MappingError(
                f"{source}: unknown section(s) {', '.join(unknown)}; "
                "only 'columns:' and 'values:' are read"
            )
        columns = data.get("columns") or {}
        values = data.get("values") or {}
        if not isinstance(columns, dict) or not isinstance(values, dict):
            raise MappingError(f"{source}: 'columns:' and 'values:' must each hold named entries")
        all_columns = {c for spec in TABLES.values() for c in spec.names}
        clean_columns: dict[str, dict[str, str]] = {}
        for table, renames in columns.items():
            if table not in TABLES:
                raise MappingError(
                    f"{source}: columns: {table!r} is not a table of the contract "
                    f"(tables: {', '.join(TABLES)})"
                )
            if not isinstance(renames, dict):
                raise MappingError(
                    f"{source}: columns: {table}: expected 'District name: contract_name' lines"
                )
            for theirs, ours in renames.items():
                if ours not in TABLES[table].names:
                    raise MappingError(
                        f"{source}: columns: {table}: {theirs!r} maps to {ours!r}, which is not a "
                        f"column of {table} (columns: {', '.join(TABLES[table].names)})"
                    )
            clean_columns[table] = {match_key(str(k)): v for k, v in renames.items()}
        clean_values: dict[str, dict[str, str]] = {}
        for column, translations in values.items():
            if column not in all_columns:
                raise MappingError(
                    f"{source}: values: {column!r} is not a column of any contract table"
                )
            if not isinstance(translations, dict):
                raise MappingError(
                    f"{source}: values: {column}: expected 'district value: contract value' lines"
                )
            clean_values[column] = {match_key(str(k)): str(v) for k, v in translations.items()}
        return cls(clean_columns, clean_values, source)

    @classmethod
    def read(cls, folder: Path) -> Mapping:
        """Read ``folder/mapping.yaml``; an absent file is an empty mapping."""
        path = Path(folder) / FILE_NAME
        if not path.exists():
            return cls()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise MappingError(f"{path.name} is not valid YAML: {exc}") from None
        return cls.from_dict(data, source=path.name)

    def column_map(self, table: str) -> dict[str, str]:
        """District column (match key) -> contract column, for ``table``."""
        return self.columns.get(table, {})

    def value_map(self, column: str) -> dict[str, str]:
        """District value (match key) -> contract value, for contract column ``column``."""
        return self.values.get(column, {})
