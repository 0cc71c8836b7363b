"""The dbt models as Dagster assets, materialised through Dagster on a temporary DuckDB (as the Dagster dbt course
does): the dbt resource, the translator's keys and groups, the gate's grading of dbt tests."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.assets.warehouse import dbt_project, dbt_resource, warehouse_models
from orchestration.gate import is_blocking
from orchestration.resources import WarehouseResource


def test_the_dbt_assets_materialise_through_dagster(small_ingested, tmp_path, monkeypatch):
    db = tmp_path / "tthc.duckdb"
    shutil.copy(small_ingested[0], db)
    monkeypatch.setenv("TTHC_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    started = time.time()
    result = dg.materialize([warehouse_models], resources={
        "dbt": dbt_resource(), "warehouse": WarehouseResource(warehouse_path=str(db), hold_run_lock=False)})
    assert result.success
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    assert {dg.AssetKey(["marts", "kpi_unit_month"]), dg.AssetKey(["quality", "int_unit_report_rules"]),
            dg.AssetKey(["facts", "fct_dossiers"])} <= materialised
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) > 40 and all(e.passed for e in evaluations)
    assert {e.severity for e in evaluations if is_blocking(e.asset_key, e.check_name)} == {dg.AssetCheckSeverity.ERROR}
    assert {e.severity for e in evaluations if not is_blocking(e.asset_key, e.check_name)} == {dg.AssetCheckSeverity.WARN}
    with duckdb.connect(str(db), read_only=True) as con:
        recorded = con.execute("select count(*) from quality.check_runs").fetchone()[0]
        assert recorded == len(evaluations)  # the check history, written by the one helper
        assert con.execute("select count(*) from marts.kpi_unit_month").fetchone()[0] > 1000
    # the build runs the data tests and leaves the dbt unit tests (code, not data) to the test suite
    target = Path(dbt_project.project_dir) / dbt_project.target_path
    invocation = max((d for d in target.glob("warehouse_models-*") if d.stat().st_mtime >= started),
                     key=lambda d: d.stat().st_mtime)
    ran = [r["unique_id"].split(".")[0] for r in json.loads((invocation / "run_results.json").read_text())["results"]]
    assert "unit_test" not in ran and ran.count("test") == len(evaluations)
    # dbt ran in its own process: the run's process registered no dbt adapter of its own (ProjectDbtCli)
    from dbt.adapters.factory import FACTORY

    assert not FACTORY.adapters


def test_build_folders_older_than_30_days_are_removed_and_nothing_else(tmp_path):
    import os

    from orchestration.assets.warehouse import prune_invocation_targets

    now = time.time()
    old, recent = tmp_path / "warehouse_models-aaa-111", tmp_path / "warehouse_models-bbb-222"
    for folder, age_days in ((old, 31), (recent, 29), (tmp_path / "compiled", 400)):
        folder.mkdir()
        (folder / "manifest.json").write_text("{}")
        os.utime(folder, (now - age_days * 86400,) * 2)
    (tmp_path / "partial_parse.msgpack").write_bytes(b"kept")
    assert prune_invocation_targets(tmp_path, now=now) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compiled", "partial_parse.msgpack", recent.name]
