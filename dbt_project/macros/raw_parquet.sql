{#
  On Spark, the raw sources are tables over the Parquet that ingestion exports (ingestion/parquet_export.py):
  the append-only ones partitioned by batch_seq (MSCK REPAIR picks up the batches exported since the last run),
  the ledger and the validations one file each (REFRESH re-reads them). Which table is which is the spec's
  (contracts/landed_tables.py, RawTable.parquet), read from the macro rendered from it. On DuckDB the raw
  schema is the ingestion's own tables, and this does nothing.
#}
{% macro register_raw_parquet() %}
    {%- if target.type == 'spark' -%}
        {%- set folder = var('tthc_raw_parquet', none) or env_var('TTHC_RAW_PARQUET') -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for table, spec in raw_tables_spec().items() -%}
            {%- set exported = spec['parquet'] -%}
            {%- if exported -%}
                {#- Spark infers the batch_seq partitions from the folders (it refuses PARTITIONED BY without columns) -#}
                {%- do run_query("create table if not exists raw." ~ table ~ " using parquet "
                                 ~ "location '" ~ folder ~ "/" ~ table ~ "'") -%}
                {%- do run_query(('msck repair table raw.' if exported == 'by_batch' else 'refresh table raw.')
                                 ~ table) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
