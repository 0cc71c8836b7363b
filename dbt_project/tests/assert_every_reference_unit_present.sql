{{ config(meta={'dagster': {'ref': {'name': 'kpi_unit_month'}}}) }}
-- vi: Mọi đơn vị trong danh mục đều có số liệu trong các tháng còn hiệu lực
-- Every unit of the reference has its figures in the months it was valid: a unit missing from kpi_unit_month would
-- silently leave its level. A unit valid in none of the data's months (it ended before they begin) is not expected.
select units.unit_code
from {{ ref('dim_units') }} as units
where
    exists (
        select 1 from {{ ref('int_months') }} as months
        where units.valid_from <= months.month_end and (units.valid_to is null or units.valid_to >= months.period_month)
    )
except
select unit_code from {{ ref('kpi_unit_month') }}
