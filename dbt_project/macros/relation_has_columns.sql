{#
  Whether a built relation has every one of some columns (one look at its columns): an incremental model asks it of
  its stored table, to rebuild whole a table stored before the columns existed. A macro of its own so that unit tests
  can override it.
#}
{% macro relation_has_columns(relation, columns) -%}
    {%- set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | list if execute else [] -%}
    {{- return(execute and columns | reject('in', present) | list | length == 0) -}}
{%- endmacro %}
