{#
  The condition that keeps the rows of batches that count: not held under the 5% quarantine rule until an
  engineer reviews them, and not excluded (landing.md). The ledger's `review` column holds the decision
  (`tthc accept-batch`, `tthc exclude-batch`); ingestion reads the same column (ingestion/raw_schema.py).
#}
{% macro counted_batches(batch_id='batch_id') -%}
    {{ batch_id }} not in (
    select sha256 from {{ source('raw', 'ingestion_ledger') }} where review in ('held', 'excluded')
)
{%- endmacro %}
