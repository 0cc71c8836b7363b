{#
  On Spark, the raw sources are tables over the Parquet that ingestion exports (ingestion/parquet_export.py):
  the append-only ones partitioned by batch_seq (MSCK REPAIR picks up the batches exported since the last run),
  the ledger and the validations one file each (REFRESH re-reads them). On DuckDB the raw schema is the
  ingestion's own tables, and this does nothing.
#}
{% macro register_raw_parquet() %}
    {%- if target.type == 'spark' -%}
        {%- set folder = var('tthc_raw_parquet', env_var('TTHC_RAW_PARQUET', '../data/warehouse/raw_parquet')) -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for table in ['dossier_snapshots', 'unit_reports', 'explanations', 'reference_units',
                          'reference_procedures', 'reference_targets', 'reference_programmes'] -%}
            {#- Spark infers the batch_seq partitions from the folders (it refuses PARTITIONED BY without columns) -#}
            {%- do run_query("create table if not exists raw." ~ table ~ " using parquet "
                             ~ "location '" ~ folder ~ "/" ~ table ~ "'") -%}
            {%- do run_query('msck repair table raw.' ~ table) -%}
        {%- endfor -%}
        {%- for table in ['ingestion_ledger', 'batch_validations'] -%}
            {%- do run_query("create table if not exists raw." ~ table ~ " using parquet "
                             ~ "location '" ~ folder ~ "/" ~ table ~ "'") -%}
            {%- do run_query('refresh table raw.' ~ table) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
