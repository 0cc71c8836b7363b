{% test not_null_columns(model, columns) %}
-- None of these columns holds a NULL. One test per model instead of one per column: each test is a dbt node and
-- three Dagster events, and a nightly build ran 81 of them. A failing row names the column and its NULL rows.
with null_rows as (
    select
        {% for column in columns -%}
            sum(case when {{ column }} is null then 1 else 0 end) as {{ column }}{{ "," if not loop.last }}
        {% endfor %}
    from {{ model }}
    -- the sums run over the failing rows only: DuckDB answers the filter from its column statistics
    where {% for column in columns %}{{ column }} is null{{ " or " if not loop.last }}{% endfor %}
)

{% for column in columns -%}
    select '{{ column }}' as column_name, {{ column }} as null_rows from null_rows where {{ column }} > 0
    {{ "union all" if not loop.last }}
{% endfor %}
{% endtest %}
