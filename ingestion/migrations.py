"""Upgrades of a warehouse written by an older version of the project: the one place that knows what older
warehouses look like, so that neither the raw schema nor the dbt models carry "an older warehouse" branches.

Each migration is named and dated (the day the change it follows landed) and is idempotent: it looks at the
warehouse and does nothing when the warehouse is already as it should be. Raw tables gain columns (ALTER ... ADD
COLUMN, NULL for the rows written before); a dbt model stored before a column it relies on existed is dropped, and
the next `dbt build` builds it whole (an incremental model would otherwise merge into a table it cannot read).
`apply_migrations` runs them in order; ingestion calls it before it writes (ingestion.ingest.ingest_landing), so
every run upgrades the warehouse before dbt reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from contracts.landed_tables import RAW_TABLES

Catalog = dict[str, set[str]]  # "schema.table" -> its columns: the warehouse as the migrations look at it


@dataclass(frozen=True)
class Migration:
    name: str
    date: str  # the day the change landed
    why: str
    apply: Callable[[duckdb.DuckDBPyConnection, Catalog], bool]  # True when it changed the warehouse


def relation_columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    """The (column, type) of `schema.table` in order; empty when the warehouse has no such table."""
    schema, table = relation.split(".")
    return con.execute("select column_name, data_type from information_schema.columns where table_schema = ? "
                       "and table_name = ? and table_catalog = current_database() order by ordinal_position",
                       [schema, table]).fetchall()


def columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str] | None:
    """The columns of `schema.table`, or None when the warehouse has no such table."""
    return {name for name, _ in relation_columns(con, relation)} or None


def catalog(con: duckdb.DuckDBPyConnection) -> Catalog:
    """The columns of every table and view of the warehouse, in one query (a query per table and migration cost
    about 70 ms a run, every run)."""
    found: Catalog = {}
    for relation, column in con.execute(
            "select schema_name || '.' || table_name, column_name from duckdb_columns() "
            "where database_name = current_database()").fetchall():
        found.setdefault(relation, set()).add(column)
    return found


def add_columns(relation: str, added: dict[str, str]) -> Callable[[duckdb.DuckDBPyConnection, Catalog], bool]:
    """Add the missing columns (name -> type) to a raw table."""
    def apply(con: duckdb.DuckDBPyConnection, known: Catalog) -> bool:
        present = known.get(relation)
        missing = [name for name in added if present is not None and name not in present]
        for name in missing:
            con.execute(f"alter table {relation} add column {name} {added[name]}")
        return bool(missing)
    return apply


def rebuild_without(relations: list[str], needed: list[str]) -> Callable[[duckdb.DuckDBPyConnection, Catalog], bool]:
    """Drop each stored model that lacks any of the needed columns: the next dbt build builds it whole."""
    def apply(con: duckdb.DuckDBPyConnection, known: Catalog) -> bool:
        dropped = False
        for relation in relations:
            present = known.get(relation)
            if present is not None and not set(needed) <= present:
                con.execute(f"drop table {relation}")
                dropped = True
        return dropped
    return apply


def add_spec_columns(con: duckdb.DuckDBPyConnection, known: Catalog) -> bool:
    """Add to each raw table the nullable columns the spec declares and the table lacks: a column added to
    contracts/landed_tables.py reaches an older warehouse without a migration of its own."""
    added = False
    for table in RAW_TABLES.values():
        present = known.get(f"raw.{table.name}")
        missing = {c.name: c.type for c in table.stored
                   if present is not None and c.name not in present and not c.is_not_null}
        added |= add_columns(f"raw.{table.name}", missing)(con, known)
    return added


MIGRATIONS = (
    Migration("ledger_review_columns", "2026-11-27", "batches held for review: who decided and when",
              add_columns("raw.ingestion_ledger", {"review": "varchar", "reviewed_at": "timestamp"})),
    Migration("ledger_file_signature", "2026-11-27", "a landed file unchanged in path, size and time is not read again",
              add_columns("raw.ingestion_ledger", {"file_size": "bigint", "file_mtime_ns": "bigint"})),
    Migration("targets_programme_code", "2026-11-27", "targets.csv's optional programme column (NULL: Directive 10)",
              add_columns("raw.reference_targets", {"programme_code": "varchar"})),
    Migration("facts_received_unit", "2026-11-27", "reception measures count under the unit that received the dossier",
              rebuild_without(["intermediate.int_dossier_current_state", "facts.fct_dossiers"],
                              ["received_unit_code"])),
    Migration("current_state_received_snapshot", "2026-11-28",
              "the current state merges new snapshots with the stored state (received_snapshot, received_month)",
              rebuild_without(["intermediate.int_dossier_current_state"], ["received_snapshot", "received_month"])),
    Migration("ledger_file_ctime", "2026-12-05", "the file's status-change time joins its signature",
              add_columns("raw.ingestion_ledger", {"file_ctime_ns": "bigint"})),
    Migration("month_marts_watermark", "2026-12-06",
              "the tables of figures per month rebuild only the months a run touches (processed_through_batch_seq)",
              rebuild_without(["intermediate.int_open_at_month_end", "marts.kpi_unit_month",
                               "marts.kpi_current_unit_month", "marts.index766_unit_month",
                               "marts.index766_dossier_losses"], ["processed_through_batch_seq"])),
    Migration("raw_columns_of_the_spec", "2026-12-06",
              "an optional column declared in contracts/landed_tables.py is added to the raw table that lacks it",
              add_spec_columns),
)


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply every migration the warehouse needs, in order; the names of those that changed it. They look at the
    warehouse's catalog read once, and again after a migration changed it."""
    known, applied = catalog(con), []
    for migration in MIGRATIONS:
        if migration.apply(con, known):
            applied.append(migration.name)
            known = catalog(con)
    return applied
