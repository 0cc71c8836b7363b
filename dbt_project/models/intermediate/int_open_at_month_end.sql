{#
  Every dossier still open at the end of a month (kpis.md, "Service index estimate"), judged on its current state
  like every measure: received (status not 1 or 3), received on or before the month's last day, and not finished
  by then (finished_at NULL or after that day); a withdrawn or stopped dossier (status 7, 8) is never counted.
  is_not_yet_due: its due date is not before the month's end, so the portal counts it as on time. Under the unit
  of its current state (the unit that resolves it), as resolutions are.
  Month-incremental (macros/month_incremental.sql): a nightly run rebuilds the months its changes touch.
#}
{{ config(**incremental_by_month()) }}
-- depends_on: {{ ref('int_months') }}
{% set incremental = month_incremental() %}
{% set first_end = first_touched_month_end() %}
with dossiers as (
    select dossier_code, unit_code, procedure_code, is_received, status, received_at, finished_at, due_at
    from {{ ref('fct_dossiers') }}
    {% if first_end is not none %}
        -- open at the end of a month rebuilt: not finished before the first one's end (the rest of 10M unread)
        where finished_at is null or finished_at >= cast({{ add_days("date '" ~ first_end ~ "'", 1) }} as timestamp)
    {% endif %}
),

months as (
    select period_month, month_end from {{ ref('int_months') }}
    where {{ touched('period_month', incremental) }}
),

open_dossiers as (
    {{ open_at_month_end('dossiers', 'months', carried=['procedure_code']) }}
)

select
    dossier_code,
    unit_code,
    procedure_code,
    period_month,
    due_at,
    is_not_yet_due,
    {{ ledger_watermark() }} as processed_through_batch_seq
from open_dossiers
