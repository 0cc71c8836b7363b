{{ config(meta={'dagster': {'ref': {'name': 'directive10_scorecard'}}}) }}
-- vi: Kỳ đánh giá và kỳ gốc của mỗi chương trình đúng như quy định
-- Directive 10's default window starts on the effective date and ends on the last day of the latest complete
-- month (the month before the latest update), its baseline exactly the 12 months before the effective date; every
-- programme's window ends there or on its end_date if earlier, its baseline is its baseline_months; the scorecards
-- show their programme's bounds.
with w as (select * from {{ ref('int_directive_window') }}),

latest as (
    -- the latest update of any dossier: its current state holds its greatest updated_at (10M rows at 10M dossiers,
    -- where every snapshot landed is 33M: 0.38 s of a nightly build)
    select cast(date_trunc('month', max(updated_at)) - interval 1 day as date) as last_complete_day
    from {{ ref('int_dossier_current_state') }}
),

programmes as (select * from {{ ref('int_programmes') }}),

windows as (select * from {{ ref('int_programme_windows') }})

select 'window or baseline bounds' as failure
from w, latest
where
    w.window_start <> cast('{{ var("directive_effective_date") }}' as date)
    or w.window_end <> latest.last_complete_day
    or w.baseline_start <> cast(w.window_start - interval 12 month as date)
    or w.baseline_end <> cast(w.window_start - interval 1 day as date)
    or {{ months_between('w.baseline_first_month', 'w.baseline_last_month') }} <> 11
union all
select 'programme ' || windows.programme_code
from windows
join programmes using (programme_code)
cross join latest
where
    windows.window_start <> programmes.effective_date
    or windows.window_end <> least(latest.last_complete_day, coalesce(programmes.end_date, latest.last_complete_day))
    or windows.baseline_start <> {{ add_months('programmes.effective_date', '-programmes.baseline_months') }}
    or windows.baseline_end <> cast(programmes.effective_date - interval 1 day as date)
    or {{ months_between('windows.baseline_first_month', 'windows.baseline_last_month') }} <> programmes.baseline_months - 1
union all
select 'scorecard bounds of ' || s.programme_code
from {{ ref('programme_scorecard') }} as s
join windows using (programme_code)
where
    s.window_start <> windows.window_start
    or s.window_end <> windows.window_end
    or s.baseline_start <> windows.baseline_start
union all
select 'directive10_scorecard bounds'
from {{ ref('directive10_scorecard') }} as s
join windows on windows.programme_code = '{{ var("default_programme")["code"] }}'
where
    s.window_start <> windows.window_start
    or s.window_end <> windows.window_end
    or s.baseline_start <> windows.baseline_start
