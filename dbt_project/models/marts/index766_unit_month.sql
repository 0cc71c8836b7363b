{#
  The 766 index estimate (kpis.md, "Service index estimate"): the 42 points computable from dossiers, per current
  unit (its predecessors' dossiers counted under it, as kpi_current_unit_month does) and per level (the pool of
  its current units; toan_tinh the whole province), per month and metric; then per unit-month the total, the share
  of the points at stake (score_pct) and the rank among the current units of its level (1 the best, ties sharing).
  Month-incremental (macros/month_incremental.sql): a nightly run rebuilds the months its changes touch.
#}
{{ config(**incremental_by_month('is_complete_month')) }}
-- depends_on: {{ ref('fct_dossiers') }}
-- depends_on: {{ ref('int_months') }}
{% set incremental = month_incremental() %}
{% set metrics = index766_metrics() %}
{% set measures = index766_measures() %}
with current_unit_month as (
    select * from {{ ref('kpi_current_unit_month') }}
    where {{ touched('period_month', incremental) }}
),

open_at_month_end as (
    select
        units.current_unit_code,
        open_dossiers.period_month,
        count(*) as open_at_month_end,
        count(*) filter (where open_dossiers.is_not_yet_due) as open_not_yet_due
    from {{ ref('int_open_at_month_end') }} as open_dossiers
    join {{ ref('dim_units') }} as units on open_dossiers.unit_code = units.unit_code
    where {{ touched('open_dossiers.period_month', incremental) }}
    group by units.current_unit_code, open_dossiers.period_month
),

unit_measures as (
    select
        c.current_unit_code as unit_code,
        c.level,
        c.period_month,
        c.is_complete_month,
        c.received,
        c.received_online,
        c.digitised,
        c.fee_bearing,
        c.paid_online,
        c.paper_result_resolved,
        c.e_result_issued,
        c.resolved_on_time + coalesce(o.open_not_yet_due, 0) as on_time_or_not_yet_due,
        c.resolved + coalesce(o.open_at_month_end, 0) as resolved_or_open
    from current_unit_month as c
    left join open_at_month_end as o
        on c.current_unit_code = o.current_unit_code and c.period_month = o.period_month
    where c.level is not null
),

{% set level_sums = {'is_complete_month': 'bool_and(is_complete_month)'} %}
{% for m in measures %}{% do level_sums.update({m: 'sum(' ~ m ~ ')'}) %}{% endfor %}
level_measures as (
    {{ pool_levels('unit_measures', ['period_month'], level_sums) }}
),

scopes as (
    select 'current_unit' as scope, unit_code, level, period_month, is_complete_month, {{ measures | join(', ') }}
    from unit_measures
    union all
    select 'level' as scope, null as unit_code, level, period_month, is_complete_month, {{ measures | join(', ') }}
    from level_measures
),

unit_month_scores as (
    -- each metric's points side by side, and the total added in one fixed order: a sum() of doubles depends on the
    -- order a parallel engine adds them in, and the same data must publish the same figures on DuckDB and Spark
    select
        *,
    {% for metric, spec in metrics.items() %}
        {% set numerator, denominator = spec['ratio'] %}
        {{ index766_points(metric, numerator, denominator) }} as points_{{ metric }},
        cast(case when {{ denominator }} > 0 then {{ spec['max_points'] }} else 0 end as double)
            as max_points_{{ metric }}{{ ',' if not loop.last }}
    {% endfor %}
    from scopes
),

unit_month_totals as (
    select
        *,
        {% for metric in metrics %}max_points_{{ metric }}{{ ' + ' if not loop.last }}{% endfor %} as total_max_points,
        case
            when {% for metric in metrics %}points_{{ metric }} is not null{{ ' or ' if not loop.last }}{% endfor %}
                then {% for metric in metrics %}coalesce(points_{{ metric }}, 0){{ ' + ' if not loop.last }}{% endfor %}
        end as total_points
    from unit_month_scores
),

scored as (
    {% for metric, spec in metrics.items() %}
        {% set numerator, denominator = spec['ratio'] %}
        select
            scope,
            unit_code,
            level,
            period_month,
            is_complete_month,
            '{{ metric }}' as metric,
            '{{ spec["group"] }}' as grp,
            cast({{ numerator }} as bigint) as numerator,
            cast({{ denominator }} as bigint) as denominator,
            {{ rate(numerator, denominator) }} as ratio,
            points_{{ metric }} as points,
            max_points_{{ metric }} as max_points,
            total_points,
            total_max_points,
            case when total_max_points > 0 then total_points / total_max_points end as score_pct
        from unit_month_totals
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

ranks as (
    select
        unit_code,
        period_month,
        -- equal scores share a rank: compared to 1e-9, as the same score reached by different sums can differ in
        -- its last bits
        cast(rank() over (partition by level, period_month order by round(score_pct, 9) desc) as bigint)
            as rank_in_level
    from (
        select distinct unit_code, level, period_month, score_pct
        from scored
        where scope = 'current_unit' and score_pct is not null
    ) as unit_scores
)

select
    s.scope,
    s.unit_code,
    s.level,
    s.period_month,
    s.is_complete_month,
    s.metric,
    s.grp,
    s.numerator,
    s.denominator,
    s.ratio,
    s.points,
    s.max_points,
    s.total_points,
    s.total_max_points,
    s.score_pct,
    r.rank_in_level,
    {{ ledger_watermark() }} as processed_through_batch_seq
from scored as s
left join ranks as r
    on s.scope = 'current_unit' and s.unit_code = r.unit_code and s.period_month = r.period_month
