"""TTHC_ENGINE=spark and spark_cluster: the same dbt models and Dagster graph, on a local PySpark session and on a
Spark standalone cluster over its Thrift server (a master, two workers, started for these tests), publish the marts
that DuckDB publishes, every table, every row, every column type; rates agree to 1e-12. Spark builds the history
without the last day, then adds that day incrementally (overwriting the received months it touched); DuckDB built it
at once. A worker of the cluster killed during the build does not change what is published.

Needs Java and the `spark` dependency group, which `make test` installs. Without them the tests skip on a developer's
machine and fail under CI, as the page tests do.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from orchestration.assets.publication import PUBLISHED_TABLES
from storage.processes import process_alive

from .conftest import run_whole_job

RATE_TOLERANCE = 1e-12
# columns that say when a run happened, not what the data is: each engine's run ingested the landing on its own
RUN_TIME_COLUMNS = {"ingestion_ledger": ["ingested_at", "reviewed_at"]}
# the check history is the runs' own record (one row per check evaluation of each run), not a model of the data
NOT_BUILT_BY_DBT = {"data_quality_runs"}


def spark_missing() -> str | None:
    """Why the Spark engine cannot run here, or None."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (uv sync --group spark)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "java is missing (apt-get install openjdk-17-jre-headless)"
    return None


def require_spark() -> None:
    reason = spark_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the Spark engine cannot run: {reason}")
        pytest.skip(reason)


@contextlib.contextmanager
def spark_cluster(spark_dir):
    """A Spark standalone cluster (master, two workers, Thrift server) on free ports, its tables in `spark_dir`;
    stopped, every process of it, when the block ends. Yields (the environment that points a run at it, its state)."""
    from orchestration import spark_cluster as cluster

    spec = cluster.ClusterSpec(spark_dir, thrift_port=cluster.free_port(), master_port=cluster.free_port(),
                               worker_memory="2g", shuffle_partitions=2)
    try:
        state = cluster.start(spec)
        yield {"TTHC_ENGINE": "spark_cluster", "TTHC_SPARK_PORT": str(spec.thrift_port)}, state
    finally:
        cluster.stop(spark_dir)
    assert cluster.read_state(spark_dir) is None and not [p for p in state.pids.values() if process_alive(p)]


@pytest.fixture(scope="module", params=["spark", "spark_cluster"])
def spark_runs(request, pack_run, tmp_path_factory):
    """The whole job on Spark (the in-process session, then the cluster) on the landing that `pack_run` ran with
    DuckDB, in two runs: without the last day's export (a full build), then with it (an incremental one).
    (root folder, start of the second run)."""
    require_spark()
    duckdb_published, _ = pack_run
    root = tmp_path_factory.mktemp(f"{request.param}_run")
    shutil.copytree(duckdb_published.parent.parent / "landing", root / "landing")
    last_day = max((root / "landing" / "dossiers").rglob("hoso_*.*"), key=lambda p: p.name)
    held = root / last_day.name
    shutil.move(last_day, held)
    with contextlib.ExitStack() as stack:
        if request.param == "spark":
            env = {"TTHC_ENGINE": "spark", "TTHC_SPARK_SHUFFLE_PARTITIONS": "2"}
        else:
            env, _ = stack.enter_context(spark_cluster(root / "warehouse" / "spark"))
        run_whole_job(root, "reports-test-key", **env)
        shutil.move(held, last_day)
        second_run = time.time()
        run_whole_job(root, "reports-test-key", **env)
    return root, second_run


@pytest.fixture(scope="module")
def spark_published(spark_runs):
    root, _ = spark_runs
    return root / "published" / "tthc_marts.duckdb"


def published_table(path, table: str) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(f"select * from marts.{table}").pl()


