"""Benchmark 1d: linked suppression in ``achievement()``, its cost and what it hides.

``achievement()`` on the cleaned frames of the large district (the call alone, as in 1b),
this tree against an older source tree (``--baseline``; the family-by-family rule), in
alternation, plus the heuristic alone (``exact_check="none"``) so the price of the exact
audit is visible. For each variant the *utility*: the share of tested students whose group
figure is published (every row, grade ``All`` included; All Students rows and the other
groups also apart), from the raw counts of the same frames.

Results go under ``results["suppression"]`` and render as a table (:func:`lines`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.harness import alternate, run_child, summary

#: at most this much slower than the family-by-family rule (issue 9)
TARGET_RATIO = 1.5


def child(*args) -> list[str]:
    return [sys.executable, "-m", "benchmarks.child", *map(str, args)]


def _run(argv: list[str], tree: Path, repo: Path):
    return run_child(argv, cwd=tree, env={"PYTHONPATH": f"{tree}:{repo}"})


def bench_suppression(
    cleaned: Path,
    repeats: int,
    work: Path,
    *,
    repo: Path,
    baseline: Path | None = None,
    log=print,
) -> dict:
    """Alternating ``achievement()`` runs: this tree (exact check), the heuristic alone, and
    the baseline tree when given. ``cleaned``: the Parquet folder of benchmark 1b."""
    variants = {
        "linked": lambda: _run(
            child("suppression", cleaned, "all", work / "s.parquet"), repo, repo
        ),
        "heuristic": lambda: _run(
            child("suppression", cleaned, "none", work / "h.parquet"), repo, repo
        ),
    }
    if baseline:
        variants["baseline"] = lambda: _run(
            child("suppression", cleaned, "baseline", work / "b.parquet"), Path(baseline), repo
        )
    runs = alternate(variants, repeats, log=log)
    out = {
        name: {
            **summary(measured, "seconds"),
            "cpu": [m.user + m.system for m in measured],
            "utility": measured[-1].reported.get("utility"),
            "suppressed": measured[-1].reported.get("suppressed"),
        }
        for name, measured in runs.items()
    }
    # the privacy audit of the linked table, as `bltanalytics audit` runs it (CSV read apart)
    audits = [_run(child("audit", work / "s.parquet"), repo, repo) for _ in range(repeats)]
    for measured in audits:
        if not measured.ok:
            raise RuntimeError(f"audit failed:\n{measured.stderr[-4000:]}")
    out["audit"] = {
        **summary(audits, "seconds"),
        "cpu": [m.user + m.system for m in audits],
        **{
            k: audits[-1].reported.get(k) for k in ("suppressed", "below_protection", "disclosures")
        },
    }
    log(f"  audit: {out['audit']['median']:.1f} s, {audits[-1].reported}")
    if baseline:
        out["ratio"] = out["linked"]["median"] / out["baseline"]["median"]
    out["target_ratio"] = TARGET_RATIO
    return out


def utility(raw_n, suppressed, dimension) -> dict:
    """Share of tested students whose group figure is published: all rows, All Students
    rows, the other groups."""
    import numpy as np

    raw_n = np.asarray(raw_n, dtype=float)
    shown = ~np.asarray(suppressed, dtype=bool)
    is_all = np.asarray(dimension) == "all"
    share = {}
    for name, rows in (
        ("rows", np.ones(len(raw_n), bool)),
        ("all_students", is_all),
        ("groups", ~is_all),
    ):
        total = raw_n[rows].sum()
        share[name] = float(raw_n[rows & shown].sum() / total) if total else float("nan")
    return share


def lines(r: dict) -> tuple[list[str], list[str]]:
    """Summary rows and the detail section of :func:`bench_suppression`'s figures."""
    summary_rows, details = (
        [],
        [
            "## 1d. Linked suppression in `achievement()`",
            "",
            "`achievement()` alone on the cleaned frames of the large district (as in 1b). "
            "`linked`: this tree (heuristic, then the exact audit on every block with a hidden "
            "group); `heuristic`: the same without the audit; `baseline`: the older tree "
            "(family-by-family rule). Utility: share of tested students whose group figure is "
            "published.",
            "",
            "| variant | median | all runs | CPU (user+sys, whole child) | utility (rows / All "
            "Students / groups) | suppressed |",
            "|---|---|---|---|---|---|",
        ],
    )
    for name in ("baseline", "heuristic", "linked"):
        if name not in r:
            continue
        v, u = r[name], r[name].get("utility") or {}
        details.append(
            f"| {name} | {v['median']:.1f} s | {', '.join(f'{x:.1f}' for x in v['values'])} | "
            f"{', '.join(f'{x:.0f}' for x in v.get('cpu', []))} s | "
            f"{u.get('rows', float('nan')):.3f} / {u.get('all_students', float('nan')):.3f} / "
            f"{u.get('groups', float('nan')):.3f} | {v.get('suppressed')} |"
        )
    details.append("")
    if "audit" in r:
        a = r["audit"]
        details += [
            "The privacy audit of the `linked` table (`audit()` on the frame, as "
            "`bltanalytics audit` runs it after reading the CSV): "
            f"{a['median']:.1f} s median ({', '.join(f'{x:.1f}' for x in a['values'])} s; CPU "
            f"{', '.join(f'{x:.0f}' for x in a['cpu'])} s with its worker processes); "
            f"{a.get('suppressed')} suppressed groups, {a.get('below_protection')} below "
            f"protection, {a.get('disclosures')} attribute disclosures.",
            "",
        ]
    if "ratio" in r:
        met = "yes" if r["ratio"] <= r["target_ratio"] else "no"
        summary_rows.append(
            f"| `achievement()` with linked suppression (exact check on) | "
            f"{r['linked']['median']:.1f} s | family rule {r['baseline']['median']:.1f} s | "
            f"{r['ratio']:.1f}x | at most {r['target_ratio']:g}x | {met} |"
        )
    return summary_rows, details
