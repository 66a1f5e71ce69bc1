"""Canonical values and their accepted variants, loaded from ``data/vocabulary.yaml``.

>>> canonical("race_ethnicity", "African-American")
'Black/African American'
>>> canonical("term", " boy ")
'Fall'
>>> canonical("subject", "Underwater Basket Weaving") is None
True
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml

_SEPARATORS = re.compile(r"[\s_\-/.,]+")


def match_key(value: str) -> str:
    """The form used to compare values: case-folded, separators and whitespace collapsed.

    >>> match_key("  Black/African_American ")
    'black african american'
    """
    return _SEPARATORS.sub(" ", str(value).casefold()).strip()


@cache
def _raw() -> dict:
    text = resources.files("bltanalytics").joinpath("data/vocabulary.yaml").read_text("utf-8")
    return yaml.safe_load(text)


@cache
def lookup(vocabulary: str) -> dict[str, str]:
    """Map of match key -> canonical value for one vocabulary (canonical values match too)."""
    if vocabulary == "flags":
        spec = {True: _raw()["flags"]["true"], False: _raw()["flags"]["false"]}
    elif vocabulary == "survey_answers":
        spec = {
            True: _raw()["survey_answers"]["agree"],
            False: _raw()["survey_answers"]["disagree"],
        }
    else:
        try:
            spec = _raw()["vocabularies"][vocabulary]
        except KeyError:
            raise KeyError(f"no vocabulary named {vocabulary!r} in data/vocabulary.yaml") from None
    table: dict = {}
    for value, variants in spec.items():
        if any(not isinstance(v, str) for v in variants):
            raise ValueError(
                f"data/vocabulary.yaml: every variant of {value!r} in {vocabulary} must be quoted "
                "text (YAML reads bare yes/no/true/false as booleans)"
            )
        keys = list(variants) + ([value] if isinstance(value, str) else [])
        for variant in keys:
            key = match_key(variant)
            if key in table and table[key] != value:
                raise ValueError(
                    f"data/vocabulary.yaml: {variant!r} is listed under both {table[key]!r} "
                    f"and {value!r} in {vocabulary}"
                )
            table[key] = value
    return table


#: the kinds of dimension ``data/vocabulary.yaml`` can declare
DIMENSION_KINDS = ("vocabulary", "flag")


@cache
def dimensions() -> dict[str, str]:
    """The demographic dimensions of ``data/vocabulary.yaml``, in display order: name -> kind
    (``vocabulary``: groups are that vocabulary's canonical values; ``flag``: Yes and No).

    >>> list(dimensions().items())[:3]
    [('sex', 'vocabulary'), ('race_ethnicity', 'vocabulary'), ('english_learner', 'flag')]
    """
    declared = dict(_raw().get("dimensions") or {})
    for name, kind in declared.items():
        if kind not in DIMENSION_KINDS:
            raise ValueError(
                f"data/vocabulary.yaml: dimension {name!r} has kind {kind!r}; "
                f"use one of {', '.join(DIMENSION_KINDS)}"
            )
        if kind == "vocabulary" and name not in _raw()["vocabularies"]:
            raise ValueError(
                f"data/vocabulary.yaml: dimension {name!r} takes its groups from a vocabulary "
                f"of the same name, and there is none: add `{name}:` under vocabularies"
            )
    return declared


def canonical(vocabulary: str, value: str):
    """The canonical value for ``value`` in ``vocabulary``, or None when it is not recognised."""
    return lookup(vocabulary).get(match_key(value))


def canonical_values(vocabulary: str) -> list[str]:
    """The canonical values of a vocabulary, in file order."""
    return list(_raw()["vocabularies"][vocabulary])
