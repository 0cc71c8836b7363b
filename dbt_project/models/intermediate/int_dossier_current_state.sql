{#
  The current state of every dossier: its snapshot with the greatest updated_at; on a tie, the one from the
  batch ingested later, then the later row (landing.md). received_unit_code is the unit of its earliest snapshot
  whose status counts as received: a dossier handed to a successor keeps its reception where it was received.

  Incremental on the ingested batch: a run recomputes only the dossiers that batches newer than the watermark
  touched (all their snapshots are re-ranked, so an out-of-order re-delivery is handled), and replaces them.
#}
{{ config(materialized='incremental', unique_key='dossier_code', incremental_strategy='delete+insert',
          on_schema_change='append_new_columns') }}

with snapshots as (
    select * from {{ ref('stg_tthc__dossier_snapshots') }}
),

{% if is_incremental() %}
    watermark as (
        select coalesce(max(processed_through_batch_seq), 0) as batch_seq from {{ this }}
    ),

    touched as (
        select distinct dossier_code
        from snapshots
        where batch_seq > (select batch_seq from watermark)
    ),

    candidates as (
        select snapshots.* from snapshots semi join touched using (dossier_code)
    ),
{% else %}
    candidates as (
        select * from snapshots
    ),
{% endif %}

ranked as (
    select
        *,
        count(*) over (partition by dossier_code) as snapshot_count,
        -- the unit that received it: of its earliest snapshot with a status that counts as received (kpis.md)
        arg_min(unit_code, { 'updated_at': updated_at, 'batch_seq': batch_seq, 'source_row': source_row })
        filter (where status not in {{ statuses('not_received') }})
            over (partition by dossier_code) as received_unit_code,
        row_number() over (
            partition by dossier_code order by updated_at desc, batch_seq desc, source_row desc
        ) as recency
    from candidates
)

select
    dossier_code,
    procedure_code,
    procedure_name,
    unit_code,
    coalesce(received_unit_code, unit_code) as received_unit_code,
    channel,
    received_at,
    due_at,
    finished_at,
    status,
    fee_amount,
    paid_online,
    e_receipt_no,
    components_digitised,
    e_result,
    updated_at,
    batch_id,
    batch_seq,
    source_row,
    snapshot_count,
    (select max(batch_seq) from snapshots) as processed_through_batch_seq
from ranked
where recency = 1
