{#
  Month-incremental models: the tables of figures per month (kpi_unit_month, the 766 estimate, the open dossiers
  at a month's end) rebuild only the months a run can have changed, and replace those months whole (a pre-hook lists
  and deletes them, the model inserts them: macro incremental_by_month). Each row keeps the ledger's last batch when
  it was built (processed_through_batch_seq); a nightly run rebuilds the months
  - that a dossier changed since then counts in, before its change and after: its reception month, its resolution
    month, and the months at whose end its being open changed (a dossier resolved today leaves the months it was
    open in as they were; one withdrawn today touches every one of them);
  - that the table does not hold yet (a new month), or whose completeness changed (is_complete_month);
  - every month, when a reference batch (units, procedures, programmes, targets) was loaded since (a file landed
    again with the same bytes is only skipped), or when a dossier changed twice since (the version the table
    counted is gone: fct_dossiers keeps only the one before the last).
  A full build computes every month: the first run, a batch review, and a run after a model, macro or rule var
  changed (orchestration/model_definition.py drops the incremental tables before the build).
#}

{% macro month_incremental() -%}
    {#- whether this build rebuilds some months only (a table stored without its watermark was dropped by
        ingestion/migrations.py, month_marts_watermark) -#}
    {{- return(is_incremental()) -}}
{%- endmacro %}

{% macro ledger_watermark() -%}
    {#- every batch of the ledger up to here is in the raw tables: the next run looks past it -#}
    (select max(batch_seq) from {{ source('raw', 'ingestion_ledger') }})
{%- endmacro %}

{% macro built_through() -%}
    (select coalesce(max(processed_through_batch_seq), 0) from {{ this }})
{%- endmacro %}

{% macro open_at_month_end(dossiers, months, carried=[]) -%}
    {#- each dossier open at the end of each month (kpis.md, "Service index estimate"): received (status not 1 or 3)
        on or before the month's last day and not finished by then; a withdrawn or stopped dossier (7, 8) is never
        counted. is_not_yet_due: its due date is not before the month's end (the portal counts it as on time).
        `dossiers` needs dossier_code, unit_code, is_received, status, received_at, due_at, finished_at;
        `months` period_month and month_end -#}
    select
        d.dossier_code,
        d.unit_code,
        {% for column in carried %}d.{{ column }}, {% endfor %}
        m.period_month,
        d.due_at,
        coalesce(d.due_at >= m.month_end_at, false) as is_not_yet_due
    from {{ dossiers }} as d
    join (
        select period_month, cast({{ add_days('month_end', 1) }} as timestamp) as month_end_at from {{ months }}
    ) as m
        on
            d.received_at < m.month_end_at
            and (d.finished_at is null or d.finished_at >= m.month_end_at)
    where d.is_received and d.status not in {{ statuses('withdrawn_or_stopped') }}
{%- endmacro %}

{% macro touched_months(complete_column=none) -%}
    {#- the months this run rebuilds (see above), as a query of period_month; call only when month_incremental() -#}
    {%- set since = built_through() -%}
    with changed as (
        select * from {{ ref('fct_dossiers') }}
        where processed_through_batch_seq > {{ since }}
    ),

    versions as (
        select
            'now' as version, dossier_code, unit_code, status, is_received, received_at, due_at, finished_at,
            received_month, resolved_month
        from changed
        union all
        select
            'before' as version, dossier_code, prior_unit_code, prior_status, prior_is_received, prior_received_at,
            prior_due_at, prior_finished_at, prior_received_month, prior_resolved_month
        from changed
        where prior_processed_through_batch_seq is not null
    ),

    months as (
        select * from {{ ref('int_months') }}
    ),

    open_rows as (
        {{ open_at_month_end('versions', 'months', carried=['version']) }}
    ),

    open_now as (
        select dossier_code, unit_code, period_month, is_not_yet_due from open_rows where version = 'now'
    ),

    open_before as (
        select dossier_code, unit_code, period_month, is_not_yet_due from open_rows where version = 'before'
    ),

    everything as (
        -- a reference batch since the last build, or a dossier changed twice since: every month
        select 1 as everything
        where
            exists (
                select 1 from {{ source('raw', 'ingestion_ledger') }}
                where batch_seq > {{ since }} and kind = 'reference' and status = 'loaded'
            )
            or exists (select 1 from changed where prior_processed_through_batch_seq > {{ since }})
    )

    select received_month as period_month from versions where is_received
    union
    select resolved_month from versions where resolved_month is not null
    union
    select period_month from (select * from open_now except select * from open_before)
    union
    select period_month from (select * from open_before except select * from open_now)
    union
    select period_month from months
    where period_month > (select coalesce(max(period_month), date '1900-01-01') from {{ this }})
    {% if complete_column %}
        union
        select months.period_month
        from months
        join (
            select period_month, bool_and({{ complete_column }}) as is_complete
            from {{ this }}
            group by period_month
        ) as built on months.period_month = built.period_month
        where built.is_complete != months.is_complete
    {% endif %}
    union
    select period_month from months where exists (select 1 from everything)
{%- endmacro %}

{% macro first_touched_month_end() -%}
    {#- the last day of the first month this run rebuilds, read when the model is compiled (its pre-hook lists the
        months later, from the same tables, unchanged in between): a literal bound DuckDB filters a scan with, before
        it reads the other columns of 10M rows. None in a full build, or with no month to rebuild -#}
    {%- if not (execute and month_incremental()) -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(run_query("select min(month_end) from " ~ ref('int_months') ~ " where period_month in ("
                        ~ touched_months() ~ ")").columns[0].values()[0]) }}
{%- endmacro %}

{% macro touched_months_table() -%}
    temp.main.{{ this.identifier }}__touched_months
{%- endmacro %}

{% macro clear_touched_months(complete_column=none) -%}
    {#- the model's pre-hook: the months this run rebuilds, kept for the model's filters, deleted from the table -#}
    {%- if month_incremental() -%}
        create or replace temp table {{ touched_months_table() }} as
        {{ touched_months(complete_column) }};
        delete from {{ this }} where period_month in (select period_month from {{ touched_months_table() }})
    {%- else -%}
        select 'a full build: every month' as months_rebuilt
    {%- endif -%}
{%- endmacro %}

{% macro touched(column, incremental) -%}
    {#- a filter: the column's month is one this run rebuilds (always true in a full build) -#}
    {%- if incremental -%}
        {{ column }} in (select period_month from {{ touched_months_table() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
