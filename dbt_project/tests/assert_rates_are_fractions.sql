{{ config(meta={'dagster': {'ref': {'name': 'directive10_scorecard'}}}) }}
-- vi: Mọi tỷ lệ nằm trong khoảng 0 đến 1, chỉ để trống khi mẫu số bằng 0
-- Every rate of every mart is a fraction in [0, 1], NULL only on a zero denominator.
{% set rates = kpi_indicators() %}
{% for relation in ['kpi_unit_month', 'kpi_level_month'] %}
    {% for rate_name, (numerator, denominator) in rates.items() %}
        select '{{ relation }}.{{ rate_name }}' as failure from {{ ref(relation) }}
        where
            {{ rate_name }} < 0 or {{ rate_name }} > 1
            or ({{ rate_name }} is null) <> ({{ denominator }} = 0)
        union all
    {% endfor %}
{% endfor %}
select 'directive10_scorecard' from {{ ref('directive10_scorecard') }}
where
    window_value < 0 or window_value > 1 or baseline_value < 0 or baseline_value > 1
    or (window_value is null) <> (window_denominator = 0)
