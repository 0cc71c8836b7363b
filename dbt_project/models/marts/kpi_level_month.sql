{#
  Per level (tinh, huyen, xa) and for the whole province (toan_tinh), per month: measures are sums over the
  units of the level, rates are pooled (sum of numerators over sum of denominators), never averages of unit rates.
#}
{% set sums = {'is_complete_month': 'bool_and(is_complete_month)'} %}
{% for m in kpi_measures() %}{% do sums.update({m: 'sum(' ~ m ~ ')'}) %}{% endfor %}
with unit_month as (
    select * from {{ ref('kpi_unit_month') }}
),

by_level as (
    {{ pool_levels('unit_month', ['period_month'], sums) }}
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
