"""Nightly runs (issue #14): a run with nothing new stops early and leaves the published file as it is, with the
run in the check history; day-by-day runs publish exactly what a full rebuild publishes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from ingestion.ingest import ingest_landing
from orchestration.run_inputs import NOTHING_NEW_CHECK, nothing_new
from orchestration.settings import Settings

from .conftest import published_tables, run_whole_job

ROOT = Path(__file__).resolve().parents[1]


def _daily_exports(landing: Path) -> list[Path]:
    return sorted((p for p in (landing / "dossiers").rglob("hoso_*") if p.parent.name.isdigit()),
                  key=lambda p: p.stem.split("_")[1])


def _env(root: Path) -> dict[str, str]:
    return {"TTHC_LANDING_DIR": str(root / "landing"), "TTHC_WAREHOUSE": str(root / "warehouse" / "tthc.duckdb"),
            "TTHC_PUBLISHED": str(root / "published" / "tthc_marts.duckdb"), "DAGSTER_HOME": str(root / "dagster"),
            "TTHC_PII_KEY": "reports-test-key"}


def _tthc_run(root: Path, *args: str) -> subprocess.CompletedProcess:
    """`tthc run` in a fresh interpreter, saying at the end whether it imported Dagster, dbt-core, Great
    Expectations, pandas, polars and pyarrow."""
    code = ("import sys\nfrom cli.commands import cli\ntry:\n    cli(['run', *sys.argv[1:]])\n"
            "except SystemExit as exit:\n    print('dagster imported:', 'dagster' in sys.modules)\n"
            "    print('dbt-core imported:', 'dbt.version' in sys.modules)\n"
            "    print('great_expectations imported:', 'great_expectations' in sys.modules)\n"
            "    print('pandas imported:', 'pandas' in sys.modules)\n"
            "    print('polars imported:', 'polars' in sys.modules)\n"
            "    print('pyarrow imported:', 'pyarrow' in sys.modules)\n    raise\n")
    return subprocess.run([sys.executable, "-c", code, *args], env={**os.environ, **_env(root)}, cwd=ROOT,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def nightly(pack_run, tmp_path_factory):
    """The landing of `pack_run` without its last two days of exports and its last unit report, run whole:
    (root, the held files: the two days, then the report)."""
    full_landing = pack_run[0].parents[1] / "landing"
    root = tmp_path_factory.mktemp("nightly")
    shutil.copytree(full_landing, root / "landing")
    held = []
    last_report = sorted(p for p in (root / "landing" / "unit_reports").rglob("*") if p.is_file())[-1]
    for path in [*_daily_exports(root / "landing")[-2:], last_report]:
        held.append((path, path.read_bytes()))
        path.unlink()
    run_whole_job(root, "reports-test-key")
    return root, held


def test_a_run_with_nothing_new_leaves_the_published_file_and_records_the_run(nightly):
    root, _ = nightly
    published = root / "published" / "tthc_marts.duckdb"
    before = (published.read_bytes(), published.stat().st_mtime_ns)
    done = _tthc_run(root)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "nothing new since run" in done.stderr and "left as it is" in done.stderr
    assert "dagster imported: False" in done.stdout  # stopped before the heavy imports
    # nor a dataframe library: the landing, the ledger and the data quality page are read without one (at 10M
    # dossiers, polars and pyarrow were half of this run's 1.2 s)
    assert "polars imported: False" in done.stdout and "pyarrow imported: False" in done.stdout
    assert (published.read_bytes(), published.stat().st_mtime_ns) == before
    run_id = re.search(r"run ([0-9a-f-]{36}): recorded in the check history", done.stderr).group(1)
    with duckdb.connect(str(root / "warehouse" / "tthc.duckdb"), read_only=True) as con:
        checks, at = con.execute("select list(check_name order by check_name), max(run_at) from quality.check_runs "
                                 "where run_id = ?", [run_id]).fetchone()
        latest = con.execute("select max(run_at) from quality.check_runs").fetchone()[0]
    assert checks == ["dossier_export_is_fresh", NOTHING_NEW_CHECK] and at == latest
    page = (root / "published" / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert run_id in page and "nothing new since run" in page


def test_a_run_the_landing_sensor_requested_stops_early_when_nothing_is_new(nightly, monkeypatch):
    """The sensor's run (tagged) finds that another run ingested everything meanwhile: it materialises nothing,
    leaves the published file and records that nothing was new."""
    from orchestration.definitions import defs
    from orchestration.run_inputs import STOP_IF_NOTHING_NEW_TAG

    root, _ = nightly
    for key, value in _env(root).items():
        monkeypatch.setenv(key, value)
    published = Settings.from_env().published
    before = published.stat()
    result = defs.resolve_job_def("full_refresh").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), tags={STOP_IF_NOTHING_NEW_TAG: "true"}, raise_on_error=False)
    assert result.success and result.get_asset_materialization_events() == []
    assert (published.stat().st_size, published.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    with duckdb.connect(str(Settings.from_env().warehouse), read_only=True) as con:
        assert con.execute("select count(*) from quality.check_runs where run_id = ? and check_name = ?",
                           [result.run_id, NOTHING_NEW_CHECK]).fetchall()[0][0] == 1


def test_what_makes_a_run_build_again(nightly, monkeypatch):
    """A touched file, a new file, a reviewed batch, a replaced published file: each one means a real run."""
    from orchestration.automation import nightly_full_refresh

    root, _ = nightly
    for key, value in _env(root).items():
        monkeypatch.setenv(key, value)
    settings = Settings.from_env()
    assert nothing_new(settings) is not None
    with dg.build_schedule_context() as context:
        assert isinstance(nightly_full_refresh(context), dg.SkipReason)

    export = _daily_exports(root / "landing")[0]
    stat = export.stat()
    os.utime(export, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # same bytes, touched
    assert nothing_new(settings) is None
    with dg.build_schedule_context() as context:
        assert isinstance(nightly_full_refresh(context), dg.RunRequest)
    os.utime(export, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # its old time back: its ctime still says touched
    assert nothing_new(settings) is None
    with duckdb.connect(str(settings.warehouse)) as con:  # the run's ingestion hashes it: the same bytes
        assert ingest_landing(settings.landing_dir, con, b"reports-test-key").outcomes == []
    assert nothing_new(settings) is not None

    extra = export.with_name(f"extra{export.suffix}")  # a copy under a new name: a new file, the same bytes
    shutil.copy(export, extra)
    assert nothing_new(settings) is None
    extra.unlink()

    published = settings.published
    kept = published.read_bytes()
    published.write_bytes(kept)  # the same bytes, written again by someone else: not the file the run left
    assert nothing_new(settings) is None
    monkeypatch.setenv("TTHC_PII_KEY", "another-key")  # a setting that shapes the tables
    assert nothing_new(Settings.from_env()) is None


def _rebuilt(outcome, model: str) -> bool:
    """Whether the run's dbt build built the model again (orchestration/build_selection.py): a kept model's
    materialisation says `rebuilt: False`."""
    return outcome.metadata[model].get("rebuilt", True)


def test_day_by_day_runs_publish_what_a_full_rebuild_publishes(nightly, pack_run):
    """Two days of dossiers, then a day that brings a unit report only: each run builds what its batch touches."""
    root, held = nightly
    for n, (path, raw) in enumerate(held):  # the nightly exports, one day after the other
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
        if n == 0:  # as the nightly command runs: `tthc run` in its own interpreter
            done = _tthc_run(root)
            assert done.returncode == 0, done.stderr[-3000:]
            assert "files new 1, loaded 1" in done.stderr and "published: yes" in done.stderr, done.stderr[-3000:]
            # dbt runs in its own process: the run's process imports dagster-dbt without dbt-core (dagster_dbt_import.py);
            # the one the command started before the run, on the parse it made meanwhile (orchestration/warm_dbt.py)
            assert "dbt-core imported: False" in done.stdout
            assert "dbt build: in the dbt process started with the run, which had imported dbt and parsed" \
                in done.stderr, done.stderr[-3000:]
            # every suite of the run evaluated in DuckDB SQL (expectations/sql_engine.py)
            assert "great_expectations imported: False" in done.stdout and "pandas imported: False" in done.stdout
        else:
            outcome = run_whole_job(root, "reports-test-key")
            assert outcome.metadata["raw/ingestion_ledger"]["files_loaded"] == 1
            dossiers = "dossiers" in path.parts
            # dossiers rebuild the facts and every mart; the reference tables are kept (no reference batch)
            assert _rebuilt(outcome, "intermediate/int_dossier_current_state") is dossiers
            assert _rebuilt(outcome, "marts/kpi_unit_month") is dossiers
            assert not _rebuilt(outcome, "staging/stg_reference__units")
            assert not _rebuilt(outcome, "facts/dim_units") and not _rebuilt(outcome, "marts/unit_lineage")
            # a unit report rebuilds its rules and discrepancies, and what reads the ledger alone
            assert _rebuilt(outcome, "quality/int_unit_report_rules") and _rebuilt(outcome, "marts/ingestion_ledger")
            assert _rebuilt(outcome, "staging/stg_tthc__unit_reports") is not dossiers
    by_day, full = published_tables(root / "published" / "tthc_marts.duckdb"), published_tables(pack_run[0])
    for table, frame in full.items():
        assert frame.height > 0 or table in ("explanation_issues",), table
        assert by_day[table].sort(pl.all(), nulls_last=True).equals(frame.sort(pl.all(), nulls_last=True)), table


def test_dagster_storage_writes_ahead_without_waiting_for_the_disk(nightly):
    """Every run's events go to SQLite under DAGSTER_HOME in WAL mode (orchestration/sqlite_storage.py)."""
    import sqlite3

    root, _ = nightly
    databases = [root / "dagster" / "history" / "runs.db", *(root / "dagster" / "history" / "runs").glob("*.db")]
    assert len(databases) >= 2
    for path in databases:
        with sqlite3.connect(path) as con:
            assert con.execute("pragma journal_mode").fetchone()[0] == "wal", path


