{#
  Explanations listed but not counted (kpis.md): superseded by a later one for the same dossier; for a dossier not
  known; for a dossier that is not late (yet: an explanation sent early counts once the dossier turns late); or
  sent by another unit than the dossier's.
#}
with explanations as (
    select * from {{ ref('stg_tthc__explanations') }}
),

dossiers as (
    select dossier_code, unit_code from {{ ref('fct_dossiers') }}
),

late as (
    select dossier_code from {{ ref('late_dossiers') }}
),

judged as (
    select
        e.dossier_code,
        e.unit_code,
        e.explained_at,
        case
            when e.recency > 1 then 'superseded'
            when d.dossier_code is null then 'unknown_dossier'
            when e.unit_code <> d.unit_code then 'other_unit'
            when l.dossier_code is null then 'not_late'
        end as issue
    from explanations as e
    left join dossiers as d on e.dossier_code = d.dossier_code
    left join late as l on e.dossier_code = l.dossier_code
)

select dossier_code, unit_code, explained_at, issue
from judged
where issue is not null
