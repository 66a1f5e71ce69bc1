"""Achievement rows made ready to show: labels, bar positions, gaps and their rank, notes.

:func:`achievement_view` is what every chart, table and sentence about student groups reads
(reports, the explorer, the presenter), so a figure reads the same wherever it appears.

>>> from bltanalytics.config import Config
>>> rows = pd.DataFrame({"school_id": "A", "school_year": "2025-26", "term": "Spring",
...     "subject": "ELA", "grade": "All", "dimension": ["all", "sex", "sex", "sex"],
...     "group": ["All Students", "F", "M", "X"], "n_tested": pd.array([42, 20, 20, None], "Int64"),
...     "pct_proficient": [60.25, None, 23.5, None], "suppressed": [False, False, False, True],
...     "suppression_reason": [None, None, None, "min_n"],
...     "display": ["60%", "≥95%", "24%", "*"], "gap_pp": [0.0, None, -36.75, None]})
>>> view = achievement_view(rows, Config())
>>> view[["group_label", "plot", "gap_label", "gap_rank", "label"]]
    group_label   plot   gap_label  gap_rank            label
0  All Students  60.25                   NaN              60%
1        Female  95.00  +34 to +40     34.75             ≥95%
2          Male  23.50         -37    -36.75              24%
3    Non-binary    NaN           *       NaN  * fewer than 10
>>> largest_gaps(view, 1)["group_label"].tolist()
['Male']
"""

from __future__ import annotations

import pandas as pd

from bltanalytics.config import Config
from bltanalytics.present.codes import difference, plot_values
from bltanalytics.present.labels import NOT_REPORTED, dimension_labels, group_labels
from bltanalytics.present.notes import reason_notes
from bltanalytics.present.words import SUPPRESSED_MARK

#: What the district column shows where no school publishes the group exactly.
NONE_SHOWN = "none shown"
#: What it shows where the only school publishing the group exactly is this one.
THIS_SCHOOL_ONLY = "this school only"
#: The columns that name one family of groups (all but the dimension and group).
CELL = ["school_id", "school_year", "term", "subject", "grade"]


