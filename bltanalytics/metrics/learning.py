"""Professional learning: participation, blended-learning cycle steps, distributed PD stages.

All three measures count **instructional staff only** (``staff.instructional``), per school and
school year. A staff member listed at two schools counts at both, and their activities count at
both. A ``staff`` row without a school year holds for every school year in play (see
:func:`staff_years`). Activities belong to the school year their date falls in (done by cleaning:
``pd_activities.school_year``), and only ``completed`` activities count.

**Small staffs.** A school-year with fewer than ``Config.staff_min_n`` (default 5) instructional
staff shows its professional-learning counts and rates as suppressed: the ``suppressed`` column is
true and ``n_participating``, ``participation_rate``, ``hours_per_staff``, the ``n_<format>``
counts, ``n_reached`` and ``share_reached`` are empty (the rule goes through
:func:`bltanalytics.metrics.suppression.suppress`, with ``staff_min_n`` as its minimum).

>>> import pandas as pd
>>> staff = pd.DataFrame({"staff_id": ["s1", "s2", "s3"], "school_id": ["A", "A", "A"],
...     "role": ["teacher", "teacher", "principal"],
...     "instructional": pd.array([True, True, False], dtype="boolean"),
...     "school_year": pd.array(["2025-26", None, "2025-26"], dtype="str")})
>>> acts = pd.DataFrame({"staff_id": ["s1", "s3"], "school_year": ["2025-26", "2025-26"],
...     "format": ["coaching", "workshop"], "hours": [2.0, 3.0],
...     "completed": pd.array([True, True], dtype="boolean")})
>>> out = pd_participation(staff, acts, Config(staff_min_n=2))
>>> out[["n_instructional_staff", "n_participating", "participation_rate", "n_coaching"]]
   n_instructional_staff  n_participating  participation_rate  n_coaching
0                      2                1                 0.5           1
>>> pd_participation(staff, acts)[["n_instructional_staff", "n_participating", "suppressed"]]
   n_instructional_staff  n_participating  suppressed
0                      2             <NA>        True
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.metrics.shapes import PD_FORMATS, BlendedCycle, ProfessionalLearning, columns
from bltanalytics.metrics.suppression import suppress

BLENDED_STEPS: int = 10
"""Steps of the blended learning cycle (``pd_activities.cycle_step`` 1-10)."""

PD_STAGES: int = 3
"""Stages of distributed professional development (``pd_activities.stage`` 1-3)."""

FORMAT_STAGES: tuple[str, ...] = ("workshop", "micro_pd", "support_meeting")
"""The distributed-PD format sequence: a workshop, then micro-PD, then a support meeting."""

KEYS = ["school_id", "school_year"]

#: Columns of ``pd.csv``, in order: from its shape (:mod:`bltanalytics.metrics.shapes`).
PARTICIPATION_COLUMNS: list[str] = columns(ProfessionalLearning)
#: Columns of ``blended_cycle.csv`` and ``distributed_pd.csv``: from the shape.
PROGRESS_COLUMNS: list[str] = columns(BlendedCycle)


def small_staff(n_instructional_staff: pd.Series, config: Config | None = None) -> np.ndarray:
    """True where a school-year has too few instructional staff to publish their figures.

    The rule goes through :func:`bltanalytics.metrics.suppression.suppress` (each school-year its
    own
    group, ``staff_min_n`` as the minimum).

    >>> small_staff(pd.Series([3, 5, 0]), Config()).tolist()
    [True, False, True]
    """
    config = config or Config()
    n = pd.Series(n_instructional_staff).fillna(0).astype("int64").to_numpy()
    checked = suppress(
        pd.DataFrame({"row": np.arange(len(n)), "n_tested": n, "n_proficient": 0}),
        min_n=config.staff_min_n,
        family=["row"],
        group="row",
    )
    return checked["suppressed"].to_numpy(dtype=bool) | (n < config.staff_min_n)


def _hide_small(
    out: pd.DataFrame, counts: list[str], rates: list[str], config: Config
) -> pd.DataFrame:
    """Blank the counts and rates of small-staff school-years; add ``suppressed``."""
    hidden = small_staff(out["n_instructional_staff"], config)
    out["suppressed"] = hidden
    for column in counts:
        out[column] = out[column].astype("Int64").mask(hidden)
    for column in rates:
        out[column] = out[column].astype("float64").mask(hidden)
    return out


def _years_of(*columns: pd.Series | None) -> list[str]:
    """Distinct non-missing school years found in the given columns, sorted."""
    found: set[str] = set()
    for column in columns:
        if column is not None:
            found.update(column.dropna().unique().tolist())
    return sorted(found)


def staff_years(staff: pd.DataFrame | None, years: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per school, school year and staff member, with whether they are instructional.

    A row whose ``school_year`` is missing holds for every year in ``years`` (default: every
    year named by some other ``staff`` row). A member listed several times for one school and
    year (two roles, or a dated row and an undated one) appears once, instructional if any of
    their rows is. A missing ``instructional`` counts as not instructional.

    >>> import pandas as pd
    >>> staff = pd.DataFrame({"staff_id": ["s1", "s1"], "school_id": ["A", "B"],
    ...     "role": ["teacher", "teacher"],
    ...     "instructional": pd.array([True, True], dtype="boolean"),
    ...     "school_year": pd.array([None, "2025-26"], dtype="str")})
    >>> staff_years(staff, years=["2024-25", "2025-26"])
      school_id school_year staff_id  instructional
    0         A     2024-25       s1           True
    1         A     2025-26       s1           True
    2         B     2025-26       s1           True
    """
    out_columns = ["school_id", "school_year", "staff_id", "instructional"]
    if staff is None or staff.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in out_columns[:3]}).assign(
            instructional=pd.Series(dtype="bool")
        )
    if "school_year" in staff.columns:
        year = staff["school_year"]
    else:
        year = pd.Series(pd.NA, index=staff.index, dtype="str")
    if "instructional" in staff.columns:
        instructional = staff["instructional"].astype("boolean").fillna(False).astype(bool)
    else:
        instructional = pd.Series(False, index=staff.index)
    base = pd.DataFrame(
        {
            "school_id": staff["school_id"].astype("str"),
            "school_year": year.astype("str"),
            "staff_id": staff["staff_id"].astype("str"),
            "instructional": instructional.to_numpy(),
        }
    )
    year_list = sorted(set(years)) if years is not None else _years_of(base["school_year"])
    dated = base[base["school_year"].notna()]
    undated = base[base["school_year"].isna()].drop(columns="school_year")
    expanded = undated.merge(
        pd.DataFrame({"school_year": pd.Series(year_list, dtype="str")}), how="cross"
    )
    both = pd.concat([dated, expanded[dated.columns]], ignore_index=True)
    both = both[both["school_id"].notna() & both["staff_id"].notna()]
    out = both.groupby(["school_id", "school_year", "staff_id"], as_index=False, sort=True)[
        "instructional"
    ].any()
    return out[out_columns].reset_index(drop=True)


