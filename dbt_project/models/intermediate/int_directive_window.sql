{#
  One row: the Directive 10 window and its baseline (kpis.md).
  A month is complete when some dossier was updated after its last day, so the latest complete month is the
  month before the one holding the latest update. The window runs from the effective date to the end of that
  month; the baseline is the `baseline_months` months before the effective date.
#}
with latest as (
    select max(updated_at) as as_of from {{ ref('stg_tthc__dossier_snapshots') }}
),

bounds as (
    select
        cast('{{ var("directive_effective_date") }}' as date) as directive_effective_date,
        as_of,
        cast(date_trunc('month', as_of) - interval 1 month as date) as latest_complete_month
    from latest
)

select
    directive_effective_date,
    directive_effective_date as window_start,
    cast(latest_complete_month + interval 1 month - interval 1 day as date) as window_end,
    cast(date_trunc('month', directive_effective_date) as date) as window_first_month,
    latest_complete_month as window_last_month,
    cast(directive_effective_date - interval {{ var('baseline_months') }} month as date) as baseline_start,
    cast(directive_effective_date - interval 1 day as date) as baseline_end,
    cast(date_trunc('month', directive_effective_date - interval {{ var('baseline_months') }} month) as date) as baseline_first_month,
    cast(date_trunc('month', directive_effective_date - interval 1 month) as date) as baseline_last_month,
    latest_complete_month,
    as_of
from bounds
