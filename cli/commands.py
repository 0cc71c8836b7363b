"""The `tthc` command line: generate the sample province, run the pipeline, open the UI, print the scorecard.

Errors are one clear line (set TTHC_DEBUG=1 for the traceback); long work shows progress.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from orchestration.settings import Settings, SettingsError

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
@click.option("--profile", default="bac_ninh_2023", show_default=True,
              help="bac_ninh_2023: June 2022 to February 2024 (the Directive 10 report); bac_ninh_2026: June 2024 to "
                   "October 2026, through the 2025 reorganisations (branches, merger, 313 communes into 99).")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First export day (default: profile).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last export day (default: profile).")
@click.option("--landing", type=click.Path(path_type=Path), default=None, help="Landing folder (default: $TTHC_LANDING_DIR).")
def generate(seed: int, scale: float, profile: str, start, end, landing: Path | None) -> None:
    """Write a sample landing folder (dossier exports, unit reports, reference) per landing.md."""
    from sample_province.generate import generate as generate_landing

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
@click.option("--force", is_flag=True,
              help="Run every step even when nothing changed since the last completed run, and hash every landed "
                   "file again (a corrected export given the old size and time is then read).")
def run(force: bool) -> None:
    """Ingest, build, check and publish: the whole pipeline, in-process.

    When no landed file, batch review, code or setting changed since the last completed run, and its published
    file is still in place, it says so, records the run in the check history and stops: the published file is
    left as it is.
    """
    settings = Settings.from_env()
    if not force:
        import uuid

        from orchestration.run_inputs import stop_if_nothing_new

        run_id = str(uuid.uuid4())
        stopped = stop_if_nothing_new(settings, run_id)
        if stopped is not None:
            found, page = stopped
            console.print(f"[green]{found.describe(settings)}[/] (`tthc run --force` runs every step anyway)")
            console.print(f"run {run_id}: recorded in the check history; data quality page {page}")
            return
    from orchestration import warm_dbt
    from orchestration.settings import DBT_PROJECT_DIR

    # dbt imports and parses the project while the run starts and ingests (orchestration/warm_dbt.py)
    warm_dbt.start(DBT_PROJECT_DIR, warm_dbt.parse_args(settings))
    try:
        from cli.runner import run_pipeline
        from orchestration.definitions import defs

        outcome = run_pipeline(settings, console=console, job=defs.resolve_job_def("full_refresh"), rehash=force)
    finally:
        warm_dbt.stop()
    if not outcome.ok:
        raise UserError(outcome.failure_line())


@cli.command()
@click.option("--port", default=3000, show_default=True)
def ui(port: int) -> None:
    """Start the Dagster UI on 127.0.0.1 (DAGSTER_HOME under data/, telemetry off)."""
    import subprocess

    from cli.runner import prepare_dagster_home

    home = prepare_dagster_home()
    settings = Settings.from_env()
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1",
           # absolute paths: the webserver, daemon and code server must agree whatever their working folder
           "TTHC_LANDING_DIR": str(settings.landing_dir.resolve()),
           "TTHC_WAREHOUSE": str(settings.warehouse.resolve()), "TTHC_PUBLISHED": str(settings.published.resolve())}
    console.print(f"Dagster UI on http://127.0.0.1:{port} (DAGSTER_HOME={home}); Ctrl-C stops it.")
    # Its own process group: Ctrl-C and SIGTERM (a service manager's stop) both reach the whole tree (dagster
    # dev, webserver, daemon, code servers) as the orderly stop of Ctrl-C, and we wait until the tree is gone.
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port), "-m", "orchestration.definitions"],
        env=env, start_new_session=True)
    with _stop_signals():
        try:
            process.wait()
        except _StopRequested:
            stop_process_group(process)
    console.print("stopped.")


class _StopRequested(Exception):
    pass


@contextlib.contextmanager
def _stop_signals():
    def stop(signum, frame):
        raise _StopRequested(signal.Signals(signum).name)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def stop_process_group(process, timeout: float = 60.0) -> None:
    """SIGINT to the process group (what Ctrl-C does), wait for every process of it; force only after `timeout`."""
    group = process.pid  # start_new_session: the group id is the leader's pid
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            process.poll()  # reap the leader, or the group never looks empty
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


@cli.command("accept-batch")
@click.argument("sha256")
def accept_batch(sha256: str) -> None:
    """Accept a held batch (over 5% of its rows quarantined): its good rows count, publication resumes."""
    _review(sha256, "accepted")


@cli.command("exclude-batch")
@click.argument("sha256")
def exclude_batch(sha256: str) -> None:
    """Exclude a batch: none of its rows count (a held one no longer holds publication)."""
    _review(sha256, "excluded")


def _review(sha256: str, decision: str) -> None:
    from ingestion.reviews import ReviewError, journal_path, record_in_journal, review_batch
    from orchestration import duckdb_files
    from orchestration.assets.warehouse import incremental_relations
    from orchestration.model_definition import rebuild_whole
    from orchestration.resources import warehouse_lock

    settings = Settings.from_env()
    if not settings.warehouse.exists():
        raise UserError(f"no warehouse at {settings.warehouse}: nothing was ingested yet (TTHC_WAREHOUSE)")
    rebuilt = incremental_relations()
    with warehouse_lock(settings.warehouse, log=console.print):
        con = duckdb_files.connect(settings.warehouse, settings, log=console.print)
        try:
            con.begin()
            batch = review_batch(con, sha256, decision)
            rebuild_whole(con, rebuilt)
            con.commit()
        except ReviewError as exc:
            con.rollback()
            raise UserError(str(exc)) from exc
        finally:
            con.close()
        record_in_journal(journal_path(settings.warehouse), batch)  # a rebuilt warehouse applies it again
    console.print(f"batch {batch.sha256} ({', '.join(batch.file_paths)}): {batch.previous or 'not held'} -> "
                  f"{decision}. The next `tthc run` rebuilds {', '.join(rebuilt)} and publishes if every "
                  f"blocking check passes.")


@cli.command()
@click.argument("sha256")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="A .csv or .xlsx file (default: quarantine_<sha256 prefix>.xlsx here).")
def quarantine(sha256: str, out: Path | None) -> None:
    """Write a batch's quarantined rows, with every reason, to a file to send back to the unit that exported it."""
    import json

    import polars as pl

    from orchestration import duckdb_files
    from reporting.people_files import write_csv, write_xlsx

    settings = Settings.from_env()
    if not settings.warehouse.exists():
        raise UserError(f"no warehouse at {settings.warehouse}: nothing was ingested yet (TTHC_WAREHOUSE)")
    with duckdb_files.connect(settings.warehouse, settings, read_only=True, log=console.print) as con:
        rows = con.execute("select file_path, source_row, array_to_string(reasons, '; '), raw_record, batch_id "
                           "from raw.quarantine where starts_with(batch_id, ?) order by file_path, source_row",
                           [sha256.strip().lower()]).fetchall()
    if not rows or len(sha256.strip()) < 8:
        raise UserError(f"no quarantined row in a batch whose sha256 starts with {sha256!r} (8 characters at least)")
    frame = pl.DataFrame([{"Tệp": path, "Dòng": row, "Lý do": reasons, **json.loads(record)}
                          for path, row, reasons, record, _ in rows], infer_schema_length=None)
    out = out or Path(f"quarantine_{rows[0][4][:12]}.xlsx")
    if out.suffix.lower() == ".csv":
        write_csv(frame, out)
    elif out.suffix.lower() == ".xlsx":
        write_xlsx(frame, out, sheet="Hồ sơ bị loại")
    else:
        raise UserError(f"{out}: write a .csv or an .xlsx file")
    console.print(f"{frame.height} quarantined rows of batch {rows[0][4][:16]} written to {out}")


