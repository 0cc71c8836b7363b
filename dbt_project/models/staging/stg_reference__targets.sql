with source as (
    select * from {{ source('raw', 'reference_targets') }}
    where {{ counted_batches() }}
),

renamed as (
    select
        {{ staged_columns('reference_targets', except=['batch_id', 'source_row', 'ingested_at'], expressions={
            'programme_code': "coalesce(programme_code, '" ~ var('default_programme')['code'] ~ "')",
        }) }}
    from source
)

select * from renamed
