"""The dbt warehouse on real ingested data: marts against the generator's ground truth, incremental builds."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl

from ingestion.ingest import ingest_landing
from ingestion.migrations import apply_migrations
from sample_province.truth import MEASURES

from .conftest import PII_KEY, run_dbt

MART_KEYS = {
    "kpi_unit_month": ["unit_code", "period_month"],
    "kpi_level_month": ["level", "period_month"],
    "directive10_scorecard": ["scope", "unit_code", "level", "indicator"],
    "directive10_summary": ["level", "indicator"],
    "overdue_dossiers": ["dossier_code"],
}


def table(db: Path, name: str) -> pl.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(f"select * from {name}").pl()


def test_kpi_unit_month_equals_the_generators_ground_truth(small_generation, small_built):
    marts = table(small_built, "marts.kpi_unit_month").select("unit_code", "period_month", *MEASURES)
    truth = small_generation.truth_unit_month.select("unit_code", "period_month", *MEASURES)
    joined = truth.join(marts, on=["unit_code", "period_month"], how="left", suffix="_mart")
    assert joined.height == truth.height
    for m in MEASURES:
        wrong = joined.filter(pl.col(m) != pl.col(f"{m}_mart").fill_null(-1))
        assert wrong.height == 0, (m, wrong.head())
    # units without dossiers still have their rows (zeros), so every valid unit is reported every month
    extra = marts.join(truth, on=["unit_code", "period_month"], how="anti")
    assert (extra.select(MEASURES).sum_horizontal() == 0).all()


def test_every_mart_of_the_contract_exists_with_its_columns(small_built):
    required = {
        "kpi_unit_month": {"unit_code", "unit_name", "level", "period_month", *MEASURES, "online_rate",
                           "digitisation_rate", "online_payment_rate", "on_time_rate", "e_result_rate"},
        "kpi_level_month": {"level", "period_month", *MEASURES, "online_rate", "e_result_rate"},
        "directive10_scorecard": {"scope", "unit_code", "level", "indicator", "window_start", "window_end",
                                  "window_value", "baseline_value", "change_pp", "target", "meets_target"},
        "directive10_summary": {"level", "indicator", "target", "units_total", "units_meeting_target"},
        "overdue_dossiers": {"dossier_code", "unit_code", "procedure_code", "received_at", "due_at", "days_overdue",
                             "as_of"},
        "ingestion_ledger": {"file_path", "sha256", "kind", "status", "rows_read", "rows_loaded", "rows_quarantined",
                             "duplicates_dropped", "error", "ingested_at"},
    }
    for name, columns in required.items():
        assert columns <= set(table(small_built, f"marts.{name}").columns), name
    levels = set(table(small_built, "marts.kpi_level_month")["level"])
    assert levels == {"tinh", "huyen", "xa", "toan_tinh"}
    window = table(small_built, "intermediate.int_directive_window").row(0, named=True)
    assert (str(window["window_start"]), str(window["window_end"])) == ("2023-06-01", "2024-01-31")
    assert (str(window["baseline_start"]), str(window["baseline_end"])) == ("2022-06-01", "2023-05-31")


def test_overdue_dossiers_equal_the_generators_ground_truth(small_generation, small_built):
    """The overdue list against the generator's own computation on the dossiers it simulated (not the SQL)."""
    overdue = table(small_built, "marts.overdue_dossiers")
    expected = small_generation.truth_overdue
    assert expected.height > 0
    assert overdue.select("dossier_code", "unit_code", "due_at", pl.col("days_overdue").cast(pl.Int64)).sort(
        "dossier_code").equals(expected.with_columns(pl.col("days_overdue").cast(pl.Int64)))


def _landing_until(source: Path, target: Path, last_day: str | None) -> Path:
    """A copy of the landing with the reference and the daily exports up to last_day (all when None)."""
    shutil.copytree(source / "reference", target / "reference", dirs_exist_ok=True)
    for path in (source / "dossiers").rglob("hoso_*"):
        day = path.stem.split("_")[1]
        if path.parent.name.isdigit() and (last_day is None or day <= last_day):
            out = target / path.relative_to(source)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, out)
    return target


def _without_watermarks(frame: pl.DataFrame) -> pl.DataFrame:
    """A table without the columns that say which build wrote a row (and, in the facts, the version it replaced)."""
    return frame.select(c for c in frame.columns if not c.startswith("prior_") and c != "processed_through_batch_seq")


