"""The words shown for codes, read once from ``data/labels.yaml``.

Every label a report, dashboard or chart shows for a code comes from here, so the wording is
the same everywhere. The file is checked when it is read: every contract dimension and every
rubric status must have a label, and a misspelt section is named in the error.

>>> LABELS.dimensions["all"]
'All Students'
>>> dims, groups = pd.Series(["sex", "sex", "race_ethnicity"]), pd.Series(["F", "X", "Asian"])
>>> group_labels(dims, groups).tolist()
['Female', 'Non-binary', 'Asian']
>>> group_phrase("english_learner", "Yes"), group_phrase("race_ethnicity", "Asian")
('English learners', 'Asian students')
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

import pandas as pd
import yaml

from bltanalytics.errors import ConfigError
from bltanalytics.metrics.achievement import DIMENSIONS

#: The sections labels.yaml must have.
SECTIONS = (
    "dimensions",
    "groups",
    "group_phrases",
    "formats",
    "characteristics",
    "indicators",
    "rule_units",
    "ratings",
    "statuses",
    "suppression",
    "suppression_chart",
    "quarantine_reasons",
    "quarantine_actions",
    "tables",
    "notes",
    "effect_size",
    "say_suppressed",
)

#: What every published table calls a group nobody reported (contract section 2).
NOT_REPORTED = "Not reported"

#: Codes that must have a label (the contract's dimensions, the rubric's statuses).
REQUIRED = {
    "dimensions": DIMENSIONS,
    "statuses": ("met", "approaching", "not_met", "insufficient_data", "no_data"),
    "suppression": ("min_n", "complementary"),
    "suppression_chart": ("min_n", "complementary"),
    "effect_size": ("lower", "higher", "equal", "none"),
}


@dataclass(frozen=True)
class Labels:
    """The sections of labels.yaml, as read-only mappings (``notes`` are templates)."""

    dimensions: MappingProxyType
    groups: MappingProxyType
    group_phrases: MappingProxyType
    formats: MappingProxyType
    characteristics: MappingProxyType
    indicators: MappingProxyType
    rule_units: MappingProxyType
    ratings: MappingProxyType
    statuses: MappingProxyType
    suppression: MappingProxyType
    suppression_chart: MappingProxyType
    quarantine_reasons: MappingProxyType
    quarantine_actions: MappingProxyType
    tables: MappingProxyType
    notes: MappingProxyType
    effect_size: MappingProxyType
    say_suppressed: str


def read_labels(text: str, source: str = "labels.yaml") -> Labels:
    """Parse and check the labels file's text.

    >>> read_labels("dimensions: {}")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bltanalytics.errors.ConfigError: labels.yaml has no section(s) groups, group_phrases, ...
    """
    data = yaml.safe_load(text) or {}
    missing = [s for s in SECTIONS if s not in data]
    if missing:
        raise ConfigError(f"{source} has no section(s) {', '.join(missing)}")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{source}: unknown section(s) {', '.join(unknown)}")
    for section, codes in REQUIRED.items():
        absent = [c for c in codes if c not in data[section]]
        if absent:
            raise ConfigError(f"{source}: section {section} has no label for {', '.join(absent)}")
    frozen = {
        k: (MappingProxyType(_freeze(v)) if isinstance(v, dict) else v) for k, v in data.items()
    }
    return Labels(**frozen)


def _freeze(mapping: dict) -> dict:
    return {
        key: MappingProxyType(_freeze(value)) if isinstance(value, dict) else value
        for key, value in mapping.items()
    }


LABELS: Labels = read_labels(
    resources.files("bltanalytics").joinpath("data/labels.yaml").read_text(encoding="utf-8")
)


def dimension_labels(dimension: pd.Series) -> pd.Series:
    """Each dimension's label (an unknown code shows as itself)."""
    return dimension.map(dict(LABELS.dimensions)).fillna(dimension).astype("str")


def group_labels(dimension: pd.Series, group: pd.Series) -> pd.Series:
    """Each group's label: ``F`` of ``sex`` is ``Female``; other groups show their name."""
    keyed = {
        f"{d}|{g}": label for d, groups in LABELS.groups.items() for g, label in groups.items()
    }
    named = (dimension.astype("str") + "|" + group.astype("str")).map(keyed)
    return named.fillna(group.astype("str")).astype("str")


def group_phrases(dimension: pd.Series, group: pd.Series) -> pd.Series:
    """How each group is named in a sentence ("English learners", "Asian students")."""
    keyed = {
        f"{d}|{g}": phrase
        for d, groups in LABELS.group_phrases.items()
        for g, phrase in groups.items()
    }
    known = (dimension.astype("str") + "|" + group.astype("str")).map(keyed)
    words = dimension_labels(dimension).str.lower()
    not_reported = "students whose " + words + " is not reported"
    fallback = (group.astype("str") + " students").where(group != NOT_REPORTED, not_reported)
    return known.fillna(fallback).astype("str")


def group_phrase(dimension: str, group: str) -> str:
    """:func:`group_phrases` for one group."""
    return group_phrases(pd.Series([dimension]), pd.Series([group])).iloc[0]


def status_words(status: pd.Series) -> pd.Series:
    """The word shown beside each rubric status colour (``not_met`` -> ``not met``); a status
    without a label shows as its code."""
    return status.map(dict(LABELS.statuses)).fillna(status).astype("str")
