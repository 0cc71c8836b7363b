with source as (
    select * from {{ source('raw', 'reference_programmes') }}
    where {{ counted_batches() }}
),

renamed as (
    select
        batch_seq,
        programme_code,
        programme_name,
        effective_date,
        baseline_months,
        end_date
    from source
)

select * from renamed
