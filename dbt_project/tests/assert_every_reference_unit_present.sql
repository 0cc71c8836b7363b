{{ config(meta={'dagster': {'ref': {'name': 'kpi_unit_month'}}}) }}
-- Every unit of the reference has its figures: a unit missing from kpi_unit_month would silently leave its level.
select unit_code from {{ ref('dim_units') }}
except
select unit_code from {{ ref('kpi_unit_month') }}
