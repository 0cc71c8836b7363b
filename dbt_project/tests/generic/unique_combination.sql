{% test unique_combination(model, columns, rebuilt_months_only=false) %}
-- No two rows share these columns (the model's grain). rebuilt_months_only, for a month-incremental model whose
-- grain includes period_month: only the months the latest build wrote (their rows carry its watermark). A build
-- replaces whole months, so a duplicate it made lies in one of them; the other months were checked by the build
-- that wrote them, and a full build writes every month.
select {{ columns | join(', ') }}, count(*) as rows_at_grain
from {{ model }}
{% if rebuilt_months_only %}
    where processed_through_batch_seq = (select max(processed_through_batch_seq) from {{ model }})
{% endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
