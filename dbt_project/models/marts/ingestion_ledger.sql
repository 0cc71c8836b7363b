-- Every landed file, what happened to it and its row accounting (kpis.md): the analysts' view of the ledger.
select {{ columns_except(ref('stg_tthc__ingestion_ledger'), ['batch_seq']) }}
from {{ ref('stg_tthc__ingestion_ledger') }}
