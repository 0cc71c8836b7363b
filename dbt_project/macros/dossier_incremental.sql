{#
  Dossier-incremental lists (late_dossiers, explanation_issues): a nightly run replaces the rows of the dossiers it
  can have changed and leaves every other row as it was. A pre-hook, in the model's transaction, deletes their rows;
  the model inserts the rows they have now (none for a dossier no longer listed). They are
  - the dossiers whose facts changed since the table's last build (fct_dossiers.processed_through_batch_seq past the
    table's own, macros/month_incremental.sql) and those an explanation batch loaded since names;
  - every open dossier, stored or now: an open dossier turns late when as_of passes its due date, and an open late
    row counts its days to as_of, which moves every run;
  - every dossier, when a reference batch (unit names) was loaded since.
  A full build lists every dossier: the first run, a batch review, and a run after a model, macro or rule var
  changed (orchestration/model_definition.py drops the incremental tables before the build). Spark builds the
  table whole (macros/engine.sql: no delete there).
  The watermark is read when the model is compiled, before the pre-hook deletes, and written into its filters as a
  literal: DuckDB then skips the facts' row groups written before it instead of looking 10M dossiers up.
#}

{% macro incremental_by_dossier_rows(open_rows="'is_open'") -%}
    {#- open_rows: the condition, on the table's rows, of an open dossier's (as Jinja source: a quoted string) -#}
    {%- if target.type == 'spark' -%}
        {{ return({'materialized': 'table'}) }}
    {%- else -%}
        {{ return({'materialized': 'incremental', 'incremental_strategy': 'append',
                   'on_schema_change': 'append_new_columns',
                   'pre_hook': '{{ clear_rebuilt_dossiers(' ~ open_rows ~ ') }}'}) }}
    {%- endif -%}
{%- endmacro %}

{% macro dossier_rows_since() -%}
    {#- the table's watermark when this build rebuilds some dossiers only; none when it rebuilds every one -#}
    {%- if not (execute and is_incremental()) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set since = run_query(
        "select coalesce(max(processed_through_batch_seq), 0) from " ~ this).columns[0].values()[0] -%}
    {%- set references = run_query(
        "select count(*) from " ~ source('raw', 'ingestion_ledger') ~ " where batch_seq > " ~ since
        ~ " and kind = 'reference' and status = 'loaded'").columns[0].values()[0] -%}
    {{ return(none if references > 0 else since) }}
{%- endmacro %}

{% macro open_dossiers() -%}
    {#- the condition on a row of explanation_issues of an open dossier's -#}
    dossier_code in (select dossier_code from {{ ref('fct_dossiers') }} where is_open)
{%- endmacro %}

{% macro changed_dossiers(since) -%}
    {#- the dossiers whose facts or explanations changed since the watermark -#}
    select dossier_code from {{ ref('fct_dossiers') }} where processed_through_batch_seq > {{ since }}
    union all
    select dossier_code from {{ ref('stg_tthc__explanations') }} where batch_seq > {{ since }}
{%- endmacro %}

{% macro clear_rebuilt_dossiers(open_rows) -%}
    {#- the model's pre-hook: the rows of the dossiers this build rebuilds deleted from the table -#}
    {%- set since = dossier_rows_since() -%}
    {%- if not is_incremental() -%}
        select 'a full build: every dossier' as dossiers_rebuilt
    {%- elif since is none -%}
        delete from {{ this }}
    {%- else -%}
        delete from {{ this }} where {{ open_rows }} or dossier_code in ({{ changed_dossiers(since) }})
    {%- endif -%}
{%- endmacro %}

{% macro rebuilt_dossier_facts(since) -%}
    {#- the facts of the dossiers this build rebuilds: open ones, changed ones, the others explained since; each
        branch a filter DuckDB can push into the scan -#}
    {%- if since is none -%}
        select * from {{ ref('fct_dossiers') }}
    {%- else -%}
        select * from {{ ref('fct_dossiers') }} where is_open
        union all
        select * from {{ ref('fct_dossiers') }} where is_open is not true and processed_through_batch_seq > {{ since }}
        union all
        select * from {{ ref('fct_dossiers') }}
        where
            is_open is not true and processed_through_batch_seq <= {{ since }}
            and dossier_code in (
                select dossier_code from {{ ref('stg_tthc__explanations') }} where batch_seq > {{ since }}
            )
    {%- endif -%}
{%- endmacro %}
