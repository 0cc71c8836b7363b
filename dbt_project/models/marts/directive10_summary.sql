{#
  How many units of each level meet each Directive 10 target (the "13 of 17 units" figure): the ct10_2023 rows
  of programme_summary, one per target of a unit level in reference/targets.csv.
#}
select
    level,
    indicator,
    target,
    valid_from,
    valid_to,
    units_total,
    units_meeting_target
from {{ ref('programme_summary') }}
where programme_code = '{{ var("default_programme")["code"] }}'
