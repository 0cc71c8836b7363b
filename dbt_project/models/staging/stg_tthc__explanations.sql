with source as (
    select * from {{ source('raw', 'explanations') }}
    where {{ counted_batches() }}
),

renamed as (
    select
        {{ staged_columns('explanations', except=['ingested_at']) }},
        -- a later explanation of the same dossier (greatest explained_at, then the later batch and row) replaces it
        row_number() over (
            partition by dossier_code order by explained_at desc, batch_seq desc, source_row desc
        ) as recency
    from source
)

select * from renamed
