{% test unique_among_rebuilt(model, column_name, build_column='processed_through_batch_seq') %}
-- No two rows share the column, checked for the rows the latest build wrote against every row. An incremental
-- model replaces only the keys its new batches touched (deletes their rows, inserts them again), so a duplicate
-- made by a build involves a row it wrote; rows written earlier were checked by the build that wrote them. A full
-- build writes every row with the same build_column, so it is checked whole.
with rebuilt as (
    select distinct {{ column_name }}
    from {{ model }}
    where {{ build_column }} = (select max({{ build_column }}) from {{ model }})
)

select {{ column_name }}, count(*) as rows_with_key
from {{ model }}
where {{ column_name }} in (select rebuilt.{{ column_name }} from rebuilt)
group by {{ column_name }}
having count(*) > 1
{% endtest %}
