{#
  The few expressions that DuckDB and Spark write differently, one branch per engine (TTHC_ENGINE picks the dbt
  target). Everything else in the models is SQL that both engines read the same way.
#}

{% macro snapshot_rowid() -%}
    {#- a key of a row of raw.dossier_snapshots, valid within one query -#}
    {%- if target.type == 'spark' -%}
        batch_seq * 1000000000 + source_row  {#- no row ids in Spark: a batch's rows are numbered by file line -#}
    {%- else -%}
        rowid
    {%- endif -%}
{%- endmacro %}

{% macro tuple_of() -%}
    {#- the values as one value compared field by field: an ordering for min_by and max_by -#}
    {%- if target.type == 'spark' -%}
        struct({{ varargs | join(', ') }})
    {%- else -%}
        row({{ varargs | join(', ') }})
    {%- endif -%}
{%- endmacro %}

{% macro columns_except(relation, excluded) -%}
    {#- every column of the relation but the excluded ones -#}
    {%- if target.type == 'spark' and execute -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | reject('in', excluded) -%}
        {{ names | join(', ') }}
    {%- else -%}
        * exclude ({{ excluded | join(', ') }})
    {%- endif -%}
{%- endmacro %}

{% macro text_type() -%}
    {%- if target.type == 'spark' -%} string {%- else -%} varchar {%- endif -%}
{%- endmacro %}

{% macro matches_regex(expr, pattern) -%}
    {#- whether the text contains a match of the pattern (both engines' regexes read (?i) and the classes used here) -#}
    {%- if target.type == 'spark' -%}
        regexp_like({{ expr }}, '{{ pattern }}')
    {%- else -%}
        regexp_matches({{ expr }}, '{{ pattern }}')
    {%- endif -%}
{%- endmacro %}

{% macro catalog_columns(schemas) -%}
    {#- every column of the tables in the schemas, as (table_schema, table_name, column_name) rows: DuckDB's
        information_schema; Spark has none, so its rows are the built models' columns, listed by the adapter -#}
    {%- if target.type == 'spark' -%}
        {%- set rows = [] -%}
        {%- if execute -%}
            {%- for node in graph.nodes.values()
                if node.resource_type == 'model' and node.schema in schemas -%}
                {%- set relation = adapter.get_relation(database=node.database, schema=node.schema,
                                                        identifier=node.alias) -%}
                {%- for column in (adapter.get_columns_in_relation(relation) if relation else []) -%}
                    {%- do rows.append("('%s', '%s', '%s')" % (node.schema, node.alias, column.name)) -%}
                {%- endfor -%}
            {%- endfor -%}
        {%- endif -%}
        {%- if rows -%}
            select * from (values {{ rows | join(', ') }}) as catalog (table_schema, table_name, column_name)
        {%- else -%}
            select '' as table_schema, '' as table_name, '' as column_name where false
        {%- endif -%}
    {%- else -%}
        select table_schema, table_name, column_name
        from information_schema.columns
        where table_schema in ('{{ schemas | join("', '") }}')
    {%- endif -%}
{%- endmacro %}
