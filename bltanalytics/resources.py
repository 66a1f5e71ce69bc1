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

import functools
from importlib import metadata
from importlib.resources import as_file, files
from pathlib import Path

__all__ = ["BUNDLE", "extra_jupyter_paths", "notebooks_dir", "sample_district", "source_root"]

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


#: Distributions whose Jupyter data (templates, widget front-ends) reports and dashboards use.
JUPYTER_DATA_DISTRIBUTIONS = ("nbconvert", "voila", "jupyterlab_widgets", "widgetsnbextension")


@functools.cache
def extra_jupyter_paths(distributions: tuple[str, ...] = JUPYTER_DATA_DISTRIBUTIONS) -> tuple:
    """``share/jupyter`` folders the given distributions installed into that Jupyter would miss.

    Jupyter looks in ``sys.prefix/share/jupyter``; a virtual environment made with
    ``--system-site-packages`` uses nbconvert and Voilà from the base interpreter, whose templates
    are under the base prefix instead. Each folder is found from the distribution's own file
    list, so any install layout works; folders Jupyter already searches are left out.

    >>> all(path.name == "jupyter" for path in extra_jupyter_paths())
    True
    """
    from jupyter_core.paths import jupyter_path

    known = {Path(p).resolve() for p in jupyter_path()}
    found: list[Path] = []
    for name in distributions:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or ():
            parts = file.parts
            at = [i for i in range(len(parts) - 1) if parts[i : i + 2] == ("share", "jupyter")]
            if at:
                share = Path(dist.locate_file(Path(*parts[: at[0] + 2]))).resolve()
                if share not in known and share not in found:
                    found.append(share)
                break
    return tuple(found)
