{{ config(schema='marts') }}
{#
  One row per rule a unit report breaks (kpis.md), with the reported value, the system value and a detail the
  unit's officer can act on. A superseded report is flagged superseded and nothing else; the other rules judge
  the report that counts. A flagged report never changes the system figures.
#}
{% set measures = report_measures() %}
with rules as (
    select * from {{ ref('int_unit_report_rules') }}
),

counting as (
    select * from rules where not is_superseded
),

complete_months as (
    select * from {{ ref('kpi_unit_month') }} where is_complete_month and received > 0
),

breaches as (
    select
        unit_code, period_month, cast(null as {{ text_type() }}) as measure, cast(null as double) as reported_value,
        cast(null as double) as system_value, 'superseded' as rule, 'warning' as severity,
        'Báo cáo gửi ngày ' || {{ vn_date('submitted_at', 'minute') }} || ' đã được thay thế bởi báo cáo gửi sau' as detail,
        submitted_at
    from rules where is_superseded

    {% for m, header in measures.items() %}
        union all
        select
            unit_code, period_month, '{{ m }}', reported_{{ m }}, system_{{ m }}, 'not_a_count', 'error',
            '{{ header }} ' || coalesce('''' || reported_{{ m }}_text || '''', 'để trống')
            || ' không phải là số nguyên không âm', submitted_at
        from counting where not_a_count_{{ m }}
    {% endfor %}

    {% for part, whole in report_part_whole_pairs() %}
        union all
        select
            unit_code, period_month, '{{ part }}', reported_{{ part }}, system_{{ part }}, 'part_exceeds_whole', 'error',
            '{{ measures[part] }} ' || cast(reported_{{ part }} as bigint) || ' > {{ measures[whole] | lower }} '
            || cast(reported_{{ whole }} as bigint), submitted_at
        from counting where exceeds_{{ part }}_{{ whole }}
    {% endfor %}

    union all
    select
        unit_code, period_month, null, null, null, 'unknown_unit', 'error',
        case
            when not is_known_unit
                then 'Mã đơn vị ' || unit_code || ' không có trong danh mục đơn vị của tỉnh'
            else
                'Mã đơn vị ' || unit_code || ' không còn hiệu lực trong kỳ ' || {{ vn_date('period_month', 'month') }}
                || coalesce(
                    ' (hết hiệu lực từ ' || {{ vn_date(add_days('unit_valid_to', 1)) }}
                    || ', đơn vị kế thừa ' || unit_successor_code || ')', ''
                )
        end, submitted_at
    from counting where not is_valid_in_month

    {% for m, header in measures.items() %}
        union all
        select
            unit_code, period_month, '{{ m }}', reported_{{ m }}, system_{{ m }}, 'mismatch_with_system', 'error',
            '{{ header }}: báo cáo ' || cast(reported_{{ m }} as bigint) || ', hệ thống ' || system_{{ m }}
            || ' (chênh ' || cast(abs(reported_{{ m }} - system_{{ m }}) as bigint) || ' hồ sơ, quá mức cho phép '
            || cast({{ mismatch_tolerance('system_' ~ m) }} as decimal(10, 1)) || ' hồ sơ)', submitted_at
        from counting where mismatch_{{ m }}
    {% endfor %}

    union all
    select
        m.unit_code, m.period_month, 'received', null, m.received, 'missing_report', 'warning',
        'Đơn vị tiếp nhận ' || m.received || ' hồ sơ trong kỳ ' || {{ vn_date('m.period_month', 'month') }}
        || ' nhưng chưa gửi báo cáo', null
    from complete_months as m
    anti join rules using (unit_code, period_month)
)

select unit_code, period_month, measure, reported_value, system_value, rule, severity, detail, submitted_at
from breaches
