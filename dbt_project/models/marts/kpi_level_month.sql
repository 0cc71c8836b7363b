{#
  Per level (tinh, huyen, xa) and for the whole province (toan_tinh), per month: measures are sums over the
  units of the level, rates are pooled (sum of numerators over sum of denominators), never averages of unit rates.
#}
with unit_month as (
    select * from {{ ref('kpi_unit_month') }}
),

by_level as (
    select level, period_month, bool_and(is_complete_month) as is_complete_month,
        {% for m in kpi_measures() %} sum({{ m }}) as {{ m }}{{ ',' if not loop.last }} {% endfor %}
    from unit_month
    where level is not null
    group by level, period_month
    union all
    select 'toan_tinh' as level, period_month, bool_and(is_complete_month) as is_complete_month,
        {% for m in kpi_measures() %} sum({{ m }}) as {{ m }}{{ ',' if not loop.last }} {% endfor %}
    from unit_month
    group by period_month
)

select
    level,
    period_month,
    is_complete_month,
    {% for m in kpi_measures() %}
    cast({{ m }} as bigint) as {{ m }},
    {% endfor %}
    {{ kpi_rates() }}
from by_level
