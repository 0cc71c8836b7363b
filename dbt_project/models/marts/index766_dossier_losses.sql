{#
  The dossiers that cost their current unit points in the 766 estimate (kpis.md, "Service index estimate"): one row
  per dossier, month and metric it counts against (resolved late or open past due at the month's end; received but
  not online, not digitised; fee-bearing but not paid online; a paper result without an e-result), with what it
  failed (Vietnamese, the var's `fails`) and points_if_passed: the points the unit-month would gain had that dossier
  alone passed (0 for online_submission once the ratio reached its full_at). No personal data.
  Month-incremental (macros/month_incremental.sql): a nightly run rebuilds the months its changes touch.
#}
{{ config(**incremental_by_month()) }}
-- depends_on: {{ ref('int_months') }}
{% set incremental = month_incremental() %}
{% set metrics = index766_metrics() %}
with dossiers as (
    select * from {{ ref('fct_dossiers') }}
),

resolutions as (
    select * from {{ ref('fct_resolutions') }}
    where {{ touched('resolved_month', incremental) }}
),

receptions as (
    -- reception measures count under the unit that received the dossier, as kpi_unit_month does
    select
        dossier_code,
        received_unit_code as unit_code,
        procedure_code,
        received_month as period_month,
        is_online,
        is_fee_bearing,
        is_paid_online,
        is_digitised
    from dossiers
    where is_received and {{ touched('received_month', incremental) }}
),

units as (
    select unit_code, current_unit_code from {{ ref('dim_units') }}
),

against as (
    select r.dossier_code, r.unit_code, r.procedure_code, r.resolved_month as period_month, 'on_time' as metric, 'late' as failure
    from resolutions as r
    where not r.is_on_time
    union all
    select o.dossier_code, o.unit_code, o.procedure_code, o.period_month, 'on_time' as metric, 'open_past_due' as failure
    from {{ ref('int_open_at_month_end') }} as o
    where not o.is_not_yet_due and {{ touched('o.period_month', incremental) }}
    union all
    select r.dossier_code, r.unit_code, r.procedure_code, r.resolved_month as period_month, 'e_result' as metric, 'no_e_result' as failure
    from resolutions as r
    where r.is_paper_result and not r.is_e_result_issued
    union all
    select r.dossier_code, r.unit_code, r.procedure_code, r.period_month, 'online_submission' as metric, 'not_online' as failure
    from receptions as r
    where not r.is_online
    union all
    select r.dossier_code, r.unit_code, r.procedure_code, r.period_month, 'online_payment' as metric, 'not_paid_online' as failure
    from receptions as r
    where r.is_fee_bearing and not r.is_paid_online
    union all
    select r.dossier_code, r.unit_code, r.procedure_code, r.period_month, 'digitisation' as metric, 'not_digitised' as failure
    from receptions as r
    where not r.is_digitised
),

failures as (
    {% for spec in metrics.values() %}{% set outer = loop %}
        {% for failure, reason in spec['fails'].items() %}
            select '{{ failure }}' as failure, '{{ reason }}' as reason
            {% if not (outer.last and loop.last) %}union all{% endif %}
        {% endfor %}
    {% endfor %}
),

gains as (
    -- what one more passing dossier gives a unit-month: the same for each dossier of it
    {% for metric in metrics %}
        select
            unit_code as current_unit_code,
            period_month,
            metric,
            {{ index766_points(metric, 'numerator + 1', 'denominator') }}
            - {{ index766_points(metric, 'numerator', 'denominator') }} as points_if_passed
        from {{ ref('index766_unit_month') }}
        where scope = 'current_unit' and metric = '{{ metric }}' and {{ touched('period_month', incremental) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    a.dossier_code,
    u.current_unit_code,
    a.procedure_code,
    a.period_month,
    a.metric,
    f.reason,
    g.points_if_passed,
    {{ ledger_watermark() }} as processed_through_batch_seq
from against as a
join units as u on a.unit_code = u.unit_code
join failures as f on a.failure = f.failure
join gains as g
    on u.current_unit_code = g.current_unit_code and a.period_month = g.period_month and a.metric = g.metric
