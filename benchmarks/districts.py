"""Benchmark districts: made by the package's own generator, kept and reused.

A district is written once into ``benchmarks/_districts/`` (not committed: see ``.gitignore``)
under a name that spells its settings, and reused by every later run. It is generated into a
temporary folder and renamed when complete, so an interrupted run never leaves half a district.

>>> district_name(1000, 1000)
'schools1000_students1000_seed2026_csv'
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from benchmarks.harness import REPO

DISTRICTS = REPO / "benchmarks" / "_districts"
SEED = 2026


def district_name(schools: int, students_per_school: int, seed: int = SEED) -> str:
    return f"schools{schools}_students{students_per_school}_seed{seed}_csv"


def ensure_district(
    schools: int,
    students_per_school: int,
    *,
    seed: int = SEED,
    root: Path = DISTRICTS,
    log=print,
) -> Path:
    """The folder of a clean CSV district of that size, generated if it is not there yet.

    ``generate_district(..., messy=False, file_format="csv")``: canonical values, plain UTF-8
    CSV, so the benchmark times the package's work rather than its error handling.
    """
    from bltanalytics.sample import generate_district

    target = Path(root) / district_name(schools, students_per_school, seed)
    if (target / "assessments.csv").is_file():
        return target
    Path(root).mkdir(parents=True, exist_ok=True)
    log(f"generating {target.name} (once; reused afterwards)")
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".generating-"))
    try:
        generate_district(
            tmp,
            schools=schools,
            students_per_school=students_per_school,
            seed=seed,
            messy=False,
            file_format="csv",
        )
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def table_files(folder: Path) -> list[Path]:
    """Every table file of a district folder (what the read floor reads)."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() == ".csv")


def describe(folder: Path) -> dict:
    """Rows per table (lines minus the header) and the size of the district's files."""
    rows = {}
    size = 0
    for path in table_files(folder):
        size += path.stat().st_size
        with path.open("rb") as fh:
            rows[path.stem] = (
                sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 24), b"")) - 1
            )
    return {"rows": rows, "bytes": size}
