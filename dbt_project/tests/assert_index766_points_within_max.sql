{{ config(meta={'dagster': {'ref': {'name': 'index766_unit_month'}}}) }}
-- vi: Điểm của mỗi tiêu chí Chỉ số 766 không vượt điểm tối đa, và chỉ để trống khi không có hồ sơ để chấm
-- A metric's points never exceed its maximum, and are NULL exactly when there is nothing to score (max_points 0).
select scope, unit_code, level, period_month, metric
from {{ ref('index766_unit_month') }}
where
    points > max_points + 1e-9
    or points < 0
    or (points is null) <> (max_points = 0)
    or total_points > total_max_points + 1e-9
