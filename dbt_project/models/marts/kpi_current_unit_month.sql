{#
  Every measure and rate per current unit and month (kpis.md, Unit lineage): each month pools every unit whose
  current unit is the same, so a merged commune's series runs back through its predecessors. The level is the
  current unit's. units_pooled counts the kpi_unit_month rows pooled that month.
  Month-incremental (macros/month_incremental.sql): a nightly run rebuilds the months its changes touch.
#}
{{ config(**incremental_by_month('is_complete_month')) }}
-- depends_on: {{ ref('fct_dossiers') }}
-- depends_on: {{ ref('int_months') }}
{% set incremental = month_incremental() %}
with unit_month as (
    select * from {{ ref('kpi_unit_month') }}
    where {{ touched('period_month', incremental) }}
),

lineage as (
    select * from {{ ref('unit_lineage') }}
),

pooled as (
    select
        lineage.current_unit_code,
        unit_month.period_month,
        bool_and(unit_month.is_complete_month) as is_complete_month,
        count(*) as units_pooled,
    {% for m in kpi_measures() %}
        cast(sum(unit_month.{{ m }}) as bigint) as {{ m }}{{ ',' if not loop.last }}
    {% endfor %}
    from unit_month
    join lineage using (unit_code)
    group by lineage.current_unit_code, unit_month.period_month
)

select
    pooled.current_unit_code,
    current_units.unit_name,
    current_units.level,
    pooled.period_month,
    pooled.is_complete_month,
    pooled.units_pooled,
    {% for m in kpi_measures() %}
        pooled.{{ m }},
    {% endfor %}
    {{ kpi_rates('pooled.') }},
    {{ ledger_watermark() }} as processed_through_batch_seq
from pooled
join {{ ref('dim_units') }} as current_units on pooled.current_unit_code = current_units.unit_code
