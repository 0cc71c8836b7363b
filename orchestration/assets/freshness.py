"""Freshness: dossier exports are daily, so warn when none was loaded in the last 36 hours."""

from datetime import datetime, timedelta

import dagster as dg
import duckdb

from orchestration.history import recorded
from orchestration.resources import WarehouseResource

MAX_AGE = timedelta(hours=36)
ASSET = dg.AssetKey(["raw", "dossier_snapshots"])
CHECK = "dossier_export_is_fresh"


def freshness_result(con: duckdb.DuckDBPyConnection, now: datetime) -> dg.AssetCheckResult:
    latest = con.execute("select max(ingested_at) from raw.ingestion_ledger "
                         "where kind = 'dossiers' and status = 'loaded'").fetchone()[0]
    age = None if latest is None else now - latest
    return dg.AssetCheckResult(
        asset_key=ASSET, check_name=CHECK, passed=age is not None and age <= MAX_AGE,
        description=("no dossier export was ever loaded" if latest is None else
                     f"latest dossier export loaded at {latest:%Y-%m-%d %H:%M} ({age.total_seconds() / 3600:.1f} h ago)"),
        metadata={"latest_loaded_at": str(latest), "max_age_hours": MAX_AGE.total_seconds() / 3600})


@dg.asset_check(asset=ASSET, name=CHECK, blocking=False,
                description="Warns when no dossier export was loaded in the last 36 hours (exports are daily).")
@recorded
def dossier_export_is_fresh(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect(log=context.log.warning) as con:
        return freshness_result(con, datetime.now())
