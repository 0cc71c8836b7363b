"""Freshness: dossier exports are daily, so warn when none was loaded in the last 36 hours."""

from datetime import datetime

import dagster as dg
import duckdb

from orchestration.freshness_rule import ASSET as ASSET_PATH
from orchestration.freshness_rule import CHECK, MAX_AGE, dossier_export_freshness
from orchestration.history import recorded
from orchestration.resources import WarehouseResource

ASSET = dg.AssetKey(ASSET_PATH.split("/"))


def freshness_result(con: duckdb.DuckDBPyConnection, now: datetime) -> dg.AssetCheckResult:
    fresh = dossier_export_freshness(con, now)
    return dg.AssetCheckResult(
        asset_key=ASSET, check_name=CHECK, passed=fresh.passed, description=fresh.description,
        metadata={"latest_loaded_at": str(fresh.latest_loaded_at), "max_age_hours": MAX_AGE.total_seconds() / 3600})


@dg.asset_check(asset=ASSET, name=CHECK, blocking=False,
                description="Warns when no dossier export was loaded in the last 36 hours (exports are daily).")
@recorded
def dossier_export_is_fresh(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect(log=context.log.warning) as con:
        return freshness_result(con, datetime.now())
