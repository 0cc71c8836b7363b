"""The `tthc` command line: generate the sample province, run the pipeline, open the UI, print the scorecard.

Errors are one clear line (set TTHC_DEBUG=1 for the traceback); long work shows progress.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from orchestration.settings import Settings

console = Console(stderr=True, soft_wrap=True)


class UserError(click.ClickException):
    """An error the user can act on: printed as one line, exit code 1."""


@click.group()
def cli() -> None:
    """Bắc Ninh TTHC data platform: dossier exports to Directive 10 KPI marts."""


@cli.command()
@click.option("--seed", default=20230601, show_default=True, help="Random seed; same seed, same bytes.")
@click.option("--scale", default=1.0, show_default=True,
              help="Volume multiplier: 1.0 is the real ~35,000 dossiers a month (~700,000 in the default period).")
@click.option("--profile", default="bac_ninh_2023", show_default=True, help="Province profile.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First export day (default: profile).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last export day (default: profile).")
@click.option("--landing", type=click.Path(path_type=Path), default=None, help="Landing folder (default: $TTHC_LANDING_DIR).")
def generate(seed: int, scale: float, profile: str, start, end, landing: Path | None) -> None:
    """Write a sample landing folder (dossier exports, unit reports, reference) per landing.md."""
    from ingestion.sample.generate import generate as generate_landing

    landing = landing or Settings.from_env().landing_dir
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(step: str, done: int, total: int) -> None:
            if step not in tasks:
                for task in tasks.values():  # a new step means the earlier ones are done
                    progress.update(task, completed=progress.tasks[task].total)
                tasks[step] = progress.add_task(step, total=total)
            progress.update(tasks[step], completed=done, total=total)

        try:
            result = generate_landing(landing, seed=seed, scale=scale, profile=profile,
                                      start=start.date() if start else None, end=end.date() if end else None,
                                      progress=report)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        for task in tasks.values():
            progress.update(task, completed=progress.tasks[task].total)
    rate = result.dossiers / result.seconds
    console.print(
        f"[green]generated[/] {result.dossiers:,} dossiers, {result.snapshot_rows:,} snapshot rows in "
        f"{result.dossier_files} dossier exports and {result.unit_report_files} unit-report files under {landing} "
        f"({result.period.start} to {result.period.end}) in {result.seconds:.1f} s ({rate:,.0f} dossiers/s)")


@cli.command()
def run() -> None:
    """Ingest, build, check and publish: the whole pipeline, in-process."""
    from orchestration.runner import run_pipeline

    settings = Settings.from_env()
    outcome = run_pipeline(settings, console=console)
    if not outcome.ok:
        raise UserError(outcome.failure_line())


@cli.command()
@click.option("--port", default=3000, show_default=True)
def ui(port: int) -> None:
    """Start the Dagster UI on 127.0.0.1 (DAGSTER_HOME under data/, telemetry off)."""
    import subprocess

    from orchestration.runner import prepare_dagster_home

    home = prepare_dagster_home()
    settings = Settings.from_env()
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1",
           # absolute paths: the webserver, daemon and code server must agree whatever their working folder
           "TTHC_LANDING_DIR": str(settings.landing_dir.resolve()),
           "TTHC_WAREHOUSE": str(settings.warehouse.resolve()), "TTHC_PUBLISHED": str(settings.published.resolve())}
    console.print(f"Dagster UI on http://127.0.0.1:{port} (DAGSTER_HOME={home}); Ctrl-C stops it.")
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port), "-m", "orchestration.definitions"],
        env=env)
    try:
        process.wait()
    except KeyboardInterrupt:
        try:
            process.wait(timeout=30)  # Ctrl-C reached dagster dev too: let it shut its services down
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(timeout=30)
        console.print("stopped.")


@cli.command()
@click.option("--unit", "show_units", is_flag=True, help="Also list every unit's rows.")
def scorecard(show_units: bool) -> None:
    """Print the Directive 10 scorecard from the published marts file."""
    published = Settings.from_env().published
    if not published.exists():
        raise UserError(f"no published marts at {published}: run `tthc run` first")
    from orchestration.scorecard import render_scorecard

    render_scorecard(published, show_units=show_units, console=Console(width=None if sys.stdout.isatty() else 160))


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        console.print("aborted.")
        sys.exit(130)
    except click.ClickException as exc:
        console.print(f"[red]error:[/] {exc.format_message()}")
        sys.exit(exc.exit_code)
    except Exception as exc:  # one clear line, not a traceback
        if os.environ.get("TTHC_DEBUG"):
            raise
        console.print(f"[red]error:[/] {type(exc).__name__}: {exc}")
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
