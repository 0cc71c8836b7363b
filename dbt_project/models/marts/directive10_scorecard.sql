{#
  Directive 10: each unit's and each level's pooled rate over the window against the baseline (the
  `baseline_months` months before the effective date), in points, and against the target of its level valid at the window's end.
#}
{% set indicators = kpi_indicators() %}
{% set level_sums = {} %}
{% for m in kpi_measures() %}
    {% do level_sums.update({'window_' ~ m: 'sum(window_' ~ m ~ ')', 'baseline_' ~ m: 'sum(baseline_' ~ m ~ ')'}) %}
{% endfor %}
with directive_window as (
    select * from {{ ref('int_directive_window') }}
),

unit_month as (
    select
        unit_month.*,
        period_month between w.window_first_month and w.window_last_month as in_window,
        period_month between w.baseline_first_month and w.baseline_last_month as in_baseline
    from {{ ref('kpi_unit_month') }} as unit_month, directive_window as w
    where unit_month.level is not null
),

unit_sums as (
    select
        unit_code,
        level,
    {% for m in kpi_measures() %}
        coalesce(sum({{ m }}) filter (where in_window), 0) as window_{{ m }},
        coalesce(sum({{ m }}) filter (where in_baseline), 0) as baseline_{{ m }}{{ ',' if not loop.last }}
    {% endfor %}
    from unit_month
    group by unit_code, level
),

level_sums as (
    {{ pool_levels('unit_sums', [], level_sums) }}
),

scopes as (
    select 'unit' as scope, unit_code, level, * exclude (unit_code, level) from unit_sums
    union all
    select 'level' as scope, null as unit_code, level, * exclude (level) from level_sums
),

indicator_values as (
    {% for indicator, (numerator, denominator) in indicators.items() %}
        select
            scope,
            unit_code,
            level,
            '{{ indicator }}' as indicator,
            window_{{ numerator }} as window_numerator,
            window_{{ denominator }} as window_denominator,
            {{ rate('window_' ~ numerator, 'window_' ~ denominator) }} as window_value,
            {{ rate('baseline_' ~ numerator, 'baseline_' ~ denominator) }} as baseline_value
        from scopes
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

targets as (
    select t.indicator, t.level, arg_max(t.target, t.valid_from) as target
    from {{ ref('int_targets') }} as t, directive_window as w
    where t.valid_from <= w.window_end and (t.valid_to is null or t.valid_to >= w.window_end)
    group by t.indicator, t.level
)

select
    v.scope,
    v.unit_code,
    v.level,
    v.indicator,
    w.window_start,
    w.window_end,
    w.baseline_start,
    w.baseline_end,
    v.window_numerator,
    v.window_denominator,
    v.window_value,
    v.baseline_value,
    (v.window_value - v.baseline_value) * 100 as change_pp,
    t.target,
    v.window_value >= t.target as meets_target
from indicator_values as v
cross join directive_window as w
left join targets as t using (indicator, level)
