{{ config(meta={'dagster': {'ref': {'name': 'directive10_scorecard'}}}) }}
-- The window starts on the effective date and ends on the last day of the latest complete month (the month
-- before the latest update); the baseline is exactly the 12 months before the effective date.
with w as (select * from {{ ref('int_directive_window') }}),

latest as (select max(updated_at) as as_of from {{ ref('stg_tthc__dossier_snapshots') }})

select 'window or baseline bounds' as failure
from w, latest
where
    w.window_start <> cast('{{ var("directive_effective_date") }}' as date)
    or w.window_end <> cast(date_trunc('month', latest.as_of) - interval 1 day as date)
    or w.baseline_start <> cast(w.window_start - interval 12 month as date)
    or w.baseline_end <> cast(w.window_start - interval 1 day as date)
    or date_diff('month', w.baseline_first_month, w.baseline_last_month) <> 11
union all
select 'scorecard bounds' from {{ ref('directive10_scorecard') }} as s, w
where s.window_start <> w.window_start or s.window_end <> w.window_end or s.baseline_start <> w.baseline_start
