{#
  Every dossier still open at the end of a month (kpis.md, "Service index estimate"), judged on its current state
  like every measure: received (status not 1 or 3), received on or before the month's last day, and not finished
  by then (finished_at NULL or after that day); a withdrawn or stopped dossier (status 7, 8) is never counted.
  is_not_yet_due: its due date is not before the month's end, so the portal counts it as on time. Under the unit
  of its current state (the unit that resolves it), as resolutions are.
#}
with dossiers as (
    select dossier_code, unit_code, procedure_code, received_at, finished_at, due_at
    from {{ ref('fct_dossiers') }}
    where is_received and status not in {{ statuses('withdrawn_or_stopped') }}
),

months as (
    select
        period_month,
        cast({{ add_days('month_end', 1) }} as timestamp) as month_end_at
    from {{ ref('int_months') }}
)

select
    d.dossier_code,
    d.unit_code,
    d.procedure_code,
    m.period_month,
    d.due_at,
    coalesce(d.due_at >= m.month_end_at, false) as is_not_yet_due
from dossiers as d
join months as m
    on
        d.received_at < m.month_end_at
        and (d.finished_at is null or d.finished_at >= m.month_end_at)
