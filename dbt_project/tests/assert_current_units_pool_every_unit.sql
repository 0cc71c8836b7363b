{{ config(meta={'dagster': {'ref': {'name': 'kpi_current_unit_month'}}}) }}
-- vi: Gộp theo đơn vị hiện nay không làm mất hay nhân đôi hồ sơ của đơn vị nào
-- The current-unit view loses and doubles nothing: for every month, each measure summed over the current units
-- equals the same measure summed over the units as they were.
with units as (
    select period_month, {% for m in kpi_measures() %} sum({{ m }}) as {{ m }}{{ ',' if not loop.last }} {% endfor %}
    from {{ ref('kpi_unit_month') }} where level is not null group by all
),

current_units as (
    select period_month, {% for m in kpi_measures() %} sum({{ m }}) as {{ m }}{{ ',' if not loop.last }} {% endfor %}
    from {{ ref('kpi_current_unit_month') }} group by all
)

select period_month
from units
full join current_units using (period_month)
where {% for m in kpi_measures() %} units.{{ m }} is distinct from current_units.{{ m }}{{ ' or' if not loop.last }} {% endfor %}
