"""The jobs of a batch, what each run leaves behind, and the run's record.

A :class:`ReportJob` is one report to make; its :func:`job_fingerprint` (inputs, parameters,
the package's own code) tells a resumed run what is already up to date; a :class:`JobResult`
says what happened to it and a :class:`RunSummary` what happened to all of them, written as
``run.json`` (:func:`run_json`) and ``index.html`` (:func:`index_html`).

>>> job = ReportJob("school_0101", "notebooks/reports/school_report.ipynb",
...                 {"school_id": "0101"}, title="Maple Elementary")
>>> job.key, len(job_fingerprint(job))
('school_0101', 64)
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import jinja2

from bltanalytics import __version__
from bltanalytics.reports.html import TEMPLATE_DIR

#: Bump when the fingerprint's contents change, so old records no longer match. 2: the
#: fingerprint covers the package's own code (:func:`package_code_digest`); pages written by
#: version 1 (whose warm kernels could lose the chart theme) are redone.
FINGERPRINT_VERSION = 2
#: papermill gives the cell it injects a random id; it is set to this so that two runs of the
#: same report give the same page.
INJECTED_CELL_ID = "injected-parameters"
FINGERPRINT_DIR = ".fingerprints"
FAILED_DIR = "failed"
RUNNING_DIR = ".running"
INPUT_HASHES_FILE = "_input_hashes.json"
WORKER_PLUGIN_NAME = "bltanalytics-warm-kernels"

#: What a report key (its file stem) may be.
REPORT_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,149}")
_RESERVED_KEYS = {"index", "run"}

Status = Literal["ok", "failed", "skipped"]


# --------------------------------------------------------------------------------------------
# Jobs, results, summary
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportJob:
    """One report to produce.

    ``key``: the output file stem (``school_0101``: letters, digits, ``.``, ``_``, ``-``).
    ``notebook``: the parameterized notebook. ``parameters``: injected by papermill as they are
    (ids stay strings). ``inputs``: the files whose content the report depends on (a change
    re-runs it). ``title``: the HTML page title (default: the key). ``timeout``: seconds allowed
    per cell (None: no limit).

    >>> ReportJob("school_0101", "report.ipynb", {"school_id": "0101"}).title
    'school_0101'
    >>> ReportJob("../x", "report.ipynb")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: report key '../x' cannot be a file name: use letters, digits, ...
    """

    key: str
    notebook: Path
    parameters: Mapping[str, Any] = field(default_factory=dict)
    inputs: Sequence[Path] = ()
    title: str = ""
    timeout: float | None = 600.0

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not REPORT_KEY.fullmatch(self.key):
            raise ValueError(
                f"report key {self.key!r} cannot be a file name: use letters, digits, '.', '_' "
                "and '-', starting with a letter or digit"
            )
        if self.key.lower() in _RESERVED_KEYS:
            raise ValueError(f"report key {self.key!r} is reserved (the run's own files use it)")
        object.__setattr__(self, "notebook", Path(self.notebook).absolute())
        object.__setattr__(self, "parameters", dict(self.parameters))
        object.__setattr__(self, "inputs", tuple(Path(p).absolute() for p in self.inputs))
        object.__setattr__(self, "title", self.title or self.key)


@dataclass(frozen=True)
class JobResult:
    """What happened to one job. Paths are absolute; None when the file was not written."""

    key: str
    title: str
    status: Status
    reason: str | None = None
    notebook: Path | None = None
    html: Path | None = None
    failed_notebook: Path | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class RunSummary:
    """The outcome of :func:`run_reports`, one :class:`JobResult` per job, in job order."""

    out: Path
    results: tuple[JobResult, ...]
    started_at: datetime
    seconds: float
    mode: str
    workers: int | None
    scheduler: str | None = None

    def _with(self, status: Status) -> tuple[JobResult, ...]:
        return tuple(r for r in self.results if r.status == status)

    @property
    def ok(self) -> tuple[JobResult, ...]:
        """Jobs run and written in this run."""
        return self._with("ok")

    @property
    def failed(self) -> tuple[JobResult, ...]:
        return self._with("failed")

    @property
    def skipped(self) -> tuple[JobResult, ...]:
        """Jobs whose reports were already up to date."""
        return self._with("skipped")

    @property
    def exit_code(self) -> int:
        """0 when no job failed, else 1 (for the command line)."""
        return 1 if self.failed else 0

    def describe(self) -> str:
        """A few lines for a person: the counts, then each failure with its reason and file.

        >>> from datetime import UTC
        >>> RunSummary(Path("out"), (JobResult("a", "A", "ok"),), datetime.now(UTC), 1.0,
        ...            "warm", 2).describe()
        '1 report: 1 written, 0 up to date, 0 failed (1.0 s) -> out/index.html'
        """
        n = len(self.results)
        lines = [
            f"{n} report{'s' if n != 1 else ''}: {len(self.ok)} written, "
            f"{len(self.skipped)} up to date, {len(self.failed)} failed "
            f"({self.seconds:.1f} s) -> {self.out / 'index.html'}"
        ]
        for result in self.failed:
            where = f" (notebook: {result.failed_notebook})" if result.failed_notebook else ""
            lines.append(f"  FAILED {result.key}: {result.reason}{where}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Files: atomic writes, fingerprints
# --------------------------------------------------------------------------------------------


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so the file appears whole or not at all.

    The text goes to a temporary file in the same folder, which then replaces ``path``
    (``os.replace`` is atomic within one filesystem).

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "a.txt"
    >>> atomic_write_text(target, "whole")
    >>> target.read_text()
    'whole'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        # mode "x": a new file with the usual permissions (readable by colleagues per umask)
        with open(tmp, "x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class InputHashes:
    """Content hashes of input files, remembered by (size, mtime_ns) between runs.

    Many reports share the same inputs (a district's metric tables), and those can be large:
    each file is hashed once per run, and not again in a later run while its size and
    modification time are unchanged.

    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "achievement.csv"
    >>> _ = f.write_text("school_id,n\\n0101,12\\n")
    >>> InputHashes().sha256(f) == hashlib.sha256(f.read_bytes()).hexdigest()
    True
    """

    def __init__(self, cache_file: Path | None = None) -> None:
        self.cache_file = cache_file
        self._known: dict[str, list] = {}
        if cache_file is not None and cache_file.exists():
            try:
                self._known = json.loads(cache_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._known = {}

    def sha256(self, path: Path) -> str:
        """sha256 of the file's content (raises FileNotFoundError for a missing file)."""
        stat = Path(path).stat()
        known = self._known.get(str(path))
        if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
            return known[2]
        digest = _sha256_file(path)
        self._known[str(path)] = [stat.st_size, stat.st_mtime_ns, digest]
        return digest

    def save(self) -> None:
        if self.cache_file is not None:
            atomic_write_text(self.cache_file, json.dumps(self._known, indent=0, sort_keys=True))


def _package_root() -> Path:
    """The top folder of the installed ``bltanalytics`` package (wherever this module sits)."""
    import bltanalytics

    return Path(bltanalytics.__file__).resolve().parent


@functools.cache
def package_code_digest() -> str:
    """sha256 over the package's own files (code and templates), computed once per process.

    The notebooks and the sample a wheel carries (``_bundled/``) are left out: a report's
    notebook and inputs are fingerprinted on their own.

    Part of every fingerprint, so a report made by other code (a new release, or a change
    while developing) is made again rather than kept as up to date.

    >>> len(package_code_digest())
    64
    """
    root = _package_root()
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if path.is_file() and "__pycache__" not in parts and parts[0] != "_bundled":
            digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
            digest.update(_sha256_file(path).encode("ascii"))
    return digest.hexdigest()


def job_fingerprint(job: ReportJob, hashes: InputHashes | None = None) -> str:
    """sha256 over what decides a report's content: notebook, parameters, inputs, title, and
    the package (its version and :func:`package_code_digest`).

    Raises FileNotFoundError if the notebook or an input file is missing.

    >>> import tempfile
    >>> nb = Path(tempfile.mkdtemp()) / "r.ipynb"
    >>> _ = nb.write_text("{}")
    >>> a = job_fingerprint(ReportJob("s", nb, {"school_id": "0101"}))
    >>> a == job_fingerprint(ReportJob("s", nb, {"school_id": "0101"}))
    True
    >>> a == job_fingerprint(ReportJob("s", nb, {"school_id": "101"}))
    False
    """
    hashes = hashes or InputHashes()
    record = {
        "format": FINGERPRINT_VERSION,
        "package_version": __version__,
        "package_code": package_code_digest(),
        "notebook": hashes.sha256(job.notebook),
        "parameters": job.parameters,
        "inputs": sorted((str(p), hashes.sha256(p)) for p in job.inputs),
        "title": job.title,
    }
    text = json.dumps(record, sort_keys=True, default=repr, ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class JobPaths:
    """Where one job's files go."""

    out: Path
    key: str

    @property
    def notebook(self) -> Path:
        return self.out / f"{self.key}.ipynb"

    @property
    def html(self) -> Path:
        return self.out / f"{self.key}.html"

    @property
    def pdf(self) -> Path:
        """The printed page, when ``bltanalytics reports --pdf`` made one."""
        return self.out / f"{self.key}.pdf"

    @property
    def failed(self) -> Path:
        return self.out / FAILED_DIR / f"{self.key}.ipynb"

    @property
    def fingerprint(self) -> Path:
        return self.out / FINGERPRINT_DIR / f"{self.key}.json"

    def scratch(self) -> Path:
        return self.out / RUNNING_DIR / f"{self.key}.{uuid.uuid4().hex[:12]}.ipynb"


def is_up_to_date(paths: JobPaths, fingerprint: str) -> bool:
    if not (paths.notebook.exists() and paths.html.exists() and paths.fingerprint.exists()):
        return False
    try:
        record = json.loads(paths.fingerprint.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return record.get("fingerprint") == fingerprint


# --------------------------------------------------------------------------------------------
# run.json and index.html
# --------------------------------------------------------------------------------------------


def _relative(path: Path | None, out: Path) -> str | None:
    if path is None:
        return None
    try:
        return path.relative_to(out).as_posix()
    except ValueError:
        return str(path)


def run_json(summary: RunSummary) -> str:
    """The run as JSON: settings, counts, and each report's status, reason and files."""
    reports = []
    for result in summary.results:
        record = asdict(result)
        for name in ("notebook", "html", "failed_notebook"):
            record[name] = _relative(record[name], summary.out)
        record["seconds"] = round(result.seconds, 3)
        reports.append(record)
    document = {
        "format": 1,
        "package_version": __version__,
        "started_at": summary.started_at.isoformat(timespec="seconds"),
        "seconds": round(summary.seconds, 3),
        "mode": summary.mode,
        "workers": summary.workers,
        "scheduler": summary.scheduler,
        "counts": {
            "total": len(summary.results),
            "ok": len(summary.ok),
            "skipped": len(summary.skipped),
            "failed": len(summary.failed),
        },
        "reports": reports,
    }
    return json.dumps(document, indent=2) + "\n"


_STATUS_LABEL = {"ok": "ok", "failed": "failed", "skipped": "up to date (skipped)"}

#: The index page's template (Jinja, autoescaped: a school name or failure reason is text).
_INDEX = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    autoescape=True,
    keep_trailing_newline=True,
).get_template("run_index.html.j2")


def index_html(summary: RunSummary) -> str:
    """A self-contained page listing every report with its status (no scripts, no assets).

    Readers get the HTML reports; a failed report shows its reason and its failed notebook."""
    rows = [
        {
            "key": r.key,
            "title": r.title,
            "status": r.status,
            "label": _STATUS_LABEL[r.status],
            "html": _relative(r.html, summary.out) if r.status != "failed" else None,
            "reason": r.reason or "" if r.status == "failed" else "",
            "failed_notebook": _relative(r.failed_notebook, summary.out),
        }
        for r in summary.results
    ]
    counts = (
        f"{len(summary.results)} reports: {len(summary.ok)} written, "
        f"{len(summary.skipped)} up to date, {len(summary.failed)} failed"
    )
    return _INDEX.render(
        rows=rows,
        counts=counts,
        when=summary.started_at.strftime("%Y-%m-%d %H:%M UTC"),
        mode=summary.mode,
    )
