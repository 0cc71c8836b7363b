with source as (
    select * from {{ source('raw', 'ingestion_ledger') }}
),

renamed as (
    select
        {{ staged_columns('ingestion_ledger', except=['file_size', 'file_mtime_ns', 'file_ctime_ns']) }}
    from source
)

select * from renamed