@cli.command()
@click.option("--programme", default=None, metavar="CODE",
              help="A programme of reference/programmes.csv (default: the one in force in the latest complete month).")
@click.option("--unit", default=None, metavar="CODE", help="Only this unit's rows.")
@click.option("--units", "show_units", is_flag=True, help="Every unit's rows too.")
@click.option("--failing", is_flag=True, help="The units below their target, furthest first.")
@click.option("--codes", is_flag=True, help="Indicator codes (online_rate, ...) instead of their Vietnamese labels.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="A table for people, or CSV / JSON (codes and labels, rates as fractions) on standard output.")
@click.option("--year", type=int, default=None, metavar="YYYY",
              help="The annual assessment of that year instead: every current unit's year values against the "
                   "targets, criteria met k/n, and whether it may be proposed for a high award (--failing: may not).")
def scorecard(programme: str | None, unit: str | None, show_units: bool, failing: bool, codes: bool, fmt: str,
              year: int | None) -> None:
    """Print a programme's scorecard from the published marts file: levels, targets, units meeting them."""
    settings = Settings.from_env()
    published, limits = settings.published, settings.duckdb_limits()
    if not published.exists():
        raise UserError(f"no published marts at {published}: run `tthc run` first")
    from cli.scorecard import programme_in_force, render_scorecard, render_year
    from contracts.rules import rules

    if year is not None:
        try:
            render_year(published, Console(width=None if sys.stdout.isatty() else 200), year, programme=programme,
                        unit=unit, failing=failing, codes=codes, fmt=fmt, out=sys.stdout, limits=limits)
        except LookupError as exc:
            raise UserError(str(exc)) from exc
        return
    try:
        render_scorecard(published, console=Console(width=None if sys.stdout.isatty() else 160),
                         programme=programme or programme_in_force(published, limits) or rules().default_programme,
                         show_units=show_units, unit=unit, failing=failing, codes=codes, fmt=fmt, out=sys.stdout,
                         limits=limits)
    except LookupError as exc:
        raise UserError(str(exc)) from exc


@cli.command()
@click.option("--month", default=None, metavar="YYYY-MM", help="Report month (default: the latest complete month).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Reports folder (default: reports/ beside $TTHC_PUBLISHED); the pack goes to OUT/<YYYY-MM>/.")
@click.option("--provisional", is_flag=True,
              help="Allow a month that is not complete (default: the latest month when none is complete): the pack "
                   "is marked TẠM TÍNH on every sheet and page, and goes to OUT/<YYYY-MM>_tam_tinh/.")
@click.option("--programme", default=None, metavar="CODE",
              help="The programme to score (default: the one in force in the report month; see tthc scorecard).")
@click.option("--year", type=int, default=None, metavar="YYYY",
              help="Instead of a month's pack, the annual assessment workbook danh_gia_nam_YYYY.xlsx in OUT/.")
def report(month: str | None, out: Path | None, provisional: bool, programme: str | None, year: int | None) -> None:
    """Write the monthly report pack from the published marts: the province workbook, one workbook per unit, and
    the offline dashboard (or, with --year, the year's assessment workbook)."""
    from reporting.pack import build_pack
    from reporting.published import ReportError, report_month

    if year is not None:
        from reporting.annual import build_annual

        try:
            settings = Settings.from_env()
            path = build_annual(settings.published, year, out, programme, settings.duckdb_limits())
        except ReportError as exc:
            raise UserError(str(exc)) from exc
        console.print(f"[green]annual assessment[/] {year}: {path}")
        return

    try:
        chosen = report_month(month)
    except ReportError as exc:
        raise UserError(f"--month {exc}") from None
    with _progress() as progress:
        task = None

        def report_progress(step: str, done: int, total: int) -> None:
            nonlocal task
            if task is None:
                task = progress.add_task(step, total=total)
            progress.update(task, completed=done)

        try:
            settings = Settings.from_env()
            pack = build_pack(settings.published, chosen, out, progress=report_progress,
                              provisional=provisional, programme=programme, limits=settings.duckdb_limits())
        except ReportError as exc:
            raise UserError(str(exc)) from exc
    console.print(f"[green]{'provisional ' if pack.provisional else ''}report pack[/] for {pack.month:%m/%Y} in "
                  f"{pack.folder} ({pack.seconds:.1f} s):\n"
                  f"  {pack.province_workbook.name}  the province workbook\n"
                  f"  {pack.dashboard.name}  the offline dashboard ({pack.dashboard.stat().st_size / 1e6:.1f} MB)\n"
                  f"  don_vi/  {len(pack.unit_workbooks)} unit workbooks, one per unit")


@cli.command()
def docs() -> None:
    """Write the data dictionary: dbt's documentation of every table, column and test as one static page beside
    the published file (data_dictionary.html), which opens from the file system with no server or network."""
    from orchestration.assets.warehouse import dbt_executable, ensure_manifest
    from orchestration.data_dictionary import write_data_dictionary
    from orchestration.settings import DBT_PROJECT_DIR

    settings = Settings.from_env()
    if not settings.warehouse.exists():
        raise UserError(f"no warehouse at {settings.warehouse}: run `tthc run` first")
    try:
        page, _ = write_data_dictionary(settings, ensure_manifest(), dbt_executable(), DBT_PROJECT_DIR, force=True)
    except RuntimeError as exc:
        raise UserError(str(exc)) from exc
    console.print(f"[green]data dictionary[/] {page} ({page.stat().st_size / 1e6:.1f} MB): open it in a browser, "
                  f"no server needed ({page.resolve().as_uri()})")


@cli.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
def dbt(dbt_args: tuple[str, ...]) -> None:
    """Run dbt by hand with the run's settings: `tthc dbt build -s kpi_unit_month`, `tthc dbt show --inline "…"`.

    The arguments go to dbt as they are; the warehouse, the memory bound and the spill folder (TTHC_*, read once as
    for `tthc run`) go with them as --vars, so dbt run by hand opens the same file with the same bounds."""
    import subprocess

    from orchestration.assets.warehouse import dbt_executable
    from orchestration.settings import DBT_PROJECT_DIR

    if any(arg == "--vars" or arg.startswith("--vars=") for arg in dbt_args):
        raise UserError("--vars: the settings are given by the TTHC_* environment variables (README, Settings)")
    settings = Settings.from_env()
    extra = [*settings.dbt_args(), "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    command = [dbt_executable(), *dbt_args, *(extra if dbt_args and not dbt_args[0].startswith("-") else [])]
    sys.exit(subprocess.run(command, cwd=DBT_PROJECT_DIR).returncode)


@cli.command("spark-cluster")
@click.argument("action", type=click.Choice(["start", "stop", "status"]))
@click.option("--workers", default=2, show_default=True, help="Spark workers, one core each.")
@click.option("--worker-memory", default="3g", show_default=True, help="What each worker (and its executor) gets.")
def spark_cluster(action: str, workers: int, worker_memory: str) -> None:
    """A Spark standalone cluster on this machine for TTHC_ENGINE=spark_cluster: a master, workers and the Thrift
    server on 127.0.0.1, its tables and metastore in the Spark folder (TTHC_SPARK_WAREHOUSE, or spark/ beside the
    warehouse). The Thrift server listens on TTHC_SPARK_PORT (10000), the master on TTHC_SPARK_MASTER_PORT (7077)."""
    from orchestration import spark_cluster as cluster

    settings = Settings.from_env()
    if action == "stop":
        stopped = cluster.stop(settings.spark_dir)
        console.print(f"stopped: {', '.join(stopped)}" if stopped else f"no cluster running from {settings.spark_dir}")
        return
    if action == "status":
        state = cluster.read_state(settings.spark_dir)
        if state is None:
            console.print(f"no cluster started from {settings.spark_dir}")
            sys.exit(1)
        alive = state.alive()
        for name, pid in state.pids.items():
            console.print(f"{name:15} pid {pid:<8} {'running' if name in alive else '[red]gone[/]'}  {state.logs[name]}")
        sys.exit(0 if len(alive) == len(state.pids) else 1)
    spec = cluster.ClusterSpec(settings.spark_dir, host=settings.spark_host, thrift_port=settings.spark_port,
                               master_port=settings.spark_master_port, workers=workers, worker_memory=worker_memory)
    console.print(f"starting a Spark master and {workers} workers, then the Thrift server (logs in {spec.folder / 'logs'})")
    started = time.monotonic()
    try:
        state = cluster.start(spec)
    except cluster.ClusterError as exc:
        raise UserError(str(exc)) from exc
    console.print(f"[green]Spark cluster ready[/] in {time.monotonic() - started:.0f} s: Thrift server on "
                  f"{spec.host}:{spec.thrift_port}, master {spec.master_url} (pids {', '.join(map(str, state.pids.values()))})")
    console.print("run the job on it: TTHC_ENGINE=spark_cluster tthc run; stop it: tthc spark-cluster stop "
                  "(make spark-cluster-stop)")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


def main() -> None:
    try:
        _main()
    finally:
        # What is left on the heap (Dagster, dbt's manifest, Great Expectations: a million objects) is freed with
        # the process: frozen, the interpreter's last garbage collection skips it.
        gc.freeze()


def _main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        console.print("aborted.")
        sys.exit(130)
    except click.ClickException as exc:
        console.print(f"[red]error:[/] {exc.format_message()}")
        sys.exit(exc.exit_code)
    except SettingsError as exc:  # names the variable: refused before anything runs
        console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(1)
    except Exception as exc:  # one clear line, not a traceback
        if os.environ.get("TTHC_DEBUG"):
            raise
        console.print(f"[red]error:[/] {type(exc).__name__}: {exc}")
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
