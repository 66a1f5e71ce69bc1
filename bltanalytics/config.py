"""Policy numbers, named once: minimum group size, rubric thresholds and bands.

Every figure the package publishes depends on a few policy choices. They live here, with the
contract's defaults, and can be overridden by a YAML file (``--config FILE``)::

    min_n: 10                 # smallest group whose figures are published
    protection: 3             # a hidden count must stay uncertain by at least this many students
    staff_min_n: 5            # fewest instructional staff whose professional-learning figures show
    approaching_band: 0.15    # "approaching" = within this much below the threshold
    insufficient_max: 4       # denominators 1..4 are "insufficient_data"
    rating_met: 2             # a rated indicator is met at this rating or above
    thresholds:               # per-indicator overrides of rubric.yaml
      C5.fidelity: 0.8

>>> Config().min_n
10
>>> Config(min_n=5).with_overrides({"min_n": 20}).min_n
20
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import yaml

from bltanalytics.errors import ConfigError


@dataclass(frozen=True)
class Config:
    """Policy settings for metrics; immutable, so one run uses one set."""

    min_n: int = 10
    protection: int = 3
    staff_min_n: int = 5
    approaching_band: float = 0.15
    insufficient_max: int = 4
    rating_met: int = 2
    top_code: float = 95.0
    bottom_code: float = 5.0
    thresholds: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.min_n, int) or self.min_n < 1:
            raise ConfigError(f"min_n must be a whole number of at least 1, found {self.min_n!r}")
        for name in ("protection", "staff_min_n"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a whole number of at least 1, found {value!r}")
        if not 0 <= self.approaching_band <= 1:
            raise ConfigError(
                f"approaching_band must be between 0 and 1, found {self.approaching_band!r}"
            )
        if not isinstance(self.insufficient_max, int) or self.insufficient_max < 0:
            raise ConfigError(
                f"insufficient_max must be a whole number >= 0, found {self.insufficient_max!r}"
            )
        for key, value in self.thresholds.items():
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ConfigError(
                    f"threshold for {key} must be a share between 0 and 1, found {value!r}"
                )

    def with_overrides(self, overrides: dict) -> Config:
        """Return a copy with the given settings replaced; unknown keys are an error."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(
                f"unknown setting(s) {', '.join(unknown)}; "
                f"known settings: {', '.join(sorted(known))}"
            )
        return replace(self, **overrides)

    def to_dict(self) -> dict:
        """Every setting by name, thresholds included (a copy): what ``config.json`` holds.

        >>> Config(thresholds={"C5.fidelity": 0.8}).to_dict()["thresholds"]
        {'C5.fidelity': 0.8}
        """
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> Config:
        """The config of :meth:`to_dict`; a setting it lacks takes its default (a file
        written before the setting existed), an unknown one is a :class:`ConfigError`.

        >>> Config.from_dict(Config(min_n=5).to_dict()) == Config(min_n=5)
        True
        >>> Config.from_dict({"min_m": 5})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        bltanalytics.errors.ConfigError: unknown setting(s) min_m; known settings: ...
        """
        if not isinstance(data, dict):
            raise ConfigError(f"settings must be a mapping of name to value, found {data!r}")
        thresholds = data.get("thresholds", {})
        if not isinstance(thresholds, dict):
            raise ConfigError(f"thresholds must map indicator ids to shares, found {thresholds!r}")
        return cls().with_overrides({**data, "thresholds": dict(thresholds)})


def _plain(value):
    return dict(value) if isinstance(value, dict) else value


def load_config(path: str | Path | None = None, **overrides) -> Config:
    """Read a YAML config file (optional) and apply keyword overrides on top.

    >>> load_config(min_n=5).min_n
    5
    """
    config = Config()
    if path is not None:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must hold settings as 'name: value' lines")
        config = config.with_overrides(data)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return config.with_overrides(overrides) if overrides else config
