{#
  Every measure and rate of kpis.md per unit and calendar month, over the dossiers' current states.
  One row for every unit valid in a month of the data (zeros where nothing happened), and for any unit-month
  with activity. History stays under the unit that existed then; current_unit_code maps it forward.
  Month-incremental (macros/month_incremental.sql): a nightly run rebuilds the months its changes touch.
#}
{{ config(**incremental_by_month('is_complete_month')) }}
{% set incremental = month_incremental() %}
with units as (
    select * from {{ ref('dim_units') }}
),

months as (
    select * from {{ ref('int_months') }}
    where {{ touched('period_month', incremental) }}
),

receptions as (
    select
        received_unit_code as unit_code,
        received_month as period_month,
    {% for m in kpi_measures('reception') %}
        count(*) filter (where {{ measure_flag(m) }}) as {{ m }}{{ ',' if not loop.last }}
    {% endfor %}
    from {{ ref('fct_dossiers') }}
    where {{ measure_flag('received') }} and {{ touched('received_month', incremental) }}
    group by all
),

resolutions as (
    select
        unit_code,
        resolved_month as period_month,
    {% for m in kpi_measures('resolution') %}
        count(*) filter (where {{ measure_flag(m) }}) as {{ m }}{{ ',' if not loop.last }}
    {% endfor %}
    from {{ ref('fct_resolutions') }}
    where {{ touched('resolved_month', incremental) }}
    group by all
),

grid as (
    select units.unit_code, months.period_month
    from units
    join months
        on
            units.valid_from <= months.month_end
            and (units.valid_to is null or units.valid_to >= months.period_month)
    union
    select unit_code, period_month from receptions
    union
    select unit_code, period_month from resolutions
),

measures as (
    select
        grid.unit_code,
        grid.period_month,
    {% for m in kpi_measures() %}
        coalesce({{ m }}, 0) as {{ m }}{{ ',' if not loop.last }}
    {% endfor %}
    from grid
    left join receptions using (unit_code, period_month)
    left join resolutions using (unit_code, period_month)
)

select
    measures.unit_code,
    units.unit_name,
    units.level,
    units.current_unit_code,
    measures.period_month,
    coalesce(months.is_complete, false) as is_complete_month,
    {% for m in kpi_measures() %}
        measures.{{ m }},
    {% endfor %}
    {{ kpi_rates('measures.') }},
    {{ ledger_watermark() }} as processed_through_batch_seq
from measures
left join units using (unit_code)
left join months using (period_month)
