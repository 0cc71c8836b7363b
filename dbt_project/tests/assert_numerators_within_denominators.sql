{{ config(meta={'dagster': {'ref': {'name': 'kpi_unit_month'}}}) }}
-- vi: Phần không lớn hơn tổng (ví dụ hồ sơ trực tuyến không vượt hồ sơ tiếp nhận)
-- A part never exceeds its whole, in the unit and level marts and in the scorecard.
{% set pairs = var('part_whole') %}
{% for relation in ['kpi_unit_month', 'kpi_level_month'] %}
    {% for part, whole in pairs %}
        select '{{ relation }}' as relation, '{{ part }} > {{ whole }}' as failure
        from {{ ref(relation) }} where {{ part }} > {{ whole }}
        union all
    {% endfor %}
{% endfor %}
select 'directive10_scorecard', 'window numerator > denominator'
from {{ ref('directive10_scorecard') }} where window_numerator > window_denominator
