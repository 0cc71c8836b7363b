{#
  Open dossiers (status 2, 4, 5, 6) whose promised date is before as_of, the latest update in the data:
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
    date_diff('day', cast(d.due_at as date), cast(as_of.as_of as date)) as days_overdue,
    as_of.as_of
from {{ ref('int_dossier_current_state') }} as d
cross join as_of
left join {{ ref('dim_units') }} as u using (unit_code)
where d.status in (2, 4, 5, 6) and d.due_at < as_of.as_of
