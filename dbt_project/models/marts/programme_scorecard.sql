{#
  Every programme (kpis.md, Programmes), scored like Directive 10: each unit's, each level's and each current
  unit's pooled rate over the programme's window against its baseline, in points, and against the programme's
  target valid on the window's last day.
  Scope current_unit: every unit valid on that day, pooled over it and all its predecessors (int_unit_successions),
  against its own level's target.
#}
{% set indicators = kpi_indicators() %}
{% set level_sums = {} %}
{% for m in kpi_measures() %}
    {% do level_sums.update({'window_' ~ m: 'sum(window_' ~ m ~ ')', 'baseline_' ~ m: 'sum(baseline_' ~ m ~ ')'}) %}
{% endfor %}
with windows as (
    select * from {{ ref('int_programme_windows') }}
),

unit_month as (
    select
        windows.programme_code,
        unit_month.*,
        unit_month.period_month between windows.window_first_month and windows.window_last_month as in_window,
        unit_month.period_month between windows.baseline_first_month and windows.baseline_last_month as in_baseline
    from {{ ref('kpi_unit_month') }} as unit_month
    cross join windows
    where unit_month.level is not null
),

unit_sums as (
    select
        programme_code,
        unit_code,
        level,
    {% for m in kpi_measures() %}
        coalesce(sum({{ m }}) filter (where in_window), 0) as window_{{ m }},
        coalesce(sum({{ m }}) filter (where in_baseline), 0) as baseline_{{ m }}{{ ',' if not loop.last }}
    {% endfor %}
    from unit_month
    group by programme_code, unit_code, level
),

level_sums as (
    {{ pool_levels('unit_sums', ['programme_code'], level_sums) }}
),

current_unit_members as (
    {{ current_unit_members('windows', 'window_end') }}
),

current_unit_sums as (
    select
        members.programme_code,
        members.current_unit_code as unit_code,
        members.level,
    {% for m in kpi_measures() %}
        coalesce(sum(unit_month.{{ m }}) filter (where unit_month.in_window), 0) as window_{{ m }},
        coalesce(sum(unit_month.{{ m }}) filter (where unit_month.in_baseline), 0) as baseline_{{ m }}{{ ',' if not loop.last }}
    {% endfor %}
    from current_unit_members as members
    left join unit_month
        on members.programme_code = unit_month.programme_code and members.member_code = unit_month.unit_code
    group by members.programme_code, members.current_unit_code, members.level
),

{% set sums -%}
    {% for m in kpi_measures() %}window_{{ m }}, baseline_{{ m }}{{ ', ' if not loop.last }}{% endfor %}
{%- endset %}

scopes as (
    select programme_code, 'unit' as scope, unit_code, level, {{ sums }}
    from unit_sums
    union all
    select programme_code, 'level' as scope, null as unit_code, level, {{ sums }}
    from level_sums
    union all
    select programme_code, 'current_unit' as scope, unit_code, level, {{ sums }}
    from current_unit_sums
),

indicator_values as (
    {% for indicator, (numerator, denominator) in indicators.items() %}
        select
            programme_code,
            scope,
            unit_code,
            level,
            '{{ indicator }}' as indicator,
            -- a sum is a HUGEINT in DuckDB and a BIGINT in Spark: a BIGINT for both (and for BI drivers)
            cast(window_{{ numerator }} as bigint) as window_numerator,
            cast(window_{{ denominator }} as bigint) as window_denominator,
            {{ rate('window_' ~ numerator, 'window_' ~ denominator) }} as window_value,
            {{ rate('baseline_' ~ numerator, 'baseline_' ~ denominator) }} as baseline_value
        from scopes
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

targets as (
    select
        targets.programme_code,
        targets.indicator,
        targets.level,
        max_by(targets.target, targets.valid_from) as target
    from {{ ref('int_targets') }} as targets
    join windows
        on
            targets.programme_code = windows.programme_code
            and targets.valid_from <= windows.window_end
            and (targets.valid_to is null or targets.valid_to >= windows.window_end)
    group by targets.programme_code, targets.indicator, targets.level
)

select
    v.programme_code,
    w.programme_name,
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
join windows as w using (programme_code)
left join targets as t using (programme_code, indicator, level)
