with source as (
    select * from {{ source('raw', 'reference_programmes') }}
    where {{ counted_batches() }}
),

renamed as (
    select
        {{ staged_columns('reference_programmes', except=['batch_id', 'source_row', 'ingested_at']) }}
    from source
)

select * from renamed
