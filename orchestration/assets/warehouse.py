"""The dbt project as Dagster assets (@dbt_assets): models keyed [schema, model] so the keys match the tables,
sources keyed [raw, table] so they join the ingestion assets, dbt tests as asset checks (error severity ->
blocking), all run by one `dbt build` in the run's process.

`@dbt_assets` rather than the dbt component: the graph also holds Python assets (ingestion, quality,
publication) defined in code, and one Definitions object in Python keeps the whole graph in one place.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.history import record_checks
from orchestration.resources import WarehouseResource

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
QUALITY_MODELS = {"int_unit_report_rules", "unit_report_discrepancies"}  # the unit-report rules: the quality layer


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Parse the dbt project when its manifest is missing or older than any model, macro or test."""
    manifest = project.manifest_path
    sources = [p for folder in ("models", "macros", "tests") for p in (project.project_dir / folder).rglob("*")
               if p.is_file()] + [project.project_dir / "dbt_project.yml"]
    if not manifest.exists() or manifest.stat().st_mtime < max(p.stat().st_mtime for p in sources):
        project.preparer.prepare(project)
    return manifest


class WarehouseTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "quality" if dbt_resource_props["name"] in QUALITY_MODELS else "warehouse"


translator = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=ensure_manifest(), dagster_dbt_translator=translator, name="warehouse_models",
            project=dbt_project)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """`dbt build`: staging views, incremental current state and facts, marts, and every dbt test."""
    os.environ["TTHC_WAREHOUSE"] = str(warehouse.settings().warehouse.resolve())  # dbt runs in dbt_project/
    checks = []
    for event in dbt.cli(["build"], context=context, raise_on_error=False).stream():
        if isinstance(event, dg.AssetCheckResult):
            checks.append(event)
        yield event
    with warehouse.connect() as con:  # dbt has exited: the warehouse is ours again
        record_checks(con, context.run.run_id, checks)
