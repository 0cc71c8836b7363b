{{ config(meta={'dagster': {'ref': {'name': 'index766_unit_month'}}}) }}
-- vi: Chỉ số 766 của mỗi cấp gộp đúng tử số và mẫu số của các đơn vị thuộc cấp đó
-- A level's 766 rows are the pool of its current units' numerators and denominators (toan_tinh: every unit).
with units as (
    select level, period_month, metric, sum(numerator) as numerator, sum(denominator) as denominator
    from {{ ref('index766_unit_month') }}
    where scope = 'current_unit'
    group by level, period_month, metric
    union all
    select 'toan_tinh' as level, period_month, metric, sum(numerator) as numerator, sum(denominator) as denominator
    from {{ ref('index766_unit_month') }}
    where scope = 'current_unit'
    group by period_month, metric
),

levels as (
    select level, period_month, metric, numerator, denominator
    from {{ ref('index766_unit_month') }}
    where scope = 'level'
)

select coalesce(l.level, u.level) as level, coalesce(l.period_month, u.period_month) as period_month
from levels as l
full outer join units as u
    on l.level = u.level and l.period_month = u.period_month and l.metric = u.metric
where
    l.level is null or u.level is null
    or l.numerator <> u.numerator or l.denominator <> u.denominator
