with source as (
    select * from {{ source('raw', 'reference_units') }}
    where {{ counted_batches() }}
),

renamed as (
    select
        {{ staged_columns('reference_units', except=['batch_id', 'source_row', 'ingested_at'], expressions={
            'parent_code': "nullif(parent_code, '')",
            'successor_code': "nullif(successor_code, '')",
        }) }}
    from source
)

select * from renamed
