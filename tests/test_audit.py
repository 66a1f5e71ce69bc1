"""The privacy audit: hand-made exports where a hidden figure is recoverable, and ones where not.

Each export is one school, year, term and subject, written the way ``achievement.csv`` is:
published rows carry their counts, suppressed rows none, coded rows (``≥95%``/``≤5%``) their
display and ``n_tested`` only (unless a test publishes the exact count on purpose).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bltanalytics.cli import app
from bltanalytics.config import Config
from bltanalytics.errors import BltError
from bltanalytics.metrics.audit import AuditFailure, audit, audit_folder, require_protected
from bltanalytics.metrics.shapes import ScaleScores, empty
from bltanalytics.metrics.suppression import display_labels

KEY = {"school_id": "0101", "school_year": "2025-26", "term": "Spring", "subject": "Math"}


def export(counts, hidden, *, exact_coded=False, config=None):
    """An achievement table as published.

    ``counts``: {(grade, dimension, group): (n_tested, n_proficient)} (the true figures);
    ``hidden``: {(grade, dimension, group): reason}. The true counts of hidden rows are not
    in the result.
    """
    config = config or Config()
    rows = []
    for (grade, dimension, group), (n, p) in counts.items():
        reason = hidden.get((grade, dimension, group))
        pct = 100.0 * p / n
        shown = display_labels(
            np.array([pct]),
            np.array([reason is not None]),
            top_code=config.top_code,
            bottom_code=config.bottom_code,
        )[0]
        coded = shown in (f"≥{config.top_code:g}%", f"≤{config.bottom_code:g}%")
        rows.append(
            {
                **KEY,
                "grade": grade,
                "dimension": dimension,
                "group": group,
                "n_tested": None if reason else n,
                "n_proficient": None if reason or (coded and not exact_coded) else p,
                "pct_proficient": None if reason or (coded and not exact_coded) else pct,
                "suppressed": reason is not None,
                "suppression_reason": reason,
                "display": shown,
                "gap_pp": None,
            }
        )
    frame = pd.DataFrame(rows)
    return frame.astype(
        {
            "n_tested": "Int64",
            "n_proficient": "Int64",
            "pct_proficient": "float64",
            "gap_pp": "float64",
        }
    )


def group(result, grade, dimension, name):
    g = result.groups
    row = g[(g["grade"] == grade) & (g["dimension"] == dimension) & (g["group"] == name)]
    assert len(row) == 1
    return row.iloc[0]


def one_grade(family, hidden_groups, dimension="sex"):
    """Grade 3 and its identical grade-All row: All Students plus one family."""
    total = (sum(n for n, _ in family.values()), sum(p for _, p in family.values()))
    counts, hidden = {}, {}
    for grade in ("3", "All"):
        counts[(grade, "all", "All Students")] = total
        for name, figures in family.items():
            counts[(grade, dimension, name)] = figures
            if name in hidden_groups:
                hidden[(grade, dimension, name)] = hidden_groups[name]
    return counts, hidden


# --- exports that leak ------------------------------------------------------------------------


def test_grade_subtraction_pins_a_group_hidden_in_one_grade_only():
    counts = {
        ("3", "all", "All Students"): (15, 6),
        ("3", "sex", "F"): (12, 5),
        ("3", "sex", "M"): (3, 1),
        ("4", "all", "All Students"): (30, 15),
        ("4", "sex", "F"): (18, 9),
        ("4", "sex", "M"): (12, 6),
        ("All", "all", "All Students"): (45, 21),
        ("All", "sex", "F"): (30, 14),
        ("All", "sex", "M"): (15, 7),
    }
    hidden = {("3", "sex", "M"): "min_n", ("3", "sex", "F"): "complementary"}
    result = audit(export(counts, hidden))
    m = group(result, "3", "sex", "M")
    assert (m["n_min"], m["n_max"], m["protected"]) == (3, 3, False)  # 15 - 12
    assert group(result, "3", "sex", "F")["n_min"] == 12
    assert result.n_below_protection == 2 and not result.protected


def test_family_subtraction_pins_the_one_hidden_group():
    counts, hidden = one_grade({"F": (20, 10), "M": (15, 9), "X": (2, 1)}, {"X": "min_n"})
    result = audit(export(counts, hidden))
    x = group(result, "All", "sex", "X")
    assert (x["n_min"], x["n_max"], x["p_forced"]) == (2, 2, "none")
    assert result.n_suppressed == 2 and result.n_below_protection == 2


def test_a_min_n_and_complementary_pair_pinned_by_their_total():
    # M + X = 11, M >= 10 (complementary), X >= 1 (min_n): M = 10, X = 1
    family = {"F": (25, 10), "M": (10, 5), "X": (1, 1)}
    counts, hidden = one_grade(family, {"X": "min_n", "M": "complementary"})
    result = audit(export(counts, hidden))
    assert (group(result, "3", "sex", "X")[["n_min", "n_max"]] == [1, 1]).all()
    assert (group(result, "3", "sex", "M")[["n_min", "n_max"]] == [10, 10]).all()
    assert not result.protected


def test_nobody_proficient_in_the_hidden_groups_is_a_disclosure():
    # the published groups hold every proficient student of the grade
    family = {"F": (15, 12), "M": (12, 0), "X": (3, 0)}
    counts, hidden = one_grade(family, {"X": "min_n", "M": "complementary"})
    result = audit(export(counts, hidden))
    x = group(result, "3", "sex", "X")
    assert x["n_max"] - x["n_min"] >= 3  # the size stays uncertain...
    assert x["p_forced"] == "zero" and not x["protected"]  # ...but "none passed" is certain
    assert result.n_attribute_disclosures == 4


def test_everyone_proficient_in_the_hidden_groups_is_a_disclosure():
    family = {"F": (15, 3), "M": (12, 12), "X": (3, 3)}
    counts, hidden = one_grade(family, {"X": "min_n", "M": "complementary"})
    result = audit(export(counts, hidden))
    assert set(result.groups["p_forced"]) == {"all"}
    assert "all proficient" in result.summary()


def test_top_coding_that_publishes_exact_counts_leaks():
    # All Students and F are at >= 95%; published exactly, they force M and X to "all passed"
    family = {"F": (22, 22), "M": (15, 15), "X": (3, 3)}
    counts, hidden = one_grade(family, {"X": "min_n", "M": "complementary"})
    leaky = audit(export(counts, hidden, exact_coded=True))
    assert leaky.coded_exact == 4  # All Students and F, in grade 3 and All
    assert set(leaky.groups["p_forced"]) == {"all"}
    assert not leaky.protected
    # with the counts left empty (the contract's coding) the same figures are protected
    coded = audit(export(counts, hidden))
    assert coded.coded_exact == 0
    assert set(coded.groups["p_forced"]) == {"none"} and coded.protected


def test_a_published_percentage_or_gap_gives_the_count_back():
    counts, hidden = one_grade({"F": (20, 10), "M": (15, 9), "X": (12, 4)}, {})
    frame = export(counts, hidden)
    frame["gap_pp"] = frame["pct_proficient"] - 100.0 * 23 / 47
    # M's n_tested hidden (as if suppressed) and every p of M left out: the gap still tells
    m = frame["group"] == "M"
    frame.loc[m, ["n_proficient", "pct_proficient"]] = None
    frame.loc[m, "suppressed"] = True
    frame.loc[m, "suppression_reason"] = "complementary"
    frame.loc[m, "n_tested"] = None
    frame.loc[m, "display"] = "*"
    frame.loc[m, "gap_pp"] = None
    result = audit(frame)
    assert (result.groups["n_min"] == 15).all() and (result.groups["n_max"] == 15).all()


# --- exports that hold ------------------------------------------------------------------------


def test_two_hidden_groups_of_one_family_are_protected():
    family = {"F": (12, 6), "M": (15, 5), "X": (3, 1)}
    counts, hidden = one_grade(family, {"X": "min_n", "M": "complementary"})
    result = audit(export(counts, hidden))
    assert result.protected and result.n_below_protection == 0
    x = group(result, "3", "sex", "X")
    # M + X = 18, M >= 10: X is 1..8, and the audit proved at least 3 apart
    assert 1 <= x["n_min"] and x["n_max"] <= 8 and x["n_max"] - x["n_min"] >= 3
    assert "protected: no hidden figure" in result.summary()


def test_hidden_across_grades_and_the_all_row_is_protected():
    counts = {
        ("3", "all", "All Students"): (20, 10),
        ("3", "sex", "F"): (14, 7),
        ("3", "sex", "M"): (6, 3),
        ("4", "all", "All Students"): (20, 10),
        ("4", "sex", "F"): (12, 6),
        ("4", "sex", "M"): (8, 4),
        ("All", "all", "All Students"): (40, 20),
        ("All", "sex", "F"): (26, 13),
        ("All", "sex", "M"): (14, 7),
    }
    hidden = {
        ("3", "sex", "M"): "min_n",
        ("3", "sex", "F"): "complementary",
        ("4", "sex", "M"): "min_n",
        ("4", "sex", "F"): "complementary",
        ("All", "sex", "M"): "complementary",
        ("All", "sex", "F"): "complementary",
    }
    result = audit(export(counts, hidden))
    assert result.protected, result.summary()
    assert result.n_suppressed == 6


def test_protection_is_configurable():
    family = {"F": (12, 6), "M": (15, 5), "X": (3, 1)}
    counts, hidden = one_grade(family, {"X": "min_n", "M": "complementary"})
    # X is 1..8: a protection of 8 students is more than that interval allows
    assert not audit(export(counts, hidden), Config(protection=8)).protected


def test_require_protected_raises_with_the_summary():
    counts, hidden = one_grade({"F": (20, 10), "M": (15, 9), "X": (2, 1)}, {"X": "min_n"})
    with pytest.raises(AuditFailure, match="(?s)privacy audit FAILED.*n_tested exactly 2"):
        require_protected(audit(export(counts, hidden)), "out")


def test_inconsistent_figures_are_an_error():
    counts, hidden = one_grade({"F": (20, 10), "M": (15, 9), "X": (12, 1)}, {"X": "complementary"})
    frame = export(counts, hidden)
    frame.loc[frame["group"] == "All Students", "n_tested"] = 30  # F + M alone are 35
    with pytest.raises(BltError, match="inconsistent"):
        audit(frame)


def test_no_suppressed_group_is_protected():
    counts, hidden = one_grade({"F": (20, 10), "M": (15, 9)}, {})
    result = audit(export(counts, hidden))
    assert result.protected and result.n_suppressed == 0


# --- the command ------------------------------------------------------------------------------


def write(frame, folder):
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "achievement.csv", index=False)
    return folder


def test_cli_fails_a_leaking_export_and_names_the_group(tmp_path):
    counts, hidden = one_grade({"F": (20, 10), "M": (15, 9), "X": (2, 1)}, {"X": "min_n"})
    folder = write(export(counts, hidden), tmp_path / "out")
    result = CliRunner().invoke(app, ["audit", str(folder)])
    assert result.exit_code == 1, result.output
    assert "suppressed groups: 2" in result.output
    assert "below the protection level (interval narrower than 3): 2" in result.output
    assert "0101, 2025-26, Spring, Math, grade 3, sex, X: n_tested exactly 2" in result.output


def test_cli_passes_a_protected_export_and_reads_a_reports_folder(tmp_path):
    family = {"F": (12, 6), "M": (15, 5), "X": (3, 1)}
    counts, hidden = one_grade(family, {"X": "min_n", "M": "complementary"})
    write(export(counts, hidden), tmp_path / "reports" / "_metrics")
    result = CliRunner().invoke(app, ["audit", str(tmp_path / "reports")])
    assert result.exit_code == 0, result.output
    assert "protected: no hidden figure can be worked out" in result.output
    strict = CliRunner().invoke(app, ["audit", str(tmp_path / "reports"), "--protection", "8"])
    assert strict.exit_code == 1


def test_cli_exit_2_for_a_folder_that_is_not_an_export(tmp_path):
    result = CliRunner().invoke(app, ["audit", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not a metrics export" in result.output
    assert "achievement.csv" in result.output


def test_audit_folder_reads_the_csv_as_published(tmp_path):
    counts, hidden = one_grade({"F": (20, 10), "M": (15, 9), "X": (2, 1)}, {"X": "min_n"})
    folder = write(export(counts, hidden), tmp_path / "out")
    assert audit_folder(folder).n_below_protection == 2


def test_audit_reads_scale_scores_beside_achievement_and_fails_its_leak(tmp_path):
    # achievement protects X (M hidden with it); the scale table, whose counts differ (one M
    # student has no score), hides X alone: 36 - 20 - 14 gives its n_tested back
    counts, hidden = one_grade(
        {"F": (20, 10), "M": (15, 9), "X": (2, 1)}, {"X": "min_n", "M": "complementary"}
    )
    folder = write(export(counts, hidden), tmp_path / "out")
    assert audit_folder(folder).protected
    scale_counts, _ = one_grade({"F": (20, 10), "M": (14, 9), "X": (2, 1)}, {})
    scale = export(scale_counts, {k: v for k, v in hidden.items() if k[2] == "X"})
    scale = scale.drop(columns=["n_proficient", "pct_proficient", "display", "gap_pp"])
    scale.to_csv(folder / "scale_scores.csv", index=False)
    result = audit_folder(folder)
    assert result.scale is not None and not result.scale.protected
    assert not result.protected
    assert result.scale.groups["n_min"].tolist() == [2, 2]  # grade 3 and All
    cli = CliRunner().invoke(app, ["audit", str(folder)])
    assert cli.exit_code == 1
    assert "scale_scores.csv: 2 suppressed groups" in cli.output
    assert "grade 3, sex, X: n_tested exactly 2" in cli.output
    # the same scale table hiding M as well is protected
    scale = export(scale_counts, hidden)
    scale.drop(columns=["n_proficient"]).to_csv(folder / "scale_scores.csv", index=False)
    assert audit_folder(folder).protected


# --- metrics and reports refuse an export that fails the audit ----------------------------------

SAMPLE = __import__("pathlib").Path(__file__).parents[1] / "data" / "sample"


@pytest.fixture
def leaky_achievement(monkeypatch):
    """compute_metrics() publishes a hand-made achievement table in which X can be recovered."""
    from bltanalytics.metrics import bundle

    counts, hidden = one_grade({"F": (20, 10), "M": (15, 9), "X": (2, 1)}, {"X": "min_n"})
    frame = export(counts, hidden)
    monkeypatch.setattr(bundle, "compute_achievement", lambda *a, **k: frame.copy())
    # scale scores are computed from the real achievement; this export publishes none
    monkeypatch.setattr(bundle, "compute_scale_scores", lambda *a, **k: empty(ScaleScores))
    return frame


@pytest.fixture
def protected_achievement(monkeypatch):
    from bltanalytics.metrics import bundle

    family = {"F": (12, 6), "M": (15, 5), "X": (3, 1)}
    counts, hidden = one_grade(family, {"X": "min_n", "M": "complementary"})
    frame = export(counts, hidden)
    monkeypatch.setattr(bundle, "compute_achievement", lambda *a, **k: frame.copy())
    # scale scores are computed from the real achievement; this export publishes none
    monkeypatch.setattr(bundle, "compute_scale_scores", lambda *a, **k: empty(ScaleScores))
    return frame


def test_metrics_exits_1_with_the_audit_summary_when_the_export_leaks(tmp_path, leaky_achievement):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["metrics", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert f"privacy audit FAILED for {out}" in result.output
    assert "grade 3, sex, X: n_tested exactly 2" in result.output
    assert "Do not share these files" in result.output
    # what was written is what was audited: the command line audit agrees
    assert CliRunner().invoke(app, ["audit", str(out)]).exit_code == 1


def test_metrics_reports_a_passing_audit(tmp_path, protected_achievement):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["metrics", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "privacy audit: 4 suppressed groups, all protected (protection 3)" in result.output


def test_reports_refuse_to_run_on_an_export_that_leaks(tmp_path, leaky_achievement):
    out = tmp_path / "reports"
    args = ["reports", str(SAMPLE), "--out", str(out), "--schools", "0101"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "privacy audit FAILED" in result.output and "_metrics" in result.output
    assert not list(out.glob("*.html"))  # no report was made


# --- the programmes agree with brute force ------------------------------------------------------


def brute_force_ranges(counts, hidden, min_n=10):
    """Every integer table consistent with the published figures: each hidden n's range.

    Grades 3 and 4 plus All, dimension sex with F, M, X, All Students published. The free
    cells are F and M of grades 3 and 4; X and the All row follow from the lines.
    """
    total = {g: counts[(g, "all", "All Students")][0] for g in ("3", "4")}
    grids = np.meshgrid(*[np.arange(0, total[g] + 1) for g in ("3", "4") for _ in "FM"])
    n = {("3", "F"): grids[0], ("3", "M"): grids[1], ("4", "F"): grids[2], ("4", "M"): grids[3]}
    for g in ("3", "4"):
        n[(g, "X")] = total[g] - n[(g, "F")] - n[(g, "M")]
    for k in "FMX":
        n[("All", k)] = n[("3", k)] + n[("4", k)]
    ok = np.ones(grids[0].shape, dtype=bool)
    for (g, k), values in n.items():
        key = (g, "sex", k)
        reason = hidden.get(key)
        if reason is None:
            ok &= values == counts[key][0]
        elif reason == "min_n":
            ok &= (values >= 1) & (values <= min_n - 1)
        else:
            ok &= values >= min_n
    return {
        (g, k): (int(v[ok].min()), int(v[ok].max()))
        for (g, k), v in n.items()
        if (g, "sex", k) in hidden
    }


@pytest.mark.parametrize("seed", range(25))
def test_intervals_agree_with_brute_force(seed):
    rng = np.random.default_rng(seed)
    counts = {}
    for g in ("3", "4"):
        sizes = rng.integers(1, 14, size=3)
        for k, size in zip("FMX", sizes, strict=True):
            counts[(g, "sex", k)] = (int(size), int(rng.integers(0, size + 1)))
    for k in "FMX":
        (n3, p3), (n4, p4) = counts[("3", "sex", k)], counts[("4", "sex", k)]
        counts[("All", "sex", k)] = (n3 + n4, p3 + p4)
    for g in ("3", "4", "All"):
        counts[(g, "all", "All Students")] = tuple(
            int(sum(counts[(g, "sex", k)][i] for k in "FMX")) for i in (0, 1)
        )
    hidden = {}
    for key, (n, _) in counts.items():
        if key[1] == "sex" and (n < 10 or rng.random() < 0.3):
            hidden[key] = "min_n" if n < 10 else "complementary"
    result = audit(export(counts, hidden))
    truth = brute_force_ranges(counts, hidden)
    assert len(result.groups) == len(truth)
    for row in result.groups.itertuples(index=False):
        lo, hi = truth[(row.grade, row.group)]
        if row.bound == "exact":
            assert (row.n_min, row.n_max) == (lo, hi), row
        elif row.bound == "inner":  # witnessed: inside the true range
            assert lo <= row.n_min and row.n_max <= hi, row
        else:  # outer: contains the true range
            assert row.n_min <= lo and hi <= row.n_max, row
        # the verdict on n_tested is the true one
        assert (row.n_max - row.n_min >= 3) == (hi - lo >= 3), row


def test_an_audit_from_the_true_counts_gives_the_same_verdict():
    """``bltanalytics metrics`` starts the audit from the counts it has just made; the
    verdict is the one an attacker's audit of the same table reaches."""
    from bltanalytics.load import load_district
    from bltanalytics.metrics.achievement import achievement

    tables = load_district(SAMPLE).tables
    counts: dict = {}
    table = achievement(tables["assessments"], tables["students"], counts_out=counts)
    assert len(counts["n_tested"]) == len(table)
    shown = ~table["suppressed"].to_numpy(dtype=bool)
    assert (table["n_tested"].to_numpy()[shown] == counts["n_tested"][shown]).all()
    attacker, own = audit(table), audit(table, counts=counts)
    assert own.n_suppressed == attacker.n_suppressed > 0
    assert own.protected and attacker.protected
    assert own.groups["protected"].tolist() == attacker.groups["protected"].tolist()
    with pytest.raises(ValueError, match="counts for"):
        audit(table, counts={k: v[1:] for k, v in counts.items()})
