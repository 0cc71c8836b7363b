with source as (
    select * from {{ source('raw', 'reference_units') }}
    where {{ counted_batches() }}
),

renamed as (
    select
        batch_seq,
        unit_code,
        unit_name,
        level,
        nullif(parent_code, '') as parent_code,
        valid_from,
        valid_to,
        nullif(successor_code, '') as successor_code
    from source
)

select * from renamed
