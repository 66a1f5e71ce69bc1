"""The rubric indicator ids a district's ``rubric_ratings`` table may name.

Loading checks each rating's ``indicator_id`` (an unknown one is quarantined as
``unknown_indicator``) without importing the metrics layer: it reads the ids from the packaged
``bltanalytics/data/rubric.yaml`` itself. A *rated* indicator is one whose ``source`` is the
``rubric_ratings`` table; the rubric (:mod:`bltanalytics.metrics.rubric`) scores exactly those with
its
``rated`` rule kind, and ``tests/test_layout.py`` checks that the two agree.

>>> ids = rated_indicator_ids()
>>> ids[0], len(ids) > 5
('C1.procedures', True)
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

#: the table a rated indicator reads (a BLT's own ratings)
RATINGS_TABLE = "rubric_ratings"


@cache
def rated_indicator_ids() -> tuple[str, ...]:
    """Ids of the rubric's rated indicators, in ``rubric.yaml`` order."""
    text = resources.files("bltanalytics").joinpath("data/rubric.yaml").read_text("utf-8")
    indicators = yaml.safe_load(text)["indicators"]
    return tuple(str(i["id"]) for i in indicators if i.get("source") == RATINGS_TABLE)
