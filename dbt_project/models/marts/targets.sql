{#
  The targets as scored (kpis.md, Programmes): each programme's target per indicator and level, with the days it
  applies; published so that an analyst can put a target beside any rate without reading reference/targets.csv.
#}
with targets as (
    select * from {{ ref('int_targets') }}
),

programmes as (
    select programme_code, programme_name from {{ ref('int_programmes') }}
)

select
    t.programme_code,
    p.programme_name,
    t.indicator,
    t.level,
    t.target,
    t.valid_from,
    t.valid_to
from targets as t
left join programmes as p on t.programme_code = p.programme_code
