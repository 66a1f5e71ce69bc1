"""The privacy audit: can a hidden figure be worked out from what the export publishes?

The data contract (section 2) states the protection test. An attacker reads an achievement
table *as published* and knows the rules: the groups of a dimension add up to All Students in
each grade, the grade ``All`` row of a group adds up that group over the grades, a ``min_n``
group has 1 to ``min_n - 1`` students (a group with nobody tested has no row), any other
suppressed group has at least ``min_n``, ``0 <= n_proficient <= n_tested``, and a ``≥95%`` /
``≤5%`` display means ``n_proficient >= 0.95 n_tested`` / ``<= 0.05 n_tested``.

For every suppressed group the audit finds the smallest and largest ``n_tested`` consistent with
all of that (integral counts), and whether ``n_proficient`` is forced to 0 or to ``n_tested``.
A group is *protected* when the two ends differ by at least ``Config.protection`` and
``n_proficient`` is forced to neither.

Every school, year, term and subject is a *block*: one small linear programme (HiGHS), with the
suppressed counts as unknowns. Blocks are solved many at a time (one block-diagonal programme
whose objective is the sum of one objective per block), and every solution is a feasible point:
points found along the way prove most groups protected without a programme of their own.

>>> import pandas as pd
>>> rows = [("3", "all", "All Students", 30, 12), ("3", "sex", "F", 12, 6),
...         ("3", "sex", "M", 15, 5), ("3", "sex", "X", 3, 1)]
>>> a = pd.DataFrame([("01", "2025-26", "Spring", "Math", *r) for r in rows] +
...                  [("01", "2025-26", "Spring", "Math", "All", *r[1:]) for r in rows],
...     columns=["school_id", "school_year", "term", "subject", "grade", "dimension",
...              "group", "n_tested", "n_proficient"])
>>> from bltanalytics.metrics.suppression import suppress
>>> result = audit(suppress(a))                    # X is small, F hides with it: F + X = 15
>>> result.groups[["grade", "group", "reason", "n_min", "n_max", "p_forced", "protected"]]
  grade group         reason  n_min  n_max p_forced  protected
0     3     F  complementary     10     14     none       True
1     3     X          min_n      1      5     none       True
2   All     F  complementary     10     14     none       True
3   All     X          min_n      1      5     none       True
>>> result.protected
True
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.metrics.audit_model import BLOCK, NEEDED, Model, empty_groups
from bltanalytics.metrics.blocks import layout
from bltanalytics.metrics.certify import certify
from bltanalytics.metrics.suppression import FAMILY

#: the scale-score file read beside ``achievement.csv``
SCALE_FILE = "scale_scores.csv"


@dataclass(frozen=True)
class AuditResult:
    """What the audit found.

    ``groups``: one row per suppressed group (:data:`GROUP_COLUMNS`). ``n_min``/``n_max``: the
    attacker's interval for ``n_tested``; ``bound`` says how it was found: ``exact`` (solved),
    ``inner`` (two consistent tables with these counts were found, so the attacker cannot narrow
    it further; the true interval may be wider) or ``outer`` (the attacker knows at least this
    much, which already fails the test). ``p_forced``: ``zero``, ``all`` or ``none``.
    ``coded_exact``: coded (``≥95%``/``≤5%``) groups whose exact ``n_proficient`` is
    published, which the contract forbids in shared exports.
    """

    groups: pd.DataFrame
    protection: int
    coded_exact: int = 0
    #: the audit of ``scale_scores.csv`` read beside it (:func:`audit_scale`), when there is one
    scale: AuditResult | None = None

    @property
    def n_suppressed(self) -> int:
        return len(self.groups)

    @property
    def n_below_protection(self) -> int:
        return int((self.groups["n_max"] - self.groups["n_min"] < self.protection).sum())

    @property
    def n_attribute_disclosures(self) -> int:
        return int((self.groups["p_forced"] != "none").sum())

    @property
    def protected(self) -> bool:
        own = bool(self.groups["protected"].all()) and self.coded_exact == 0
        return own and (self.scale is None or self.scale.protected)

    def worst(self, k: int = 10) -> pd.DataFrame:
        """The ``k`` least protected groups: narrowest interval first, disclosures next."""
        g = self.groups[~self.groups["protected"]]
        width = g["n_max"] - g["n_min"]
        order = np.lexsort(((g["p_forced"] == "none").to_numpy(), width.to_numpy()))
        return g.iloc[order[:k]].reset_index(drop=True)

    def summary(self) -> str:
        """A few plain lines: counts and the worst examples. Never a student row."""
        lines = [
            f"suppressed groups: {self.n_suppressed:,}",
            f"below the protection level (interval narrower than {self.protection}): "
            f"{self.n_below_protection:,}",
            f"attribute disclosures (n_proficient forced to 0 or to n_tested): "
            f"{self.n_attribute_disclosures:,}",
        ]
        if self.coded_exact:
            lines.append(
                f"coded groups (≥95%/≤5%) publishing their exact n_proficient: {self.coded_exact:,}"
            )
        if self.scale is not None:
            scale = self.scale
            lines.append(
                f"scale_scores.csv: {scale.n_suppressed:,} suppressed groups checked where it "
                f"differs from achievement, {scale.n_below_protection:,} below the protection "
                "level"
            )
        if self.protected:
            lines.append("protected: no hidden figure can be worked out from the export")
            return "\n".join(lines)
        lines.append("worst examples (school, year, term, subject, grade, dimension, group):")
        worst = self.worst()
        if self.scale is not None:
            worst = pd.concat([worst, self.scale.worst()], ignore_index=True)
        for r in worst.itertuples(index=False):
            interval = (
                f"n_tested exactly {r.n_min}"
                if r.n_min == r.n_max
                else f"n_tested in {r.n_min}..{r.n_max}"
            )
            forced = {"zero": "; none proficient", "all": "; all proficient"}.get(r.p_forced, "")
            lines.append(
                f"  {r.school_id}, {r.school_year}, {r.term}, {r.subject}, grade {r.grade}, "
                f"{r.dimension}, {r.group}: {interval}{forced}"
            )
        return "\n".join(lines)


def audit(
    achievement: pd.DataFrame,
    config: Config | None = None,
    *,
    workers: int | None = None,
    start: dict | None = None,
    counts: dict | None = None,
) -> AuditResult:
    """Audit an achievement table *as published* (suppressed counts empty or ignored).

    ``achievement`` has the columns of ``achievement.csv`` (at least :data:`NEEDED`, plus
    ``suppression_reason`` and ``display`` when present). Returns an :class:`AuditResult`.
    ``workers``: processes for the programmes (default: 2 when there are many blocks).
    ``start``: a consistent table known to the caller and what moves from it proved
    (:meth:`bltanalytics.metrics.audit_model.Model.build`; the suppression passes the true
    counts): the programmes then look only at what it leaves unproved. ``counts``: the true
    ``n_tested`` and ``n_proficient`` of every row, when the caller has just counted them
    (``achievement(counts_out=...)``; ``bltanalytics metrics`` does): the moves start from
    that table instead of one found by a programme per chunk. The verdict is the same either
    way; only the work differs.

    >>> import pandas as pd
    >>> a = pd.DataFrame({"school_id": "01", "school_year": "2025-26", "term": "Spring",
    ...     "subject": "Math", "grade": ["3", "3", "3"], "dimension": ["all", "sex", "sex"],
    ...     "group": ["All Students", "F", "M"], "n_tested": [20, 15, None],
    ...     "n_proficient": [10, 9, None], "suppressed": [False, False, True],
    ...     "suppression_reason": [None, None, "min_n"]})
    >>> audit(a).groups[["group", "n_min", "n_max", "protected"]]   # 20 - 15 = 5
      group  n_min  n_max  protected
    0     M      5      5      False
    """
    config = config or Config()
    model = Model.build(achievement, config, start)
    if model.n_cells == 0:
        return AuditResult(empty_groups(), config.protection, model.coded_exact)
    if start is None:
        # one consistent table from a programme, then moves from it (as the suppression does
        # from the true table): the programmes that follow look only at what moves leave open
        a = achievement.reset_index(drop=True)
        model.attach(moves_from(a, model, config, workers, counts=counts))
    verdict = model.solve(workers=workers)
    return AuditResult(verdict, config.protection, model.coded_exact)


def audit_scale(
    scale: pd.DataFrame,
    config: Config | None = None,
    *,
    achievement: pd.DataFrame | None = None,
    workers: int | None = None,
) -> AuditResult:
    """Audit a ``scale_scores`` table *as published*: its ``n_tested`` (students with a scale
    score) read the way :func:`audit` reads achievement's (the same lines, the same rule), with
    no attribute test, since no proficient count is published there (every ``n_proficient`` is
    an unknown, so none can be forced).

    ``achievement``: the achievement table published with it. A block (school, year, term,
    subject) whose rows publish the same ``n_tested`` and hide the same groups in both tables
    sets the attacker the same system of counts, which :func:`audit` checks there: only the
    other blocks are solved again.

    >>> import pandas as pd
    >>> t = pd.DataFrame({"school_id": "01", "school_year": "2025-26", "term": "Spring",
    ...     "subject": "Math", "grade": "3", "dimension": ["all", "sex", "sex"],
    ...     "group": ["All Students", "F", "M"], "n_tested": [20, 15, None],
    ...     "suppressed": [False, False, True], "suppression_reason": [None, None, "min_n"]})
    >>> audit_scale(t).groups[["group", "n_min", "n_max", "p_forced", "protected"]]
      group  n_min  n_max p_forced  protected
    0     M      5      5     none      False
    """
    if achievement is not None:
        scale = scale[_differing_blocks(scale, achievement)]
    counts = scale.assign(n_proficient=np.nan)
    counts = counts.drop(
        columns=[c for c in ("display", "pct_proficient", "gap_pp") if c in counts]
    )
    return audit(counts, config, workers=workers)


def _differing_blocks(scale: pd.DataFrame, achievement: pd.DataFrame) -> np.ndarray:
    """For each scale row: does its block publish other counts or hide other groups than
    achievement does?"""
    keys = list(NEEDED[:7])
    shown = ["n_tested", "suppressed"]

    def published(table: pd.DataFrame) -> pd.DataFrame:
        out = table[keys].astype("str")
        out["n_tested"] = pd.to_numeric(table["n_tested"]).to_numpy(dtype=float, na_value=-1.0)
        out["suppressed"] = table["suppressed"].astype("str").str.lower().isin(["true", "1"])
        return out

    both = published(scale).merge(published(achievement), on=keys, how="outer", indicator=True)
    same = (both["_merge"] == "both").to_numpy().copy()
    for column in shown:
        same &= (both[f"{column}_x"] == both[f"{column}_y"]).fillna(False).to_numpy(dtype=bool)
    block = list(BLOCK)
    differing = both.loc[~same, block].drop_duplicates()
    return (
        scale[block].astype("str").merge(differing, on=block, how="left", indicator=True)["_merge"]
        == "both"
    ).to_numpy()


def audit_export(
    achievement: pd.DataFrame,
    scale_scores: pd.DataFrame | None = None,
    config: Config | None = None,
    *,
    workers: int | None = None,
    counts: dict | None = None,
) -> AuditResult:
    """:func:`audit` of ``achievement`` with, when given, :func:`audit_scale` of the
    ``scale_scores`` published beside it (the result's ``scale``). ``counts``: see
    :func:`audit`."""
    result = audit(achievement, config, workers=workers, counts=counts)
    if scale_scores is None:
        return result
    scale = audit_scale(scale_scores, config, achievement=achievement, workers=workers)
    return replace(result, scale=scale)


def moves_from(
    a: pd.DataFrame, model: Model, config: Config, workers=None, counts: dict | None = None
) -> dict:
    """A consistent table of ``a`` (``counts``, the true one, when given; else one programme
    per chunk) and what moves from it prove (:func:`bltanalytics.metrics.certify.certify`),
    as :meth:`Model.attach` takes them. Blocks whose programme's solution is not whole get no
    claim."""
    if counts is not None:
        n = np.asarray(counts["n_tested"], dtype=float)
        p = np.asarray(counts["n_proficient"], dtype=float)
        if n.shape != (len(a),) or p.shape != (len(a),):
            raise ValueError(f"counts for {n.shape[0]:,} rows given for a table of {len(a):,}")
    else:
        x = model.feasible(workers)
        n, p = model.row_n.copy(), model.row_p.copy()
        of_n = model.var_kind == 0
        n[model.var_row[of_n]] = x[of_n]
        p[model.var_row[~of_n]] = x[~of_n]
    rows = len(a)
    hidden = np.zeros(rows, dtype=bool)
    hidden[model.cells["_row"].to_numpy()] = True
    block = pd.MultiIndex.from_frame(a[list(BLOCK)].astype("str")).factorize()[0]
    known = ~(np.isnan(n) | np.isnan(p))
    whole = np.bincount(block, weights=~known) == 0
    busy = np.bincount(block, weights=hidden) > 0
    use = np.flatnonzero((whole & busy)[block])
    start = {
        "n": np.where(known, n, np.nan),
        "p": np.where(known, p, np.nan),
        "n_lo": np.full(rows, np.inf),
        "n_hi": np.full(rows, -np.inf),
        "p_open": np.zeros(rows, dtype=bool),
        "q_open": np.zeros(rows, dtype=bool),
    }
    if not use.size:
        return start
    part = a.iloc[use]
    try:
        grid, flat = layout(
            part,
            list(FAMILY),
            "group",
            True,
            n[use].astype(np.int64),
            p[use].astype(np.int64),
            config.min_n,
            config.top_code,
            config.bottom_code,
        )
    except BltError:  # not laid out as achievement() writes it: the programmes alone
        return start
    dense = np.zeros(grid.n.size, dtype=bool)
    dense[flat] = hidden[use]
    cert = certify(grid, dense.reshape(grid.n.shape), config.protection, workers)
    for key in ("n_lo", "n_hi", "p_open", "q_open"):
        start[key][use] = getattr(cert, key).reshape(-1)[flat]
    return start


def export_file(path: str | Path) -> Path:
    """The achievement file of an export folder, or of a reports folder's ``_metrics``."""
    path = Path(path)
    if path.is_file():
        return path
    for folder in (path, path / "_metrics"):
        if (folder / "achievement.csv").is_file():
            return folder / "achievement.csv"
    if not path.exists():
        raise BltError(f"{path} does not exist")
    raise BltError(
        f"{path} is not a metrics export: {path / 'achievement.csv'} (or "
        f"{path / '_metrics' / 'achievement.csv'}) is missing; write one with "
        f"`bltanalytics metrics DISTRICT_FOLDER --out {path}`"
    )


def read_published(path: str | Path, needed=NEEDED) -> pd.DataFrame:
    """Read ``achievement.csv`` (or a file named by ``path``) as an attacker would: text ids,
    numbers where given. ``needed``: the columns it must have."""
    csv = export_file(path)
    try:
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False, na_values=[""], engine="pyarrow")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise BltError(f"{csv} cannot be read as CSV: {exc}") from None
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise BltError(
            f"{csv} is not a {csv.stem} export: it lacks the column(s) {', '.join(missing)}"
        )
    return frame