def test_dagster_storage_keeps_its_write_ahead_logs_open_between_statements(tmp_path):
    """Dagster opens and closes a SQLite connection per statement; with a connection of the process kept open to
    each file, a close is not the last one, so it does not checkpoint and delete the log every time (1,600 times
    a nightly run). Only the KEPT_OPEN files used last are kept; closing them checkpoints their logs."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    from orchestration import sqlite_storage

    sqlite_storage.use_write_ahead_log()
    sqlite_storage.close_kept()
    files = [tmp_path / f"shard_{n}.db" for n in range(sqlite_storage.KEPT_OPEN + 2)]
    for file in files:
        engine = sa.create_engine(f"sqlite:///{file}", poolclass=NullPool)  # as Dagster's SQLite storages
        with engine.begin() as con:
            con.execute(sa.text("create table events (body text)"))
        for n in range(3):
            with engine.begin() as con:
                con.execute(sa.text("insert into events values (:body)"), {"body": f"event {n}"})
        # every connection of the engine is closed: the process's own one keeps the log
        assert file.with_name(file.name + "-wal").exists(), file
        engine.dispose()
    kept = sqlite_storage.kept_open()
    assert kept == [str(f) for f in files[-sqlite_storage.KEPT_OPEN:]]  # the least recently used were closed
    assert not files[0].with_name(files[0].name + "-wal").exists()
    sqlite_storage.close_kept()
    assert sqlite_storage.kept_open() == []
    for file in files:
        assert not file.with_name(file.name + "-wal").exists(), file
        with sa.create_engine(f"sqlite:///{file}", poolclass=NullPool).connect() as con:
            assert con.execute(sa.text("select count(*) from events")).scalar() == 3
    sqlite_storage.close_kept()


def test_dagster_storage_stores_events_on_one_engine_per_file(tmp_path):
    """Dagster's SQLite run and event storage, with the process's pooled engines under them (sqlite_storage.py): a
    run's events and status go to its files and read back, on one engine per file, not a new one per statement;
    a storage wiped (its run files deleted) still stores and reads the next run's events."""
    import sqlite3

    from dagster._core.events import DagsterEventType
    from dagster._core.storage.dagster_run import DagsterRunStatus

    from orchestration import sqlite_storage

    sqlite_storage.use_write_ahead_log()
    sqlite_storage.dispose_engines()

    @dg.asset
    def planned() -> int:
        return 1

    @dg.asset_check(asset=planned)
    def planned_is_one() -> dg.AssetCheckResult:  # its events ask the storage whether it has the checks' table
        return dg.AssetCheckResult(passed=True)

    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        first = dg.materialize([planned, planned_is_one], instance=instance)
        assert first.success and instance.get_run_by_id(first.run_id).status == DagsterRunStatus.SUCCESS
        engines = sqlite_storage.pooled_engines()
        event_files = {f"{first.run_id}.db", "index.db", "runs.db"}
        assert event_files <= {e.rsplit("/", 1)[-1] for e in engines}, engines
        logged = {e.dagster_event_type for e in instance.all_logs(first.run_id)}
        assert {DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_CHECK_EVALUATION} <= logged
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key([planned_is_one.check_key])
        assert check[planned_is_one.check_key].run_id == first.run_id

        run_file = tmp_path / "history" / "runs" / f"{first.run_id}.db"
        assert run_file.exists()
        instance.wipe()  # deletes the run files the pool held open
        assert not run_file.exists()
        second = dg.materialize([planned, planned_is_one], instance=instance)
        assert second.success and instance.all_logs(second.run_id)
        assert instance.get_latest_materialization_event(dg.AssetKey("planned")).run_id == second.run_id

    # DAGSTER_HOME deleted and made again at the same path, in the same process: its new files get new engines,
    # so the runs land in the files on disk, not in the deleted ones a pooled connection still held
    home = tmp_path / "again"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        assert dg.materialize([planned, planned_is_one], instance=instance).success
    shutil.rmtree(home)
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        again = dg.materialize([planned, planned_is_one], instance=instance)
        assert again.success
    with sqlite3.connect(home / "history" / "runs.db") as con:
        assert con.execute("select run_id from runs").fetchall() == [(again.run_id,)]
    with sqlite3.connect(home / "history" / "runs" / "index.db") as con:
        assert con.execute("select count(*) from event_logs where run_id = ?", [again.run_id]).fetchone()[0] > 0
    sqlite_storage.dispose_engines()
    assert sqlite_storage.pooled_engines() == []
