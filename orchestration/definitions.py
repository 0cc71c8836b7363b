"""The Dagster code location: ingestion -> warehouse (dbt) -> quality -> publication."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.ingestion import raw_tables
from orchestration.jobs import full_refresh
from orchestration.progress import tthc_progress
from orchestration.resources import WarehouseResource

defs = dg.Definitions(
    assets=[raw_tables],
    jobs=[full_refresh],
    resources={"warehouse": WarehouseResource()},
    loggers={"tthc_progress": tthc_progress},
)
