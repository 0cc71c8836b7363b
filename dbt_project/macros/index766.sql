{#
  The 766 index estimate's metrics (the `index766` var): the measures their ratios need, and a metric's points
  from its numerator and denominator (NULL when the denominator is 0), defined once for the marts and their tests.
#}
{% macro index766_metrics() -%}
    {{ return(var('index766')) }}
{%- endmacro %}

{% macro index766_measures() -%}
    {% set names = [] %}
    {% for spec in var('index766').values() %}
        {% for measure in spec['ratio'] %}
            {% if measure not in names %}{% do names.append(measure) %}{% endif %}
        {% endfor %}
    {% endfor %}
    {{ return(names) }}
{%- endmacro %}

{% macro index766_points(metric, numerator, denominator) -%}
    {%- set spec = var('index766')[metric] -%}
    case when {{ denominator }} > 0 then {{ spec['max_points'] }} * {% if spec.get('full_at') -%}
        least(1.0, cast({{ numerator }} as double) / {{ denominator }} / {{ spec['full_at'] }})
    {%- else -%}
        cast({{ numerator }} as double) / {{ denominator }}
    {%- endif %} end
{%- endmacro %}
