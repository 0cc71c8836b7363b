{{ config(meta={'dagster': {'ref': {'name': 'programme_unit_year'}}}) }}
-- vi: Số tiêu chí đạt của một đơn vị không vượt số tiêu chí được đánh giá, và cùng một con số trên mọi dòng của đơn vị
-- A unit-year meets no more criteria than it is scored on, counts them the same on each of its rows, and is
-- award-eligible exactly when it meets at least one and all of them.
select programme_code, year, scope, unit_code
from {{ ref('programme_unit_year') }}
group by programme_code, year, scope, unit_code
having
    max(criteria_met) > max(criteria_total)
    or min(criteria_met) <> max(criteria_met)
    or min(criteria_total) <> max(criteria_total)
    or bool_or(award_eligible) <> (max(criteria_total) > 0 and max(criteria_met) = max(criteria_total))
    or bool_or(award_eligible) <> bool_and(award_eligible)
    or max(criteria_met) <> count(case when meets_target then 1 end)
