{#
  One row per dossier, its current state, with every flag the contract's measures need (kpis.md). unit_code is
  the unit of its current state (resolution measures, overdue list), received_unit_code the unit that received it
  (reception measures); they differ only for a dossier handed to another unit.
  Incremental: only dossiers whose current state was recomputed since the last run are replaced (on Spark, the
  whole received months they are in, as the current state overwrote them).
  Procedure attributes (paper_result) are joined where they are used, so a catalogue update never leaves a
  fact stale.
  prior_*: the version a recomputed dossier replaced (NULL for a new one), so that the month-incremental marts
  rebuild the months it counted in as well as the months it counts in now (macros/month_incremental.sql).
#}
{{ config(materialized='incremental', **incremental_by_dossier()) }}

with current_state as (
    select * from {{ ref('int_dossier_current_state') }}
    {% if is_incremental() %}
        where processed_through_batch_seq > (select coalesce(max(processed_through_batch_seq), 0) from {{ this }})
    {% endif %}
),

flags as (
    select
        *,
        status not in {{ statuses('not_received') }} as is_received,
        status in {{ statuses('resolved') }} and finished_at is not null as is_resolved
    from current_state
),

facts as (
    select
        dossier_code,
        unit_code,
        received_unit_code,
        procedure_code,
        channel,
        status,
        received_at,
        {{ month_start('received_at') }} as received_month,
        due_at,
        finished_at,
        case when is_resolved then {{ month_start('finished_at') }} end as resolved_month,
        fee_amount,
        paid_online,
        is_received,
        is_received and channel = {{ var('online_channel') }} as is_online,
        is_received and components_digitised as is_digitised,
        is_received and fee_amount > 0 as is_fee_bearing,
        is_received and fee_amount > 0 and paid_online in ({{ var('paid_online_codes') | join(', ') }}) as is_paid_online,
        is_resolved,
        is_resolved and coalesce(finished_at <= due_at, false) as is_on_time,
        e_result as has_e_result,
        status in {{ statuses('open') }} as is_open,
        updated_at,
        processed_through_batch_seq
    from flags
),

replaced as (
    {% if is_incremental() %}
        select *{{ replaced_rowid('rowid') }} from {{ this }}
        where dossier_code in (select dossier_code from current_state)
    {% else %}
        select * from facts where false
    {% endif %}
)

select
    facts.*,
    replaced.processed_through_batch_seq as prior_processed_through_batch_seq,
    replaced.unit_code as prior_unit_code,
    replaced.status as prior_status,
    replaced.is_received as prior_is_received,
    replaced.received_at as prior_received_at,
    replaced.due_at as prior_due_at,
    replaced.finished_at as prior_finished_at,
    replaced.received_month as prior_received_month,
    replaced.resolved_month as prior_resolved_month
    {{ replaced_rowid('replaced.replaced_rowid') }}
from facts
left join replaced on facts.dossier_code = replaced.dossier_code
