"""Rubric scorecard: Culture of Continuous Improvement (DATA_CONTRACT section 3).

The indicators are data (``bltanalytics/data/rubric.yaml``), checked when loaded; each names a
*rule kind* from :data:`REGISTRY`. A rule kind is a vectorized function that takes the cleaned
tables and returns numerator and denominator for every school and school year at once.
:func:`score_rubric` runs every indicator, adds value, threshold and status (``rubric.csv``);
:func:`rollup` counts met indicators per characteristic.

Status, checked in this order:

1. ``no_data``: the rule's table is absent, or the denominator is 0 (rated: no rating);
2. ``insufficient_data``: denominator from 1 to ``Config.insufficient_max`` (not for ``C1.teams``
   nor rated indicators);
3. ``met`` (value >= threshold), ``approaching`` (value >= threshold - ``Config.approaching_band``;
   computed indicators only), else ``not_met``.

Comparisons allow a tolerance of 1e-9 so that, say, 3/5 = 0.6 is exactly at 0.75 - 0.15.

>>> import pandas as pd
>>> students = pd.DataFrame({"student_id": ["1"], "school_id": ["A"], "school_year": ["2025-26"],
...     "grade": ["3"]})
>>> teams = pd.DataFrame({"team_id": ["t1", "t2"], "school_id": ["A", "A"],
...     "team_type": ["BLT", "TBT"]})
>>> card = score_rubric({"students": students, "teams": teams})
>>> len(card)
25
>>> card.loc[card.indicator_id == "C1.teams", ["numerator", "denominator", "value", "status"]]
   numerator  denominator  value status
0        1.0            1    1.0    met
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.errors import ConfigError
from bltanalytics.load import SURVEY_ITEMS
from bltanalytics.metrics.learning import completed_activities, staff_years
from bltanalytics.metrics.rubric_spec import (
    KEYS,
    REGISTRY,
    ROLLUP_COLUMNS,
    RUBRIC_COLUMNS,
    SCORED_STATUSES,
    TOLERANCE,
    WINDOW_ORDER,
    Characteristic,
    Indicator,
    RubricSpec,
    RubricSpecError,
    RuleKind,
    Tables,
    is_count,
    is_positive,
    is_str,
    is_str_list,
    load_rubric,
    parse_rubric,
    register,
)


def _counts(frame: pd.DataFrame, numerator: pd.Series, by: list[str] | None = None) -> pd.DataFrame:
    """numerator = sum of ``numerator``, denominator = rows, per school-year."""
    by = by or KEYS
    grouped = frame.assign(_num=numerator.astype("float64").to_numpy()).groupby(by)
    out = grouped.agg(numerator=("_num", "sum"), denominator=("_num", "size"))
    return out.reset_index()


def _with_team(frame: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """Add team_type (and school_id, taken from teams) to rows keyed by team_id."""
    team_cols = teams[["team_id", "school_id", "team_type"]].drop_duplicates("team_id")
    return frame.drop(columns=["school_id", "team_type"], errors="ignore").merge(
        team_cols, on="team_id", how="inner"
    )


@register(
    "teams_present",
    tables=("teams",),
    params={"team_types": (is_str_list, "a list of team types")},
    insufficient_exempt=True,
)
def _teams_present(tables: Tables, universe: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """1 of 1 when the school has at least one team of every listed type, else 0 of 1.

    Teams have no school year, so a school gets the same value in every year.
    """
    types = list(ind.params["team_types"])
    teams = tables["teams"]
    present = teams[teams["team_type"].isin(types)].groupby("school_id")["team_type"].nunique()
    has_all = universe["school_id"].map(present).fillna(0).to_numpy() >= len(types)
    return universe[KEYS].assign(numerator=has_all.astype("float64"), denominator=1)


@register(
    "team_steps",
    tables=("team_meetings", "teams"),
    params={
        "team_types": (is_str_list, "a list of team types"),
        "min_steps": (is_count, "a whole number of at least 1"),
    },
)
def _team_steps(tables: Tables, universe: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """Teams of the listed types that met in the year; numerator: those whose meetings that
    year recorded at least ``min_steps`` distinct cycle steps (a meeting without a step adds
    none)."""
    meetings = _with_team(tables["team_meetings"], tables["teams"])
    meetings = meetings[meetings["team_type"].isin(list(ind.params["team_types"]))]
    if "cycle_step" not in meetings.columns:
        meetings = meetings.assign(cycle_step=pd.NA)
    per_team = meetings.groupby([*KEYS, "team_id"])["cycle_step"].nunique().reset_index()
    return _counts(per_team, per_team["cycle_step"] >= ind.params["min_steps"])


#: the last survey table :func:`_latest_window` saw (weakly) and its answer: six survey
#: indicators ask about the same table in a row
_LATEST_WINDOW: dict[str, tuple[weakref.ref, pd.DataFrame]] = {}


def _latest_window(survey: pd.DataFrame) -> pd.DataFrame:
    """Responses of each school's latest survey window (Fall < Winter < Spring) in each year."""
    last = _LATEST_WINDOW.get("last")
    if last is not None and last[0]() is survey:
        return last[1]
    counted = _latest_window_of(survey)
    _LATEST_WINDOW["last"] = (weakref.ref(survey), counted)
    return counted


