{#
  Open dossiers (fct_dossiers.is_open: the `open` statuses of the vars) whose promised date is before as_of, the latest update in the data:
  the list a unit's head must explain (Directive 10).
#}
with as_of as (
    select as_of from {{ ref('int_directive_window') }}
)

select
    d.dossier_code,
    d.unit_code,
    u.unit_name,
    u.level,
    d.procedure_code,
    d.status,
    d.received_at,
    d.due_at,
    {{ days_between('d.due_at', 'as_of.as_of') }} as days_overdue,
    as_of.as_of
from {{ ref('fct_dossiers') }} as d
cross join as_of
left join {{ ref('dim_units') }} as u using (unit_code)
where d.is_open and d.due_at < as_of.as_of
