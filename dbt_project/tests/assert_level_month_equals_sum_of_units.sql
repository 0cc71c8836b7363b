{{ config(meta={'dagster': {'ref': {'name': 'kpi_level_month'}}}) }}
-- vi: Số liệu của mỗi cấp bằng tổng số liệu các đơn vị thuộc cấp đó
-- Level figures are pooled: every measure of a level-month equals the sum over the units of that level
-- (toan_tinh: over every unit).
with units as (
    select coalesce(level, '?') as level, period_month, {% for m in kpi_measures() %} sum({{ m }}) as {{ m }}{{ ',' if not loop.last }} {% endfor %}
    from {{ ref('kpi_unit_month') }} group by all
    union all
    select 'toan_tinh', period_month, {% for m in kpi_measures() %} sum({{ m }}){{ ',' if not loop.last }} {% endfor %}
    from {{ ref('kpi_unit_month') }} group by all
)
select l.level, l.period_month
from {{ ref('kpi_level_month') }} as l
full join units as u using (level, period_month)
where {% for m in kpi_measures() %} l.{{ m }} is distinct from u.{{ m }}{{ ' or' if not loop.last }} {% endfor %}