def _latest_window_of(survey: pd.DataFrame) -> pd.DataFrame:
    if "school_year" not in survey.columns or "window_term" not in survey.columns:
        parts = survey["survey_window"].astype("str").str.strip().str.rsplit(" ", n=1)
        survey = survey.assign(school_year=parts.str[0], window_term=parts.str[1])
    rank = survey["window_term"].map(WINDOW_ORDER).astype("float64").fillna(0.0)
    survey = survey.assign(_rank=rank.to_numpy())
    latest = survey.groupby(KEYS)["_rank"].transform("max")
    return survey[(survey["_rank"] == latest).to_numpy()]


@register(
    "survey_agree",
    tables=("staff_survey",),
    params={"item": (lambda v: v in SURVEY_ITEMS, f"one of {', '.join(SURVEY_ITEMS)}")},
)
def _survey_agree(tables: Tables, universe: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """Respondents with a valid answer in the counted window; numerator: those who agree."""
    item = ind.params["item"]
    survey = tables["staff_survey"]
    if item not in survey.columns:
        return universe[KEYS].assign(numerator=0.0, denominator=0)
    counted = _latest_window(survey)
    answered = counted[counted[item].notna().to_numpy()]
    return _counts(answered, answered[item].astype("boolean").fillna(False))


@register(
    "coached_share",
    tables=("staff", "pd_activities"),
    params={"format": (is_str, "a pd_activities format, e.g. coaching")},
)
def _coached_share(tables: Tables, universe: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """Instructional staff of the school in the year (undated staff rows hold for every year);
    numerator: those with at least one completed activity of the format dated in that year."""
    years = universe["school_year"].unique().tolist()
    members = staff_years(tables["staff"], years)
    members = members[members["instructional"]]
    acts = completed_activities(tables["pd_activities"])
    coached = acts[(acts["format"] == ind.params["format"]).fillna(False).to_numpy()]
    coached = coached[["staff_id", "school_year"]].dropna().drop_duplicates()
    coached = coached.astype("str").assign(_coached=True)
    flagged = members.merge(coached, on=["staff_id", "school_year"], how="left")
    return _counts(flagged, flagged["_coached"].fillna(False).astype(bool))


@register(
    "meetings_shared",
    tables=("team_meetings", "teams"),
    params={
        "team_type": (is_str, "a team type"),
        "flags": (is_str_list, "a list of Y/N columns of team_meetings"),
    },
)
def _meetings_shared(tables: Tables, universe: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """Meetings of teams of the type in the year; numerator: meetings with every flag True (a
    missing flag counts as not shared)."""
    meetings = _with_team(tables["team_meetings"], tables["teams"])
    meetings = meetings[(meetings["team_type"] == ind.params["team_type"]).to_numpy()]
    all_true = np.ones(len(meetings), dtype=bool)
    for flag in ind.params["flags"]:
        column = meetings[flag] if flag in meetings.columns else pd.Series(pd.NA, meetings.index)
        all_true &= column.astype("boolean").fillna(False).to_numpy(dtype=bool)
    return _counts(meetings, pd.Series(all_true, index=meetings.index))


@register(
    "walkthrough_share",
    tables=("walkthroughs",),
    params={"flag": (is_str, "a Y/N column of walkthroughs")},
)
def _walkthrough_share(tables: Tables, universe: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """Walk-throughs in the year with the flag recorded; numerator: those with it True."""
    walks = tables["walkthroughs"]
    flag = walks[ind.params["flag"]].astype("boolean")
    recorded = walks[flag.notna().to_numpy()]
    return _counts(recorded, flag[flag.notna()].astype(bool))


@register(
    "fidelity_mean",
    tables=("fidelity_checks",),
    params={
        "column": (is_str, "a numeric column of fidelity_checks"),
        "scale": (is_positive, "a positive number (100 for percentages)"),
    },
)
def _fidelity_mean(tables: Tables, universe: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """Checks in the year with a value; numerator: sum(value) / scale, so value = mean / scale."""
    checks = tables["fidelity_checks"]
    if "school_id" not in checks.columns and tables.get("teams") is not None:
        checks = _with_team(checks, tables["teams"])
    column = ind.params["column"]
    measured = checks[checks[column].notna().to_numpy()]
    return _counts(measured, measured[column].astype("float64") / ind.params["scale"])


@register("rating", tables=("rubric_ratings",), kind="rated", insufficient_exempt=True)
def _rating(tables: Tables, universe: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """The BLT's rating of this indicator: numerator = rating, denominator = 1.

    Several ratings of one indicator for a school and year: the last row counts.
    """
    ratings = tables["rubric_ratings"]
    mine = ratings[(ratings["indicator_id"] == ind.id).fillna(False).to_numpy()]
    mine = mine[mine["rating"].notna().to_numpy()].drop_duplicates(KEYS, keep="last")
    return mine[KEYS].assign(numerator=mine["rating"].astype("float64").to_numpy(), denominator=1)


def rubric_universe(students: pd.DataFrame | None) -> pd.DataFrame:
    """The school-years scored: every (school_id, school_year) pair found in ``students``.

    >>> import pandas as pd
    >>> s = pd.DataFrame({"school_id": ["B", "A", "A"], "school_year": ["2025-26"] * 3})
    >>> rubric_universe(s).values.tolist()
    [['A', '2025-26'], ['B', '2025-26']]
    """
    if students is None:
        return pd.DataFrame({k: pd.Series(dtype="str") for k in KEYS})
    pairs = students[KEYS].dropna().astype("str").drop_duplicates()
    return pairs.sort_values(KEYS).reset_index(drop=True)


def _thresholds(spec: RubricSpec, config: Config) -> dict[str, float]:
    unknown = sorted(set(config.thresholds) - {i.id for i in spec.indicators})
    if unknown:
        raise ConfigError(
            f"thresholds given for unknown indicator(s) {', '.join(unknown)}; "
            "use ids from rubric.yaml, e.g. C5.fidelity"
        )
    rated = sorted(i.id for i in spec.indicators if i.kind == "rated" and i.id in config.thresholds)
    if rated:
        raise ConfigError(
            f"thresholds given for rated indicator(s) {', '.join(rated)}; "
            "rated indicators use rating_met"
        )
    out = {}
    for ind in spec.indicators:
        base = float(config.rating_met) if ind.kind == "rated" else ind.threshold
        out[ind.id] = float(config.thresholds.get(ind.id, base))
    return out


def _score_indicator(
    tables: Tables, universe: pd.DataFrame, ind: Indicator
) -> tuple[pd.DataFrame, bool]:
    """numerator/denominator of one indicator for every universe row; (frame, tables present)."""
    rule = REGISTRY[ind.rule]
    present = all(tables.get(name) is not None for name in rule.tables)
    frame = universe[KEYS].copy()
    if not present or universe.empty:
        frame["numerator"] = np.nan
        frame["denominator"] = pd.array([pd.NA] * len(frame), dtype="Int64")
        return frame, present
    result = rule.func(tables, universe, ind)
    result = result[KEYS + ["numerator", "denominator"]].astype({k: "str" for k in KEYS})
    frame = frame.merge(result, on=KEYS, how="left")
    frame["numerator"] = frame["numerator"].astype("float64")
    frame["denominator"] = frame["denominator"].astype("Int64")
    if rule.kind == "computed":
        frame["numerator"] = frame["numerator"].fillna(0.0)
        frame["denominator"] = frame["denominator"].fillna(0)
    return frame, present


def score_rubric(
    tables: Tables, config: Config | None = None, spec: RubricSpec | None = None
) -> pd.DataFrame:
    """Score every indicator for every school-year found in ``students`` (``rubric.csv``).

    ``tables`` are the cleaned tables by contract name (``District.tables``); an absent optional
    table is missing or ``None``. One row per indicator, in rubric order, per school and year:
    school_id, school_year, characteristic, indicator_id, kind, numerator, denominator, value,
    threshold, status.

    - computed: value = numerator / denominator (empty when the denominator is 0 or the table is
      absent; then numerator and denominator are 0 and 0, or empty when the table is absent).
      ``C1.teams`` is 1 of 1 or 0 of 1 in every year.
    - rated: numerator = value = rating, denominator = 1; all empty without a rating.
    - threshold: rubric.yaml's, or ``config.thresholds[id]``; rated: ``config.rating_met``.

    >>> import pandas as pd
    >>> students = pd.DataFrame({"student_id": ["1"], "school_id": ["A"],
    ...     "school_year": ["2025-26"], "grade": ["3"]})
    >>> ratings = pd.DataFrame({"school_id": ["A"], "school_year": ["2025-26"],
    ...     "indicator_id": ["C2.hiring"], "rating": pd.array([2], dtype="Int64")})
    >>> card = score_rubric({"students": students, "rubric_ratings": ratings})
    >>> card.loc[card.indicator_id == "C2.hiring", ["value", "threshold", "status"]]
        value  threshold status
    16    2.0        2.0    met
    """
    config = config or Config()
    spec = spec or load_rubric()
    thresholds = _thresholds(spec, config)
    universe = rubric_universe(tables.get("students"))
    parts = []
    for order, ind in enumerate(spec.indicators):  # 25 indicators, each vectorized over schools
        frame, _ = _score_indicator(tables, universe, ind)
        rule = REGISTRY[ind.rule]
        frame["characteristic"] = ind.characteristic
        frame["indicator_id"] = ind.id
        frame["kind"] = rule.kind
        frame["threshold"] = thresholds[ind.id]
        frame["_exempt"] = rule.insufficient_exempt
        frame["_order"] = order
        parts.append(frame)
    if not parts or universe.empty:
        return _empty_rubric()
    card = pd.concat(parts, ignore_index=True)
    den = card["denominator"].astype("float64")
    card["value"] = np.where(den > 0, card["numerator"] / den.where(den > 0), np.nan)
    card["status"] = _status(card, config)
    card = card.sort_values([*KEYS, "_order"], kind="stable")
    card = card.astype({"characteristic": "str", "indicator_id": "str", "kind": "str"})
    return card[RUBRIC_COLUMNS].reset_index(drop=True)


def _status(card: pd.DataFrame, config: Config) -> pd.Series:
    """Vectorized status, checks in contract order."""
    den = card["denominator"].astype("float64").to_numpy()
    value = card["value"].to_numpy(dtype="float64")
    threshold = card["threshold"].to_numpy(dtype="float64")
    rated = (card["kind"] == "rated").to_numpy()
    exempt = card["_exempt"].to_numpy(dtype=bool)
    no_data = np.isnan(den) | (den == 0) | np.isnan(value)
    insufficient = ~exempt & (den >= 1) & (den <= config.insufficient_max)
    met = value >= threshold - TOLERANCE
    approaching = ~rated & (value >= threshold - config.approaching_band - TOLERANCE)
    status = np.select(
        [no_data, insufficient, met, approaching],
        ["no_data", "insufficient_data", "met", "approaching"],
        default="not_met",
    )
    return pd.Series(status, index=card.index, dtype="str")


def _empty_rubric() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in RUBRIC_COLUMNS})
    return frame.astype(
        {
            "numerator": "float64",
            "denominator": "Int64",
            "value": "float64",
            "threshold": "float64",
        }
    )


def rollup(rubric: pd.DataFrame) -> pd.DataFrame:
    """Per school, year and characteristic: indicators met, of how many with data.

    ``n_with_data`` counts indicators that could be judged (status met, approaching or not_met);
    ``insufficient_data`` and ``no_data`` are not "with data". ``n_indicators`` counts all.
    Characteristics keep their order of first appearance in ``rubric``.

    >>> import pandas as pd
    >>> card = pd.DataFrame({"school_id": ["A"] * 3, "school_year": ["2025-26"] * 3,
    ...     "characteristic": ["focus"] * 3, "status": ["met", "not_met", "no_data"]})
    >>> rollup(card)[["n_met", "n_with_data", "n_indicators"]].values.tolist()
    [[1, 2, 3]]
    """
    status = rubric["status"]
    flags = pd.DataFrame(
        {
            "n_met": (status == "met").to_numpy(dtype=bool),
            "n_approaching": (status == "approaching").to_numpy(dtype=bool),
            "n_not_met": (status == "not_met").to_numpy(dtype=bool),
            "n_with_data": status.isin(SCORED_STATUSES).to_numpy(dtype=bool),
            "n_indicators": np.ones(len(rubric), dtype=bool),
        }
    )
    order = pd.Series(
        pd.factorize(rubric["characteristic"])[0], index=rubric.index, name="_order"
    ).to_numpy()
    keyed = pd.concat(
        [rubric[[*KEYS, "characteristic"]].reset_index(drop=True), flags], axis=1
    ).assign(_order=order)
    out = keyed.groupby([*KEYS, "_order", "characteristic"], sort=True).sum().reset_index()
    out = out.astype({c: "int64" for c in ROLLUP_COLUMNS[3:]})
    return out[ROLLUP_COLUMNS].reset_index(drop=True)


__all__ = [
    "REGISTRY",
    "Characteristic",
    "Indicator",
    "RubricSpec",
    "RubricSpecError",
    "RuleKind",
    "load_rubric",
    "parse_rubric",
    "register",
    "rollup",
    "rubric_universe",
    "score_rubric",
]
