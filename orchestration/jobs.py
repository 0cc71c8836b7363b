"""Jobs: the full refresh runs the whole graph in one process (one writer on the DuckDB file)."""

from __future__ import annotations

import dagster as dg

full_refresh = dg.define_asset_job(
    "full_refresh",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Ingest new landed files, build the warehouse, run the checks, publish the marts.",
    tags={"tthc/writes_warehouse": "true"},
)
