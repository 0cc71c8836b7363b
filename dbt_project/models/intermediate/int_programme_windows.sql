{#
  Each programme's window and baseline (kpis.md, Programmes): the window from effective_date to the end of the
  latest complete month, or to end_date if earlier (no row when that is before it starts); the baseline the
  baseline_months months before effective_date. Months are pooled whole, like the Directive 10 window.
#}
with programmes as (
    select * from {{ ref('int_programmes') }}
),

data_window as (
    select latest_complete_month, as_of from {{ ref('int_directive_window') }}
),

bounds as (
    select
        programmes.*,
        least(
            {{ month_end('data_window.latest_complete_month') }},
            coalesce(programmes.end_date, cast('9999-12-31' as date))
        ) as window_end,
        data_window.as_of
    from programmes
    cross join data_window
)

select
    programme_code,
    programme_name,
    effective_date as window_start,
    window_end,
    {{ month_start('effective_date') }} as window_first_month,
    {{ month_start('window_end') }} as window_last_month,
    {{ add_months('effective_date', '-baseline_months') }} as baseline_start,
    {{ add_days('effective_date', -1) }} as baseline_end,
    {{ month_start(add_months('effective_date', '-baseline_months')) }} as baseline_first_month,
    {{ month_start(add_months('effective_date', -1)) }} as baseline_last_month,
    as_of
from bounds
where window_end >= effective_date
