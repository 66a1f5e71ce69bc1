"""Where the package's notebooks and sample district are, in a checkout and once installed.

The repository keeps them at the top level (``notebooks/``, ``data/sample/``), where people
look for them. A wheel carries the same files as package data under
``bltanalytics/_bundled/`` (``pyproject.toml`` maps the two folders there, so git holds one
copy). These functions return the installed copy when there is one, else the checkout's.

>>> (notebooks_dir() / "reports" / "school_report.ipynb").is_file()
True
>>> (sample_district() / "schools.csv").is_file()
True
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

__all__ = ["BUNDLE", "notebooks_dir", "sample_district", "source_root"]

#: Folder of the package (inside the wheel) holding the notebooks and the sample district.
BUNDLE = "_bundled"


def _package_dir() -> Path:
    # the package is always installed as plain files (no zip): as_file returns the folder itself
    with as_file(files("bltanalytics")) as path:
        return Path(path)


def source_root() -> Path | None:
    """The checkout the package runs from (editable install, ``PYTHONPATH``), or None."""
    root = _package_dir().parent
    return root if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() else None


def _find(bundled: str, in_checkout: str) -> Path:
    installed = _package_dir() / BUNDLE / bundled
    if installed.is_dir():
        return installed
    root = source_root()
    if root is not None and (root / in_checkout).is_dir():
        return root / in_checkout
    return installed  # absent: callers name the missing file in their error


def notebooks_dir() -> Path:
    """Folder holding ``reports/``, ``dashboards/`` and ``explore/`` notebooks."""
    return _find("notebooks", "notebooks")


def sample_district() -> Path:
    """The synthetic sample district the package ships (``data/sample`` of the checkout)."""
    return _find("sample", "data/sample")
