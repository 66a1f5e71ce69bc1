"""All the figures of a district in one pass, and the metrics export (contract section 4).

>>> from bltanalytics.load import load_district
>>> metrics = compute_metrics(load_district("data/sample"))     # doctest: +SKIP
>>> write_metrics(metrics, "out/")                              # doctest: +SKIP
[PosixPath('out/achievement.csv'), ...]

Reports and dashboards work from a :class:`Metrics` (aggregates only, suppression applied),
never from student rows; :func:`read_metrics` re-loads an export written by
:func:`write_metrics` with its dtypes intact (the ``.parquet`` twins of the CSV files) and the
:class:`~bltanalytics.config.Config` its figures were computed with (``config.json``), so every
output formats with the settings of its figures. Each table has its shape declared in
:mod:`bltanalytics.metrics.shapes`, checked when the export is written (a failure is a bug in
bltanalytics) and when it is read (a failure is a changed file).
"""

from __future__ import annotations

import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd

from bltanalytics import __version__
from bltanalytics.config import Config
from bltanalytics.errors import BltError, ConfigError
from bltanalytics.load import District
from bltanalytics.metrics.achievement import achievement as compute_achievement
from bltanalytics.metrics.achievement import group_layout
from bltanalytics.metrics.csvwrite import write_csv
from bltanalytics.metrics.cycles import team_cycles
from bltanalytics.metrics.learning import (
    blended_cycle_progress,
    distributed_pd_progress,
    pd_participation,
)
from bltanalytics.metrics.rubric import rollup, score_rubric
from bltanalytics.metrics.scale_scores import scale_scores as compute_scale_scores
from bltanalytics.metrics.shapes import (
    Quarantine,
    ScaleScores,
    Schools,
    check_tables,
    columns,
    empty,
    upgrade,
)
from bltanalytics.metrics.suppression import withheld_mask
from bltanalytics.metrics.trends import trends as compute_trends

#: the files of contract section 4, in the order they are described there
CONTRACT_FILES = ("achievement", "rubric", "cycles", "pd", "quarantine")
#: the export's record of the settings its figures were computed with
CONFIG_FILE = "config.json"


