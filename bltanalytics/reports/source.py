"""Where a report's figures come from: the metrics export (or a district folder), the school
and the year to report on, and small lookups the section builders share.

>>> metrics = load()                                  # the bundled sample district
>>> resolve_year(metrics, "0101", "")                 # "" = the latest year with data
'2025-26'
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from bltanalytics import __version__, present, resources
from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.load import school_year_text
from bltanalytics.metrics import Metrics, compute_metrics, read_metrics
from bltanalytics.metrics.achievement import ALL_GRADES

#: The sample district shipped with the package (``data/sample`` of a checkout).
SAMPLE_DIR = resources.sample_district()

#: Settings of the sample made when the source tree has none (the ``bltanalytics sample`` defaults).
SAMPLE_SETTINGS = {"schools": 6, "students_per_school": 300, "seed": 2026}

# --------------------------------------------------------------------------- loading


def sample_dir() -> Path:
    """The bundled sample district: ``data/sample`` of the source tree.

    When the package is installed without its source tree, the sample is generated once (with
    the ``bltanalytics sample`` defaults) into ``$XDG_CACHE_HOME/bltanalytics`` and reused.
    """
    if has_tables(SAMPLE_DIR):
        return SAMPLE_DIR
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bltanalytics"
    target = cache / f"sample-{__version__}"
    if has_tables(target):
        return target
    from bltanalytics.sample import generate_district

    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".sample-"))
    try:
        generate_district(tmp, **SAMPLE_SETTINGS)
        try:
            tmp.rename(target)
        except OSError:  # another process made it first
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def has_tables(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("schools.*"))


def load(
    data_dir: str | Path = "", metrics_dir: str | Path = "", min_n: int | None = None
) -> Metrics:
    """The figures a report reads.

    ``metrics_dir`` (a folder written by ``write_metrics`` / ``bltanalytics metrics``): read it,
    as computed (``min_n`` is then the one it was computed with). Otherwise compute from the
    district folder ``data_dir`` (``""``: the bundled sample) with ``min_n`` (default
    ``Config().min_n``). Relative paths are relative to the working directory.

    >>> load(min_n=10).schools["school_id"].iloc[0]
    '0101'
    """
    if str(metrics_dir):
        return _read_metrics_cached(Path(metrics_dir))
    from bltanalytics.load import load_district

    folder = Path(data_dir) if str(data_dir) else sample_dir()
    config = Config() if min_n is None else Config(min_n=_whole(min_n, "min_n"))
    return compute_metrics(load_district(folder), config)


#: The last metrics export read by :func:`load`: (its folder, its files' signature, Metrics).
#: A warm kernel runs school after school from one export; it reads the files once. It holds
#: only what the export holds (district aggregates, shared by every school's report), and every
#: caller gets its own copy of each frame (see :func:`_read_metrics_cached`).
_EXPORT_CACHE: dict[str, tuple[Path, tuple, Metrics]] = {}


def _export_signature(folder: Path) -> tuple:
    """(name, size, modification time in ns) of every Parquet file of an export: a rewritten
    file changes it."""
    stats = [(p.name, p.stat()) for p in sorted(folder.glob("*.parquet"))]
    return tuple((name, st.st_size, st.st_mtime_ns) for name, st in stats)


def _read_metrics_cached(folder: Path) -> Metrics:
    """:func:`read_metrics`, reading the files again only when they changed.

    Each call returns new frames: copies that share their data with the cached ones until
    either side writes (pandas' copy-on-write), so whatever a notebook does to its metrics,
    including changing a column in place, never reaches the cache or the next school.
    """
    folder = folder.resolve()
    signature = _export_signature(folder) if folder.is_dir() else ()
    cached = _EXPORT_CACHE.get("last")
    if cached is None or cached[0] != folder or cached[1] != signature or not signature:
        metrics = read_metrics(folder)  # raises the helpful error for a missing export
        _EXPORT_CACHE["last"] = cached = (folder, signature, metrics)
    frames = {name: frame.copy(deep=False) for name, frame in cached[2].frames().items()}
    # the config too: its thresholds are a dict a notebook could change
    return Metrics(**frames, config=Config.from_dict(cached[2].config.to_dict()))


def _whole(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise BltError(f"{name} must be a whole number, found {value!r}")
    return int(value)


def check_school(metrics: Metrics, school_id: object) -> str:
    if not isinstance(school_id, str):
        raise BltError(
            f'school_id must be text such as "0101", found {school_id!r} '
            f"({type(school_id).__name__}); `papermill -p school_id 0101` turns the id into a "
            "number: pass it with `-r school_id 0101` or through the Python API"
        )
    known = metrics.schools["school_id"]
    if not (known == school_id).any():
        listed = ", ".join(known.head(10).tolist()) + (", ..." if len(known) > 10 else "")
        raise BltError(f"school {school_id!r} is not in this district; its schools are {listed}")
    return school_id


def resolve_year(metrics: Metrics, school_id: str = "", school_year: str = "") -> str:
    """The school year to report on, as ``"2025-26"``.

    ``school_year`` ``""``: the latest year with assessment results for ``school_id`` (else with
    students; with ``school_id`` ``""``, for the district). A given year may be spelled
    ``2025-2026`` or ``2026``; it must be a year the district's students table has.

    >>> m = load()
    >>> resolve_year(m, "0101", ""), resolve_year(m, "0101", "2025")
    ('2025-26', '2024-25')
    """
    if school_id:
        check_school(metrics, school_id)
    years = metrics.school_years
    if str(school_year).strip():
        year = school_year_text(str(school_year))
        if year is None or year not in years:
            raise BltError(
                f"school year {school_year!r} has no data in this district; "
                f"years with data: {', '.join(years) or 'none'}"
            )
        return year
    scoped = [metrics.achievement, metrics.enrollment]
    if school_id:
        scoped = [f[f["school_id"] == school_id] for f in scoped]
    for frame in scoped:
        if len(frame):
            return str(frame["school_year"].max())
    if years:
        return years[-1]
    raise BltError("this district has no school years with data (the students table is empty)")


# --------------------------------------------------------------------------- shared helpers


def school_name(metrics: Metrics, school_id: str) -> str:
    names = metrics.schools.loc[metrics.schools["school_id"] == school_id, "school_name"]
    return str(names.iloc[0]) if len(names) and pd.notna(names.iloc[0]) else school_id


def school_labels(metrics: Metrics) -> pd.DataFrame:
    """school_id -> ``school_label`` ("Maple Elementary School (0101)") and ``name`` (for
    sentences), in schools order."""
    s = metrics.schools
    name = s["school_name"].astype("str").fillna(s["school_id"])
    return pd.DataFrame(
        {
            "school_id": s["school_id"],
            "school_label": name + " (" + s["school_id"] + ")",
            "name": name,
        }
    )


def school_key(school_id: str) -> str:
    """The name (without ``.html``) of a school's report page in a batch's folder.

    >>> school_key("0101")
    'school_0101'
    """
    return f"school_{school_id}"


def school_pages(metrics: Metrics, school_ids) -> dict[str, str]:
    """School label -> the relative link to its report page, for the schools in ``school_ids``
    (those whose pages sit beside the district summary; unknown ids are left out).

    >>> school_pages(load(), ["0101"])
    {'Maple Elementary School (0101)': 'school_0101.html'}
    """
    wanted = {str(s) for s in school_ids}
    labels = school_labels(metrics)
    labels = labels[labels["school_id"].isin(wanted)]
    return {
        label: quote(f"{school_key(sid)}.html")
        for label, sid in zip(labels["school_label"], labels["school_id"], strict=True)
    }


def school_rows(table: pd.DataFrame, school_id: str, school_year: str) -> pd.DataFrame:
    """The rows of one school and year, all grades together (grade ``All``), of a table laid
    out as achievement is (``metrics.achievement``, ``metrics.scale_scores``)."""
    return table[
        (table["school_id"] == school_id)
        & (table["school_year"] == school_year)
        & (table["grade"] == ALL_GRADES)
    ]


def latest_term(frame: pd.DataFrame) -> str:
    return present.ordered(frame["term"], "term")[-1]


def rubric_rows(metrics: Metrics, school_id: str, indicator: str) -> pd.DataFrame:
    r = metrics.rubric
    return r[(r["school_id"] == school_id) & (r["indicator_id"] == indicator)]


def table_absent(metrics: Metrics, indicator: str) -> bool:
    """True when the indicator's table was not supplied (no school has a denominator)."""
    rows = metrics.rubric[metrics.rubric["indicator_id"] == indicator]
    return bool(rows["denominator"].isna().all())
