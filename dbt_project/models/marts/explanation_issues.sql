{#
  Explanations listed but not counted (kpis.md): superseded by a later one for the same dossier; for a dossier not
  known; for a dossier that is not late (yet: an explanation sent early counts once the dossier turns late); or
  sent by another unit than the dossier's.
  Incremental by dossier as late_dossiers is (macros/dossier_incremental.sql): the explanations of the open
  dossiers and of those whose facts or explanations changed are judged again.
#}
{{ config(**incremental_by_dossier_rows(open_rows="open_dossiers()")) }}

{%- set since = dossier_rows_since() %}

with dossiers as (
    select dossier_code, unit_code from ({{ rebuilt_dossier_facts(since) }}) as rebuilt_facts
),

explanations as (
    select * from {{ ref('stg_tthc__explanations') }}
    {% if since is not none -%}
        where dossier_code in (
            select dossier_code from dossiers
            union all
            select dossier_code from {{ ref('stg_tthc__explanations') }} where batch_seq > {{ since }}
        )
    {%- endif %}
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

select dossier_code, unit_code, explained_at, issue, {{ ledger_watermark() }} as processed_through_batch_seq
from judged
where issue is not null
