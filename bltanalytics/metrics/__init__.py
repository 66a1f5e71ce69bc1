"""Metrics: every published figure of a district, computed once, with disclosure avoidance.

The room, in the order the figures are made:

- :mod:`.suppression`: the one rule every published figure goes through (linked secondary
  suppression, top and bottom coding, contract section 2);
- :mod:`.achievement`, :mod:`.trends`: percent proficient by group, and its change;
- :mod:`.rubric` (+ ``data/rubric.yaml``), :mod:`.cycles`, :mod:`.learning`: the rubric
  scorecard, teacher-team cycles, professional learning;
- :mod:`.audit`: the attacker's-eye check that no hidden figure can be worked out;
- :mod:`.shapes`, :mod:`.csvwrite`, :mod:`.bundle`: the export's tables, named once, written
  and read back.

>>> from bltanalytics.load import load_district
>>> from bltanalytics.metrics import compute_metrics
>>> metrics = compute_metrics(load_district("data/sample"))          # doctest: +SKIP
>>> metrics.config.min_n                                             # doctest: +SKIP
10
"""

from bltanalytics.metrics.bundle import (
    CONFIG_FILE,
    CONTRACT_FILES,
    FRAMES,
    Metrics,
    compute_metrics,
    read_metrics,
    write_metrics,
)

__all__ = [
    "CONFIG_FILE",
    "CONTRACT_FILES",
    "FRAMES",
    "Metrics",
    "compute_metrics",
    "read_metrics",
    "write_metrics",
]
