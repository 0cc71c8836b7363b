"""The raw schema of the warehouse: append-only tables that ingestion writes, and nothing else writes. How an older
warehouse is brought to it is ingestion/migrations.py."""

from __future__ import annotations

import duckdb

from ingestion.migrations import apply_migrations

RAW_TABLES = ("dossier_snapshots", "unit_reports", "reference_units", "reference_procedures", "reference_targets",
              "reference_programmes", "explanations", "quarantine", "ingestion_ledger", "batch_validations")

DDL = """
create schema if not exists raw;

create table if not exists raw.ingestion_ledger (
    file_path varchar not null,          -- relative to the landing folder
    sha256 varchar not null,             -- the batch id: sha256 of the file's bytes
    kind varchar not null,               -- dossiers / unit_reports / explanations / reference
    status varchar not null,             -- loaded / skipped_same_bytes / rejected
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    duplicates_dropped bigint not null,
    error varchar,
    warnings varchar,
    unknown_columns varchar,
    batch_seq bigint not null,           -- ingestion order: later batches win ties
    ingested_at timestamp not null,
    review varchar,                      -- held / accepted / excluded; NULL when the batch was never held
    reviewed_at timestamp,               -- when an engineer accepted or excluded it
    -- the file's size, modification and status-change times when it was read: a file whose path, size and times
    -- are unchanged is not read and hashed again (ingestion.ingest.file_signature)
    file_size bigint,
    file_mtime_ns bigint,
    file_ctime_ns bigint
);

create table if not exists raw.dossier_snapshots (
    batch_id varchar not null,
    batch_seq bigint not null,
    source_row bigint not null,
    dossier_code varchar not null,
    procedure_code varchar not null,
    procedure_name varchar,
    unit_code varchar not null,
    channel tinyint not null,
    received_at timestamp not null,
    due_at timestamp,
    finished_at timestamp,
    status tinyint not null,
    fee_amount bigint not null,
    paid_online tinyint not null,
    e_receipt_no varchar,
    components_digitised boolean not null,
    e_result boolean not null,
    applicant_id_hash varchar,
    updated_at timestamp not null,
    ingested_at timestamp not null
);

create table if not exists raw.unit_reports (
    batch_id varchar not null,
    batch_seq bigint not null,
    source_row bigint not null,
    unit_code varchar not null,
    period varchar not null,
    period_month date not null,
    received varchar,                     -- measures as reported (text): the not_a_count rule judges them
    received_online varchar,
    digitised varchar,
    fee_bearing varchar,
    paid_online varchar,
    resolved varchar,
    resolved_on_time varchar,
    submitted_at timestamp not null,
    ingested_at timestamp not null
);

create table if not exists raw.reference_units (
    batch_id varchar not null,
    batch_seq bigint not null,
    source_row bigint not null,
    unit_code varchar not null,
    unit_name varchar not null,
    level varchar not null,
    parent_code varchar,
    valid_from date not null,
    valid_to date,
    successor_code varchar,
    ingested_at timestamp not null
);

create table if not exists raw.reference_procedures (
    batch_id varchar not null,
    batch_seq bigint not null,
    source_row bigint not null,
    procedure_code varchar not null,
    procedure_name varchar,
    field varchar,
    online_service_level varchar,
    paper_result boolean not null,
    has_fee boolean not null,
    ingested_at timestamp not null
);

create table if not exists raw.reference_targets (
    batch_id varchar not null,
    batch_seq bigint not null,
    source_row bigint not null,
    indicator varchar not null,
    level varchar not null,
    target double not null,
    valid_from date not null,
    valid_to date,
    ingested_at timestamp not null,
    programme_code varchar               -- targets.csv's optional programme column (NULL: Directive 10's)
);

create table if not exists raw.explanations (
    batch_id varchar not null,
    batch_seq bigint not null,
    source_row bigint not null,
    dossier_code varchar not null,
    unit_code varchar not null,
    reason varchar not null,             -- as the unit wrote it, every run of 9+ digits masked
    explained_at timestamp not null,
    apology_letter_no varchar,
    ingested_at timestamp not null
);

create table if not exists raw.reference_programmes (
    batch_id varchar not null,
    batch_seq bigint not null,
    source_row bigint not null,
    programme_code varchar not null,
    programme_name varchar,
    effective_date date not null,
    baseline_months integer not null,
    end_date date,
    ingested_at timestamp not null
);

create table if not exists raw.quarantine (
    batch_id varchar not null,
    kind varchar not null,
    file_path varchar not null,
    source_row bigint not null,
    raw_record varchar not null,          -- the row as the file shows it (JSON), personal data masked
    reasons varchar[] not null,
    quarantined_at timestamp not null
);

create table if not exists raw.batch_validations (
    run_at timestamp not null,
    batch_id varchar not null,
    kind varchar not null,
    suite varchar not null,
    success boolean not null,
    evaluated_expectations integer not null,
    failed_expectations varchar
);
"""


# Batches whose rows do not count (landing.md): held until reviewed, or excluded. dbt's `counted_batches` macro
# reads the same ledger column.
NOT_COUNTED_BATCHES = "select sha256 from raw.ingestion_ledger where review in ('held', 'excluded')"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The raw tables as this version writes them: created where missing, an older warehouse upgraded
    (ingestion/migrations.py); the names of the migrations applied."""
    con.execute(DDL)
    return apply_migrations(con)


def next_batch_seq(con: duckdb.DuckDBPyConnection) -> int:
    # fetchall, not fetchone: DuckDB 2 refuses to register a frame while a result is still open on the connection
    return int(con.execute("select coalesce(max(batch_seq), 0) + 1 from raw.ingestion_ledger").fetchall()[0][0])
