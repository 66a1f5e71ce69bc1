"""The ``bltanalytics`` command.

Commands: ``sample`` (make a synthetic district), ``validate`` (data-quality report),
``metrics`` (the metrics export), ``audit`` (the privacy audit of an export), ``reports`` (a
report per school), ``dashboard`` (Voilà). Errors in the input print one clear line and exit 2;
a table the package itself built wrongly (:class:`~bltanalytics.errors.PackageBug`) prints its
bug-report message and exits 3; never a traceback. An export that fails the privacy audit
exits 1.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from bltanalytics import __version__
from bltanalytics.errors import BltError, PackageBug


def _no_flag_types(command, ctx) -> None:
    """Show flags as flags in help: no ``<bool>`` after ``--force`` or ``--help``."""
    for param in [*command.params, command.get_help_option(ctx)]:
        if param is not None and getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


class _Group(TyperGroup):
    """The command group, with every command's help free of typer's ``<bool>`` metavars."""

    def get_command(self, ctx, cmd_name):
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _no_flag_types(command, ctx)
        return command

    def format_help(self, ctx, formatter):
        _no_flag_types(self, ctx)
        return super().format_help(ctx, formatter)


app = typer.Typer(
    cls=_Group,
    add_completion=False,
    no_args_is_help=True,
    help="Evidence for a school Building Leadership Team's continuous-improvement cycle.",
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"bltanalytics {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Evidence for a school Building Leadership Team's continuous-improvement cycle."""


EXIT_BAD_INPUT = 2
EXIT_NOT_PROTECTED = 1
#: not the user's data: a scheduler can tell "fix the input" (2) from "report a bug" (3)
EXIT_PACKAGE_BUG = 3


def friendly(func):
    """Turn the package's own errors into one plain message and an exit code.

    Bad input exits 2; a failed privacy audit (:class:`bltanalytics.metrics.audit.AuditFailure`)
    prints its summary and exits 1; a :class:`~bltanalytics.errors.PackageBug` exits 3.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from bltanalytics.metrics.audit import AuditFailure

        try:
            return func(*args, **kwargs)
        except AuditFailure as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(EXIT_NOT_PROTECTED) from None
        except PackageBug as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_PACKAGE_BUG) from None
        except BltError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None

    return wrapper


FolderArg = Annotated[
    Path, typer.Argument(help="District folder holding the tables (see docs/data.md).")
]


@app.command()
@friendly
def validate(
    folder: FolderArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check a district folder and print a data-quality report (exit 0 when usable)."""
    from bltanalytics.load import format_report, load_district, quality_report

    report = quality_report(load_district(folder))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        typer.echo(format_report(report))


MinNOption = Annotated[
    int | None,
    typer.Option("--min-n", min=1, help="Smallest group whose figures are published (default 10)."),
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML file of policy settings (docs/metrics.md).")
]


@app.command()
@friendly
def metrics(
    folder: FolderArg,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the metrics export into.")],
    min_n: MinNOption = None,
    config: ConfigOption = None,
) -> None:
    """Compute every figure and write the metrics export (achievement.csv, rubric.csv, ...)."""
    from bltanalytics.config import load_config
    from bltanalytics.load import load_district
    from bltanalytics.metrics import compute_metrics, write_metrics
    from bltanalytics.metrics.audit import audit_export, require_protected

    settings = load_config(config, min_n=min_n)
    district = load_district(folder)
    counts: dict = {}  # the true counts of the achievement rows, for the audit only
    computed = compute_metrics(district, settings, counts_out=counts)
    dropped = int((district.quarantine["action"] == "row_dropped").sum())
    del district  # the cleaned tables are not needed past this point (peak memory)
    written = write_metrics(computed, out)
    tables = [path for path in written if path.suffix == ".csv"]
    typer.echo(
        f"wrote {len(tables)} tables to {out}, each as CSV and Parquet "
        f"({2 * len(tables)} files, min_n={settings.min_n}), and the settings they were "
        "computed with (config.json):"
    )
    for path in tables:
        typer.echo(f"  {path.name}")
    if dropped:
        typer.echo(f"{dropped:,} input rows were quarantined: see {out / 'quarantine.csv'}")
    # the privacy audit of what was written: a failure exits 1 with its summary
    result = audit_export(
        computed.achievement, computed.scale_scores, settings, counts=counts or None
    )
    require_protected(result, out)
    typer.echo(
        f"privacy audit: {result.n_suppressed:,} suppressed groups, all protected "
        f"(protection {settings.protection})"
    )


ProtectionOption = Annotated[
    int | None,
    typer.Option(
        "--protection", min=1, help="How uncertain a hidden count must stay, in students (3)."
    ),
]


@app.command(name="audit")
@friendly
def audit_command(
    out_dir: Annotated[
        Path,
        typer.Argument(help="A metrics export (holding achievement.csv) or a reports folder."),
    ],
    config: ConfigOption = None,
    protection: ProtectionOption = None,
    min_n: MinNOption = None,
) -> None:
    """Check an export as an attacker would: exit 0 when no hidden figure can be worked out."""
    from bltanalytics.config import load_config
    from bltanalytics.metrics.audit import audit_folder

    settings = load_config(config, min_n=min_n, protection=protection)
    result = audit_folder(out_dir, settings)
    typer.echo(result.summary())
    raise typer.Exit(0 if result.protected else EXIT_NOT_PROTECTED)


