{#
  One row: the Directive 10 window and its baseline (kpis.md).
  A month is complete when some dossier was updated after its last day, so the latest complete month is the
  month before the one holding the latest update. The window runs from the effective date to the end of that
  month; the baseline is the `baseline_months` months before the effective date. The latest update is read from
  the current states (each holds its dossier's greatest updated_at): one row a dossier, not every snapshot landed.
#}
with latest as (
    select max(updated_at) as as_of from {{ ref('int_dossier_current_state') }}
),

bounds as (
    select
        cast('{{ var("directive_effective_date") }}' as date) as directive_effective_date,
        as_of,
        {{ add_months(month_start('as_of'), -1) }} as latest_complete_month
    from latest
)

select
    directive_effective_date,
    directive_effective_date as window_start,
    {{ month_end('latest_complete_month') }} as window_end,
    {{ month_start('directive_effective_date') }} as window_first_month,
    latest_complete_month as window_last_month,
    {{ add_months('directive_effective_date', -var('baseline_months')) }} as baseline_start,
    {{ add_days('directive_effective_date', -1) }} as baseline_end,
    {{ month_start(add_months('directive_effective_date', -var('baseline_months'))) }} as baseline_first_month,
    {{ month_start(add_months('directive_effective_date', -1)) }} as baseline_last_month,
    latest_complete_month,
    as_of
from bounds
