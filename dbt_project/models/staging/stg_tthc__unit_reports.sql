{% set measures = report_measures() %}
with source as (
    select * from {{ source('raw', 'unit_reports') }}
    where {{ counted_batches() }}
),

renamed as (
    select
        {{ staged_columns('unit_reports', except=['period', 'ingested_at'] + (measures | list)) }},
    {% for m in measures %}
        {{ m }} as {{ m }}_text,
        try_cast({{ m }} as double) as {{ m }}_value{{ ',' if not loop.last }}
    {% endfor %}
    from source
)

select * from renamed
