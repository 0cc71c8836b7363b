"""Reliability: a run that breaks says so, a reader or a dead run never blocks the next one, memory is bounded,
settings that cannot work are refused, a full disk or a damaged file is named. What ingestion does with bad input
is tests/test_bad_input.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration import duckdb_files
from orchestration.settings import Settings

from .test_bad_input import ingest

ROOT = Path(__file__).resolve().parents[1]


def settings_for(tmp_path: Path, **changes) -> Settings:
    base = Settings.from_env().with_paths(landing_dir=tmp_path / "landing", warehouse=tmp_path / "w" / "tthc.duckdb",
                                          published=tmp_path / "p" / "marts.duckdb")
    from dataclasses import replace

    return replace(base, **changes)


# --- 1. a killed or broken dbt fails the run, naming the step and the cause ------------------------------------

def test_dbt_failure_tells_a_killed_or_crashed_dbt_from_failing_tests(tmp_path):
    from orchestration.assets.warehouse import dbt_failure

    results = tmp_path / "run_results.json"
    results.write_text(json.dumps({"results": [
        {"unique_id": "model.tthc.stg_x", "status": "success"},
        {"unique_id": "test.tthc.not_null_x", "status": "fail"}]}))
    assert dbt_failure(0, tmp_path) is None
    assert dbt_failure(1, tmp_path) is None  # only a test failed: its check decides
    killed = dbt_failure(-signal.SIGKILL, tmp_path)
    assert "killed by SIGKILL" in killed and "out-of-memory" in killed and "2 dbt nodes finished" in killed
    assert str(tmp_path / "dbt.log") in killed
    assert "exited with code 2" in dbt_failure(2, tmp_path)
    results.write_text(json.dumps({"results": [{"unique_id": "model.tthc.fct_dossiers", "status": "error"}]}))
    assert "models in error: model.tthc.fct_dossiers" in dbt_failure(1, tmp_path)
    results.unlink()
    assert "exited with code 1" in dbt_failure(1, tmp_path)  # no results at all: dbt never got going


def test_a_run_whose_dbt_is_killed_exits_non_zero_and_names_the_step_and_signal(small_landing, tmp_path):
    """dbt killed by the kernel (here by itself, with SIGKILL, as the OOM killer does) is a broken run."""
    import shutil

    shutil.copytree(small_landing, tmp_path / "landing")
    real_dbt = Path(sys.executable).with_name("dbt")
    fake = tmp_path / "bin" / "dbt"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nif [ "$1" = build ]; then kill -KILL $$; fi\nexec "{real_dbt}" "$@"\n')
    fake.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "TTHC_DBT_EXECUTABLE": str(fake),
           "TTHC_LANDING_DIR": str(tmp_path / "landing"), "TTHC_WAREHOUSE": str(tmp_path / "w" / "tthc.duckdb"),
           "TTHC_PUBLISHED": str(tmp_path / "p" / "marts.duckdb"), "DAGSTER_HOME": str(tmp_path / "dagster")}
    done = subprocess.run([str(Path(sys.executable).with_name("tthc")), "run"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "warehouse_models: dbt was killed by SIGKILL" in done.stderr
    assert "the run broke" in done.stderr and "checks failed 0" not in done.stderr
    assert "published: no" in done.stderr and not (tmp_path / "p" / "marts.duckdb").exists()
    logs = list((tmp_path / "dagster" / "logs").glob("tthc_run_*.log"))
    assert len(logs) == 1 and logs[0].stem.removeprefix("tthc_run_") in done.stderr  # one log, named by run id


# --- 2. memory bounded --------------------------------------------------------------------------------------

def test_every_connection_gets_the_memory_limit_and_spill_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TTHC_DUCKDB_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("TTHC_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    settings = Settings.from_env().with_paths(warehouse=tmp_path / "w.duckdb")
    with duckdb_files.connect(settings.warehouse, settings) as con:
        limit, temp = con.execute("select current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
    assert limit in ("953.6 MiB", "1.0 GB", "1000.0 MB") and temp == str(tmp_path / "spill")
    monkeypatch.delenv("TTHC_DUCKDB_MEMORY_LIMIT")
    from orchestration.settings import parse_bytes

    default = parse_bytes(Settings.from_env().memory_limit)
    assert 0.24 <= default / (os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) <= 0.25
    assert parse_bytes(Settings.from_env().with_memory_share(0.4).memory_limit) == pytest.approx(0.4 * default, rel=1e-3)


def test_the_engine_is_duckdb_unless_tthc_engine_says_spark(monkeypatch):
    monkeypatch.delenv("TTHC_ENGINE", raising=False)
    assert Settings.from_env().engine == "duckdb" and Settings.from_env().dbt_target == "warehouse"
    monkeypatch.setenv("TTHC_ENGINE", " Spark ")
    assert Settings.from_env().engine == "spark" and Settings.from_env().on_spark
    monkeypatch.setenv("TTHC_ENGINE", "spark_cluster")
    assert Settings.from_env().dbt_target == "spark_cluster" and Settings.from_env().on_spark
    monkeypatch.setenv("TTHC_ENGINE", "oracle")
    with pytest.raises(ValueError, match="TTHC_ENGINE='oracle': the engine is one of duckdb, spark, spark_cluster"):
        Settings.from_env()


def test_the_cluster_thrift_server_and_warehouse_come_from_the_environment(monkeypatch, tmp_path):
    for name in ("TTHC_SPARK_HOST", "TTHC_SPARK_PORT", "TTHC_SPARK_WAREHOUSE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TTHC_WAREHOUSE", str(tmp_path / "w" / "tthc.duckdb"))
    settings = Settings.from_env()
    assert (settings.spark_host, settings.spark_port, settings.spark_dir) == ("127.0.0.1", 10000, tmp_path / "w" / "spark")
    monkeypatch.setenv("TTHC_SPARK_HOST", "spark-thrift.internal")
    monkeypatch.setenv("TTHC_SPARK_PORT", "10001")
    monkeypatch.setenv("TTHC_SPARK_WAREHOUSE", str(tmp_path / "shared"))
    settings = Settings.from_env()
    assert settings.dbt_vars()["tthc_spark_host"] == "spark-thrift.internal"
    assert settings.dbt_vars()["tthc_spark_port"] == "10001" and settings.spark_dir == tmp_path / "shared"
    monkeypatch.setenv("TTHC_SPARK_PORT", "ten thousand")
    with pytest.raises(ValueError, match="TTHC_SPARK_PORT='ten thousand': give a TCP port"):
        Settings.from_env()


def test_dbt_runs_with_the_same_memory_limit(small_ingested, tmp_path):
    """dbt's profile reads the bound that orchestration passes (Settings.dbt_env)."""
    import shutil

    from .conftest import DBT_PROJECT

    db = tmp_path / "tthc.duckdb"
    shutil.copy(small_ingested[0], db)
    settings = Settings.from_env().with_paths(warehouse=db)
    from dataclasses import replace

    done = subprocess.run([str(Path(sys.executable).with_name("dbt")), "show", "--inline",
                           "select current_setting('memory_limit') as memory_limit", "--output", "json",
                           "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
                           *replace(settings, memory_limit="700MB").dbt_args()],
                          cwd=DBT_PROJECT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "667.5 MiB" in done.stdout or "700.0 MB" in done.stdout, done.stdout[-1000:]


# --- 3. a run whose process died is marked failed -----------------------------------------------------------

def test_a_run_whose_process_was_killed_is_marked_failed_by_the_sensor(tmp_path):
    from orchestration.dead_runs import PID_TAG, dead_run_sensor

    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    script = tmp_path / "slow_run.py"
    script.write_text(textwrap.dedent(f"""
        import time
        import dagster as dg
        from orchestration.resources import WarehouseResource

        @dg.asset
        def slow(warehouse: WarehouseResource):
            time.sleep(120)

        job = dg.define_asset_job("slow_job", executor_def=dg.in_process_executor)
        defs = dg.Definitions(assets=[slow], jobs=[job], resources={{"warehouse": WarehouseResource(
            warehouse_path={str(tmp_path / 'w.duckdb')!r})}})
        defs.resolve_job_def("slow_job").execute_in_process(instance=dg.DagsterInstance.from_config({str(home)!r}))
    """))
    worker = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env={**os.environ, "DAGSTER_HOME": str(home)})
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        deadline = time.monotonic() + 120
        run = None
        while time.monotonic() < deadline and run is None:
            runs = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
            run = next((r for r in runs if PID_TAG in r.tags), None)
            time.sleep(0.5)
        assert run is not None and run.tags[PID_TAG] == str(worker.pid)
        assert isinstance(dead_run_sensor(dg.build_sensor_context(instance=instance)), dg.SkipReason)
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED  # alive: left alone
        worker.kill()
        worker.wait()
        assert "marked 1 dead runs failed" in dead_run_sensor(dg.build_sensor_context(instance=instance)).skip_message
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert not instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    finally:
        if worker.poll() is None:
            worker.kill()


