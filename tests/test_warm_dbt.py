"""The dbt process started with the run (orchestration/warm_dbt.py): a build it runs on the manifest it parsed while
it waited builds what a `dbt build` builds; a build whose settings changed since that parse is parsed again; a
process no build took ends with the run."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import polars as pl
import pytest

from orchestration import warm_dbt
from orchestration.assets.warehouse import dbt_project, dbt_resource, warehouse_models
from orchestration.resources import WarehouseResource
from orchestration.settings import DBT_PROJECT_DIR, Settings

VARS = '{"tthc_warehouse": "/w/tthc.duckdb"}'


def test_the_parse_depends_on_the_target_the_vars_and_the_tthc_settings():
    build = ["build", "--exclude", "a b", "--target", "warehouse", "--vars", VARS, "--indirect-selection", "cautious"]
    assert warm_dbt.flag_values(build) == {"--target": "warehouse", "--vars": VARS}
    assert warm_dbt.flag_values(["build", f"--vars={VARS}"]) == {"--target": None, "--vars": VARS}
    parse = ["--target", "warehouse", "--vars", VARS]
    env = {"TTHC_PII_KEY": "k", "PATH": "/bin"}
    assert warm_dbt.parsed_alike(parse, env, build, {**env, "PATH": "/usr/bin", "DBT_TARGET_PATH": "/t"})
    assert not warm_dbt.parsed_alike(parse, env, [*build[:-4], "--vars", "{}"], env)
    assert not warm_dbt.parsed_alike(parse, env, ["build", "--target", "spark", "--vars", VARS], env)
    assert not warm_dbt.parsed_alike(parse, env, build, {**env, "TTHC_PII_KEY": "other"})
    assert not warm_dbt.parsed_alike(parse, env, build, {**env, "TTHC_RAW_PARQUET": "/p"})


def test_exit_codes_are_dbts():
    assert warm_dbt.exit_code(SimpleNamespace(success=True, exception=None)) == 0
    assert warm_dbt.exit_code(SimpleNamespace(success=False, exception=None)) == 1  # a node failed
    assert warm_dbt.exit_code(SimpleNamespace(success=False, exception=RuntimeError("x"))) == 2


@pytest.fixture
def warehouse_env(small_ingested, tmp_path, monkeypatch) -> Path:
    """A copy of the small ingested warehouse, named by the environment (as `tthc run` finds it)."""
    db = tmp_path / "warehouse" / "tthc.duckdb"
    db.parent.mkdir()
    shutil.copy(small_ingested[0], db)
    monkeypatch.setenv("TTHC_WAREHOUSE", str(db))
    monkeypatch.setenv("TTHC_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    yield db
    warm_dbt.stop()


def _build() -> tuple[dg.ExecuteInProcessResult, dict | None, list[str]]:
    """The dbt assets materialised: the result, what the dbt process said of the build, the run's log lines."""
    started = time.time()
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([warehouse_models], instance=instance, resources={
        "dbt": dbt_resource(), "warehouse": WarehouseResource(hold_run_lock=False)})
    target = Path(dbt_project.project_dir) / dbt_project.target_path
    invocation = max((d for d in target.glob("warehouse_models-*") if d.stat().st_mtime >= started),
                     key=lambda d: d.stat().st_mtime)
    return result, warm_dbt.record(invocation), [e.user_message for e in instance.all_logs(result.run_id)]


def test_a_build_in_the_process_started_before_it_builds_what_dbt_builds(warehouse_env, small_built):
    warm_dbt.start(DBT_PROJECT_DIR, warm_dbt.parse_args(Settings.from_env()))
    result, record, log = _build()
    assert result.success
    assert record is not None and record["manifest_reused"], record
    assert any(line.startswith("dbt build: in the dbt process started with the run, which had imported dbt and "
                               "parsed the project") for line in log)
    with duckdb.connect(str(warehouse_env), read_only=True) as warm, \
            duckdb.connect(str(small_built), read_only=True) as cold:
        for table in ("marts.kpi_unit_month", "marts.index766_unit_month", "facts.fct_dossiers"):
            ours, theirs = (con.sql(f"select * from {table}").pl() for con in (warm, cold))
            assert ours.height > 0 and ours.sort(pl.all()).equals(theirs.sort(pl.all())), table
    # the parse is kept for the next run, and the process's own folder is gone
    assert not list((DBT_PROJECT_DIR / "target").glob("warm-parse-*"))


def test_a_build_whose_settings_changed_since_the_parse_is_parsed_again(warehouse_env):
    other = Settings.from_env().with_paths(warehouse=warehouse_env.parent / "other.duckdb")
    warm_dbt.start(DBT_PROJECT_DIR, warm_dbt.parse_args(other))  # parsed for another warehouse
    result, record, log = _build()
    assert result.success
    assert record is not None and record["manifest_reused"] is False
    assert any("it parsed the project again" in line for line in log)
    with duckdb.connect(str(warehouse_env), read_only=True) as con:
        assert con.execute("select count(*) from marts.kpi_unit_month").fetchone()[0] > 1000
    assert not (warehouse_env.parent / "other.duckdb").exists()


def test_a_process_no_build_took_ends_with_the_run_and_a_dead_one_is_not_taken(tmp_path):
    warm_dbt.start(DBT_PROJECT_DIR, ["--target", "warehouse"])
    process = warm_dbt._waiting
    warm_dbt.start(DBT_PROJECT_DIR, ["--target", "warehouse"])
    assert warm_dbt._waiting is process  # one waiting process per run
    warm_dbt.stop()
    assert process.returncode == 0 and warm_dbt._waiting is None
    assert not list((DBT_PROJECT_DIR / "target").glob(f"warm-parse-{process.pid}"))

    warm_dbt.start(DBT_PROJECT_DIR, ["--target", "warehouse"])
    dead = warm_dbt._waiting
    dead.kill()
    dead.wait()
    assert warm_dbt.take(["dbt", "build"], {}, tmp_path) is None and warm_dbt._waiting is None


def test_a_dbt_of_ones_own_is_not_replaced(monkeypatch):
    monkeypatch.setenv("TTHC_DBT_EXECUTABLE", "/opt/dbt/bin/dbt")
    warm_dbt.start(DBT_PROJECT_DIR, ["--target", "warehouse"])
    assert warm_dbt._waiting is None


def test_a_killed_build_process_fails_the_step_naming_the_signal(warehouse_env, monkeypatch):
    taken = warm_dbt.take

    def killed(*args):
        process = taken(*args)
        process.kill()  # as the kernel's out-of-memory killer would, once the build has started
        return process

    monkeypatch.setattr(warm_dbt, "take", killed)
    warm_dbt.start(DBT_PROJECT_DIR, warm_dbt.parse_args(Settings.from_env()))
    result = dg.materialize([warehouse_models], raise_on_error=False, resources={
        "dbt": dbt_resource(), "warehouse": WarehouseResource(hold_run_lock=False)})
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "dbt was killed by SIGKILL" in failure.event_specific_data.error.message
