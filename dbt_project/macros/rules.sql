{#
  The rules of kpis.md as the models use them. Every value comes from the vars of dbt_project.yml, the one place
  they are defined (Python reads the same vars through contracts/rules.py).
#}

{# The measures, in contract order; of one family (reception / resolution) when given. #}
{% macro kpi_measures(family=none) -%}
    {%- set names = [] -%}
    {%- for name, spec in var('measures').items() if family is none or spec['family'] == family -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{# The fact column that counts a measure. #}
{% macro measure_flag(measure) -%}
    {{ return(var('measures')[measure]['flag']) }}
{%- endmacro %}

{# Rate -> [numerator, denominator]. #}
{% macro kpi_indicators() -%}
    {{ return(var('rates')) }}
{%- endmacro %}

{# A rate of the contract: a DOUBLE fraction, NULL when the denominator is 0. #}
{% macro rate(numerator, denominator) -%}
    case when {{ denominator }} > 0 then cast({{ numerator }} as double) / {{ denominator }} end
{%- endmacro %}

{# Every rate, from the measure columns of a relation (optionally prefixed). #}
{% macro kpi_rates(prefix='') -%}
    {%- for name, pair in var('rates').items() %}
        {{ rate(prefix ~ pair[0], prefix ~ pair[1]) }} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{# A status set of the vars (not_received, resolved, open) as a SQL list: `(9, 10)`. #}
{% macro statuses(name) -%}
    ({{ var('statuses')[name] | join(', ') }})
{%- endmacro %}

{# Unit-report measure -> the header the unit's officer reads. #}
{% macro report_measures() -%}
    {{ return(var('report_measures')) }}
{%- endmacro %}

{# The [part, whole] pairs of the part_exceeds_whole rule: the contract's pairs between report measures. #}
{% macro report_part_whole_pairs() -%}
    {%- set pairs = [] -%}
    {%- for part, whole in var('part_whole') if part in var('report_measures') and whole in var('report_measures') -%}
        {%- do pairs.append([part, whole]) -%}
    {%- endfor -%}
    {{ return(pairs) }}
{%- endmacro %}

{# A value of a report that is a count: present, whole and not negative. #}
{% macro is_count(value) -%}
    ({{ value }} is not null and {{ value }} >= 0 and {{ value }} = floor({{ value }}))
{%- endmacro %}

{# The tolerance of mismatch_with_system for a system value: max(absolute, relative * system). #}
{% macro mismatch_tolerance(system_value) -%}
    {%- set tolerance = var('report_mismatch_tolerance') -%}
    greatest({{ tolerance['absolute'] }}, {{ tolerance['relative'] }} * {{ system_value }})
{%- endmacro %}

{#
  Level figures are pooled (kpis.md): sums per level (`tinh`, `huyen`, `xa`, over the rows whose level is known)
  and for the whole province (`toan_tinh`, every row), never averages of unit rates. `columns` maps each output
  column to its aggregate expression.
#}
{% macro pool_levels(relation, keys, columns) -%}
    select level, {% for k in keys %}{{ k }}, {% endfor %}
    {%- for alias, expression in columns.items() %} {{ expression }} as {{ alias }}{{ ',' if not loop.last }}{% endfor %}
    from {{ relation }}
    where level is not null
    group by level{% for k in keys %}, {{ k }}{% endfor %}
    union all
    select 'toan_tinh' as level, {% for k in keys %}{{ k }}, {% endfor %}
    {%- for alias, expression in columns.items() %} {{ expression }} as {{ alias }}{{ ',' if not loop.last }}{% endfor %}
    from {{ relation }}
    {% if keys %}group by {{ keys | join(', ') }}{% endif %}
{%- endmacro %}

{#
  The units valid on `day` of each row of `windows` (a relation with that date column), each with every unit whose
  history it carries (int_unit_successions, itself included): the current-unit scope of the scorecards.
#}
{% macro current_unit_members(windows, day) -%}
    select
        {{ windows }}.*,
        units.unit_code as current_unit_code,
        units.level,
        successions.unit_code as member_code
    from {{ windows }}
    join {{ ref('dim_units') }} as units
        on
            {{ windows }}.{{ day }} >= units.valid_from
            and (units.valid_to is null or {{ windows }}.{{ day }} <= units.valid_to)
    join {{ ref('int_unit_successions') }} as successions on units.unit_code = successions.reached_code
{%- endmacro %}