# --- 4. a reader of the working warehouse: the run waits, then names the file and the process -----------------

def _hold_open(path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(path)!r}, read_only=True)
        print("open", flush=True)
        time.sleep({seconds})
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "open"
    return holder


def test_a_run_waits_for_a_reader_of_the_warehouse_then_goes_on(tmp_path):
    settings = settings_for(tmp_path, lock_wait_seconds=60)
    settings.warehouse.parent.mkdir(parents=True)
    duckdb.connect(str(settings.warehouse)).close()
    holder = _hold_open(settings.warehouse, 3)
    said = []
    started = time.monotonic()
    with duckdb_files.connect(settings.warehouse, settings, log=said.append) as con:
        con.execute("create table t as select 1 as x")
    assert time.monotonic() - started >= 1
    assert len(said) == 1 and str(settings.warehouse) in said[0] and f"PID {holder.pid}" in said[0]
    holder.wait()


def test_a_reader_that_stays_fails_the_run_naming_the_file_and_the_process(tmp_path):
    settings = settings_for(tmp_path, lock_wait_seconds=1)
    settings.warehouse.parent.mkdir(parents=True)
    duckdb.connect(str(settings.warehouse)).close()
    holder = _hold_open(settings.warehouse, 60)
    try:
        with pytest.raises(duckdb_files.FileBusy, match=rf"tthc.duckdb is held open by PID {holder.pid} .*close it"):
            duckdb_files.connect(settings.warehouse, settings)
    finally:
        holder.kill()


