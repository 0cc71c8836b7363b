{% set measures = report_measures() %}
with source as (
    select * from {{ source('raw', 'unit_reports') }}
    where {{ counted_batches() }}
),

renamed as (
    select
        batch_id,
        batch_seq,
        source_row,
        unit_code,
        period_month,
        submitted_at,
    {% for m in measures %}
        {{ m }} as {{ m }}_text,
        try_cast({{ m }} as double) as {{ m }}_value{{ ',' if not loop.last }}
    {% endfor %}
    from source
)

select * from renamed
