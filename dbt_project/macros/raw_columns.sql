{#
  The raw tables' columns as contracts/landed_tables.py declares them (macros/raw_tables_spec.sql, rendered from
  the spec by `make dbt-sources`). The staging selects and the dossier's current state list their columns from
  here, so a column added to the spec reaches them without a list edited by hand.
#}

{#
  The select list of a staging model: every column of the raw table but those in `except`, cast to its staged_as
  type where the spec gives one (a raw type kept narrow), or computed by `expressions` (column -> SQL).
#}
{% macro staged_columns(table, except=[], expressions={}) -%}
    {%- set selected = [] -%}
    {%- for column in raw_tables_spec()[table]['columns'] if column.name not in except -%}
        {%- if column.name in expressions -%}
            {%- do selected.append(expressions[column.name] ~ ' as ' ~ column.name) -%}
        {%- elif column.staged_as -%}
            {%- do selected.append('cast(' ~ column.name ~ ' as ' ~ column.staged_as ~ ') as ' ~ column.name) -%}
        {%- else -%}
            {%- do selected.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(selected | join(',\n        ')) }}
{%- endmacro %}

{# The columns of a dossier's snapshot that its current state carries (the spec's current_state), in order. #}
{% macro current_state_columns() -%}
    {{ return(raw_tables_spec()['dossier_snapshots']['columns'] | selectattr('current_state') | map(attribute='name')
              | list) }}
{%- endmacro %}
