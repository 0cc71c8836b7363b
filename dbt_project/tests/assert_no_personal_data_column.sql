{{ config(meta={'dagster': {'ref': {'name': 'ingestion_ledger'}}}) }}
-- vi: Không công bố cột nào chứa dữ liệu cá nhân (tên, số giấy tờ của người nộp)
-- No column of what is published (the marts, the check history) may carry personal data: applicant names, ids or
-- id hashes (kpis.md). The pattern is the vars' personal_data_columns. It runs after every mart:
-- depends_on: {{ ref('ingestion_ledger') }}, {{ ref('kpi_unit_month') }}, {{ ref('kpi_level_month') }}
-- depends_on: {{ ref('directive10_scorecard') }}, {{ ref('directive10_summary') }}, {{ ref('overdue_dossiers') }}
-- depends_on: {{ ref('unit_report_discrepancies') }}
select published.table_schema, published.table_name, published.column_name
from {{ catalog_columns(['marts', 'quality']) }} as published
where {{ matches_regex('published.column_name', var("personal_data_columns")) }}
