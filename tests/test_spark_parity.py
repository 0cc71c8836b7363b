"""TTHC_ENGINE=spark: the same dbt models and Dagster graph on a local PySpark session publish the marts that DuckDB
publishes, every table, every row, every column type; rates agree to 1e-12. Spark builds the history without the
last day, then adds that day incrementally (overwriting the received months it touched); DuckDB built it at once.

Needs Java and the `spark` dependency group, which `make test` installs. Without them the test skips on a developer's
machine and fails under CI, as the page tests do.
"""

from __future__ import annotations

import os
import shutil
import time

import duckdb
import polars as pl
import pytest

from orchestration.assets.publication import PUBLISHED_TABLES

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


@pytest.fixture(scope="module")
def spark_runs(pack_run, tmp_path_factory):
    """The whole job with TTHC_ENGINE=spark on the landing that `pack_run` ran with DuckDB, in two runs: without
    the last day's export (a full build), then with it (an incremental one). (root folder, start of the second run)."""
    reason = spark_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the Spark engine cannot run: {reason}")
        pytest.skip(reason)
    duckdb_published, _ = pack_run
    root = tmp_path_factory.mktemp("spark_run")
    shutil.copytree(duckdb_published.parent.parent / "landing", root / "landing")
    last_day = max((root / "landing" / "dossiers").rglob("hoso_*.*"), key=lambda p: p.name)
    held = root / last_day.name
    shutil.move(last_day, held)
    run_whole_job(root, "reports-test-key", TTHC_ENGINE="spark", TTHC_SPARK_SHUFFLE_PARTITIONS="2")
    shutil.move(held, last_day)
    second_run = time.time()
    run_whole_job(root, "reports-test-key", TTHC_ENGINE="spark", TTHC_SPARK_SHUFFLE_PARTITIONS="2")
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