# --- 7. stale staging files of a killed publication; one log per run ------------------------------------------

def test_staging_files_left_by_a_dead_publication_are_removed(tmp_path):
    from orchestration.assets.publication import remove_stale_staging_files, staging_file

    published = tmp_path / "tthc_marts.duckdb"
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = staging_file(published, gone.pid)
    alive = staging_file(published, os.getpid())
    for path in (dead, alive):
        path.write_bytes(b"half a file")
    assert remove_stale_staging_files(published) == [dead]
    assert not dead.exists() and alive.exists()


def test_run_logs_are_pruned_by_age(tmp_path):
    from cli.runner import prune_run_logs, run_log_path

    old, new = run_log_path(tmp_path, "old-run"), run_log_path(tmp_path, "new-run")
    old.parent.mkdir(parents=True)
    for path in (old, new):
        path.write_text("log")
    os.utime(old, (time.time() - 40 * 86400,) * 2)
    assert prune_run_logs(old.parent) == [old]
    assert new.exists()


# --- 8. a rejected file is warned about until a run succeeds -------------------------------------------------

def test_rejected_files_are_warned_about_until_a_successful_run(landing, tmp_path):
    from orchestration.assets.ingestion import rejected_files_check

    (landing / "dossiers" / "legacy.csv").write_bytes("Mã hồ sơ\nThủ tục\n".encode("utf-16"))
    crashed_run_at = datetime(2024, 2, 3, 2, 0)
    ingest(landing, tmp_path / "w.duckdb", now=crashed_run_at)  # ... and then the run crashed
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        next_run = rejected_files_check(con, since=crashed_run_at - timedelta(days=1))  # last success ended before
        assert not next_run.passed and "legacy.csv" in next_run.description
        after_success = rejected_files_check(con, since=crashed_run_at + timedelta(hours=1))  # a success reported it
        assert after_success.passed


