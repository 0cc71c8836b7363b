{# Every calendar month from the first reception to the latest update, with its completeness. #}
with bounds as (
    select
        cast(date_trunc('month', min(received_at)) as date) as first_month,
        cast(date_trunc('month', max(updated_at)) as date) as last_month
    from {{ ref('stg_tthc__dossier_snapshots') }}
)

select
    cast(month as date) as period_month,
    cast(month + interval 1 month - interval 1 day as date) as month_end,
    cast(month as date) <= (select latest_complete_month from {{ ref('int_directive_window') }}) as is_complete
from bounds, generate_series(first_month, last_month, interval 1 month) as months (month)
