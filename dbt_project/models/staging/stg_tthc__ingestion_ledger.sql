with source as (
    select * from {{ source('raw', 'ingestion_ledger') }}
),

renamed as (
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
        batch_seq,
        ingested_at,
        review,
        reviewed_at
    from source
)

select * from renamed