def test_a_rejection_reported_by_a_successful_run_is_not_warned_about_again(small_landing, tmp_path):
    """Two runs on the sample (which lands two bad files): the first warns, the second, after it, does not."""
    import shutil

    from cli.runner import run_pipeline
    from orchestration.definitions import defs

    shutil.copytree(small_landing, tmp_path / "landing")
    env = {"TTHC_LANDING_DIR": str(tmp_path / "landing"), "TTHC_WAREHOUSE": str(tmp_path / "w" / "tthc.duckdb"),
           "TTHC_PUBLISHED": str(tmp_path / "p" / "tthc_marts.duckdb"), "DAGSTER_HOME": str(tmp_path / "dagster")}
    with pytest.MonkeyPatch.context() as patch:
        for k, v in env.items():
            patch.setenv(k, v)
        from rich.console import Console

        console = Console(file=open(tmp_path / "console.txt", "w"), width=200)
        first = run_pipeline(Settings.from_env(), console, defs.resolve_job_def("full_refresh"))
        second = run_pipeline(Settings.from_env(), console, defs.resolve_job_def("full_refresh"))
    assert first.ok and "raw/ingestion_ledger:no_rejected_files" in first.warnings
    assert second.ok and "raw/ingestion_ledger:no_rejected_files" not in second.warnings


def test_dagster_home_gets_run_monitoring_and_keeps_a_yaml_of_its_own(tmp_path, monkeypatch):
    from cli.runner import DAGSTER_YAML, PREVIOUS_DAGSTER_YAMLS, prepare_dagster_home

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    config = prepare_dagster_home() / "dagster.yaml"
    assert config.read_text() == DAGSTER_YAML
    assert dg.DagsterInstance.from_config(str(tmp_path / "home")).run_monitoring_enabled
    for managed in (PREVIOUS_DAGSTER_YAMLS[0], DAGSTER_YAML.split("run_monitoring")[0]):  # older tthc: updated
        config.write_text(managed)
        assert prepare_dagster_home() / "dagster.yaml" == config and config.read_text() == DAGSTER_YAML
    config.write_text("telemetry:\n  enabled: true\n")  # the operator's own: left alone
    prepare_dagster_home()
    assert config.read_text() == "telemetry:\n  enabled: true\n"


# --- 15. settings that cannot work are refused before the run starts, naming the variable (issue #22) -----------

@pytest.mark.parametrize("variable,value,said", [
    ("TTHC_DUCKDB_MEMORY_LIMIT", "1KB", "at least 128MB"),
    ("TTHC_DUCKDB_MEMORY_LIMIT", "lots", "not a memory size"),
    ("TTHC_LOCK_WAIT_SECONDS", "abc", "give a number of seconds"),
    ("TTHC_SETTLE_SECONDS", "-1", "0 or more"),
    ("TTHC_PUBLISHED", "/tmp/o'clock/marts.duckdb", "a path with a quote"),
    ("TTHC_WAREHOUSE", "data/it's.duckdb", "a path with a quote"),
    ("TTHC_WAREHOUSE", "/srv/tthc/marts.duckdb", "named like one of its schemas"),
    ("TTHC_PUBLISHED_STORAGE_VERSION", "v9.9", "not a DuckDB version"),
])
def test_bad_settings_are_refused_naming_the_variable(tmp_path, monkeypatch, variable, value, said):
    from orchestration.settings import SettingsError

    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    assert str(refused.value).startswith(f"{variable}={value!r}: ") and said in str(refused.value)
    # `tthc run` says it in one line and starts nothing: no warehouse, no Dagster
    env = {**os.environ, "TTHC_LANDING_DIR": str(tmp_path / "landing"), "TTHC_WAREHOUSE": str(tmp_path / "w.duckdb"),
           "DAGSTER_HOME": str(tmp_path / "dagster"), variable: value}
    (tmp_path / "landing").mkdir()
    done = subprocess.run([str(Path(sys.executable).with_name("tthc")), "run"], env=env, capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1 and f"error: {variable}={value!r}: " in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "w.duckdb").exists() and not (tmp_path / "dagster").exists()


