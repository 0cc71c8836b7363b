{#
  Late dossiers per unit and month (the month of finished_at, or of due_at while open), how many were explained,
  the explained rate (NULL when there is none late) and how many explanations came with an apology letter.
#}
with late as (
    select
        *,
        {{ month_start('coalesce(finished_at, due_at)') }} as period_month
    from {{ ref('late_dossiers') }}
),

counts as (
    select
        unit_code,
        period_month,
        count(*) as late,
        count(*) filter (where explained) as late_explained,
        count(*) filter (where explained and apology_letter_no is not null) as with_apology
    from late
    group by unit_code, period_month
)

select
    counts.unit_code,
    units.unit_name,
    units.level,
    counts.period_month,
    counts.late,
    counts.late_explained,
    case when counts.late > 0 then counts.late_explained / counts.late end as explained_rate,
    counts.with_apology
from counts
left join {{ ref('dim_units') }} as units using (unit_code)