@dataclass(frozen=True)
class Metrics:
    """Every published figure of a district, and the settings they were computed with.
    Shares no student rows.

    Every field but ``config`` is a table whose shape :mod:`bltanalytics.metrics.shapes` declares
    (:data:`FRAMES` names them; :meth:`frames` gives them). ``schools``: school_id,
    school_name, level. ``enrollment``: students per school, year and grade.
    ``data_quality``: quarantine entries counted per school, table, action and reason.
    ``scale_scores``: mean scale score and Hedges' g by group (empty when built by hand
    without one).
    ``config``: the :class:`~bltanalytics.config.Config` the figures were computed with (a
    Metrics built by hand without one, as tests do, has the defaults).
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
    scale_scores: pd.DataFrame = field(default_factory=lambda: empty(ScaleScores))
    config: Config = field(default_factory=Config)

    @property
    def school_years(self) -> list[str]:
        return sorted(self.enrollment["school_year"].unique().tolist())

    def frames(self) -> dict[str, pd.DataFrame]:
        """The tables by name (every field but ``config``), in field order."""
        return {name: getattr(self, name) for name in FRAMES}


#: the fields of :class:`Metrics` that are tables (the export's files), in order
FRAMES: tuple[str, ...] = tuple(f.name for f in fields(Metrics) if f.name != "config")


def compute_metrics(
    district: District, config: Config | None = None, *, counts_out: dict | None = None
) -> Metrics:
    """Compute every figure for every school of ``district`` at once, with ``config``
    (default: the contract's settings), which the result carries as ``metrics.config``.
    ``counts_out``: a dict that receives the true counts of ``metrics.achievement``'s rows
    (see :func:`~bltanalytics.metrics.achievement.achievement`), for the audit of the export."""
    config = config or Config()
    tables = district.tables
    years = district.school_years
    assessments, students = tables["assessments"], tables["students"]
    # students matched and keys coded once, for achievement and scale scores alike
    layout = group_layout(assessments, students, codes=district.codes) if len(assessments) else None
    true: dict = {}
    every_row = compute_achievement(
        assessments,
        students,
        config,
        codes=district.codes,
        layout=layout,
        withhold_blocks=False,
        counts_out=true,
    )
    # blocks that hiding cannot protect are withheld from both tables alike (docs/achievement.md)
    kept = withheld_mask(every_row, config, true or None)
    if counts_out is not None and true:
        counts_out.update({name: values[kept] for name, values in true.items()})
    achievement = every_row if kept.all() else every_row[kept].reset_index(drop=True)
    scale_scores = compute_scale_scores(
        assessments, students, config, layout=layout, achievement=every_row, kept=kept
    )
    del every_row
    rubric = score_rubric(tables, config)
    staff, activities = tables.get("staff"), tables.get("pd_activities")
    # cleaning keeps one row per student, school and year, so rows are students
    enrollment = (
        students.groupby(["school_id", "school_year", "grade"], sort=True)
        .size()
        .rename("n_students")
        .reset_index()
    )
    # school_id is all-missing object when no quarantined row named a school (the loader
    # concatenates per-table quarantines): the export's shape holds it as text
    q = district.quarantine.astype({"school_id": "str"})
    data_quality = (
        q.groupby(["school_id", "table", "action", "reason"], dropna=False, sort=True)
        .size()
        .rename("count")
        .reset_index()
    )
    return Metrics(
        achievement=achievement,
        scale_scores=scale_scores,
        rubric=rubric,
        rubric_summary=rollup(rubric),
        cycles=team_cycles(tables.get("team_cycles"), tables.get("cycle_results"), config),
        pd=pd_participation(staff, activities, config, years=years),
        blended_cycle=blended_cycle_progress(staff, activities, config, years=years),
        distributed_pd=distributed_pd_progress(staff, activities, config, years=years),
        trends=compute_trends(achievement, config),
        schools=tables["schools"][columns(Schools)].reset_index(drop=True),
        enrollment=enrollment,
        data_quality=data_quality,
        quarantine=q[columns(Quarantine)].reset_index(drop=True),
        config=config,
    )


def _new_file_mode() -> int:
    """The mode ``open()`` gives a new file: 0o666 less the umask (0o644 with the usual 022).

    The umask is read from ``/proc`` where there is one; setting it to read it back (the only
    portable way) would briefly change it for every thread of the process.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            umask = next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def _atomic_write(path: Path, write, mode: int = 0o644) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, mode)  # mkstemp makes 0600 files; colleagues must be able to read them
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_metrics(metrics: Metrics, out: str | Path) -> list[Path]:
    """Write every figure as tidy CSV (booleans as ``true``/``false``) plus a Parquet twin,
    and the settings they were computed with as ``config.json``.

    Every table is first checked against its shape
    (:func:`bltanalytics.metrics.shapes.check_tables`);
    a table that breaks it is a bug in bltanalytics, raised as
    :class:`~bltanalytics.errors.PackageBug` before any file is written. The five contract
    files come first in the list returned, ``config.json`` last; each file appears whole
    or not at all. Large tables are formatted by Arrow
    (:func:`bltanalytics.metrics.csvwrite.write_csv`, the same bytes as pandas' ``to_csv``),
    and files are written two at a time.

    ``config.json``: ``{"bltanalytics_version": ..., "settings": {...}}``, the settings being
    :meth:`Config.to_dict() <bltanalytics.config.Config.to_dict>` (every setting, thresholds
    included).
    """
    frames = metrics.frames()
    check_tables(frames)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tasks = []
    written = []
    for name, frame in frames.items():
        csv_path = out / f"{name}.csv"
        tasks.append((len(frame), csv_path, lambda tmp, f=frame: write_csv(f, tmp)))
        tasks.append(
            (
                len(frame),
                out / f"{name}.parquet",
                lambda tmp, f=frame: f.to_parquet(tmp, index=False),
            )
        )
        written.append(csv_path)
    settings = json.dumps(
        {"bltanalytics_version": __version__, "settings": metrics.config.to_dict()}, indent=2
    )
    config_path = out / CONFIG_FILE
    tasks.append((0, config_path, lambda tmp: Path(tmp).write_text(settings + "\n", "utf-8")))
    # the largest files first, so the two threads finish together
    tasks.sort(key=lambda task: -task[0])
    mode = _new_file_mode()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="bltwrite") as pool:
        for done in [pool.submit(_atomic_write, path, write, mode) for _, path, write in tasks]:
            done.result()
    order = {name: i for i, name in enumerate(CONTRACT_FILES)}
    return [*sorted(written, key=lambda p: order.get(p.stem, len(order))), config_path]


def read_metrics(folder: str | Path) -> Metrics:
    """Re-load an export written by :func:`write_metrics` (from its Parquet twins), with the
    settings its figures were computed with.

    Every table is checked against its shape; a file that breaks it (edited, cut short) is an
    :class:`~bltanalytics.errors.ExportError` naming the file, column, row and value. An export
    written before ``config.json`` existed has no record of its settings: it is read with the
    contract's defaults (``Config()``), which may not be the settings it was computed with;
    write it again to record them. Exports of that time also held an all-empty ``school_id``
    as another dtype than text; it is read as text (:func:`bltanalytics.metrics.shapes.upgrade`).
    """
    folder = Path(folder)
    frames = {}
    for name in FRAMES:
        path = folder / f"{name}.parquet"
        if not path.exists():
            raise BltError(
                f"{folder} is not a complete metrics export ({path.name} is missing): "
                f"run `bltanalytics metrics DISTRICT_FOLDER --out {folder}`"
            )
        frames[name] = upgrade(name, pd.read_parquet(path))
    check_tables(frames, read_from=folder)
    return Metrics(**frames, config=_read_config(folder / CONFIG_FILE))


def _read_config(path: Path) -> Config:
    if not path.exists():
        return Config()  # written before config.json: the defaults (see read_metrics)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return Config.from_dict(record["settings"])
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError, KeyError) as exc:
        raise ConfigError(
            f"{path} is not the settings record bltanalytics writes ({exc}); write the export "
            f"again with `bltanalytics metrics DISTRICT_FOLDER --out {path.parent}`"
        ) from None
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
