"""Suites for the raw batches: what a loaded dossier snapshot or unit report must look like (landing.md)."""

from __future__ import annotations

import gc

import pandas as pd
import pyarrow as pa

from contracts.landed_tables import DOSSIER_SNAPSHOTS, UNIT_REPORTS, RawTable
from expectations.engine import SuiteOutcome, describe, import_great_expectations, merge_outcomes, run_suite
from expectations.sql_engine import run_suite_sql

gx = import_great_expectations()


def columns_of(table: RawTable) -> list:
    """What the spec (contracts/landed_tables.py) says of every batch: exactly its columns, its required values
    present, its coded values in their code set, its bounded values within their bounds."""
    e = gx.expectations
    return [
        e.ExpectTableColumnsToMatchSet(column_set=table.column_names, exact_match=True),
        *[e.ExpectColumnValuesToNotBeNull(column=c.name) for c in table.landed if c.required],
        *[e.ExpectColumnValuesToBeInSet(column=c.name, value_set=list(c.codes)) for c in table.stored if c.codes],
        *[e.ExpectColumnValuesToBeBetween(column=c.name, min_value=c.minimum, max_value=c.maximum)
          for c in table.stored if c.minimum is not None or c.maximum is not None],
    ]


def dossier_batch_suite() -> list:
    e = gx.expectations
    return [
        # exactly the spec's columns: no applicant name, no clear applicant id
        *columns_of(DOSSIER_SNAPSHOTS),
        e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="finished_at", column_B="received_at", or_equal=True,
                                                  ignore_row_if="either_value_is_missing"),
        e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="due_at", column_B="received_at", or_equal=True,
                                                  ignore_row_if="either_value_is_missing"),
        e.ExpectColumnValuesToMatchRegex(column="applicant_id_hash", regex=r"^[0-9a-f]{64}$"),
    ]


def unit_report_batch_suite() -> list:
    e = gx.expectations
    return [
        *columns_of(UNIT_REPORTS),
        e.ExpectColumnValuesToNotBeNull(column="period_month"),
        e.ExpectColumnValuesToMatchRegex(column="period", regex=r"^(0?[1-9]|1[0-2])/\d{4}$"),
    ]


SUITES = {
    "dossier_snapshots": ("raw_dossier_batch", dossier_batch_suite),
    "unit_reports": ("raw_unit_report_batch", unit_report_batch_suite),
}


def frame_for_gx(relation) -> pd.DataFrame:
    """A DuckDB relation as pandas with Arrow-backed strings (far faster than Python strings: benchmarks/README.md)."""
    def mapper(t: pa.DataType):
        return pd.ArrowDtype(t) if pa.types.is_string(t) or pa.types.is_large_string(t) else None

    return relation.to_arrow_table().to_pandas(types_mapper=mapper)


VALIDATION_ROWS = 1_000_000  # batches are validated in groups of about this many rows (bounded memory)
# Beyond this many rows in one run (a first load, a backfill), the suite is evaluated in DuckDB SQL instead of
# Great Expectations' pandas engine, an order of magnitude faster on a first load (benchmarks/README.md). A nightly
# export (tens of thousands of rows) stays in Great Expectations.
SQL_ABOVE_ROWS = 2_000_000


def validate_batches(con, table: str, batch_ids: list[str], run_at) -> SuiteOutcome | None:
    """Validate the given batches of a raw table with its suite; one raw.batch_validations row per batch.

    Batches go to Great Expectations in groups of about VALIDATION_ROWS rows; the outcome returned covers them all.
    """
    if not batch_ids:
        return None
    con.register("validated_batches", pa.table({"batch_id": batch_ids}))
    sizes = con.sql(f"select batch_id, count(*) from raw.{table} "
                    f"where batch_id in (select batch_id from validated_batches) group by batch_id").fetchall()
    con.unregister("validated_batches")
    rows_of = dict(sizes)
    if sum(rows_of.values()) > SQL_ABOVE_ROWS:  # a backfill: the same suite, evaluated in DuckDB
        return _validate_group(con, table, batch_ids, run_at, in_sql=True)
    groups, current, current_rows = [], [], 0
    for batch_id in batch_ids:
        current.append(batch_id)
        current_rows += rows_of.get(batch_id, 0)
        if current_rows >= VALIDATION_ROWS:
            groups.append(current)
            current, current_rows = [], 0
    if current:
        groups.append(current)
    outcomes = []
    for group in groups:
        outcomes.append(_validate_group(con, table, group, run_at))
        # GX's result objects hold the group's frame in reference cycles: collect them now, or a backfill's
        # frames pile up until the cyclic collector happens to run, and a backfill's peak memory with them
        gc.collect()
    return merge_outcomes(outcomes)


def _validate_group(con, table: str, batch_ids: list[str], run_at, in_sql: bool = False) -> SuiteOutcome:
    suite_name, suite = SUITES[table]
    con.register("validated_batches", pa.table({"batch_id": batch_ids}))
    # batch_seq grows with insertion order, so its range lets DuckDB skip every other row group (zonemaps)
    # instead of scanning the whole table for each group
    low, high = con.execute("select coalesce(min(batch_seq), 0), coalesce(max(batch_seq), 0) from raw.ingestion_ledger "
                            "where status = 'loaded' and sha256 in (select batch_id from validated_batches)"
                            ).fetchall()[0]
    rows = (f"(select * from raw.{table} where batch_seq between {low} and {high} "
            f"and batch_id in (select batch_id from validated_batches))")
    try:
        if in_sql:
            outcome = run_suite_sql(con, suite_name, suite(), rows, key_columns=("batch_id",))
        else:
            outcome = run_suite(suite_name, suite(), frame_for_gx(con.sql(rows)), key_columns=("batch_id",))
    finally:
        con.unregister("validated_batches")
    table_level = [o for o in outcome.failed if not o.failing_keys]  # e.g. a column set: every batch fails
    rows = []
    for batch_id in batch_ids:
        failed = [o for o in outcome.failed if (batch_id,) in o.failing_keys] + table_level
        rows.append((run_at, batch_id, table, suite_name, not failed, outcome.evaluated,
                     describe(failed) or None))
    con.executemany("insert into raw.batch_validations values (?, ?, ?, ?, ?, ?, ?)", rows)
    return outcome
