-- Every landed file, what happened to it and its row accounting (kpis.md): the analysts' view of the ledger.
select
    file_path,
    sha256,
    kind,
    status,
    rows_read,
    rows_loaded,
    rows_quarantined,
    duplicates_dropped,
    error,
    warnings,
    unknown_columns,
    ingested_at,
    review,
    reviewed_at
from {{ ref('stg_tthc__ingestion_ledger') }}
