select
    batch_seq,
    indicator,
    level,
    target,
    valid_from,
    valid_to
from {{ source('raw', 'reference_targets') }}
where {{ counted_batches() }}
