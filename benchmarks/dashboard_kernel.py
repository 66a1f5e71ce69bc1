"""One dashboard kernel's memory and times, outside the browser (benchmark 1e, the profile).

``python -m benchmarks.dashboard_kernel NAME DISTRICT PREPARED CHANGES`` runs in a child with
``PYTHONPATH`` set to the source tree measured (this one, or ``--baseline``'s), as a Voilà
kernel runs the notebook: the launcher's environment (``BLT_DATA``, ``BLT_METRICS``), the
kernel's own imports (ipykernel, ipywidgets), then the dashboard's builder. It prints one JSON
line: seconds to build the page (what a preheated kernel has done before its visitor comes:
data read and first chart rendered), the process's memory (RSS, PSS, USS in MiB) after its
imports, after the build and after ``CHANGES`` widget changes, and the milliseconds of each
change (the callback's work in the kernel, chart rendered).

Changes: explorer, the student-group dimension (and every fourth time the school: a new
slice read); rubric, the school; presenter, Next (and every fourth time the school).
"""

from __future__ import annotations

import json
import os
import sys
import time


def memory() -> dict:
    import psutil

    info = psutil.Process().memory_full_info()
    return {k: round(getattr(info, k) / 2**20, 1) for k in ("rss", "pss", "uss")}


def _changes(name: str, widget_app, n: int) -> list[float]:
    """Milliseconds of ``n`` widget changes of dashboard ``name``."""
    times = []
    schools = [v for _, v in widget_app.school.options]
    for i in range(n):
        start = time.perf_counter()
        if name == "explorer" and i % 4 != 3:
            dims = [v for _, v in widget_app.dimension.options]
            widget_app.dimension.value = dims[(dims.index(widget_app.dimension.value) + 1) % 4]
        elif name == "presenter" and i % 4 != 3:
            widget_app.go(widget_app.position + 1)
        else:
            widget_app.school.value = schools[(i * 37 + 1) % len(schools)]
        times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str]) -> dict:
    name, district, prepared, changes = argv[0], argv[1], argv[2], int(argv[3])
    os.environ.update({"BLT_DATA": district, "BLT_METRICS": prepared, "BLT_MASK_NAMES": "0"})
    import ipykernel.ipkernel  # noqa: F401  (what every kernel has imported)
    import ipywidgets  # noqa: F401

    started = memory()
    from bltanalytics.dashboards import common, explorer, presenter, rubric_board

    view = {
        "explorer": explorer.Explorer,
        "rubric": rubric_board.RubricBoard,
        "presenter": presenter.Presenter,
    }[name]
    start = time.perf_counter()
    loader = getattr(common, "load_data", None) or common.load_metrics  # before: the metrics
    data = loader(district, common.config_from_env())
    app = view(data, mask_names=False, config=data.config)
    build = time.perf_counter() - start
    built = memory()
    times = _changes(name, app, changes)
    result = {
        "build_s": build,
        "memory_imports": started,
        "memory_built": built,
        "memory_after_changes": memory(),
        "changes_ms": times,
        "data": type(data).__name__,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
