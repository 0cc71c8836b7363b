{# The report measures with their Vietnamese headers (as the unit's officer reads them). #}
{% macro report_measures() -%}
    {{ return({
        'received': 'Tổng số hồ sơ tiếp nhận',
        'received_online': 'Số hồ sơ trực tuyến',
        'digitised': 'Số hồ sơ số hóa',
        'fee_bearing': 'Số hồ sơ có phí, lệ phí',
        'paid_online': 'Số hồ sơ thanh toán trực tuyến',
        'resolved': 'Số hồ sơ đã giải quyết',
        'resolved_on_time': 'Số hồ sơ giải quyết đúng hạn',
    }) }}
{%- endmacro %}

{# (part, whole) pairs of the part_exceeds_whole rule (kpis.md). #}
{% macro report_part_whole_pairs() -%}
    {{ return([('received_online', 'received'), ('digitised', 'received'), ('fee_bearing', 'received'),
               ('paid_online', 'fee_bearing'), ('resolved_on_time', 'resolved')]) }}
{%- endmacro %}

{# A value of a report that is a count: present, whole and not negative. #}
{% macro is_count(value) -%}
    ({{ value }} is not null and {{ value }} >= 0 and {{ value }} = floor({{ value }}))
{%- endmacro %}
