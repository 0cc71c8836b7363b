{#
  Every calendar month from the first reception to the latest update, with its completeness. Both bounds are read
  from the current states (kpis.md works on them; the latest update of the data is the latest of its dossiers'
  current states): a column scan of one row a dossier, where the staged snapshots are every row ever landed.
#}
with bounds as (
    select
        {{ month_start('min(received_at)') }} as first_month,
        {{ month_start('max(updated_at)') }} as last_month
    from {{ ref('int_dossier_current_state') }}
)

select
    cast(month as date) as period_month,
    {{ month_end('month') }} as month_end,
    cast(month as date) <= (select latest_complete_month from {{ ref('int_directive_window') }}) as is_complete
from {{ months_from('bounds', 'first_month', 'last_month', 'month') }}
