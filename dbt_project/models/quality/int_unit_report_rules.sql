{#
  Every unit-report row with the verdict of each rule of kpis.md, defined here once: the discrepancies mart
  lists the breaches, the Great Expectations suite unit_reports validates these flags.

  The report that counts for a unit and month is the one with the latest submitted_at (ties: later batch, later
  row); the others are superseded and judged by nothing else.
#}
{% set measures = report_measures() %}
with reports as (
    select
        *,
        row_number() over (
            partition by unit_code, period_month order by submitted_at desc, batch_seq desc, source_row desc
        ) as recency
    from {{ ref('stg_tthc__unit_reports') }}
),

units as (
    select unit_code, unit_name, valid_from, valid_to, successor_code from {{ ref('dim_units') }}
),

system as (
    select * from {{ ref('kpi_unit_month') }}
),

identified as (
    select
        r.*,
        units.unit_code is not null as is_known_unit,
        units.unit_code is not null
        and units.valid_from <= {{ month_end('r.period_month') }}
        and (units.valid_to is null or units.valid_to >= r.period_month) as is_valid_in_month,
        units.valid_to as unit_valid_to,
        units.successor_code as unit_successor_code
    from reports as r
    left join units using (unit_code)
)

select
    r.batch_id,
    r.source_row,
    r.unit_code,
    r.period_month,
    r.submitted_at,
    r.recency > 1 as is_superseded,
    r.is_known_unit,
    r.is_valid_in_month,
    r.unit_valid_to,
    r.unit_successor_code,
    {% for m in measures %}
        r.{{ m }}_text as reported_{{ m }}_text,
        r.{{ m }}_value as reported_{{ m }},
        coalesce(system.{{ m }}, 0) as system_{{ m }},
        not{{ is_count('r.' ~ m ~ '_value') }} as not_a_count_{{ m }},
        {{ is_count('r.' ~ m ~ '_value') }} and r.is_valid_in_month
        and abs(r.{{ m }}_value - coalesce(system.{{ m }}, 0)) > {{ mismatch_tolerance('coalesce(system.' ~ m ~ ', 0)') }}
            as mismatch_{{ m }},
    {% endfor %}
{% for part, whole in report_part_whole_pairs() %}
    {{ is_count('r.' ~ part ~ '_value') }} and {{ is_count('r.' ~ whole ~ '_value') }}
    and r.{{ part }}_value > r.{{ whole }}_value as exceeds_{{ part }}_{{ whole }}{{ ',' if not loop.last }}
{% endfor %}
from identified as r
left join system using (unit_code, period_month)
