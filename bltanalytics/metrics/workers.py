"""Independent parts of a computation, in worker processes when there are many.

The exact check of the suppression (:mod:`.certify`) and the audit's programmes
(:mod:`.audit_model`) both cut their work into parts that share nothing: blocks (a school, year,
term and subject) are independent. One policy serves both: at most two processes (the machines
this runs on have two cores; more only contend), and only when there are enough parts to pay for
starting them (a worker process costs ~0.1-0.3 s to fork and import).

>>> list(mapped(abs, [-1, 2, -3], workers=1))
[1, 2, 3]
>>> default_workers(many=False)
1
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

#: the most worker processes a part map uses (the machines have two cores)
MAX_WORKERS = 2


def default_workers(many: bool) -> int:
    """Processes for a map: :data:`MAX_WORKERS` (or fewer cores) when ``many``, else 1."""
    return min(MAX_WORKERS, os.cpu_count() or 1) if many else 1


def mapped(function: Callable, items: Iterable, workers: int) -> Iterator:
    """``function`` over ``items``, in order: in ``workers`` processes when more than one
    (``function`` and the items must pickle), else here."""
    if workers <= 1:
        yield from map(function, items)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(function, items)
