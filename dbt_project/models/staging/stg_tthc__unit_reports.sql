{% set measures = ['received', 'received_online', 'digitised', 'fee_bearing', 'paid_online', 'resolved', 'resolved_on_time'] %}
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
from {{ source('raw', 'unit_reports') }}
where {{ counted_batches() }}
