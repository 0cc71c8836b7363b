{#
  Directive 10: the ct10_2023 rows of programme_scorecard, scopes unit and level, in the columns existing readers
  know (kpis.md: directive10_scorecard and directive10_summary are the Directive's rows of the programme marts).
#}
select
    scope,
    unit_code,
    level,
    indicator,
    window_start,
    window_end,
    baseline_start,
    baseline_end,
    window_numerator,
    window_denominator,
    window_value,
    baseline_value,
    change_pp,
    target,
    meets_target
from {{ ref('programme_scorecard') }}
where programme_code = '{{ var("default_programme")["code"] }}' and scope in ('unit', 'level')
