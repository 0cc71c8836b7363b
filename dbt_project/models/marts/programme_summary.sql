{#
  How many units of each level meet each programme's targets: one row per target of a unit level in
  reference/targets.csv for a known programme. units_* count scope `unit` (the units as they were), current_units_*
  count scope `current_unit` (the units valid at the window's end, each with its predecessors).
#}
with targets as (
    select * from {{ ref('int_targets') }}
    where
        level in ('tinh', 'huyen', 'xa')
        and programme_code in (select programme_code from {{ ref('int_programmes') }})
),

scored as (
    select programme_code, scope, level, indicator, window_value
    from {{ ref('programme_scorecard') }}
    where scope in ('unit', 'current_unit')
)

select
    t.programme_code,
    t.level,
    t.indicator,
    t.target,
    t.valid_from,
    t.valid_to,
    count(s.window_value) filter (where s.scope = 'unit') as units_total,
    count(*) filter (where s.scope = 'unit' and s.window_value >= t.target) as units_meeting_target,
    count(s.window_value) filter (where s.scope = 'current_unit') as current_units_total,
    count(*) filter (where s.scope = 'current_unit' and s.window_value >= t.target) as current_units_meeting_target
from targets as t
left join scored as s
    on t.programme_code = s.programme_code and t.level = s.level and t.indicator = s.indicator
group by all
