{#
  The organisation tree from the latest reference batch, each unit with the unit that carries its history on
  today (following successor codes through every reorganisation) and how many hops away it is.
#}
with units as (
    {{ reference_in_force('stg_reference__units') }}
),

current_units as (
    select
        unit_code,
        max_by(reached_code, steps) as current_unit_code,
        max(steps) as steps
    from {{ ref('int_unit_successions') }}
    group by unit_code
)

select
    units.*,
    current_units.current_unit_code,
    current_units.steps,
    units.valid_to is null as is_active
from units
join current_units using (unit_code)
