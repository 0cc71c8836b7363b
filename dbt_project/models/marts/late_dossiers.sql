{#
  Every late dossier (kpis.md, Late dossiers and their explanations): resolved (status 9, 10) after its due date,
  or open (status 2, 4, 5, 6) past it on as_of. Its unit is the unit of its current state; it is explained when the
  latest explanation of its code comes from that unit.
  Incremental by dossier (macros/dossier_incremental.sql): a nightly run rewrites the rows of the dossiers whose
  facts or explanations changed and of the open ones, not the half million resolved late at 10M dossiers.
#}
{{ config(**incremental_by_dossier_rows()) }}

{%- set since = dossier_rows_since() %}

with dossiers as (
    {{ rebuilt_dossier_facts(since) }}
),

as_of as (
    select as_of from {{ ref('int_directive_window') }}
),

late as (
    select
        d.dossier_code,
        d.unit_code,
        d.procedure_code,
        d.due_at,
        case when d.is_resolved then d.finished_at end as finished_at,
        d.is_open,
        {{ days_between('d.due_at', 'coalesce(case when d.is_resolved then d.finished_at end, a.as_of)') }}
            as days_late
    from dossiers as d
    cross join as_of as a
    where
        d.due_at is not null
        and ((d.is_resolved and d.finished_at > d.due_at) or (d.is_open and d.due_at < a.as_of))
),

latest_explanations as (
    select * from {{ ref('stg_tthc__explanations') }}
    where recency = 1
),

units as (
    select unit_code, unit_name from {{ ref('dim_units') }}
)

select
    late.dossier_code,
    late.unit_code,
    u.unit_name,
    late.procedure_code,
    late.due_at,
    late.finished_at,
    late.is_open,
    late.days_late,
    e.dossier_code is not null as explained,
    e.reason,
    e.explained_at,
    e.apology_letter_no,
    {{ ledger_watermark() }} as processed_through_batch_seq
from late
left join latest_explanations as e
    on late.dossier_code = e.dossier_code and late.unit_code = e.unit_code
left join units as u on late.unit_code = u.unit_code
