"""The data-quality gate and publication: unit-report rules, blocking checks, the published file, history."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from rich.console import Console

from orchestration.assets.publication import PUBLISHED_TABLES, publish
from orchestration.settings import Settings

from .test_ingestion import GOOD, write_csv


def test_discrepancies_are_exactly_the_planted_defects_and_nothing_within_tolerance(small_generation, small_built):
    planted = pl.DataFrame(small_generation.planted_report_defects).select("unit_code", "period_month", "rule").unique()
    with duckdb.connect(str(small_built), read_only=True) as con:
        flagged = con.sql("select distinct unit_code, period_month, rule from marts.unit_report_discrepancies").pl()
        severities = dict(con.execute("select rule, any_value(severity) from marts.unit_report_discrepancies "
                                      "group by rule").fetchall())
        superseded = con.sql("select unit_code, period_month from marts.unit_report_discrepancies "
                             "where rule = 'superseded'").pl()
    keys = ["unit_code", "period_month", "rule"]
    assert planted.join(flagged, on=keys, how="anti").height == 0
    assert flagged.join(planted, on=keys, how="anti").height == 0
    assert severities == {"not_a_count": "error", "part_exceeds_whole": "error", "unknown_unit": "error",
                          "mismatch_with_system": "error", "superseded": "warning", "missing_report": "warning"}
    assert superseded.height == 8


def test_a_flagged_report_never_changes_the_system_figures(small_generation, small_built):
    with duckdb.connect(str(small_built), read_only=True) as con:
        rows = con.sql("select d.system_value, k.received from marts.unit_report_discrepancies d "
                       "join marts.kpi_unit_month k using (unit_code, period_month) "
                       "where d.rule = 'mismatch_with_system' and d.measure = 'received'").pl()
    assert rows.height > 0 and (rows["system_value"] == rows["received"]).all()


def test_the_unit_report_suite_flags_the_broken_reports_only(small_generation, small_built):
    from expectations.unit_reports import validate_unit_reports

    with duckdb.connect(str(small_built), read_only=True) as con:
        outcome = validate_unit_reports(con)
    counted = {(p["unit_code"], p["period_month"]) for p in small_generation.planted_report_defects
               if p["rule"] not in ("superseded", "missing_report")}
    assert not outcome.success
    assert {(u, m) for u, m in outcome.failing_keys()} == counted


def test_the_mart_suites_pass_on_the_sample(small_built):
    from expectations.marts import validate_marts

    with duckdb.connect(str(small_built), read_only=True) as con:
        outcomes = validate_marts(con)
    assert {name: o.success for name, o in outcomes.items()} == dict.fromkeys(outcomes, True)


def test_publication_is_atomic_and_readers_keep_their_file(small_built, tmp_path):
    published = tmp_path / "published" / "tthc_marts.duckdb"
    publish(small_built, published)
    reader = duckdb.connect(str(published), read_only=True)
    before = reader.execute("select count(*) from marts.kpi_unit_month").fetchone()[0]
    publish(small_built, published)  # replaced while the analyst still has the old file open
    assert reader.execute("select count(*) from marts.kpi_unit_month").fetchone()[0] == before
    reader.close()
    assert not [p for p in published.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def pipeline(small_landing, tmp_path_factory):
    """Run the whole job (as `tthc run` does) on a copy of the small landing, in a temporary data folder."""
    from orchestration.runner import run_pipeline

    root = tmp_path_factory.mktemp("pipeline")
    shutil.copytree(small_landing, root / "landing")
    env = {"TTHC_LANDING_DIR": str(root / "landing"), "TTHC_WAREHOUSE": str(root / "warehouse" / "tthc.duckdb"),
           "TTHC_PUBLISHED": str(root / "published" / "tthc_marts.duckdb"), "DAGSTER_HOME": str(root / "dagster"),
           "TTHC_PII_KEY": "pipeline-test-key"}
    with pytest.MonkeyPatch.context() as patch:
        for k, v in env.items():
            patch.setenv(k, v)
        console = Console(file=open(root / "console.txt", "w"), width=200)

        def run():
            return run_pipeline(Settings.from_env(), console)

        yield root, run, Settings.from_env()


def _history(settings: Settings) -> pl.DataFrame:
    with duckdb.connect(str(settings.published), read_only=True) as con:
        return con.sql("select * from marts.data_quality_runs").pl()


def test_the_pipeline_publishes_exactly_the_contract_tables_without_personal_data(pipeline):
    root, run, settings = pipeline
    outcome = run()
    assert outcome.ok and outcome.published, outcome
    with duckdb.connect(str(settings.published), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        columns = [c for (c,) in con.execute("select column_name from information_schema.columns").fetchall()]
        ledger = con.sql("select * from marts.ingestion_ledger").pl()
    assert sorted(tables) == sorted(("marts", t) for t in PUBLISHED_TABLES)
    assert not [c for c in columns if "applicant" in c or c.endswith("_hash")]
    assert set(ledger["status"]) == {"loaded", "skipped_same_bytes", "rejected"}
    assert (root / "published" / "data_docs" / "index.html").exists()
    history = _history(settings)
    assert history.height > 100 and {"gx_kpi_unit_month", "batch_quarantine_share_at_most_5pct",
                                      "gx_unit_reports"} <= set(history["check_name"])


def test_history_grows_by_one_row_per_check_per_run(pipeline):
    _, run, settings = pipeline
    before = _history(settings)
    outcome = run()
    assert outcome.ok and outcome.published
    after = _history(settings)
    new = after.filter(~pl.col("run_id").is_in(before["run_id"].unique().to_list()))
    assert new["run_id"].n_unique() == 1
    per_check = new.group_by("check_name", "asset").len()
    assert (per_check["len"] == 1).all()
    assert per_check.height == before.group_by("check_name", "asset").len().height


def test_a_failed_blocking_check_publishes_nothing_and_keeps_the_old_file(pipeline):
    root, run, settings = pipeline
    old = hashlib.sha256(settings.published.read_bytes()).hexdigest()
    bad = [{**GOOD, "Mã hồ sơ": f"X-{i}", "Kênh nộp": "Fax" if i % 2 else "2"} for i in range(20)]
    write_csv(root / "landing" / "dossiers" / "2024" / "02" / "hoso_loi_nhieu.csv", bad)
    outcome = run()
    assert not outcome.ok and not outcome.published
    assert "raw/dossier_snapshots:batch_quarantine_share_at_most_5pct" in outcome.failure_line()
    assert hashlib.sha256(settings.published.read_bytes()).hexdigest() == old
