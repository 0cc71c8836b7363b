{#
  How many units of each level meet each Directive 10 target (the "13 of 17 units" figure): one row per target
  of a unit level in reference/targets.csv.
#}
select
    t.level,
    t.indicator,
    t.target,
    t.valid_from,
    t.valid_to,
    count(s.window_value) as units_total,
    count(*) filter (where s.window_value >= t.target) as units_meeting_target
from {{ ref('int_targets') }} as t
left join {{ ref('directive10_scorecard') }} as s
    on s.scope = 'unit' and t.level = s.level and t.indicator = s.indicator
where t.level in ('tinh', 'huyen', 'xa')
group by all
