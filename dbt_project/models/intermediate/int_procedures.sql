select * exclude (batch_seq)
from {{ ref('stg_reference__procedures') }}
where batch_seq = (select max(batch_seq) from {{ ref('stg_reference__procedures') }})
