{% test unique_combination(model, columns) %}
-- No two rows share these columns (the model's grain).
select {{ columns | join(', ') }}, count(*) as rows_at_grain
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
