"""The rubric as data: its indicators, the registry of rule kinds, and ``rubric.yaml`` read and
checked (an error names the offending entry).

A rule kind is a function registered with :func:`register` (in :mod:`bltanalytics.metrics.rubric`)
and named by an indicator's ``rule`` in ``rubric.yaml``: adding one is one registered function and
one data edit.

>>> spec = load_rubric()
>>> len(spec.indicators), spec.indicators[0].id, spec.indicators[0].kind
(25, 'C1.teams', 'computed')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
import yaml

from bltanalytics.errors import ConfigError
from bltanalytics.metrics.shapes import Rubric, RubricSummary, columns

Tables = Mapping[str, pd.DataFrame | None]
KEYS = ["school_id", "school_year"]
#: Columns of ``rubric.csv``, in order: from its shape (:mod:`bltanalytics.metrics.shapes`).
RUBRIC_COLUMNS: list[str] = columns(Rubric)
#: Columns of ``rubric_summary.csv``, in order: from its shape.
ROLLUP_COLUMNS: list[str] = columns(RubricSummary)
SCORED_STATUSES = ("met", "approaching", "not_met")
"""Statuses of an indicator "with data": one that could be judged against its threshold."""
WINDOW_ORDER = {"Fall": 1, "Winter": 2, "Spring": 3}
"""Survey windows within a school year; the latest one a school has counts for the rubric."""
TOLERANCE = 1e-9
SPEC_VERSION = 1
INDICATOR_FIELDS = ("id", "characteristic", "text", "source", "rule", "threshold", "params")


class RubricSpecError(ConfigError):
    """``rubric.yaml`` (or a rubric spec given as data) is malformed."""


@dataclass(frozen=True)
class Characteristic:
    """One of the rubric's six characteristics."""

    id: str
    title: str


@dataclass(frozen=True)
class Indicator:
    """One rubric indicator, as declared in ``rubric.yaml``."""

    id: str
    characteristic: str
    text: str
    source: str
    rule: str
    threshold: float | None
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``computed`` or ``rated``, from the rule kind."""
        return REGISTRY[self.rule].kind


@dataclass(frozen=True)
class RubricSpec:
    """The rubric: its version, characteristics and indicators, in file order."""

    version: int
    characteristics: tuple[Characteristic, ...]
    indicators: tuple[Indicator, ...]

    def indicator(self, indicator_id: str) -> Indicator:
        """The indicator with this id (KeyError if none)."""
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)


RuleFunc = Callable[[Tables, pd.DataFrame, Indicator], pd.DataFrame]


@dataclass(frozen=True)
class RuleKind:
    """A named way of scoring an indicator.

    ``func(tables, universe, indicator)`` returns school_id, school_year, numerator, denominator
    for any subset of ``universe`` (the school-years to score); rows it leaves out count 0 of 0
    (computed) or have no rating (rated). The engine gives ``no_data`` to every school when one
    of ``tables`` is absent. ``params`` maps each parameter name to a check of its value and a
    description used in error messages.
    """

    name: str
    func: RuleFunc
    tables: tuple[str, ...]
    params: Mapping[str, tuple[Callable[[Any], bool], str]]
    kind: str = "computed"
    insufficient_exempt: bool = False


REGISTRY: dict[str, RuleKind] = {}
"""Rule kinds by name; ``rubric.yaml`` indicators refer to these by their ``rule`` field."""


def register(
    name: str,
    *,
    tables: tuple[str, ...],
    params: Mapping[str, tuple[Callable[[Any], bool], str]] | None = None,
    kind: str = "computed",
    insufficient_exempt: bool = False,
) -> Callable[[RuleFunc], RuleFunc]:
    """Decorator adding a rule kind to :data:`REGISTRY`."""

    def decorate(func: RuleFunc) -> RuleFunc:
        REGISTRY[name] = RuleKind(
            name, func, tables, MappingProxyType(dict(params or {})), kind, insufficient_exempt
        )
        return func

    return decorate


def is_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def is_str_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(is_str(v) for v in value)


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def is_positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _fail(where: str, message: str) -> RubricSpecError:
    return RubricSpecError(f"{where}: {message}")


def _check_fields(entry: Mapping, label: str) -> None:
    """Every field of :data:`INDICATOR_FIELDS` present, no other, the text ones non-empty."""
    missing = [k for k in INDICATOR_FIELDS if k not in entry]
    if missing:
        raise RubricSpecError(f"{label}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(entry) - set(INDICATOR_FIELDS))
    if unknown:
        raise RubricSpecError(f"{label}: unknown field(s) {', '.join(map(str, unknown))}")
    for key in ("id", "characteristic", "text", "source", "rule"):
        if not is_str(entry[key]):
            raise RubricSpecError(f"{label}: field '{key}' must be non-empty text")


def _rule_of(entry: Mapping, label: str) -> RuleKind:
    """The registered rule kind the entry names, which must read the entry's source."""
    rule = REGISTRY.get(entry["rule"])
    if rule is None:
        raise RubricSpecError(
            f"{label}: unknown rule kind {entry['rule']!r}; known: {', '.join(sorted(REGISTRY))}"
        )
    if entry["source"] not in rule.tables:
        raise RubricSpecError(
            f"{label}: rule {rule.name!r} reads {', '.join(rule.tables)}, "
            f"not source {entry['source']!r}"
        )
    return rule