def test_incremental_builds_equal_a_full_refresh_and_touch_only_new_dossiers(small_landing, tmp_path):
    landing, db = tmp_path / "landing", tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        ingest_landing(_landing_until(small_landing, landing, "20231115"), con, PII_KEY)
    run_dbt(db, "build", "--quiet")
    _landing_until(small_landing, landing, "20231116")  # one more day of exports
    with duckdb.connect(str(db)) as con:
        report = ingest_landing(landing, con, PII_KEY)
        new_batch = report.outcomes[0].sha256
        touched = con.execute("select count(distinct dossier_code) from raw.dossier_snapshots where batch_id = ?",
                              [new_batch]).fetchone()[0]
    run_dbt(db, "run", "--quiet", "--select", "int_dossier_current_state")
    with duckdb.connect(str(db), read_only=True) as con:
        recomputed = con.execute("select count(*) from intermediate.int_dossier_current_state where "
                                 "processed_through_batch_seq = (select max(batch_seq) from raw.ingestion_ledger)").fetchone()[0]
    assert 0 < touched == recomputed  # only the dossiers the new batch touched were recomputed
    assert _uniqueness_test_status(db, tmp_path / "clean") == "pass"
    # a rebuilt dossier whose old version the build failed to delete: the test looks at the rows the latest build
    # wrote, against every row, so it is caught though the old copy carries an older build
    with duckdb.connect(str(db)) as con:
        con.execute("""insert into intermediate.int_dossier_current_state
                       select * replace (processed_through_batch_seq - 1 as processed_through_batch_seq)
                       from intermediate.int_dossier_current_state
                       where processed_through_batch_seq = (select max(batch_seq) from raw.ingestion_ledger) limit 1""")
    assert _uniqueness_test_status(db, tmp_path / "duplicated") == "warn"  # the gate makes it blocking
    run_dbt(db, "run", "--quiet", "--full-refresh", "--select", "int_dossier_current_state")
    _landing_until(small_landing, landing, None)  # the rest of the history
    with duckdb.connect(str(db)) as con:
        ingest_landing(landing, con, PII_KEY)
    run_dbt(db, "build", "--quiet")
    incremental = {name: _without_watermarks(table(db, f"marts.{name}")).sort(keys, nulls_last=True)
                   for name, keys in MART_KEYS.items()}
    incremental["fct_dossiers"] = _without_watermarks(table(db, "facts.fct_dossiers")).sort("dossier_code")
    run_dbt(db, "build", "--quiet", "--full-refresh")
    for name, keys in MART_KEYS.items():
        full = _without_watermarks(table(db, f"marts.{name}")).sort(keys, nulls_last=True)
        assert full.equals(incremental[name]), name
    full_facts = _without_watermarks(table(db, "facts.fct_dossiers")).sort("dossier_code")
    assert full_facts.equals(incremental["fct_dossiers"])
    # a current state stored before received_snapshot existed is dropped by the warehouse's upgrade
    # (ingestion/migrations.py) and recomputed whole by the next run, not merged with
    state = table(db, "intermediate.int_dossier_current_state").sort("dossier_code")
    with duckdb.connect(str(db)) as con:
        con.execute("alter table intermediate.int_dossier_current_state drop column received_snapshot")
        assert apply_migrations(con) == ["current_state_received_snapshot"]
    run_dbt(db, "run", "--quiet", "--select", "int_dossier_current_state")
    assert table(db, "intermediate.int_dossier_current_state").select(state.columns).sort("dossier_code").equals(state)


def _dbt_test_result(db: Path, target: Path, select: str, *args: str) -> dict:
    """dbt's result of the one data test `select` picks (dbt runs them at severity warn: the gate grades them)."""
    import json

    run_dbt(db, "test", "--quiet", "--select", select, *args, "--target-path", str(target))
    results = json.loads((target / "run_results.json").read_text())["results"]
    [result] = [r for r in results if r["unique_id"].startswith("test.")]
    return result


def _uniqueness_test_status(db: Path, target: Path) -> str:
    """The status of int_dossier_current_state's blocking uniqueness test."""
    return _dbt_test_result(db, target, "unique_among_rebuilt_int_dossier_current_state_dossier_code")["status"]


def test_a_null_in_a_required_column_fails_its_models_check_and_names_the_column(small_built, tmp_path):
    """Required columns are declared per model (one dbt node, one Dagster check): the failing rows say which."""
    db = tmp_path / "tthc.duckdb"
    shutil.copy(small_built, db)
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.kpi_unit_month set resolved_on_time = null where period_month = "
                    "(select min(period_month) from marts.kpi_unit_month)")
        broken = con.execute("select count(*) from marts.kpi_unit_month where resolved_on_time is null").fetchone()[0]
    check = _dbt_test_result(db, tmp_path / "target", "kpi_unit_month,test_name:not_null_columns", "--store-failures")
    assert check["status"] == "warn" and check["failures"] == 1  # the gate grades it; one row per column
    with duckdb.connect(str(db), read_only=True) as con:
        [audit] = [row[0] for row in con.execute("select table_schema || '.' || table_name from information_schema.tables "
                                                  "where table_name like '%not_null_columns%'").fetchall()]
        assert con.execute(f"select * from {audit}").fetchall() == [("resolved_on_time", broken)]


def test_the_dbt_unit_tests_pass(small_built, tmp_path):
    """The unit tests beside the models (the runs leave them out: they test code, not data)."""
    import json

    db = tmp_path / "tthc.duckdb"
    shutil.copy(small_built, db)
    run_dbt(db, "test", "--quiet", "--select", "test_type:unit", "--target-path", str(tmp_path / "target"))
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    declared = json.loads((tmp_path / "target" / "manifest.json").read_text())["unit_tests"]
    units = [r for r in results if not r["unique_id"].startswith("operation.")]  # the on-run-start hook
    assert {r["status"] for r in units} == {"pass"} and {r["unique_id"] for r in units} == set(declared)
    assert len(declared) >= 13


def test_dbt_docs_generate(small_built, tmp_path):
    db = tmp_path / "docs.duckdb"
    shutil.copy(small_built, db)
    run_dbt(db, "docs", "generate", "--quiet", "--target-path", str(tmp_path / "docs"))
    assert (tmp_path / "docs" / "catalog.json").stat().st_size > 10_000


def test_a_published_column_that_names_personal_data_fails_the_personal_data_check(small_built, tmp_path):
    """The check lists every column of the marts and quality schemas (information_schema here, the adapter on
    Spark): a clean build passes it, a mart that gains an applicant column fails it with one row (the column)."""
    db = tmp_path / "tthc.duckdb"
    shutil.copy(small_built, db)
    assert _dbt_test_result(db, tmp_path / "clean", "assert_no_personal_data_column")["status"] == "pass"
    with duckdb.connect(str(db)) as con:
        con.execute("alter table marts.late_dossiers add column applicant_id_hash varchar")
    check = _dbt_test_result(db, tmp_path / "leaked", "assert_no_personal_data_column")
    assert check["status"] == "warn" and check["failures"] == 1  # the gate makes it blocking