def achievement_view(rows: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Achievement rows plus what a reader sees of each.

    ``rows``: achievement rows of whole families (each family's All Students row included).
    Adds ``dimension_label``, ``group_label``, ``tested`` (count or ``*``), ``label`` (the
    figure as shown, or why it is hidden in a chart's few words), ``note`` (why it is hidden;
    empty when shown), ``plot`` (bar position, held at a code; empty where hidden), ``all_plot``
    (All Students' bar position), ``gap_label`` (signed whole points, the range a coded gap lies in,
    ``*`` where hidden, empty on All Students) and ``gap_rank`` (points to rank gaps by: the end
    of the range nearest zero; empty where no gap is shown).
    """
    all_rows = rows.loc[rows["dimension"] == "all", [*CELL, "pct_proficient", "display"]]
    all_rows = all_rows.rename(columns={"pct_proficient": "all_pct", "display": "all_display"})
    out = rows.merge(all_rows, on=CELL, how="left")
    suppressed = out["suppressed"].astype(bool)
    is_all = (out["dimension"] == "all").to_numpy()
    gap_label, gap_rank = difference(
        out["all_pct"], out["all_display"], out["pct_proficient"], out["display"]
    )
    gap_label = gap_label.where(~suppressed, SUPPRESSED_MARK).where(~is_all, "")
    gap_rank = gap_rank.where(~suppressed & ~is_all)
    tested = out["n_tested"].astype("Int64").astype("str").where(~suppressed, SUPPRESSED_MARK)
    note = reason_notes(out["suppression_reason"], config).where(suppressed, "")
    chart_note = reason_notes(out["suppression_reason"], config, chart=True).where(suppressed, "")
    return out.assign(
        dimension_label=dimension_labels(out["dimension"]),
        group_label=group_labels(out["dimension"], out["group"]),
        tested=tested.fillna(SUPPRESSED_MARK).astype("str"),
        label=out["display"].where(~suppressed, chart_note).astype("str"),
        note=note,
        plot=plot_values(out["pct_proficient"], out["display"]).where(~suppressed),
        all_plot=plot_values(out["all_pct"], out["all_display"]),
        gap_label=gap_label.fillna("").astype("str"),
        gap_rank=gap_rank.astype("float64"),
    )


def largest_gaps(view: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The ``n`` shown groups furthest below All Students, ranked by what is shown.

    ``view``: an :func:`achievement_view`. A coded gap ranks by the end of its range nearest
    zero, never by the exact value its label hides; ``Not reported`` is left out; ties keep
    the view's order.
    """
    below = view[
        (
            view["gap_rank"].notna()
            & (view["gap_rank"] < 0)
            & (view["dimension"] != "all")
            & (view["group"] != NOT_REPORTED)
        ).to_numpy(dtype=bool)
    ]
    return below.sort_values("gap_rank", kind="stable").head(n).reset_index(drop=True)


def with_district(view: pd.DataFrame, district: pd.DataFrame) -> pd.DataFrame:
    """An :func:`achievement_view` with the district's figure for each group beside it.

    ``district``: :func:`bltanalytics.metrics.comparison.district_achievement` rows (built
    from published school figures only). Adds ``district_display``: the district's figure as
    shown, with the count of schools it covers when some schools with the group are left out
    (``"55% (3 of 4 schools)"``); ``"none shown"`` where no school publishes the group exactly,
    ``"this school only"`` where the figure would be the school's own. ``district_gap_label``:
    the group minus the district in whole points as shown (a range beside a coded figure),
    ``*`` where the group is hidden, empty where there is no other school to compare with.

    >>> from bltanalytics.config import Config
    >>> rows = pd.DataFrame({"school_id": "A", "school_year": "2025-26", "term": "Spring",
    ...     "subject": "ELA", "grade": "All", "dimension": ["all", "sex"],
    ...     "group": ["All Students", "F"], "n_tested": pd.array([42, 20], "Int64"),
    ...     "pct_proficient": [60.0, None], "suppressed": [False, False],
    ...     "suppression_reason": [None, None], "display": ["60%", "≥95%"],
    ...     "gap_pp": [0.0, None]})
    >>> district = pd.DataFrame({"school_year": "2025-26", "term": "Spring", "subject": "ELA",
    ...     "grade": "All", "dimension": ["all"], "group": ["All Students"], "n_schools": [3],
    ...     "of_schools": [4], "n_tested": [400], "n_proficient": [220], "pct_proficient": [55.0],
    ...     "display": ["55%"]})
    >>> out = with_district(achievement_view(rows, Config()), district)
    >>> out[["group_label", "display", "district_display"]]
        group_label display      district_display
    0  All Students     60%  55% (3 of 4 schools)
    1        Female    ≥95%            none shown
    >>> out["district_gap_label"].tolist()
    ['+5', '']
    """
    keys = ["school_year", "term", "subject", "grade", "dimension", "group"]
    d = district[[*keys, "n_schools", "of_schools", "pct_proficient", "display"]].rename(
        columns={"pct_proficient": "district_pct", "display": "district_display"}
    )
    out = view.merge(d, on=keys, how="left")
    n, of = out["n_schools"].fillna(0), out["of_schools"].fillna(0)
    # the school's own exact figure is the whole district figure: nothing to compare with
    alone = (n == 1) & ~out["suppressed"].astype(bool) & out["pct_proficient"].notna()
    shown = out["district_display"].where(
        n == of, out["district_display"] + " (" + plural_counts(n, of) + ")"
    )
    shown = shown.where(~alone, THIS_SCHOOL_ONLY).fillna(NONE_SHOWN)
    label, _ = difference(
        out["district_pct"], out["district_display"], out["pct_proficient"], out["display"]
    )
    label = label.where(~alone, "").where(~out["suppressed"].astype(bool), SUPPRESSED_MARK)
    return out.drop(columns=["n_schools", "of_schools", "district_pct"]).assign(
        district_display=shown.astype("str"), district_gap_label=label.astype("str")
    )


def plural_counts(n: pd.Series, of: pd.Series) -> pd.Series:
    """``"3 of 4 schools"`` for each pair of counts.

    >>> plural_counts(pd.Series([1.0, 3.0]), pd.Series([2.0, 4.0])).tolist()
    ['1 of 2 schools', '3 of 4 schools']
    """
    return n.astype("int64").astype("str") + " of " + of.astype("int64").astype("str") + " schools"


def group_table(view: pd.DataFrame) -> pd.DataFrame:
    """The table beside a group chart: group, tested, proficient, gap, and why a figure is hidden.

    Hidden groups show ``*`` in every figure column, never a number.
    """
    return pd.DataFrame(
        {
            "Student group": view["group_label"].to_numpy(),
            "Students tested": view["tested"].to_numpy(),
            "Percent proficient": view["display"].astype("str").to_numpy(),
            "Gap to All Students (points)": view["gap_label"].to_numpy(),
            "Note": view["note"].to_numpy(),
        }
    )