def _check_threshold(rule: RuleKind, threshold: Any, label: str) -> None:
    """Rated indicators have none (Config.rating_met applies); computed ones a share 0-1."""
    if rule.kind == "rated":
        if threshold is not None:
            raise RubricSpecError(
                f"{label}: a rated indicator's threshold must be null (Config.rating_met applies)"
            )
        return
    if not isinstance(threshold, int | float) or isinstance(threshold, bool):
        raise RubricSpecError(
            f"{label}: threshold must be a share from 0 to 1, found {threshold!r}"
        )
    if not 0 <= threshold <= 1:
        raise RubricSpecError(
            f"{label}: threshold must be a share from 0 to 1, found {threshold!r}"
        )


def _check_params(rule: RuleKind, params: Any, label: str) -> None:
    """Exactly the rule kind's declared parameters, each passing its check."""
    if not isinstance(params, Mapping):
        raise RubricSpecError(f"{label}: params must be a mapping")
    missing = [p for p in rule.params if p not in params]
    if missing:
        raise RubricSpecError(f"{label}: rule {rule.name!r} needs param(s) {', '.join(missing)}")
    extra = sorted(set(params) - set(rule.params))
    if extra:
        raise RubricSpecError(f"{label}: rule {rule.name!r} has no param(s) {', '.join(extra)}")
    for name, (check, description) in rule.params.items():
        if not check(params[name]):
            raise RubricSpecError(
                f"{label}: param {name!r} must be {description}, found {params[name]!r}"
            )


def parse_rubric(data: Any, where: str = "rubric spec") -> RubricSpec:
    """Check a rubric spec given as data (the parsed YAML) and build a :class:`RubricSpec`.

    Errors name the offending entry: ``rubric.yaml: indicator 'C1.x': unknown rule 'foo' ...``.

    >>> spec = parse_rubric({"version": 1,
    ...     "characteristics": [{"id": "focus", "title": "Focus"}],
    ...     "indicators": [{"id": "C2.hiring", "characteristic": "focus", "text": "Hiring fits.",
    ...         "source": "rubric_ratings", "rule": "rating", "threshold": None, "params": {}}]})
    >>> spec.indicators[0].kind
    'rated'
    """
    from bltanalytics.metrics import rubric  # noqa: F401  (registers the rule kinds)

    if not isinstance(data, Mapping):
        raise _fail(where, "expected a mapping with version, characteristics and indicators")
    version = data.get("version")
    if version != SPEC_VERSION:
        raise _fail(where, f"version must be {SPEC_VERSION}, found {version!r}")
    raw_chars = data.get("characteristics")
    if not isinstance(raw_chars, list) or not raw_chars:
        raise _fail(where, "'characteristics' must be a non-empty list")
    characteristics: list[Characteristic] = []
    for n, entry in enumerate(raw_chars, start=1):
        label = f"characteristic #{n}"
        if not isinstance(entry, Mapping):
            raise _fail(where, f"{label} must be a mapping with id and title")
        for key in ("id", "title"):
            if not is_str(entry.get(key)):
                raise _fail(where, f"{label} ({entry.get('id', '?')!r}): missing field '{key}'")
        if any(c.id == entry["id"] for c in characteristics):
            raise _fail(where, f"duplicate characteristic id {entry['id']!r}")
        characteristics.append(Characteristic(entry["id"], entry["title"]))
    char_ids = [c.id for c in characteristics]

    raw_inds = data.get("indicators")
    if not isinstance(raw_inds, list) or not raw_inds:
        raise _fail(where, "'indicators' must be a non-empty list")
    indicators: list[Indicator] = []
    for n, entry in enumerate(raw_inds, start=1):
        indicators.append(_parse_indicator(entry, n, where, char_ids, indicators))
    return RubricSpec(version, tuple(characteristics), tuple(indicators))


def _parse_indicator(
    entry: Any, n: int, where: str, char_ids: list[str], seen: list[Indicator]
) -> Indicator:
    if not isinstance(entry, Mapping):
        raise _fail(where, f"indicator #{n} must be a mapping")
    ind_id = entry.get("id")
    label = f"{where}: " + (f"indicator {ind_id!r}" if is_str(ind_id) else f"indicator #{n}")
    _check_fields(entry, label)
    if any(i.id == ind_id for i in seen):
        raise _fail(where, f"duplicate indicator id {ind_id!r} (entry #{n})")
    if entry["characteristic"] not in char_ids:
        raise RubricSpecError(
            f"{label}: unknown characteristic {entry['characteristic']!r}; "
            f"known: {', '.join(char_ids)}"
        )
    rule = _rule_of(entry, label)
    threshold = entry["threshold"]
    _check_threshold(rule, threshold, label)
    params = entry["params"] if entry["params"] is not None else {}
    _check_params(rule, params, label)
    return Indicator(
        id=ind_id,
        characteristic=entry["characteristic"],
        text=entry["text"],
        source=entry["source"],
        rule=entry["rule"],
        threshold=None if threshold is None else float(threshold),
        params=MappingProxyType(dict(params)),
    )


def load_rubric(path: str | Path | None = None) -> RubricSpec:
    """Load and check a rubric file (default: the packaged ``data/rubric.yaml``).

    >>> spec = load_rubric()
    >>> spec.version, len(spec.indicators)
    (1, 25)
    """
    if path is None:
        return _default_rubric()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RubricSpecError(f"{path}: rubric file does not exist") from None
    return _parse_text(text, str(path))


def _parse_text(text: str, where: str) -> RubricSpec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RubricSpecError(f"{where}: not valid YAML: {exc}") from None
    return parse_rubric(data, where)


@lru_cache(maxsize=1)
def _default_rubric() -> RubricSpec:
    text = resources.files("bltanalytics").joinpath("data/rubric.yaml").read_text("utf-8")
    return _parse_text(text, "bltanalytics/data/rubric.yaml")
