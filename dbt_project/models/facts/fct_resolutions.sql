{{ config(materialized='view') }}
-- Resolved dossiers (status 9, 10): on time against the promised date, and electronic results.
-- A procedure not in the catalogue is counted, and is not a paper-result procedure.
select
    d.dossier_code,
    d.unit_code,
    d.procedure_code,
    d.finished_at,
    d.due_at,
    d.resolved_month,
    d.is_resolved,
    d.is_on_time,
    coalesce(p.paper_result, false) as is_paper_result,
    coalesce(p.paper_result, false) and d.has_e_result as is_e_result_issued,
    p.procedure_code is not null as is_catalogued
from {{ ref('fct_dossiers') }} as d
left join {{ ref('dim_procedures') }} as p using (procedure_code)
where d.is_resolved
