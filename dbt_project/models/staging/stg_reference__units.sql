select
    batch_seq,
    unit_code,
    unit_name,
    level,
    nullif(parent_code, '') as parent_code,
    valid_from,
    valid_to,
    nullif(successor_code, '') as successor_code
from {{ source('raw', 'reference_units') }}
where {{ counted_batches() }}
