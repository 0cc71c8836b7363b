with source as (
    select * from {{ source('raw', 'reference_procedures') }}
    where {{ counted_batches() }}
),

renamed as (
    select
        {{ staged_columns('reference_procedures', except=['batch_id', 'source_row', 'ingested_at']) }}
    from source
)

select * from renamed
