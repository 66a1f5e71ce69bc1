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

from bltanalytics.metrics.rubric import RubricSpec, load_rubric
from bltanalytics.present.labels import LABELS
from bltanalytics.present.words import fixed, percent


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


#: statuses that judge an indicator (the others: too few records, or nothing to count)
JUDGED = ("met", "approaching", "not_met")


def met_of_judged(card: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Indicators met out of those that could be judged, per ``by`` group, in words.

    Indicators with too few records or no data are counted apart, never as not met:
    ``7 of 18 met (7 cannot be judged)``. Columns: ``by``, ``n_met``, ``n_judged``,
    ``n_unjudged``, ``share_met`` (of judged; empty when none is judged) and ``text``.

    >>> card = pd.DataFrame({"school_id": "A", "status": ["met", "not_met", "no_data"]})
    >>> met_of_judged(card, ["school_id"])[["n_met", "n_judged", "text"]].values.tolist()
    [[1, 2, '1 of 2 met (1 cannot be judged)']]
    """
    status = card["status"].astype("str")
    counts = (
        card[by]
        .assign(
            n_met=(status == "met").to_numpy(dtype=int),
            n_judged=status.isin(JUDGED).to_numpy(dtype=int),
            n_unjudged=(~status.isin(JUDGED)).to_numpy(dtype=int),
        )
        .groupby(by, sort=False)
        .sum()
        .reset_index()
    )
    text = counts["n_met"].astype("str") + " of " + counts["n_judged"].astype("str") + " met"
    apart = " (" + counts["n_unjudged"].astype("str") + " cannot be judged)"
    text = text + apart.where(counts["n_unjudged"] > 0, "")
    share = counts["n_met"] / counts["n_judged"].where(counts["n_judged"] > 0)
    return counts.assign(share_met=share.astype("float64"), text=text.astype("str"))


def rating_words(rating: pd.Series) -> pd.Series:
    """``2`` -> ``acceptable`` (empty for a missing or unknown rating)."""
    return rating.map(dict(LABELS.ratings)).fillna("").astype("str")


def indicator_texts(indicator_id: pd.Series, spec: RubricSpec | None = None) -> pd.Series:
    """What each indicator looks for, in a sentence (its text in rubric.yaml)."""
    return _by_indicator(pd.DataFrame({"indicator_id": indicator_id}), spec, "text").fillna("")


def indicator_labels(indicator_id: pd.Series) -> pd.Series:
    """Each indicator's code with its short name: ``C2.coaching_support Coaching prepares staff``.

    >>> indicator_labels(pd.Series(["C1.teams", "X9.new"])).tolist()
    ['C1.teams BLT and teacher teams in place', 'X9.new']
    """
    names = indicator_id.map(dict(LABELS.indicators))
    return (indicator_id + " " + names).fillna(indicator_id).astype("str")