def completed_activities(pd_activities: pd.DataFrame) -> pd.DataFrame:
    """The completed activities that have a staff member and a school year.

    A blank ``completed`` is not completed. A table without a ``completed`` column at all (a
    district that does not track completion) counts every activity as completed.

    >>> import pandas as pd
    >>> acts = pd.DataFrame({"staff_id": ["s1", "s2"], "school_year": ["2025-26"] * 2,
    ...     "completed": pd.array([True, None], dtype="boolean")})
    >>> completed_activities(acts)["staff_id"].tolist()
    ['s1']
    """
    if "completed" in pd_activities.columns:
        done = pd_activities["completed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        acts = pd_activities[done]
    else:
        acts = pd_activities
    return acts[acts["staff_id"].notna() & acts["school_year"].notna()]


def _school_staff_activities(
    members: pd.DataFrame, pd_activities: pd.DataFrame, columns: list[str]
) -> pd.DataFrame:
    """Completed activities joined to every school the member is on staff at that year."""
    acts = completed_activities(pd_activities)
    present = [c for c in columns if c in acts.columns]
    acts = acts[["staff_id", "school_year", *present]].astype(
        {"staff_id": "str", "school_year": "str"}
    )
    return members[["school_id", "school_year", "staff_id"]].merge(
        acts, on=["staff_id", "school_year"], how="inner"
    )


def _staff_base(
    staff: pd.DataFrame | None, pd_activities: pd.DataFrame | None, years: Iterable[str] | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(instructional members, per school-year staff counts) for the PD measures."""
    if years is None:
        years = _years_of(
            None if staff is None or "school_year" not in staff.columns else staff["school_year"],
            None if pd_activities is None else pd_activities["school_year"],
        )
    everyone = staff_years(staff, years)
    members = everyone[everyone["instructional"]]
    base = everyone[KEYS].drop_duplicates()
    counts = members.groupby(KEYS).size().rename("n_instructional_staff").reset_index()
    base = base.merge(counts, on=KEYS, how="left")
    base["n_instructional_staff"] = base["n_instructional_staff"].fillna(0).astype("int64")
    return members, base.sort_values(KEYS).reset_index(drop=True)


def pd_participation(
    staff: pd.DataFrame | None,
    pd_activities: pd.DataFrame | None,
    config: Config | None = None,
    *,
    years: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Professional-learning participation per school and school year (``pd.csv``).

    Rows: every school and school year in which the school has a ``staff`` row (any role);
    undated staff rows hold for ``years`` (default: every year named in ``staff`` or
    ``pd_activities``; the metrics layer passes the years found in ``students``).

    Columns: ``n_instructional_staff`` (distinct instructional staff), ``n_participating``
    (those with at least one completed activity that year), ``participation_rate``
    (``n_participating / n_instructional_staff``, a 0-1 share like the rubric's values; empty when
    there are no instructional staff), ``hours_per_staff`` (hours of those staff's completed
    activities / ``n_instructional_staff``; a missing ``hours`` adds nothing) and ``n_<format>``
    for every format in :data:`PD_FORMATS`: the number of completed activities of that format by
    the school's instructional staff that year. With ``pd_activities`` absent, everything but
    ``n_instructional_staff`` is empty. ``config`` is accepted for a uniform signature (no policy
    number applies to the student side).

    >>> import pandas as pd
    >>> staff = pd.DataFrame({"staff_id": ["s1"], "school_id": ["A"], "role": ["teacher"],
    ...     "instructional": pd.array([True], dtype="boolean"),
    ...     "school_year": pd.array(["2025-26"], dtype="str")})
    >>> pd_participation(staff, None).n_participating.isna().all()
    np.True_
    """
    config = config or Config()
    members, base = _staff_base(staff, pd_activities, years)
    out = base.copy()
    count_columns = ["n_participating", *(f"n_{f}" for f in PD_FORMATS)]
    rates = ["participation_rate", "hours_per_staff"]
    if pd_activities is None:
        for column in count_columns:
            out[column] = pd.Series(pd.NA, index=out.index, dtype="Int64")
        out["participation_rate"] = np.nan
        out["hours_per_staff"] = np.nan
        return _hide_small(out, count_columns, rates, config)[PARTICIPATION_COLUMNS]
    joined = _school_staff_activities(members, pd_activities, ["format", "hours"])
    if "hours" not in joined.columns:
        joined["hours"] = np.nan
    per_school = joined.groupby(KEYS).agg(
        n_participating=("staff_id", "nunique"), hours=("hours", "sum")
    )
    formats = (
        joined.groupby([*KEYS, "format"]).size().unstack("format", fill_value=0)
        if not joined.empty and "format" in joined.columns
        else pd.DataFrame(index=per_school.index)
    )
    formats = formats.reindex(columns=list(PD_FORMATS), fill_value=0)
    formats.columns = [f"n_{f}" for f in PD_FORMATS]
    out = out.merge(per_school.join(formats).reset_index(), on=KEYS, how="left")
    for column in count_columns:
        out[column] = out[column].fillna(0).astype("int64")
    staff_n = out["n_instructional_staff"].where(out["n_instructional_staff"] > 0)
    out["participation_rate"] = (out["n_participating"] / staff_n).astype("float64")
    out["hours_per_staff"] = (out["hours"].fillna(0.0) / staff_n).astype("float64")
    out = _hide_small(out, count_columns, rates, config)
    return out[PARTICIPATION_COLUMNS].reset_index(drop=True)


def _funnel(
    reached: pd.DataFrame,
    base: pd.DataFrame,
    progression: str,
    steps: list[str],
    config: Config | None = None,
) -> pd.DataFrame:
    """Staff reaching each step: a member reaches every step up to their furthest one.

    ``reached`` holds school_id, school_year, staff_id, level (1-based position in ``steps``).
    """
    n_steps = len(steps)
    grid = base.merge(
        pd.DataFrame({"step_order": np.arange(1, n_steps + 1, dtype="int64")}), how="cross"
    )
    furthest = reached.groupby([*KEYS, "staff_id"])["level"].max().reset_index()
    if furthest.empty:
        out = grid.assign(n_reached=0)
    else:
        counts = furthest.groupby([*KEYS, "level"]).size().unstack("level", fill_value=0)
        counts = counts.reindex(columns=range(1, n_steps + 1), fill_value=0)
        # reverse cumulative sum: staff whose furthest step is k or later
        at_least = counts.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1]
        long = at_least.stack().rename("n_reached").reset_index()
        long = long.rename(columns={"level": "step_order"}).astype({"step_order": "int64"})
        out = grid.merge(long, on=[*KEYS, "step_order"], how="left")
    out["n_reached"] = out["n_reached"].fillna(0).astype("int64")
    staff_n = out["n_instructional_staff"].where(out["n_instructional_staff"] > 0)
    out["share_reached"] = (out["n_reached"] / staff_n).astype("float64")
    out["progression"] = progression
    out["step"] = pd.Series(np.asarray(steps, dtype=object)[out["step_order"] - 1], dtype="str")
    out = _hide_small(out, ["n_reached"], ["share_reached"], config or Config())
    return out[PROGRESS_COLUMNS]


def _empty_progress() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in PROGRESS_COLUMNS})
    return frame.astype(
        {
            "step_order": "int64",
            "n_instructional_staff": "int64",
            "n_reached": "Int64",
            "share_reached": "float64",
            "suppressed": "bool",
        }
    )


