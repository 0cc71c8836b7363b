"""Suites for the raw batches: what a loaded dossier snapshot or unit report must look like (landing.md).

Evaluated in DuckDB SQL (expectations/sql_engine.py) in the process that loaded the batches, whatever their size:
no Great Expectations import in a run for it. The same suites run in Great Expectations in the tests, which hold
the two engines to the same verdicts.
"""

from __future__ import annotations

from contracts.landed_tables import DOSSIER_SNAPSHOTS, UNIT_REPORTS, RawTable
from expectations.definitions import Expectation, a_not_before_b, between, columns_exactly, in_set, matches, not_null
from expectations.outcomes import SuiteOutcome, describe
from expectations.sql_engine import run_suite_sql


def columns_of(table: RawTable) -> list[Expectation]:
    """What the spec (contracts/landed_tables.py) says of every batch: exactly its columns, its required values
    present, its coded values in their code set, its bounded values within their bounds."""
    return [
        columns_exactly(table.column_names),
        *[not_null(c.name) for c in table.landed if c.required],
        *[in_set(c.name, list(c.codes)) for c in table.stored if c.codes],
        *[between(c.name, c.minimum, c.maximum) for c in table.stored if c.minimum is not None or c.maximum is not None],
    ]


def dossier_batch_suite() -> list[Expectation]:
    return [
        # exactly the spec's columns: no applicant name, no clear applicant id
        *columns_of(DOSSIER_SNAPSHOTS),
        a_not_before_b("finished_at", "received_at"),
        a_not_before_b("due_at", "received_at"),
        matches("applicant_id_hash", r"^[0-9a-f]{64}$"),
    ]


def unit_report_batch_suite() -> list[Expectation]:
    return [
        *columns_of(UNIT_REPORTS),
        not_null("period_month"),
        matches("period", r"^(0?[1-9]|1[0-2])/\d{4}$"),
    ]


SUITES = {
    "dossier_snapshots": ("raw_dossier_batch", dossier_batch_suite),
    "unit_reports": ("raw_unit_report_batch", unit_report_batch_suite),
}


def validate_batches(con, table: str, batch_ids: list[str], run_at) -> SuiteOutcome | None:
    """Validate the given batches of a raw table with its suite, in one SQL pass; one raw.batch_validations row
    per batch."""
    if not batch_ids:
        return None
    suite_name, suite = SUITES[table]
    con.execute("create or replace temp table validated_batches as select unnest(?::varchar[]) as batch_id", [batch_ids])
    # batch_seq grows with insertion order, so its range lets DuckDB skip every other row group (zonemaps)
    # instead of scanning the whole table
    low, high = con.execute("select coalesce(min(batch_seq), 0), coalesce(max(batch_seq), 0) from raw.ingestion_ledger "
                            "where status = 'loaded' and sha256 in (select batch_id from validated_batches)"
                            ).fetchall()[0]
    rows = (f"(select * from raw.{table} where batch_seq between {low} and {high} "
            f"and batch_id in (select batch_id from validated_batches))")
    try:
        outcome = run_suite_sql(con, suite_name, suite(), rows, key_columns=("batch_id",))
    finally:
        con.execute("drop table validated_batches")
    table_level = [o for o in outcome.failed if not o.failing_keys]  # e.g. a column set: every batch fails
    rows = []
    for batch_id in batch_ids:
        failed = [o for o in outcome.failed if (batch_id,) in o.failing_keys] + table_level
        rows.append((run_at, batch_id, table, suite_name, not failed, outcome.evaluated,
                     describe(failed) or None))
    con.executemany("insert into raw.batch_validations values (?, ?, ?, ?, ?, ?, ?)", rows)
    return outcome
