"""The Dagster code location: ingestion -> warehouse (dbt) -> quality -> publication."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.freshness import dossier_export_is_fresh
from orchestration.assets.ingestion import raw_tables
from orchestration.assets.publication import data_dictionary, published_marts, reports
from orchestration.assets.quality import gx_unit_reports, late_dossiers_explained, received_not_dropped
from orchestration.assets.warehouse import dbt_resource, warehouse_models
from orchestration.automation import landing_sensor, nightly_full_refresh
from orchestration.dead_runs import dead_run_sensor
from orchestration.jobs import full_refresh
from orchestration.resources import WarehouseResource
from orchestration.sqlite_storage import use_write_ahead_log

use_write_ahead_log()  # Dagster's SQLite storage, in every process that loads the code location

defs = dg.Definitions(
    assets=[raw_tables, warehouse_models, published_marts, data_dictionary, reports],
    asset_checks=[gx_unit_reports, late_dossiers_explained, received_not_dropped, dossier_export_is_fresh],
    jobs=[full_refresh],
    schedules=[nightly_full_refresh],
    sensors=[landing_sensor, dead_run_sensor],
    resources={"warehouse": WarehouseResource(), "dbt": dbt_resource()},
)
