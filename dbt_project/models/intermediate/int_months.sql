{# Every calendar month from the first reception to the latest update, with its completeness. #}
with bounds as (
    select
        {{ month_start('min(received_at)') }} as first_month,
        {{ month_start('max(updated_at)') }} as last_month
    from {{ ref('stg_tthc__dossier_snapshots') }}
)

select
    cast(month as date) as period_month,
    {{ month_end('month') }} as month_end,
    cast(month as date) <= (select latest_complete_month from {{ ref('int_directive_window') }}) as is_complete
from {{ months_from('bounds', 'first_month', 'last_month', 'month') }}
