{#
  The few expressions that DuckDB and Spark write differently, one branch per engine (TTHC_ENGINE picks the dbt
  target). Everything else in the models is SQL that both engines read the same way.
#}

{% macro snapshot_rowid() -%}
    {#- a key of a row of raw.dossier_snapshots, valid within one query -#}
    {%- if target.type == 'spark' -%}
        {#- no row ids in Spark: a batch's rows are numbered by file line. batch_seq is read from the partition
            folders' names, which Spark types as int: the product needs a bigint (ANSI mode refuses the overflow) -#}
        cast(batch_seq as bigint) * 1000000000 + source_row
    {%- else -%}
        rowid
    {%- endif -%}
{%- endmacro %}

{% macro ordering_key(at, batch_seq, source_row) -%}
    {#- a snapshot's place in the order of updates (updated_at, then batch_seq, then source_row) as one value, for
        min, min_by and max_by. DuckDB: one 128-bit integer (the microseconds since 1970 in the high 64 bits,
        batch_seq and source_row, each below 2^32, in the low ones), which it compares 3 to 4 times faster than a
        struct over a 10M-dossier history (benchmarks/README.md); Spark: a struct, compared field by field -#}
    {%- if target.type == 'spark' -%}
        struct({{ at }}, {{ batch_seq }}, {{ source_row }})
    {%- else -%}
        (cast(epoch_us({{ at }}) as hugeint) << 64) + (cast({{ batch_seq }} as hugeint) << 32) + {{ source_row }}
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

{% macro incremental_by_dossier() -%}
    {#- how the incremental dossier tables (current state, facts) replace the dossiers a run recomputed: on DuckDB
        each recomputed row names the stored row it replaces (replaced_rowid, macro replaced_rowid), which the
        strategy replace_rows deletes by row id before inserting the new rows; Spark, with neither Delta nor Iceberg
        here, overwrites the whole partitions of their received months (docs/scale-out.md), so the models re-emit
        every dossier of those months -#}
    {%- if target.type == 'spark' -%}
        {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': ['received_month'],
                   'file_format': 'parquet', 'on_schema_change': 'append_new_columns'}) }}
    {%- else -%}
        {#- 'ignore': the new rows' replaced_rowid is not a column of the table. A model that gains a column is
            rebuilt whole anyway (orchestration/model_definition.py) -#}
        {{ return({'incremental_strategy': 'replace_rows', 'on_schema_change': 'ignore'}) }}
    {%- endif -%}
{%- endmacro %}

{% macro replaced_rowid(rowid, name='replaced_rowid') -%}
    {#- in the incremental build of a dossier table: the stored row a recomputed dossier replaces, by its DuckDB
        row id (NULL for a new dossier), found by the lookup the model makes anyway to read that row; a column
        `, <rowid> as <name>` on DuckDB, nothing on Spark or in a full build. Nor in a dbt unit test, whose
        stored rows are a CTE without row ids (the flows' tests build the real tables: tests/test_nightly_runs.py) -#}
    {%- if is_incremental() and target.type != 'spark' and not (model is defined and model.resource_type == 'unit_test') -%}
        , {{ rowid }} as {{ name }}
    {%- endif -%}
{%- endmacro %}

{% macro get_incremental_replace_rows_sql(arg_dict) -%}
    {#- the strategy of the dossier tables on DuckDB: delete the stored rows the new ones replace by row id, then
        insert the new rows. Deleting by dossier_code (delete+insert) looked every recomputed dossier up again among
        10M stored codes: 0.22 s a table at 10M, against 0.02 s by row id. The row ids were read in this model's
        transaction, so they still name the same rows. The insert is dbt's append strategy's (the table's own
        columns: replaced_rowid stays out) -#}
    delete from {{ arg_dict['target_relation'] }}
    where rowid in (select replaced_rowid from {{ arg_dict['temp_relation'] }} where replaced_rowid is not null);
    {{ get_incremental_append_sql(arg_dict) }}
{%- endmacro %}

{% macro incremental_by_month(complete_column=none) -%}
    {#- how the tables of figures per month replace the months a run rebuilds (macros/month_incremental.sql): on
        DuckDB a pre-hook, in the model's transaction, lists those months and deletes them (also the ones that come
        out empty), and the model appends them again (delete+insert by period_month deleted them a second time:
        a scan of the table for nothing, 0.47 s of the losses list's 1.2 s at 10M). Spark builds them whole: an
        overwritten partition column moves to the end of a Spark table, and the published marts keep DuckDB's
        column order (docs/scale-out.md) -#}
    {%- if target.type == 'spark' -%}
        {{ return({'materialized': 'table'}) }}
    {%- else -%}
        {%- set argument = "'" ~ complete_column ~ "'" if complete_column else 'none' -%}
        {{ return({'materialized': 'incremental', 'incremental_strategy': 'append', 'on_schema_change': 'append_new_columns',
                   'pre_hook': '{{ clear_touched_months(' ~ argument ~ ') }}'}) }}
    {%- endif -%}
{%- endmacro %}
