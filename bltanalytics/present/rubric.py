"""Rubric indicators in words: value, goal, status, and the indicator's name beside its code.

>>> card = pd.DataFrame({"indicator_id": ["C1.understand", "C2.hiring"],
...     "kind": ["computed", "rated"], "numerator": [9.0, 2.0], "denominator": [12.0, 1.0],
...     "value": [0.75, 2.0], "threshold": [0.75, 2.0], "status": ["met", "met"]})
>>> value_text(card).tolist()
['9 of 12 respondents (75%)', 'rating 2 (acceptable)']
>>> goal_text(card).tolist()
['75%', 'rating 2+']
>>> short_value_text(card["kind"], card["value"]).tolist()
['75%', '2 (acceptable)']
"""

from __future__ import annotations

import pandas as pd

from bltanalytics.present.labels import LABELS
from bltanalytics.present.words import fixed, percent
from bltanalytics.rubric import RubricSpec, load_rubric


def _by_indicator(card: pd.DataFrame, spec: RubricSpec | None, attribute: str) -> pd.Series:
    spec = spec or load_rubric()
    return card["indicator_id"].map({i.id: getattr(i, attribute) for i in spec.indicators})


def value_text(card: pd.DataFrame, spec: RubricSpec | None = None) -> pd.Series:
    """What each indicator's value was: ``9 of 12 respondents (75%)``, ``rating 2 (...)``."""
    rule = _by_indicator(card, spec, "rule")
    units = rule.map(dict(LABELS.rule_units))
    num = card["numerator"].astype("float64")
    den = card["denominator"].astype("float64")
    pct = percent(card["value"])
    counted = (
        fixed(num, "%g")
        + " of "
        + den.astype("Int64").astype("str")
        + (" " + units.fillna("")).str.rstrip()
        + " ("
        + pct
        + ")"
    )
    checks = LABELS.rule_units["fidelity_mean"]
    mean = "average " + pct + " over " + den.astype("Int64").astype("str") + " " + checks
    teams = num.map({1.0: "yes", 0.0: "no"}).astype("str")
    rating = num.where(card["kind"] == "rated").round().astype("Int64")
    rated = "rating " + rating.astype("str") + " (" + rating_words(rating) + ")"
    text = counted.where(rule != "fidelity_mean", mean).where(rule != "teams_present", teams)
    text = text.where(card["kind"] != "rated", rated)
    return text.where(den > 0, "no data").fillna("no data").astype("str")


def goal_text(card: pd.DataFrame, spec: RubricSpec | None = None) -> pd.Series:
    """Each indicator's goal: ``75%``, ``yes`` (teams present), ``rating 2+``."""
    goal = percent(card["threshold"])
    rated = "rating " + card["threshold"].astype("float64").map("{:g}".format).astype("str") + "+"
    rule = _by_indicator(card, spec, "rule")
    goal = goal.where(rule != "teams_present", "yes")
    return goal.where(card["kind"] != "rated", rated).astype("str")


def short_value_text(kind: pd.Series, value: pd.Series) -> pd.Series:
    """A value or threshold in a board cell: ``75%``, or a rating ``2 (acceptable)``."""
    value = value.astype("float64")
    rating = value.round().astype("Int64")
    rated = rating.astype("str") + " (" + rating_words(rating).replace("", "?") + ")"
    text = percent(value).where(kind != "rated", rated)
    return text.where(value.notna(), "").astype("str")


def rating_words(rating: pd.Series) -> pd.Series:
    """``2`` -> ``acceptable`` (empty for a missing or unknown rating)."""
    return rating.map(dict(LABELS.ratings)).fillna("").astype("str")


def indicator_names(indicator_id: pd.Series, spec: RubricSpec | None = None) -> pd.Series:
    """What each indicator looks for, in words (its text in rubric.yaml)."""
    return _by_indicator(pd.DataFrame({"indicator_id": indicator_id}), spec, "text").fillna("")