def column_types(path, table: str) -> list[tuple[str, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select column_name, data_type from duckdb_columns() "
                           "where schema_name = 'marts' and table_name = ? order by column_index", [table]).fetchall()


def differences(expected: pl.DataFrame, actual: pl.DataFrame, tolerance: float) -> list[str]:
    """How two tables differ as sets of rows: float columns within `tolerance`, every other column exactly."""
    if expected.columns != actual.columns:
        return [f"columns {expected.columns} != {actual.columns}"]
    if expected.height != actual.height:
        return [f"{expected.height} rows != {actual.height} rows"]
    floats = [c for c, t in expected.schema.items() if t.is_float()]
    keys = [c for c in expected.columns if c not in floats]
    left, right = expected.sort(keys, nulls_last=True), actual.sort(keys, nulls_last=True)
    found = [f"{c}: {left[c].ne_missing(right[c]).sum()} rows differ" for c in keys
             if not left[c].equals(right[c])]
    for c in floats:
        gap = (left[c] - right[c]).abs()
        if left[c].is_null().ne(right[c].is_null()).any() or (gap.max() or 0.0) > tolerance:
            found.append(f"{c}: differs by up to {gap.max()} (nulls in other rows: "
                         f"{left[c].is_null().ne(right[c].is_null()).sum()})")
    return found


def test_differences_sees_a_changed_row_and_a_rate_beyond_the_tolerance():
    base = pl.DataFrame({"unit_code": ["A", "B"], "received": [3, 4], "online_rate": [0.5, 0.25]})
    assert differences(base, base.reverse(), RATE_TOLERANCE) == []
    assert differences(base, base.with_columns(online_rate=pl.Series([0.5, 0.25 + 1e-13])), RATE_TOLERANCE) == []
    assert differences(base, base.with_columns(online_rate=pl.Series([0.5, 0.25 + 1e-9])), RATE_TOLERANCE) != []
    assert differences(base, base.with_columns(received=pl.Series([3, 5])), RATE_TOLERANCE) != []
    assert differences(base, base.head(1), RATE_TOLERANCE) != []


@pytest.mark.parametrize("table", sorted(set(PUBLISHED_TABLES) - NOT_BUILT_BY_DBT))
def test_spark_publishes_the_marts_duckdb_publishes(pack_run, spark_published, table):
    duckdb_published, _ = pack_run
    assert column_types(spark_published, table) == column_types(duckdb_published, table)
    dropped = RUN_TIME_COLUMNS.get(table, [])
    expected = published_table(duckdb_published, table).drop(dropped)
    actual = published_table(spark_published, table).drop(dropped)
    assert expected.height > 0, f"{table} is empty on the fixture: the comparison proves nothing"
    assert differences(expected, actual, RATE_TOLERANCE) == [], table


def test_the_spark_run_built_the_marts_on_spark(spark_published):
    """Spark's own table files exist for every copied model: the marts did not come from a DuckDB build."""
    spark_tables = spark_published.parent.parent / "warehouse" / "spark" / "tables"
    built = {p.parent.name.removesuffix(".db") + "." + p.name for p in spark_tables.glob("*.db/*")
             if any(p.glob("*.parquet"))}
    published_marts = {relation for relation in PUBLISHED_TABLES.values() if relation.startswith("marts.")}
    assert published_marts <= built


def test_a_spark_nightly_run_overwrites_only_the_received_months_the_new_day_touched(spark_runs):
    root, second_run = spark_runs
    table = root / "warehouse" / "spark" / "tables" / "intermediate.db" / "int_dossier_current_state"
    months = {folder.name: max(p.stat().st_mtime for p in folder.glob("*.parquet"))
              for folder in table.glob("received_month=*") if any(folder.glob("*.parquet"))}
    rewritten = {name for name, written in months.items() if written >= second_run}
    assert rewritten, "the second run rewrote no month: the new day was not merged"
    assert len(rewritten) < len(months), "the second run rewrote every month: it was not incremental"


def test_a_cluster_worker_killed_during_the_build_changes_nothing_published(pack_run, tmp_path):
    """A worker and its executor killed (SIGKILL, by their PIDs) while dbt builds on the cluster: the run publishes
    the marts DuckDB publishes, or fails naming the failure and the next run publishes them."""
    import threading

    from rich.console import Console

    from cli.runner import run_pipeline
    from orchestration.definitions import defs
    from orchestration.settings import Settings

    require_spark()
    duckdb_published, _ = pack_run
    root = tmp_path
    shutil.copytree(duckdb_published.parent.parent / "landing", root / "landing")
    spark_dir = root / "warehouse" / "spark"
    killed: dict[str, float] = {}

    def kill_a_worker_once_the_build_runs(pid: int, stop: threading.Event) -> None:
        # dbt creates its schemas first: once the facts' folder exists, the models are being built on the cluster
        while not stop.is_set() and not (spark_dir / "tables" / "facts.db").exists():
            time.sleep(0.2)
        if not stop.wait(2.0):
            os.killpg(pid, signal.SIGKILL)  # the worker and the executor it launched: a machine lost
            killed["at"] = time.time()

    def run(env: dict[str, str]):
        variables = {**env, "TTHC_LANDING_DIR": str(root / "landing"), "TTHC_PII_KEY": "reports-test-key",
                     "TTHC_WAREHOUSE": str(root / "warehouse" / "tthc.duckdb"), "DAGSTER_HOME": str(root / "dagster"),
                     "TTHC_PUBLISHED": str(root / "published" / "tthc_marts.duckdb")}
        with pytest.MonkeyPatch.context() as patch:
            for k, v in variables.items():
                patch.setenv(k, v)
            return run_pipeline(Settings.from_env(), Console(file=open(root / "console.txt", "a"), width=200),
                                defs.resolve_job_def("full_refresh"))

    with spark_cluster(spark_dir) as (env, state):
        stop = threading.Event()
        killer = threading.Thread(target=kill_a_worker_once_the_build_runs, args=(state.pids["worker-1"], stop))
        killer.start()
        try:
            outcome = run(env)
        finally:
            stop.set()
            killer.join()
        finished = time.time()
        assert killed, "the build ended before the worker could be killed: the test proves nothing"
        assert killed["at"] < finished
        assert "Lost executor" in Path(state.logs["thrift-server"]).read_text(), "Spark did not see the worker go"
        if not (outcome.ok and outcome.published):  # failed loudly: the step that broke is named, the next run repairs
            assert outcome.error and "warehouse_models" in outcome.error, outcome.failure_line()
            outcome = run(env)
        assert outcome.ok and outcome.published, (root / "console.txt").read_text()
    for table in sorted(set(PUBLISHED_TABLES) - NOT_BUILT_BY_DBT):
        dropped = RUN_TIME_COLUMNS.get(table, [])
        expected = published_table(duckdb_published, table).drop(dropped)
        assert differences(expected, published_table(root / "published" / "tthc_marts.duckdb", table).drop(dropped),
                           RATE_TOLERANCE) == [], table


def test_the_cluster_command_refuses_a_taken_port_and_says_when_no_cluster_runs(tmp_path, monkeypatch):
    import socket

    from click.testing import CliRunner

    from cli.commands import cli

    require_spark()
    monkeypatch.setenv("TTHC_WAREHOUSE", str(tmp_path / "warehouse" / "tthc.duckdb"))
    status = CliRunner().invoke(cli, ["spark-cluster", "status"])
    assert status.exit_code == 1 and "no cluster started from" in status.output, status.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("TTHC_SPARK_PORT", str(port))
        started = CliRunner().invoke(cli, ["spark-cluster", "start"])
    assert started.exit_code == 1, started.output
    assert f"port {port} on 127.0.0.1 is taken: the Spark Thrift server" in started.output
    assert not (tmp_path / "warehouse" / "spark" / "cluster" / "cluster.json").exists()  # nothing was started
