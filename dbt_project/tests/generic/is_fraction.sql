{% test is_fraction(model, column_name) %}
-- A rate is a fraction in [0, 1] (or NULL when its denominator is 0).
select {{ column_name }} from {{ model }} where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}
