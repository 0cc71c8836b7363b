with source as (
    select * from {{ source('raw', 'reference_procedures') }}
    where {{ counted_batches() }}
),

renamed as (
    select
        batch_seq,
        procedure_code,
        procedure_name,
        field,
        online_service_level,
        paper_result,
        has_fee
    from source
)

select * from renamed
