"""Normalize one raw table to its cleaned shape, accounting for every row.

Each column is normalized by its kind (:mod:`bltanalytics.load.normalize`); this module decides
what happens to each row, checks references between tables, finds duplicates and derives the
columns computed from others (performance levels: :mod:`bltanalytics.load.levels`).

Every row ends up in exactly one place:

* used (returned in :attr:`CleanResult.frame`), possibly with optional values blanked, each
  blank recorded (``value_blanked``) in :attr:`CleanResult.issues`;
* dropped (``row_dropped``) with one reason: ``missing_required``, ``bad_value``,
  ``out_of_range``, ``unknown_school`` / ``unknown_team`` / ``unknown_cycle`` /
  ``unknown_staff`` / ``unknown_indicator``, ``unscorable``, ``duplicate`` (the reasons are
  described in :mod:`bltanalytics.load.quarantine`).

so ``rows_read == len(frame) + rows_dropped`` always holds.

>>> import pandas as pd
>>> raw = pd.DataFrame({"source_row": [1, 2], "school_id": [" 0101", ""],
...                     "school_name": ["Oak", "Elm"], "level": ["ES", "Middle"]})
>>> result = clean_table("schools", raw)
>>> result.frame[["school_id", "level"]].to_dict("records")
[{'school_id': '0101', 'level': 'elementary'}]
>>> result.issues[["source_row", "reason", "column"]].to_dict("records")
[{'source_row': 2, 'reason': 'missing_required', 'column': 'school_id'}]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bltanalytics.errors import DistrictFolderError
from bltanalytics.load.contract import DATED, TABLES, TableSpec
from bltanalytics.load.levels import score_assessments
from bltanalytics.load.mapping import Mapping
from bltanalytics.load.normalize import (
    BAD,
    BLANK,
    RANGE,
    UNKNOWN,
    group_codes,
    normalize_with_codes,
    school_year_of,
)
from bltanalytics.load.quarantine import (
    REFERENCE_REASON,
    STATUS_REASON,
    Ledger,
)
from bltanalytics.load.vocabulary import match_key

#: roles whose staff are instructional when the file does not say
INSTRUCTIONAL_ROLES = ("teacher", "coach", "specialist")


@dataclass(frozen=True, eq=False)
class ColumnCodes:
    """Integer codes of one cleaned column: ``distinct[codes[i]]`` is row i's value (-1: missing).

    Cleaning encodes key columns anyway (to find duplicates); handing the codes on spares the
    metrics layer hashing the same millions of ids again. ``source`` is the column's array the
    codes describe: :meth:`of` gives the codes only for a series still backed by it, so a
    table changed after cleaning is never read through stale codes.
    """

    codes: np.ndarray
    distinct: np.ndarray
    source: object = field(repr=False)

    def of(self, values: pd.Series) -> ColumnCodes | None:
        """These codes if ``values`` is the very column they were made from, else None."""
        return self if values.array is self.source and len(values) == len(self.codes) else None


@dataclass
class CleanResult:
    """A cleaned table and the record of what happened to every input row."""

    table: str
    file: str
    frame: pd.DataFrame
    issues: pd.DataFrame
    rows_read: int
    unrecognised: pd.DataFrame  # column, value, count: raw values no vocabulary or mapping knew
    ignored_columns: list[str] = field(default_factory=list)
    codes: dict[str, ColumnCodes] = field(default_factory=dict, repr=False)

    @property
    def rows_dropped(self) -> int:
        return int((self.issues["action"] == "row_dropped").sum())

    @property
    def values_blanked(self) -> int:
        return int((self.issues["action"] == "value_blanked").sum())


@dataclass
class References:
    """Cleaned tables that other tables point at (filled in as the district loads)."""

    school_ids: pd.Index | None = None
    teams: pd.DataFrame | None = None  # team_id, school_id
    cycle_ids: pd.Index | None = None
    staff_ids: pd.Index | None = None
    cut_scores: pd.DataFrame | None = None
    rated_indicators: pd.Index | None = None  # ids a BLT may rate (load.indicators)

    def ids(self, table: str) -> pd.Index | None:
        """The known ids of ``table`` (``rubric``: the rated indicators); None when absent."""
        if table == "schools":
            return self.school_ids
        if table == "teams":
            return None if self.teams is None else pd.Index(self.teams["team_id"])
        if table == "team_cycles":
            return self.cycle_ids
        if table == "staff":
            return self.staff_ids
        if table == "rubric":
            return self.rated_indicators
        raise KeyError(table)


# --------------------------------------------------------------------------- the table


def resolve_columns(
    spec: TableSpec, headers: list[str], mapping: Mapping, file: str
) -> tuple[dict[str, str], list[str]]:
    """Map the file's headers to contract columns; return ``(raw->contract, ignored)``.

    Raises :class:`DistrictFolderError` for a missing required column or two headers that
    name one contract column.
    """
    renames = mapping.column_map(spec.name)
    by_key = {match_key(name): name for name in spec.names}
    chosen: dict[str, str] = {}
    ignored: list[str] = []
    for header in headers:
        key = match_key(header)
        target = renames.get(key) or by_key.get(key)
        if target is None:
            ignored.append(header)
            continue
        if target in chosen.values():
            other = next(h for h, t in chosen.items() if t == target)
            raise DistrictFolderError(
                f"{file}: columns {other!r} and {header!r} both give {spec.name}.{target}; "
                f"remove one, or rename one in mapping.yaml (columns: {spec.name}:)"
            )
        chosen[header] = target
    missing = [c for c in spec.required if c not in chosen.values()]
    if missing:
        found = ", ".join(repr(h) for h in headers) or "none"
        hint = "; ".join(f"'YOUR HEADER: {m}'" for m in missing)
        raise DistrictFolderError(
            f"{file} lacks required column(s) {', '.join(missing)} of table {spec.name} "
            f"(columns found: {found}). Rename the column in the file, or add to mapping.yaml "
            f"under columns: {spec.name}: a line like {hint}."
        )
    return chosen, ignored


def clean_table(
    name: str,
    raw: pd.DataFrame,
    *,
    file: str | None = None,
    mapping: Mapping | None = None,
    references: References | None = None,
) -> CleanResult:
    """Clean one raw table (text columns + ``source_row``) into its contract shape.

    ``references`` holds already-cleaned tables this one points at; a reference whose table
    is absent is not checked. See the module docstring for the row accounting.
    """
    spec = TABLES[name]
    file = file or f"{name}.csv"
    mapping = mapping or Mapping()
    references = references or References()
    headers = [c for c in raw.columns if c != "source_row"]
    chosen, ignored = resolve_columns(spec, headers, mapping, file)
    inverse = {target: header for header, target in chosen.items()}
    n = len(raw)
    index = pd.RangeIndex(n)
    raw_text = {
        c.name: (
            raw[inverse[c.name]].reset_index(drop=True)
            if c.name in inverse
            else pd.Series([pd.NA] * n, dtype="str", index=index)
        )
        for c in spec.columns
    }
    frame = pd.DataFrame({"source_row": raw["source_row"].to_numpy(dtype=np.int64)}, index=index)
    statuses, codes, distinct, unrecognised = _normalize_columns(
        name, spec, raw_text, frame, mapping
    )
    ledger = Ledger(name, file, frame.assign(**{k: raw_text[k] for k in raw_text}))
    dropped = np.zeros(n, dtype=bool)

    def drop(mask: np.ndarray, reason: str, column: str, values=None):
        nonlocal dropped
        mask = mask & ~dropped
        ledger.add(mask, "row_dropped", reason, column, values)
        dropped |= mask

    # required values (a column whose values all read is skipped without a pass per reason)
    unread = [c for c in spec.required if statuses[c].any()]  # OK is 0
    for reason, wanted in (
        ("missing_required", (BLANK,)),
        ("bad_value", (BAD, UNKNOWN)),
        ("out_of_range", (RANGE,)),
    ):
        for column in unread:
            drop(np.isin(statuses[column], wanted), reason, column)

    # references to other tables (the school must exist, the team must exist, ...)
    for column, table in spec.references.items():
        known = references.ids(table)
        if known is None:
            continue
        unknown = ~_is_in(frame[column], known) & frame[column].notna().to_numpy()
        drop(unknown, REFERENCE_REASON[table], column)

    frame = _derive(name, frame, references, codes, supplied=set(chosen.values()))

    if name == "assessments":
        unscorable = frame["proficient"].isna().to_numpy()
        drop(unscorable, "unscorable", "proficient", raw_text["proficient"])

    _drop_duplicates(spec, frame, dropped, drop, codes)

    _blank_unreadable(spec, statuses, dropped, ledger)

    used = frame.loc[~dropped].reset_index(drop=True) if dropped.any() else frame
    return CleanResult(
        codes=_kept_codes(spec, used, codes, distinct, None if not dropped.any() else ~dropped),
        table=name,
        file=file,
        frame=used,
        issues=ledger.frame_of_issues(),
        rows_read=n,
        unrecognised=(
            pd.concat(unrecognised, ignore_index=True)
            if unrecognised
            else pd.DataFrame(columns=["table", "column", "value", "count"])
        ),
        ignored_columns=ignored,
    )


def _normalize_columns(
    name: str, spec, raw_text: dict[str, pd.Series], frame: pd.DataFrame, mapping: Mapping
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray], list]:
    """Normalize every contract column into ``frame`` (in place: a frame this module made).

    Returns each column's value statuses, the integer codes and distinct values of the columns
    that have them, and the unrecognised vocabulary values (for ``mapping.yaml`` suggestions).
    """
    statuses: dict[str, np.ndarray] = {}
    codes: dict[str, np.ndarray] = {}
    distinct: dict[str, np.ndarray] = {}
    unrecognised = []
    for column in spec.columns:
        values, status, value_codes, value_distinct = normalize_with_codes(
            raw_text[column.name], column, mapping.value_map(column.name)
        )
        frame[column.name] = values
        statuses[column.name] = status
        if value_codes is not None:
            codes[column.name] = value_codes
            distinct[column.name] = value_distinct
        if column.kind not in ("enum", "demographic", "demographic_flag", "grade", "survey_window"):
            continue
        bad = status >= BAD
        if bad.any():
            counts = raw_text[column.name][bad].str.strip().value_counts()
            unrecognised.append(
                pd.DataFrame(
                    {
                        "table": name,
                        "column": column.name,
                        "value": counts.index,
                        "count": counts.to_numpy(),
                    }
                )
            )
    return statuses, codes, distinct, unrecognised


def _blank_unreadable(spec, statuses: dict[str, np.ndarray], dropped: np.ndarray, ledger) -> None:
    """Optional values that could not be read: blanked (normalizing did) and recorded; the row
    is kept."""
    for column in spec.columns:
        status = statuses[column.name]
        if column.required or not status.any() or status.max() < BAD:
            continue
        for code in (BAD, RANGE, UNKNOWN):
            mask = (status == code) & ~dropped
            if mask.any():
                ledger.add(mask, "value_blanked", STATUS_REASON[code], column.name)


#: columns whose codes a cleaned table hands on (what the metrics layer groups and matches by)
CODED_COLUMNS = ("student_id", "school_id", "school_year", "term", "subject", "grade")


def _kept_codes(
    spec: TableSpec,
    used: pd.DataFrame,
    codes: dict[str, np.ndarray],
    distinct: dict[str, np.ndarray],
    keep: np.ndarray | None,
) -> dict[str, ColumnCodes]:
    """The codes of the used rows of the columns later layers group by, in small dtypes."""
    if spec.name not in ("assessments", "students"):
        return {}
    out = {}
    for name in CODED_COLUMNS:
        if name not in codes:
            continue
        values = codes[name] if keep is None else codes[name][keep]
        small = np.min_scalar_type(-max(len(distinct[name]), 1))  # signed: -1 is missing
        out[name] = ColumnCodes(values.astype(small), distinct[name], used[name].array)
    return out


def _is_in(values: pd.Series, known: pd.Index) -> np.ndarray:
    """``values.isin(known)`` as a bool array, hashed by Arrow for Arrow-backed text."""
    array = values.array
    if hasattr(array, "__arrow_array__") and isinstance(values.dtype, pd.StringDtype):
        arrow = array.__arrow_array__()
        value_set = pa.array(known.astype("str").dropna().to_numpy(dtype=object), type=arrow.type)
        found = pc.is_in(arrow, value_set=value_set)
        if isinstance(found, pa.ChunkedArray):
            found = found.combine_chunks()
        return pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    return values.isin(known).to_numpy()


def _drop_duplicates(
    spec: TableSpec, frame: pd.DataFrame, dropped: np.ndarray, drop, codes: dict[str, np.ndarray]
) -> None:
    """Exact duplicates, and conflicting duplicates of the table's key, become `duplicate`."""
    columns = list(spec.key) if spec.key else list(spec.names)
    alive = np.flatnonzero(~dropped)
    if len(alive) < 2:
        return
    everyone = len(alive) == len(frame)
    keyed = frame[columns] if everyone else frame[columns].iloc[alive]
    known = {c: (v if everyone else v[alive]) for c, v in codes.items() if c in columns}
    keys = group_codes(keyed, columns, known)
    repeated = _repeated(keys)
    if repeated is None:
        return
    rows = alive[repeated]  # only rows whose key repeats need ordering
    keys = keys[repeated]
    source_row = frame["source_row"].to_numpy()[rows]
    if spec.name == "assessments":
        # keep the highest scale_score, then the highest performance_level, then the first row
        score = frame["scale_score"].to_numpy(dtype=float, na_value=-np.inf)[rows]
        level = frame["performance_level"].to_numpy(dtype=float, na_value=-np.inf)[rows]
        order = np.lexsort((source_row, -level, -score, keys))
    else:
        order = np.lexsort((source_row, keys))
    is_first, keeper = _first_of_groups(keys, order)
    mask = np.zeros(len(frame), dtype=bool)
    mask[rows[~is_first]] = True
    note = pd.Series("", index=frame.index, dtype="str")
    note.iloc[rows[~is_first]] = [f"same key as row {r}" for r in source_row[keeper[~is_first]]]
    label = "+".join(columns) if spec.key else "all columns"
    drop(mask, "duplicate", label, note)


