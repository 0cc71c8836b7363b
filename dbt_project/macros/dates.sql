{#
  Calendar arithmetic the models share, so that the same models compile for DuckDB and for Spark (TTHC_ENGINE
  picks the dbt target). Months are calendar months of local time, as kpis.md counts them; every result is a DATE.
  Where the engines' SQL differs, the macro has one branch per engine.
#}

{% macro month_start(expr) -%}
    cast(date_trunc('month', {{ expr }}) as date)
{%- endmacro %}

{% macro month_end(expr) -%}
    last_day(cast({{ expr }} as date))
{%- endmacro %}

{% macro add_months(expr, months) -%}
    {%- if target.type == 'spark' -%}
        add_months(cast({{ expr }} as date), {{ months }})
    {%- else -%}
        cast(cast({{ expr }} as date) + to_months({{ months }}) as date)
    {%- endif -%}
{%- endmacro %}

{% macro add_days(expr, days) -%}
    {%- if target.type == 'spark' -%}
        date_add(cast({{ expr }} as date), {{ days }})
    {%- else -%}
        cast(cast({{ expr }} as date) + to_days({{ days }}) as date)
    {%- endif -%}
{%- endmacro %}

{% macro days_between(first_date, second_date) -%}
    {#- calendar days from the first date to the second (negative when the second is earlier), a bigint -#}
    {%- if target.type == 'spark' -%}
        cast(datediff(cast({{ second_date }} as date), cast({{ first_date }} as date)) as bigint)
    {%- else -%}
        date_diff('day', cast({{ first_date }} as date), cast({{ second_date }} as date))
    {%- endif -%}
{%- endmacro %}

{% macro months_between(first_month, second_month) -%}
    {#- whole calendar months from the first month to the second -#}
    {%- if target.type == 'spark' -%}
        date_diff(MONTH, {{ first_month }}, {{ second_month }})
    {%- else -%}
        date_diff('month', {{ first_month }}, {{ second_month }})
    {%- endif -%}
{%- endmacro %}

{% macro months_from(relation, first_month, last_month, alias) -%}
    {#- `from relation` joined to one row per month from first_month to last_month, the month in column `alias` -#}
    {%- if target.type == 'spark' -%}
        {{ relation }}
        lateral view explode(sequence({{ first_month }}, {{ last_month }}, interval 1 month)) months as {{ alias }}
    {%- else -%}
        {{ relation }}, generate_series({{ first_month }}, {{ last_month }}, interval 1 month) as months ({{ alias }})
    {%- endif -%}
{%- endmacro %}

{% macro vn_date(expr, pattern='day') -%}
    {#- a date as Vietnamese text shows it: 'day' 31/01/2024, 'minute' 31/01/2024 08:05, 'month' 01/2024 -#}
    {%- if target.type == 'spark' -%}
        {%- set formats = {'day': 'dd/MM/yyyy', 'minute': 'dd/MM/yyyy HH:mm', 'month': 'MM/yyyy'} -%}
        date_format({{ expr }}, '{{ formats[pattern] }}')
    {%- else -%}
        {%- set formats = {'day': '%d/%m/%Y', 'minute': '%d/%m/%Y %H:%M', 'month': '%m/%Y'} -%}
        strftime({{ expr }}, '{{ formats[pattern] }}')
    {%- endif -%}
{%- endmacro %}
