{#
  The reference in force (landing.md): the latest counted batch of a reference file, without its batch_seq.
  Ingestion reads the same rule for the codes it checks rows against (ingestion/ingest.py, _current_codes).
#}
{% macro reference_in_force(staging_model) -%}
    select {{ columns_except(ref(staging_model), ['batch_seq']) }}
    from {{ ref(staging_model) }}
    where batch_seq = (select max(batch_seq) from {{ ref(staging_model) }})
{%- endmacro %}