def _repeated(keys: np.ndarray) -> np.ndarray | None:
    """True for every row whose key occurs more than once; None when no key repeats.

    Sorting the keys (a vectorized sort of plain integers) finds the repeated values; only
    when there are some is every row looked up among them. Cheaper than hashing millions of
    distinct keys.
    """
    ordered = np.sort(keys)
    again = ordered[1:][ordered[1:] == ordered[:-1]]
    if again.size == 0:
        return None
    values = np.unique(again)
    position = np.minimum(np.searchsorted(values, keys), len(values) - 1)
    return values[position] == keys


def _first_of_groups(keys: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Given rows sorted by ``order`` (keys grouped), flag the first row of each key.

    Returns ``(is_first, first_position_of_my_key)`` in the original row order.
    """
    sorted_keys = keys[order]
    first_sorted = (
        np.r_[True, sorted_keys[1:] != sorted_keys[:-1]] if len(keys) else np.array([], bool)
    )
    group_start = np.maximum.accumulate(np.where(first_sorted, np.arange(len(keys)), 0))
    is_first = np.empty(len(keys), dtype=bool)
    is_first[order] = first_sorted
    keeper = np.empty(len(keys), dtype=np.int64)
    keeper[order] = order[group_start]
    return is_first, keeper


# --------------------------------------------------------------------------- derivations


def _derive(
    name: str,
    frame: pd.DataFrame,
    references: References,
    codes: dict[str, np.ndarray],
    supplied: set[str],
) -> pd.DataFrame:
    """Columns computed from others; ``supplied``: the contract columns the file had."""
    if name in DATED:
        frame = frame.assign(school_year=school_year_of(frame[DATED[name]]))
    if name in ("team_meetings", "team_cycles", "fidelity_checks"):
        frame = frame.assign(school_id=_team_school(frame["team_id"], references.teams))
    if name == "team_cycles":
        anchor = frame["start_date"].fillna(frame["end_date"])
        frame = frame.assign(school_year=school_year_of(anchor))
    if name == "staff_survey":
        window = frame["survey_window"]  # canonical: "2025-26 Fall"
        frame = frame.assign(school_year=window.str.slice(0, 7), window_term=window.str.slice(8))
    if name == "staff":
        default = frame["role"].isin(INSTRUCTIONAL_ROLES).astype("boolean")
        frame = frame.assign(instructional=frame["instructional"].fillna(default))
    if name == "pd_activities" and "completed" not in supplied:
        # no completed column at all: an activity log lists what staff took part in
        frame = frame.assign(completed=pd.array([True] * len(frame), dtype="boolean"))
    if name == "assessments":
        frame = score_assessments(frame, references.cut_scores, codes)
    return frame


def _team_school(team_ids: pd.Series, teams: pd.DataFrame | None) -> pd.Series:
    if teams is None:
        return pd.Series(pd.NA, index=team_ids.index, dtype="str")
    lookup_ = pd.Series(teams["school_id"].to_numpy(), index=teams["team_id"].to_numpy())
    return team_ids.map(lookup_).astype("str")


__all__ = [
    "CODED_COLUMNS",
    "CleanResult",
    "ColumnCodes",
    "INSTRUCTIONAL_ROLES",
    "References",
    "clean_table",
    "resolve_columns",
]
