"""Notes printed under sections, written from the Config the figures were computed with.

A note never states a policy number in prose: ``min_n``, the codes and the rubric bands come
from the :class:`~bltanalytics.config.Config`, so a district that publishes groups of 15 or
more reads "fewer than 15 students".

>>> from bltanalytics.config import Config
>>> "fewer than 15 students" in suppression_note(Config(min_n=15))
True
>>> "within 10 points" in rubric_note(Config(approaching_band=0.10))
True
>>> reason_notes(pd.Series(["min_n", "complementary", None]), Config()).tolist()
['hidden: fewer than 10 students', 'hidden to protect a smaller group', '']
"""

from __future__ import annotations

import pandas as pd

from bltanalytics.config import Config
from bltanalytics.present.labels import LABELS
from bltanalytics.present.words import SUPPRESSED_MARK


def _fill(template: str, config: Config) -> str:
    ratings = ", ".join(f"{k} {v}" for k, v in LABELS.ratings.items())
    return " ".join(
        template.format(
            mark=SUPPRESSED_MARK,
            min_n=config.min_n,
            top=f"{config.top_code:g}",
            bottom=f"{config.bottom_code:g}",
            band=f"{config.approaching_band * 100:g}",
            insufficient_max=config.insufficient_max,
            rating_met=config.rating_met,
            ratings=ratings,
        ).split()
    )


def suppression_note(config: Config) -> str:
    """What ``*`` means, for achievement figures."""
    return _fill(LABELS.notes["suppressed"], config)


def cycles_suppression_note(config: Config) -> str:
    """What ``*`` means, for teacher-team cycles."""
    return _fill(LABELS.notes["suppressed_cycles"], config)


def coded_note(config: Config) -> str:
    """What ``≥95%`` and ``≤5%`` mean, and how a gap beside them reads."""
    return _fill(LABELS.notes["coded"], config)


def gap_note(config: Config) -> str:
    """How a gap to All Students is worked out."""
    return _fill(LABELS.notes["gap"], config)


def district_note(config: Config) -> str:
    """How the district figure beside a school's group is made, and what it leaves out."""
    return _fill(LABELS.notes["district"], config)


def rubric_note(config: Config) -> str:
    """How the rubric's statuses are decided."""
    return _fill(LABELS.notes["rubric"], config)


def reason_notes(reason: pd.Series, config: Config, *, chart: bool = False) -> pd.Series:
    """Why each figure is hidden, in words (empty where it is published); ``chart``: the short
    form that sits beside a bar (``* protects a smaller group``)."""
    words = LABELS.suppression_chart if chart else LABELS.suppression
    words = {k: v.format(min_n=config.min_n) for k, v in words.items()}
    return reason.map(words).fillna("").astype("str")
