"""Freshness of the dossier exports, without Dagster: they are daily, so an export older than 36 hours warns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

MAX_AGE = timedelta(hours=36)
ASSET = "raw/dossier_snapshots"
CHECK = "dossier_export_is_fresh"


@dataclass(frozen=True)
class Freshness:
    passed: bool
    description: str
    latest_loaded_at: datetime | None
    check_name: str = CHECK
    asset: str = ASSET


def dossier_export_freshness(con: duckdb.DuckDBPyConnection, now: datetime) -> Freshness:
    latest = con.execute("select max(ingested_at) from raw.ingestion_ledger "
                         "where kind = 'dossiers' and status = 'loaded'").fetchone()[0]
    age = None if latest is None else now - latest
    return Freshness(
        passed=age is not None and age <= MAX_AGE, latest_loaded_at=latest,
        description=("no dossier export was ever loaded" if latest is None else
                     f"latest dossier export loaded at {latest:%Y-%m-%d %H:%M} ({age.total_seconds() / 3600:.1f} h ago)"))
