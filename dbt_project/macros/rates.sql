{# A rate of the contract: a DOUBLE fraction, NULL when the denominator is 0 (kpis.md). #}
{% macro rate(numerator, denominator) -%}
    case when {{ denominator }} > 0 then cast({{ numerator }} as double) / {{ denominator }} end
{%- endmacro %}

{# The five rates, from the measure columns of a relation (optionally prefixed). #}
{% macro kpi_rates(prefix='') -%}
    {{ rate(prefix ~ 'received_online', prefix ~ 'received') }} as online_rate,
    {{ rate(prefix ~ 'digitised', prefix ~ 'received') }} as digitisation_rate,
    {{ rate(prefix ~ 'paid_online', prefix ~ 'fee_bearing') }} as online_payment_rate,
    {{ rate(prefix ~ 'resolved_on_time', prefix ~ 'resolved') }} as on_time_rate,
    {{ rate(prefix ~ 'e_result_issued', prefix ~ 'paper_result_resolved') }} as e_result_rate
{%- endmacro %}

{# The nine measures of the contract, in order. #}
{% macro kpi_measures() -%}
    {{ return(['received', 'received_online', 'digitised', 'fee_bearing', 'paid_online', 'resolved',
               'resolved_on_time', 'paper_result_resolved', 'e_result_issued']) }}
{%- endmacro %}

{# Indicator -> (numerator, denominator), as kpis.md defines the rates. #}
{% macro kpi_indicators() -%}
    {{ return({
        'online_rate': ('received_online', 'received'),
        'digitisation_rate': ('digitised', 'received'),
        'online_payment_rate': ('paid_online', 'fee_bearing'),
        'on_time_rate': ('resolved_on_time', 'resolved'),
        'e_result_rate': ('e_result_issued', 'paper_result_resolved'),
    }) }}
{%- endmacro %}
