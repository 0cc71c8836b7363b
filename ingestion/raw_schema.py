"""The raw schema of the warehouse: append-only tables that ingestion writes, and nothing else writes. Their columns
are declared in contracts/landed_tables.py; how an older warehouse is brought to them is ingestion/migrations.py."""

from __future__ import annotations

import duckdb

from contracts.landed_tables import raw_ddl
from ingestion.migrations import apply_migrations

# Batches whose rows do not count (landing.md): held until reviewed, or excluded. dbt's `counted_batches` macro
# reads the same ledger column.
NOT_COUNTED_BATCHES = "select sha256 from raw.ingestion_ledger where review in ('held', 'excluded')"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The raw tables as this version writes them: created where missing, an older warehouse upgraded
    (ingestion/migrations.py); the names of the migrations applied."""
    con.execute(raw_ddl())
    return apply_migrations(con)


def next_batch_seq(con: duckdb.DuckDBPyConnection) -> int:
    # fetchall, not fetchone: DuckDB 2 refuses to register a frame while a result is still open on the connection
    return int(con.execute("select coalesce(max(batch_seq), 0) + 1 from raw.ingestion_ledger").fetchall()[0][0])
