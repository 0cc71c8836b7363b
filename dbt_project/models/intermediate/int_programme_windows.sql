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
            cast(data_window.latest_complete_month + interval 1 month - interval 1 day as date),
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
    cast(date_trunc('month', effective_date) as date) as window_first_month,
    cast(date_trunc('month', window_end) as date) as window_last_month,
    cast(effective_date - to_months(baseline_months) as date) as baseline_start,
    cast(effective_date - interval 1 day as date) as baseline_end,
    cast(date_trunc('month', effective_date - to_months(baseline_months)) as date) as baseline_first_month,
    cast(date_trunc('month', effective_date - interval 1 month) as date) as baseline_last_month,
    as_of
from bounds
where window_end >= effective_date
