{#
  Dossier-incremental lists (late_dossiers): a nightly run replaces the rows of the dossiers it can have changed and
  leaves every other row as it was. A pre-hook, in the model's transaction, lists those dossiers and deletes their
  rows; the model inserts the rows they have now (none for a dossier no longer listed). They are
  - the dossiers whose facts changed since the table's last build (fct_dossiers.processed_through_batch_seq past the
    table's own, macros/month_incremental.sql) and those an explanation batch loaded since names;
  - every open dossier, stored or now: an open row counts its days to as_of, which moves every run;
  - every dossier, when a reference batch (unit names) was loaded since.
  A full build lists every dossier: the first run, a batch review, and a run after a model, macro or rule var
  changed (orchestration/model_definition.py drops the incremental tables before the build). Spark builds the
  table whole (macros/engine.sql: no delete there).
#}

{% macro incremental_by_dossier_rows() -%}
    {%- if target.type == 'spark' -%}
        {{ return({'materialized': 'table'}) }}
    {%- else -%}
        {{ return({'materialized': 'incremental', 'incremental_strategy': 'append',
                   'on_schema_change': 'append_new_columns', 'pre_hook': '{{ clear_rebuilt_dossiers() }}'}) }}
    {%- endif -%}
{%- endmacro %}

{% macro rebuilt_dossiers_table() -%}
    temp.main.{{ this.identifier }}__rebuilt_dossiers
{%- endmacro %}

{% macro clear_rebuilt_dossiers() -%}
    {#- the model's pre-hook: the dossiers this run rebuilds besides the open ones (every one: NULL), kept for the
        model's filter, their rows and the open ones deleted from the table -#}
    {%- if is_incremental() -%}
        {%- set since = built_through() -%}
        create or replace temp table {{ rebuilt_dossiers_table() }} as
        select dossier_code from {{ ref('fct_dossiers') }} where processed_through_batch_seq > {{ since }}
        union
        select dossier_code from {{ ref('stg_tthc__explanations') }} where batch_seq > {{ since }}
        union all
        select null as dossier_code
        where exists (
            select 1 from {{ source('raw', 'ingestion_ledger') }}
            where batch_seq > {{ since }} and kind = 'reference' and status = 'loaded'
        );
        delete from {{ this }} where {{ rebuilt('dossier_code', 'is_open', true) }}
    {%- else -%}
        select 'a full build: every dossier' as dossiers_rebuilt
    {%- endif -%}
{%- endmacro %}

{% macro rebuilt(dossier_code, is_open, incremental) -%}
    {#- a filter: the dossier is one this run rebuilds (always true in a full build) -#}
    {%- if incremental -%}
        ({{ is_open }}
        or {{ dossier_code }} in (select dossier_code from {{ rebuilt_dossiers_table() }})
        or exists (select 1 from {{ rebuilt_dossiers_table() }} where dossier_code is null))
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