def _has_data(pd_activities: pd.DataFrame | None, column: str) -> bool:
    return (
        pd_activities is not None
        and column in pd_activities.columns
        and bool(completed_activities(pd_activities)[column].notna().any())
    )


def blended_cycle_progress(
    staff: pd.DataFrame | None,
    pd_activities: pd.DataFrame | None,
    config: Config | None = None,
    *,
    years: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Share of instructional staff who reached each of the 10 blended-learning cycle steps.

    A member *reaches* step k in a year when one of their completed activities that year is at
    step k or beyond (so the counts never rise from one step to the next). Long format for
    charts: one row per school, year and step (``progression = "blended_cycle"``, ``step`` =
    ``"1"``..``"10"``), with ``n_instructional_staff``, ``n_reached`` and ``share_reached``
    (0-1). Empty when no completed activity in the district has a ``cycle_step``.

    >>> import pandas as pd
    >>> staff = pd.DataFrame({"staff_id": ["s1", "s2"], "school_id": ["A", "A"],
    ...     "role": ["teacher", "teacher"],
    ...     "instructional": pd.array([True, True], dtype="boolean"),
    ...     "school_year": pd.array(["2025-26", "2025-26"], dtype="str")})
    >>> acts = pd.DataFrame({"staff_id": ["s1"], "school_year": ["2025-26"],
    ...     "format": ["online_course"], "cycle_step": pd.array([3], dtype="Int64"),
    ...     "completed": pd.array([True], dtype="boolean")})
    >>> blended_cycle_progress(staff, acts, Config(staff_min_n=1)).n_reached.tolist()
    [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    """
    config = config or Config()
    if not _has_data(pd_activities, "cycle_step"):
        return _empty_progress()
    members, base = _staff_base(staff, pd_activities, years)
    joined = _school_staff_activities(members, pd_activities, ["cycle_step"])
    joined = joined[joined["cycle_step"].notna()]
    level = joined["cycle_step"].astype("int64").clip(1, BLENDED_STEPS)
    reached = joined[[*KEYS, "staff_id"]].assign(level=level.to_numpy())
    steps = [str(k) for k in range(1, BLENDED_STEPS + 1)]
    return _funnel(reached, base, "blended_cycle", steps, config).reset_index(drop=True)


def distributed_pd_progress(
    staff: pd.DataFrame | None,
    pd_activities: pd.DataFrame | None,
    config: Config | None = None,
    *,
    years: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Instructional staff reaching each stage of distributed professional development.

    Two progressions, long format, one row per school, year, progression and step:

    - ``progression = "stage"``, ``step`` ``"1"``, ``"2"``, ``"3"``: reached when a completed
      activity that year has ``stage`` at that stage or beyond (only when some completed activity
      in the district has a ``stage``);
    - ``progression = "format"``, ``step`` ``workshop`` -> ``micro_pd`` -> ``support_meeting``:
      reached when a completed activity that year is of that format or a later one in the
      sequence.

    Columns as :func:`blended_cycle_progress`. Empty when ``pd_activities`` is absent.

    >>> import pandas as pd
    >>> staff = pd.DataFrame({"staff_id": ["s1"], "school_id": ["A"], "role": ["teacher"],
    ...     "instructional": pd.array([True], dtype="boolean"),
    ...     "school_year": pd.array(["2025-26"], dtype="str")})
    >>> acts = pd.DataFrame({"staff_id": ["s1"], "school_year": ["2025-26"],
    ...     "format": ["micro_pd"], "stage": pd.array([2], dtype="Int64"),
    ...     "completed": pd.array([True], dtype="boolean")})
    >>> out = distributed_pd_progress(staff, acts, Config(staff_min_n=1))
    >>> out[["progression", "step", "n_reached"]].values.tolist()
    [['format', 'workshop', 1], ['format', 'micro_pd', 1], ['format', 'support_meeting', 0], \
['stage', '1', 1], ['stage', '2', 1], ['stage', '3', 0]]
    """
    config = config or Config()
    if pd_activities is None:
        return _empty_progress()
    members, base = _staff_base(staff, pd_activities, years)
    parts = []
    if _has_data(pd_activities, "stage"):
        joined = _school_staff_activities(members, pd_activities, ["stage"])
        joined = joined[joined["stage"].notna()]
        level = joined["stage"].astype("int64").clip(1, PD_STAGES)
        reached = joined[[*KEYS, "staff_id"]].assign(level=level.to_numpy())
        stages = [str(k) for k in range(1, PD_STAGES + 1)]
        parts.append(_funnel(reached, base, "stage", stages, config))
    if "format" in pd_activities.columns:
        joined = _school_staff_activities(members, pd_activities, ["format"])
        order = {name: k for k, name in enumerate(FORMAT_STAGES, start=1)}
        level = joined["format"].map(order)
        joined = joined.assign(level=level)[level.notna().to_numpy()]
        reached = joined[[*KEYS, "staff_id", "level"]].astype({"level": "int64"})
        parts.append(_funnel(reached, base, "format", list(FORMAT_STAGES), config))
    if not parts:
        return _empty_progress()
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values([*KEYS, "progression", "step_order"], kind="stable").reset_index(
        drop=True
    )
