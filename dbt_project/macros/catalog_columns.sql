{#
  The columns of the tables in some schemas, as a relation of (table_schema, table_name, column_name) rows, for the
  tests that look at every published column. DuckDB lists them in information_schema; Spark has none, so there they
  are the built models' columns, listed by the adapter.
#}
{% macro catalog_columns(schemas) -%}
    {{ spark_catalog_columns(schemas) if target.type == 'spark' else duckdb_catalog_columns(schemas) }}
{%- endmacro %}

{% macro duckdb_catalog_columns(schemas) -%}
    (
        select table_schema, table_name, column_name
        from information_schema.columns
        where table_schema in ('{{ schemas | join("', '") }}')
    )
{%- endmacro %}

{% macro spark_catalog_columns(schemas) -%}
    {%- set rows = ["('', '', '')"] -%}
    {%- set nodes = graph.nodes.values() if execute else [] -%}  {#- no graph while dbt parses -#}
    {%- for node in nodes if node.resource_type == 'model' and node.schema in schemas -%}
        {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
        {%- for column in (adapter.get_columns_in_relation(relation) if relation else []) -%}
            {%- do rows.append("('" ~ node.schema ~ "', '" ~ node.alias ~ "', '" ~ column.name ~ "')") -%}
        {%- endfor -%}
    {%- endfor -%}
    (
        select * from (values {{ rows | join(', ') }}) as catalog (table_schema, table_name, column_name)
        where table_schema in ('{{ schemas | join("', '") }}')
    )
{%- endmacro %}
