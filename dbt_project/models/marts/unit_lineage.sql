{#
  Every unit of the reference with the unit that carries its history today (kpis.md, Unit lineage): a unit that
  merged into another, through any number of hops, is shown with the unit at the end of its chain; a unit that
  ended without a successor (a district in 2025) is its own current unit.
#}
with units as (
    select * from {{ ref('dim_units') }}
)

select
    units.unit_code,
    units.unit_name,
    units.level,
    units.valid_from,
    units.valid_to,
    units.successor_code,
    units.current_unit_code,
    current_units.unit_name as current_unit_name,
    current_units.level as current_level,
    units.steps
from units
join units as current_units on units.current_unit_code = current_units.unit_code