@app.command()
@friendly
def reports(
    folder: FolderArg,
    out: Annotated[Path, typer.Option("--out", help="Folder for the reports.")] = Path("reports"),
    schools: Annotated[
        list[str] | None,
        typer.Option(
            "--schools",
            metavar="ID",
            help="Only this school id (repeat the option for more); default all.",
        ),
    ] = None,
    year: Annotated[
        str | None,
        typer.Option(
            "--year", help="School year: 2025-26, 2025-2026 or 2026 (default: the latest)."
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Notebooks run at once.")] = 2,
    force: Annotated[
        bool, typer.Option("--force", help="Redo reports that are up to date.")
    ] = False,
    fresh_kernels: Annotated[
        bool, typer.Option("--fresh-kernels", help="A new kernel per school (plain papermill).")
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Run on a Dask cluster: tcp://HOST:PORT (docs/scale.md)."),
    ] = None,
    min_n: MinNOption = None,
    config: ConfigOption = None,
    pdf: Annotated[
        bool,
        typer.Option("--pdf", help="Also print each page to a Letter PDF beside it (chromium)."),
    ] = False,
) -> None:
    """One HTML report per school, the district summary, and index.html (docs/reports.md)."""
    from bltanalytics.reports.kernels import defer_rfc3987_grammar

    defer_rfc3987_grammar()  # ~1 s off start-up, before anything imports jsonschema
    from bltanalytics.config import load_config
    from bltanalytics.reports.plan import plan_reports
    from bltanalytics.reports.run import run_reports

    settings = load_config(config, min_n=min_n)
    jobs = plan_reports(folder, out, schools=schools, year=year, config=settings)
    summary = run_reports(
        jobs,
        out,
        workers=workers,
        force=force,
        fresh_kernels=fresh_kernels,
        scheduler=scheduler,
    )
    typer.echo(summary.describe())
    if pdf:
        from bltanalytics.reports.plan import write_pdfs

        written = write_pdfs(summary)
        typer.echo(f"{len(written)} PDF{'s' if len(written) != 1 else ''} beside the pages")
    raise typer.Exit(summary.exit_code)


@app.command()
@friendly
def sample(
    out: Annotated[
        Path,
        typer.Option(help="New (or empty) folder to write the district into.", show_default=False),
    ],
    schools: Annotated[int, typer.Option(min=1, help="Number of schools.")] = 6,
    students_per_school: Annotated[
        int, typer.Option(min=1, help="Typical students per school.")
    ] = 300,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 2026,
    clean: Annotated[
        bool, typer.Option("--clean", help="No injected messiness (benchmarks).")
    ] = False,
    file_format: Annotated[
        str, typer.Option("--format", help="mixed (csv/xlsx/encodings), csv or parquet.")
    ] = "mixed",
    force: Annotated[
        bool, typer.Option("--force", help="Write into OUT even if it holds files.")
    ] = False,
) -> None:
    """Write a synthetic, reproducible district (no real person) to OUT."""
    from bltanalytics.sample import generate_district

    if out.exists() and not out.is_dir():
        raise BltError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise BltError(
            f"--out {out} is not empty: choose a new folder, or add --force to replace the "
            "district tables in it"
        )

    summary = generate_district(
        out,
        schools=schools,
        students_per_school=students_per_school,
        seed=seed,
        messy=not clean,
        file_format=file_format,
    )
    typer.echo(f"wrote a synthetic district to {summary.path}")


@app.command()
@friendly
def dashboard(
    name: Annotated[str, typer.Argument(help="Which dashboard: explorer, rubric or presenter.")],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="District folder to show (default: the sample district)."),
    ] = None,
    port: Annotated[int, typer.Option(min=0, help="Port to serve on (0: any free port).")] = 8866,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. 127.0.0.1 = this computer only; 0.0.0.0 = everyone on "
            "the local network, with no password (see docs/dashboards.md first)."
        ),
    ] = "127.0.0.1",
    mask_names: Annotated[
        bool, typer.Option("--mask-names", help="Show School A, School B... instead of names.")
    ] = False,
    min_n: MinNOption = None,
    open_browser: Annotated[bool, typer.Option("--open", help="Open it in a browser tab.")] = False,
    pool_size: Annotated[
        int, typer.Option("--pool-size", min=0, help="Kernels kept warm for the next visitor.")
    ] = 2,
    max_kernels: Annotated[
        int | None,
        typer.Option(
            "--max-kernels",
            min=1,
            help="Most visitors served at once (each holds a kernel); one more is asked to try "
            "again in a minute. Default: what the memory available now holds.",
        ),
    ] = None,
    cull_idle: Annotated[
        int,
        typer.Option(
            "--cull-idle",
            min=10,
            metavar="SECONDS",
            help="Shut down a kernel no page is connected to after this many idle seconds.",
        ),
    ] = 120,
) -> None:
    """Serve a Voilà dashboard (explorer, rubric or presenter) until Ctrl-C."""
    from bltanalytics.dashboards.serve import serve

    code = serve(
        name,
        data=data,
        port=port,
        host=host,
        mask_names=mask_names,
        min_n=min_n,
        open_browser=open_browser,
        pool_size=pool_size,
        max_kernels=max_kernels,
        cull_idle=cull_idle,
    )
    raise typer.Exit(code)
