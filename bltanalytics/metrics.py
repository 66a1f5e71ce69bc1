"""All the figures of a district in one pass, and the metrics export (contract section 4).

>>> from bltanalytics.district import load_district
>>> metrics = compute_metrics(load_district("data/sample"))     # doctest: +SKIP
>>> write_metrics(metrics, "out/")                              # doctest: +SKIP
[PosixPath('out/achievement.csv'), ...]

Reports and dashboards work from a :class:`Metrics` (aggregates only, suppression applied),
never from student rows; :func:`read_metrics` re-loads an export written by
:func:`write_metrics` with its dtypes intact (the ``.parquet`` twins of the CSV files).
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from bltanalytics.achievement import achievement as compute_achievement
from bltanalytics.cleaning import QUARANTINE_COLUMNS
from bltanalytics.config import Config
from bltanalytics.csvwrite import write_csv
from bltanalytics.cycles import team_cycles
from bltanalytics.district import District
from bltanalytics.errors import BltError
from bltanalytics.learning import blended_cycle_progress, distributed_pd_progress, pd_participation
from bltanalytics.rubric import rollup, score_rubric
from bltanalytics.trends import trends as compute_trends

#: the files of contract section 4, in the order they are described there
CONTRACT_FILES = ("achievement", "rubric", "cycles", "pd", "quarantine")


@dataclass(frozen=True)
class Metrics:
    """Every published figure of a district. Shares no student rows.

    ``schools``: school_id, school_name, level. ``enrollment``: students per school, year and
    grade. ``data_quality``: quarantine entries counted per school, table, action and reason.
    """

    achievement: pd.DataFrame
    rubric: pd.DataFrame
    rubric_summary: pd.DataFrame
    cycles: pd.DataFrame
    pd: pd.DataFrame
    blended_cycle: pd.DataFrame
    distributed_pd: pd.DataFrame
    trends: pd.DataFrame
    schools: pd.DataFrame
    enrollment: pd.DataFrame
    data_quality: pd.DataFrame
    quarantine: pd.DataFrame

    @property
    def school_years(self) -> list[str]:
        return sorted(self.enrollment["school_year"].unique().tolist())


def compute_metrics(district: District, config: Config | None = None) -> Metrics:
    """Compute every figure for every school of ``district`` at once."""
    config = config or Config()
    tables = district.tables
    years = district.school_years
    achievement = compute_achievement(
        tables["assessments"], tables["students"], config, codes=district.codes
    )
    rubric = score_rubric(tables, config)
    staff, activities = tables.get("staff"), tables.get("pd_activities")
    students = tables["students"]
    # cleaning keeps one row per student, school and year, so rows are students
    enrollment = (
        students.groupby(["school_id", "school_year", "grade"], sort=True)
        .size()
        .rename("n_students")
        .reset_index()
    )
    q = district.quarantine
    data_quality = (
        q.groupby(["school_id", "table", "action", "reason"], dropna=False, sort=True)
        .size()
        .rename("count")
        .reset_index()
    )
    return Metrics(
        achievement=achievement,
        rubric=rubric,
        rubric_summary=rollup(rubric),
        cycles=team_cycles(tables.get("team_cycles"), tables.get("cycle_results"), config),
        pd=pd_participation(staff, activities, config, years=years),
        blended_cycle=blended_cycle_progress(staff, activities, config, years=years),
        distributed_pd=distributed_pd_progress(staff, activities, config, years=years),
        trends=compute_trends(achievement, config),
        schools=tables["schools"][["school_id", "school_name", "level"]].reset_index(drop=True),
        enrollment=enrollment,
        data_quality=data_quality,
        quarantine=q[QUARANTINE_COLUMNS].reset_index(drop=True),
    )


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_metrics(metrics: Metrics, out: str | Path) -> list[Path]:
    """Write every figure as tidy CSV (booleans as ``true``/``false``) plus a Parquet twin.

    The five contract files come first; each file appears whole or not at all. Large tables
    are formatted by Arrow (:func:`bltanalytics.csvwrite.write_csv`, the same bytes as pandas'
    ``to_csv``), and files are written two at a time.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tasks = []
    written = []
    for field in fields(Metrics):
        frame: pd.DataFrame = getattr(metrics, field.name)
        csv_path = out / f"{field.name}.csv"
        tasks.append((csv_path, lambda tmp, f=frame: write_csv(f, tmp)))
        tasks.append(
            (out / f"{field.name}.parquet", lambda tmp, f=frame: f.to_parquet(tmp, index=False))
        )
        written.append(csv_path)
    # the largest files first, so the two threads finish together
    tasks.sort(key=lambda task: -len(getattr(metrics, task[0].stem)))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="bltwrite") as pool:
        for done in [pool.submit(_atomic_write, path, write) for path, write in tasks]:
            done.result()
    order = {name: i for i, name in enumerate(CONTRACT_FILES)}
    return sorted(written, key=lambda p: order.get(p.stem, len(order)))


def read_metrics(folder: str | Path) -> Metrics:
    """Re-load an export written by :func:`write_metrics` (from its Parquet twins)."""
    folder = Path(folder)
    frames = {}
    for field in fields(Metrics):
        path = folder / f"{field.name}.parquet"
        if not path.exists():
            raise BltError(
                f"{folder} is not a complete metrics export ({path.name} is missing): "
                f"run `bltanalytics metrics DISTRICT_FOLDER --out {folder}`"
            )
        frames[field.name] = pd.read_parquet(path)
    return Metrics(**frames)
