with source as (
    select * from {{ source('raw', 'reference_targets') }}
    where {{ counted_batches() }}
),

renamed as (
    select
        batch_seq,
        indicator,
        level,
        target,
        valid_from,
        valid_to,
        coalesce(programme_code, '{{ var("default_programme")["code"] }}') as programme_code
    from source
)

select * from renamed