# --- 16. a DuckDB run never imports PySpark (issue #22) ----------------------------------------------------------

def test_great_expectations_is_imported_without_pyspark_which_stays_importable():
    code = ("import importlib.util, sys\nfrom expectations.engine import get_context\n"
            "import expectations.raw_batches, expectations.unit_reports\nget_context()\n"
            "print('pyspark imported:', 'pyspark' in sys.modules)\n"
            "print('pyspark installed:', importlib.util.find_spec('pyspark') is not None)\n")
    done = subprocess.run([sys.executable, "-W", "error::FutureWarning", "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "pyspark imported: False" in done.stdout and "FutureWarning" not in done.stderr
    if os.environ.get("CI"):  # make test installs the spark group: then the test means something
        assert "pyspark installed: True" in done.stdout


# --- 17. a full disk and a damaged warehouse say so, naming the file (issue #22) ---------------------------------

def test_no_space_left_is_told_whatever_duckdb_says(tmp_path):
    from orchestration.duckdb_files import NoSpaceLeft, no_space_left

    target = tmp_path / "w.duckdb"
    failed_commit = duckdb.TransactionException('Failed to commit: Could not write file "w.duckdb.wal": '
                                                'No space left on device')
    try:
        try:
            raise failed_commit
        except duckdb.Error:
            raise duckdb.TransactionException("cannot rollback - no transaction is active") from None
    except duckdb.Error as masked:  # the rollback's error hides the real one: found through the context
        masked.__context__ = failed_commit
        said = no_space_left(masked, target)
    assert isinstance(said, NoSpaceLeft) and str(target) in str(said) and "no space left on device" in str(said)
    assert no_space_left(duckdb.IOException("Could not set lock on file"), target) is None


def test_a_damaged_warehouse_is_named_with_the_way_to_recover(tmp_path):
    from orchestration.duckdb_files import WarehouseCorrupt

    warehouse = tmp_path / "w" / "tthc.duckdb"
    warehouse.parent.mkdir()
    warehouse.write_bytes(b"\0" * 8 + b"\xff" * 4096)
    with pytest.raises(WarehouseCorrupt) as damaged:
        duckdb_files.connect(warehouse, settings_for(tmp_path, warehouse=warehouse))
    message = str(damaged.value)
    assert message.startswith(f"{warehouse} is damaged") and "move it" in message and "tthc run" in message
    assert "tthc_batch_reviews.csv" in message


def test_a_failed_publication_leaves_no_staging_file_nor_its_wal(tmp_path, small_built, monkeypatch):
    from orchestration.assets import publication

    published = tmp_path / "p" / "marts.duckdb"
    published.parent.mkdir()
    monkeypatch.setitem(publication.PUBLISHED_TABLES, "zz_missing", "marts.zz_missing")  # fails after a few tables
    with pytest.raises(duckdb.CatalogException):
        publication.publish(small_built, published, settings_for(tmp_path))
    assert sorted(p.name for p in published.parent.iterdir()) == [], "no .tmp, no .tmp.wal"


# --- 18. landing text in the terminal (issue #22) ------------------------------------------------------------------

def test_the_scorecard_shows_landing_text_without_control_characters_or_markup(pack_run, tmp_path, monkeypatch):
    """A unit name with an escape sequence, a bidirectional override and Rich markup prints as inert text; and
    the published file may be called `marts.duckdb`."""
    import io
    import shutil

    from click.testing import CliRunner
    from rich.console import Console

    from cli.commands import cli
    from cli.scorecard import render_scorecard

    published = tmp_path / "marts.duckdb"
    shutil.copy(pack_run[0], published)
    name = "Sở\x1b[2J\x1b]0;pwned\x07\u202eTest[bold]x[/bold]"
    with duckdb.connect() as con:
        con.execute(f"attach '{published}' as p")  # opened by its own name, `marts` would be ambiguous
        con.execute("use p")
        code = con.execute("select unit_code from marts.unit_lineage where level = 'tinh' order by 1 limit 1").fetchall()[0][0]
        con.execute("update marts.unit_lineage set unit_name = ? where unit_code = ?", [name, code])
    out = io.StringIO()
    render_scorecard(published, show_units=True, console=Console(file=out, width=400), programme="ct10_2023")
    shown = out.getvalue()
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert f"{code} Sở\ufffd[2J\ufffd]0;pwned\ufffd\ufffdTest[bold]x[/bold]" in shown
    monkeypatch.setenv("TTHC_PUBLISHED", str(published))  # a file named like the schema: attached under an alias
    done = CliRunner().invoke(cli, ["scorecard", "--programme", "ct10_2023"])
    assert done.exit_code == 0 and "Chỉ thị 10" in done.output, done.output


def test_staging_folders_of_a_report_pack_are_removed_once_their_process_has_exited(tmp_path):
    """A pack's staging folder is left behind when its process dies; the next pack removes it once that process is
    gone, and also when it has exited but is not yet reaped (a zombie), never while it runs (storage/processes.py)."""
    from reporting.pack import remove_abandoned
    from storage.processes import process_alive

    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    assert process_alive(os.getpid()) and process_alive(child.pid)
    for pid in (os.getpid(), child.pid):
        (tmp_path / f".2023-10.{pid}.tmp").mkdir()
    remove_abandoned(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {f".2023-10.{os.getpid()}.tmp", f".2023-10.{child.pid}.tmp"}
    child.stdin.close()  # it exits, and stays a zombie until it is waited for
    deadline = time.monotonic() + 30
    while process_alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(child.pid) and Path(f"/proc/{child.pid}").exists()  # exited, not reaped: a zombie
    remove_abandoned(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [f".2023-10.{os.getpid()}.tmp"]
    child.wait()
    assert not process_alive(child.pid)


def test_a_process_is_read_from_proc_whatever_its_command_name():
    """A command name may hold spaces and parentheses (/proc/<pid>/stat writes it between parentheses): its state and
    start time are still read, so a run's process and a pack's owner are told alive or gone rightly."""
    from orchestration.dead_runs import process_start_ticks
    from storage.processes import process_alive, process_stat

    name = "tthc) Z 1 2"  # the name a naive split would read a zombie's state from
    child = subprocess.Popen([sys.executable, "-c", "import ctypes, sys; "  # PR_SET_NAME: the command name
                              f"ctypes.CDLL(None).prctl(15, {name.encode()!r}, 0, 0, 0); sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while Path(f"/proc/{child.pid}/comm").read_text().strip() != name and time.monotonic() < deadline:
            time.sleep(0.05)
        assert Path(f"/proc/{child.pid}/comm").read_text().strip() == name
        assert process_stat(child.pid)[0] in "RSD" and process_alive(child.pid)
        started = process_start_ticks(child.pid)
        assert started is not None and started.isdigit() and started != process_start_ticks(os.getpid())
    finally:
        child.stdin.close()
        child.wait()
    assert process_stat(child.pid) is None and process_start_ticks(child.pid) is None
    assert not process_alive(child.pid)
