{#
  Whether a built relation has a column: an incremental model asks it of its stored table, to rebuild whole a table
  stored before the column existed. A macro of its own so that unit tests can override it.
#}
{% macro relation_has_column(relation, column) -%}
    {{- return(execute and column in adapter.get_columns_in_relation(relation) | map(attribute='name') | list) -}}
{%- endmacro %}
