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
