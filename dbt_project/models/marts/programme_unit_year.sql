{#
  The annual assessment (kpis.md, Annual assessment): for every programme and calendar year, the part of the year
  inside the programme's window; each unit's rates pooled over it (scope unit) and each unit valid on its last day
  over its predecessors (scope current_unit), against the targets valid on that day. criteria_total counts a
  unit's indicators with a target and a rate, criteria_met those that meet it; award_eligible when all of at least
  one are met (a unit that missed a target is not proposed for a high award).
#}
{% set indicators = kpi_indicators() %}
with windows as (
    select * from {{ ref('int_programme_windows') }}
),

calendar_years as (
    select distinct cast(year(period_month) as bigint) as year from {{ ref('int_months') }}
),

years as (
    select
        windows.programme_code,
        calendar_years.year,
        greatest(windows.window_start, make_date(calendar_years.year, 1, 1)) as window_start,
        least(windows.window_end, make_date(calendar_years.year, 12, 31)) as window_end
    from windows
    cross join calendar_years
    where
        make_date(calendar_years.year, 1, 1) <= windows.window_end
        and make_date(calendar_years.year, 12, 31) >= windows.window_start
),

year_months as (
    select
        years.*,
        {{ month_start('years.window_start') }} as first_month,
        {{ month_start('years.window_end') }} as last_month,
        years.window_end = make_date(years.year, 12, 31) as is_complete_year
    from years
),

unit_month as (
    select * from {{ ref('kpi_unit_month') }}
    where level is not null
),

unit_sums as (
    select
        y.programme_code,
        y.year,
        'unit' as scope,
        m.unit_code,
        m.level,
    {% for measure in kpi_measures() %}
        sum(m.{{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
    {% endfor %}
    from year_months as y
    join unit_month as m on m.period_month between y.first_month and y.last_month
    group by y.programme_code, y.year, m.unit_code, m.level
),

current_unit_members as (
    {{ current_unit_members('year_months', 'window_end') }}
),

current_unit_sums as (
    select
        members.programme_code,
        members.year,
        'current_unit' as scope,
        members.current_unit_code as unit_code,
        members.level,
    {% for measure in kpi_measures() %}
        coalesce(sum(m.{{ measure }}), 0) as {{ measure }}{{ ',' if not loop.last }}
    {% endfor %}
    from current_unit_members as members
    left join unit_month as m
        on
            members.member_code = m.unit_code
            and m.period_month between members.first_month and members.last_month
    group by members.programme_code, members.year, members.current_unit_code, members.level
),

scopes as (
    select * from unit_sums
    union all
    select * from current_unit_sums
),

indicator_values as (
    {% for indicator, (numerator, denominator) in indicators.items() %}
        select
            programme_code,
            year,
            scope,
            unit_code,
            level,
            '{{ indicator }}' as indicator,
            cast({{ numerator }} as bigint) as numerator,
            cast({{ denominator }} as bigint) as denominator,
            {{ rate(numerator, denominator) }} as value
        from scopes
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

targets as (
    select
        y.programme_code,
        y.year,
        t.indicator,
        t.level,
        max_by(t.target, t.valid_from) as target
    from year_months as y
    join {{ ref('int_targets') }} as t
        on
            y.programme_code = t.programme_code
            and y.window_end >= t.valid_from
            and (t.valid_to is null or y.window_end <= t.valid_to)
    group by y.programme_code, y.year, t.indicator, t.level
),

scored as (
    select
        v.*,
        y.window_start,
        y.window_end,
        y.is_complete_year,
        t.target,
        v.value >= t.target as meets_target
    from indicator_values as v
    join year_months as y on v.programme_code = y.programme_code and v.year = y.year
    left join targets as t
        on
            v.programme_code = t.programme_code
            and v.year = t.year
            and v.indicator = t.indicator
            and v.level = t.level
),

criteria as (
    select
        *,
        count(case when target is not null and value is not null then 1 end)
            over (partition by programme_code, year, scope, unit_code) as criteria_total,
        count(case when meets_target then 1 end)
            over (partition by programme_code, year, scope, unit_code) as criteria_met
    from scored
)

select
    programme_code,
    year,
    scope,
    unit_code,
    level,
    indicator,
    window_start,
    window_end,
    is_complete_year,
    numerator,
    denominator,
    value,
    target,
    meets_target,
    criteria_total,
    criteria_met,
    criteria_total > 0 and criteria_met = criteria_total as award_eligible
from criteria
