"""``docs/benchmarks.md`` from the figures of one run (and ``benchmarks/notes.md``, the
hand-written account of what was profiled and changed, appended as it is)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.harness import GIB

NOTES = Path(__file__).resolve().parent / "notes.md"


def _s(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def _gib(value: float) -> str:
    return f"{value / GIB:.2f} GiB"


def _met(ok: bool) -> str:
    return "**yes**" if ok else "**no**"


def _runs(values) -> str:
    return ", ".join(_s(v) for v in values)


def markdown(results: dict) -> str:  # noqa: C901  (one page, section by section)
    m = results["machine"]
    lines = [
        "# Benchmarks: how fast, against what",
        "",
        "Written by `python -m benchmarks` (`make benchmark`)"
        + (" **in quick mode: small inputs, not the real figures**" if results["quick"] else "")
        + f". Every figure on this page comes from one run, started {results['started']} "
        f"and lasting {results['minutes']:.0f} minutes. Each ratio compares two things measured "
        "in that run, in alternation (A, B, A, B, ...), so a busy moment of the shared machine "
        "falls on both; figures are medians, with every run listed below.",
        "",
        "## Summary",
        "",
        "| benchmark | ours | reference | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    details: list[str] = []
    if "metrics" in results:
        r = results["metrics"]
        rows = r["district"]["rows"]
        size = (
            f"{results['metrics_district'][0]:,} schools x {results['metrics_district'][1]:,} "
            f"students per school: {rows.get('assessments', 0):,} assessment rows, "
            f"{rows.get('students', 0):,} student rows, {r['district']['bytes'] / 1e6:,.0f} MB "
            "of CSV"
        )
        lines.append(
            f"| `bltanalytics metrics` ({size}) | {_s(r['metrics']['median'])} | "
            f"read floor {_s(r['read_floor']['median'])} | {r['ratio']:.1f}x | "
            f"at most {r['target_ratio']:g}x | {_met(r['ratio'] <= r['target_ratio'])} |"
        )
        lines.append(
            f"| its peak memory | {_gib(r['metrics']['peak_rss_max'])} | read floor "
            f"{_gib(r['read_floor']['peak_rss_max'])} | | at most {r['target_peak_gib']:g} GiB | "
            f"{_met(r['peak_gib'] <= r['target_peak_gib'])} |"
        )
        details += [
            "## 1a. `bltanalytics metrics` against reading the files",
            "",
            f"District: {size} (`generate_district(..., messy=False, file_format='csv')`).",
            "",
            "- **ours**: the whole `bltanalytics metrics DISTRICT --out OUT` process: start-up, "
            "read and clean every table, compute every figure, write the export (CSV and "
            "Parquet), as a user runs it.",
            "- **read floor**: a process that only does `pandas.read_csv(f)` (defaults) for "
            "every table file. The defaults parse ids as numbers (losing zero padding), which "
            "the package may not do, so the floor is a little lower than any correct reader.",
            "",
            "| | median | runs | peak RSS | CPU user / system |",
            "|---|---|---|---|---|",
            f"| metrics | {_s(r['metrics']['median'])} | {_runs(_all(r, 'metrics'))} | "
            f"{_gib(r['metrics']['peak_rss_max'])} | {r['cpu_metrics']['user']:.1f} / "
            f"{r['cpu_metrics']['system']:.1f} s |",
            f"| read floor | {_s(r['read_floor']['median'])} | {_runs(_all(r, 'read_floor'))} | "
            f"{_gib(r['read_floor']['peak_rss_max'])} | {r['cpu_read_floor']['user']:.1f} / "
            f"{r['cpu_read_floor']['system']:.1f} s |",
        ]
        if "baseline" in r:
            details.append(
                f"| metrics, before this work | {_s(r['baseline']['median'])} | "
                f"{_runs(r['baseline']['values'])} | {_gib(r['baseline']['peak_rss_max'])} | "
                f"{r['cpu_baseline']['user']:.1f} / {r['cpu_baseline']['system']:.1f} s |"
            )
        details += [
            "",
            f"Ratio of the medians {r['ratio']:.2f}x; ratio of each back-to-back pair: "
            + ", ".join(f"{x:.2f}x" for x in r["paired_ratios"])
            + f". Files written: {', '.join(r['files_written'])}.",
            "",
        ]
    if "achievement" in results:
        r = results["achievement"]
        check = r["check"]
        lines.append(
            f"| `achievement()` on the cleaned tables | {_s(r['achievement']['median'])} | "
            f"DuckDB SQL {_s(r['duckdb']['median'])} | {r['ratio']:.2f}x | "
            f"at most {r['target_ratio']:g}x | {_met(r['ratio'] <= r['target_ratio'])} |"
        )
        details += [
            "## 1a. `achievement()` against an independent DuckDB query",
            "",
            "Both start from the same cleaned assessments and students (written to Parquet "
            "once). **Ours**: `achievement(assessments, students)` on frames already in memory "
            "(the call alone). **DuckDB**: one SQL query (`benchmarks/duckdb_achievement.py`) "
            "that reads the Parquet files, matches each test to its student's row, counts "
            "tested and proficient per school, year, term, subject, grade (each and All), "
            "dimension and group, and applies min_n and the complementary rule with window "
            "functions; DuckDB uses every core, ours one.",
            "",
            "| | median | runs | peak RSS of the process |",
            "|---|---|---|---|",
            f"| achievement() | {_s(r['achievement']['median'])} | "
            f"{_runs(r['achievement']['values'])} | {_gib(r['achievement']['peak_rss_max'])} |",
            f"| DuckDB query | {_s(r['duckdb']['median'])} | {_runs(r['duckdb']['values'])} | "
            f"{_gib(r['duckdb']['peak_rss_max'])} |",
            "",
            f"**Same result: {'yes' if r['agrees'] else 'NO'}.** {check['rows_ours']:,} rows "
            f"from ours, {check['rows_duckdb']:,} from DuckDB; rows of one missing from the "
            f"other: {check['only_ours']} and {check['only_duckdb']} (compared: every key, "
            "n_tested, n_proficient, pct_proficient, suppressed, suppression_reason). "
            f"{check['suppressed']:,} groups suppressed, {check['complementary']:,} of them "
            f"by the complementary rule (min_n = {r['min_n']}).",
            "",
        ]
    if "reports" in results:
        r = results["reports"]
        n = r["schools"]
        district = results["reports_district"]
        warm, floor = r.get("warm"), r.get("papermill")
        if warm and floor:
            lines.append(
                f"| school reports ({n} schools, 2 workers): seconds per school | "
                f"{_s(warm['per_school'])} | plain papermill {_s(floor['per_school'])} | "
                f"{r['speedup']:.1f}x faster | at least {r['target_speedup']:g}x | "
                f"{_met(r['speedup'] >= r['target_speedup'])} |"
            )
        if r.get("fresh") and floor:
            lines.append(
                f"| `--fresh-kernels` (for information) | {_s(r['fresh']['per_school'])} | "
                f"plain papermill {_s(floor['per_school'])} | {r['fresh_speedup']:.1f}x faster "
                "| | |"
            )
        details += [
            "## 1b. School reports against plain papermill",
            "",
            f"District of {district[0]} schools x {district[1]} students; the metrics are "
            f"computed once, then {n} school reports are produced by each way of running them "
            "(the district summary is left out). Each figure is a whole process, start-up "
            "included, divided by the number of schools.",
            "",
            "| way of running | seconds per school (median) | runs | whole run |",
            "|---|---|---|---|",
        ]
        names = {
            "warm": "ours, default: warm kernels, 2 workers",
            "fresh": "ours, `--fresh-kernels`: new kernel per school + start-up fixes",
            "papermill": "floor: `papermill.execute_notebook`, new kernel per school, no "
            "fixes, same HTML export, 2 workers",
            "warm_baseline": "warm kernels, before this work",
        }
        for mode, label in names.items():
            if mode in r:
                details.append(
                    f"| {label} | {_s(r[mode]['per_school'])} | "
                    f"{_runs(r[mode]['per_school_runs'])} | {_s(r[mode]['median'])} |"
                )
        if "paired_speedups" in r:
            details += [
                "",
                "Speed-up of each back-to-back pair (papermill / warm): "
                + ", ".join(f"{x:.1f}x" for x in r["paired_speedups"])
                + ".",
            ]
        details.append("")
    if "suppression" in results:
        from benchmarks.suppression_bench import lines as suppression_lines

        rows, more = suppression_lines(results["suppression"])
        lines += rows
        details += more
    if any(k in results for k in ("dashboards", "dashboard_kernels", "visitors")):
        from benchmarks.dashboards_bench import dashboard_lines

        rows, more = dashboard_lines(results)
        lines += rows
        details += more
    lines += [
        "",
        "## The machine",
        "",
        f"- {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB memory, {m['os']}",
        f"- Python {m['python']}, pandas {m['pandas']}, pyarrow {m['pyarrow']}, "
        f"numpy {m['numpy']}, DuckDB {m['duckdb']}",
        f"- Load while the benchmarks ran: {results['load']}. The machine is shared with "
        "other engineers' work (tests, kernels, browsers), so absolute times move from run to "
        "run; the ratios, measured in alternation, move less.",
        "",
        *details,
    ]
    if NOTES.exists():
        lines += ["", NOTES.read_text(encoding="utf-8").strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def _all(result: dict, name: str) -> list[float]:
    return result[name]["values"]