def audit_folder(
    path: str | Path, config: Config | None = None, *, workers: int | None = None
) -> AuditResult:
    """Audit the export in ``path`` (a metrics export, or a reports folder's ``_metrics``):
    ``achievement.csv``, and ``scale_scores.csv`` beside it when there is one
    (:func:`audit_scale`, the result's ``scale``)."""
    csv = export_file(path)
    scale_csv = csv.with_name(SCALE_FILE)
    scale = None
    if scale_csv.is_file():
        scale = read_published(scale_csv, [c for c in NEEDED if c != "n_proficient"])
    return audit_export(read_published(csv), scale, config, workers=workers)


class AuditFailure(BltError):
    """An export that fails the privacy audit; its message is the audit summary and advice."""

    def __init__(self, result: AuditResult, where: str | Path):
        self.result = result
        super().__init__(
            f"privacy audit FAILED for {where}: hidden figures can be worked out from it.\n"
            f"{result.summary()}\n"
            f"Do not share these files. `bltanalytics audit {where}` lists the groups; the "
            "suppression did not protect them (see docs/audit.md) "
            "and this should be reported as a bug of bltanalytics."
        )


def require_protected(result: AuditResult, where: str | Path) -> AuditResult:
    """Raise :class:`AuditFailure` unless ``result`` is protected; return it otherwise."""
    if not result.protected:
        raise AuditFailure(result, where)
    return result
