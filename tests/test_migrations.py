"""Upgrades of an older warehouse in one place (issue #26 §4, ingestion/migrations.py): named, dated, idempotent."""

from __future__ import annotations

import shutil

import duckdb

from ingestion.migrations import MIGRATIONS, apply_migrations, columns
from ingestion.raw_schema import ensure_raw_schema


def test_the_migrations_are_named_once_and_in_the_order_of_their_dates():
    names = [m.name for m in MIGRATIONS]
    assert len(set(names)) == len(names)
    assert [m.date for m in MIGRATIONS] == sorted(m.date for m in MIGRATIONS)
    assert all(m.why for m in MIGRATIONS)


def test_an_older_warehouse_is_upgraded_once_and_a_current_one_is_left_as_it_is(small_built, tmp_path):
    db = tmp_path / "older.duckdb"
    shutil.copy(small_built, db)
    with duckdb.connect(str(db)) as con:
        assert ensure_raw_schema(con) == []  # as this version writes it: nothing to do
        # the warehouse as an older version left it: ledger and targets without their later columns, the month
        # marts without their watermark
        for relation, column in [("raw.ingestion_ledger", "review"), ("raw.ingestion_ledger", "reviewed_at"),
                                 ("raw.ingestion_ledger", "file_ctime_ns"), ("raw.reference_targets", "programme_code"),
                                 ("marts.kpi_unit_month", "processed_through_batch_seq")]:
            con.execute(f"alter table {relation} drop column {column}")
        ledger_rows = con.execute("select count(*) from raw.ingestion_ledger").fetchone()[0]
        assert ensure_raw_schema(con) == ["ledger_review_columns", "targets_programme_code", "ledger_file_ctime",
                                          "month_marts_watermark"]
        assert {"review", "reviewed_at", "file_ctime_ns"} <= columns(con, "raw.ingestion_ledger")
        assert "programme_code" in columns(con, "raw.reference_targets")
        assert con.execute("select count(*) from raw.ingestion_ledger").fetchone()[0] == ledger_rows
        # the mart that could not be merged into is gone (the next build builds it whole); the others stay
        assert columns(con, "marts.kpi_unit_month") is None
        assert columns(con, "marts.index766_unit_month") is not None
        assert apply_migrations(con) == []  # once only


def test_the_catalog_the_migrations_read_once_is_every_relation_with_its_columns(small_built):
    from ingestion.migrations import catalog

    with duckdb.connect(str(small_built), read_only=True) as con:
        relations = [f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database()").fetchall()]
        known = catalog(con)
    assert sorted(known) == sorted(relations) and "raw.ingestion_ledger" in known and "marts.kpi_unit_month" in known
    with duckdb.connect(str(small_built), read_only=True) as con:
        assert all(known[r] == columns(con, r) for r in relations)
