{#
  The organisation tree from the latest reference batch, each unit with the unit that carries its history on
  today (following successor codes through every reorganisation).
#}
with units as (
    select * exclude (batch_seq)
    from {{ ref('stg_reference__units') }}
    where batch_seq = (select max(batch_seq) from {{ ref('stg_reference__units') }})
),

successions as (
    with recursive chain (unit_code, current_unit_code, depth) as (
        select unit_code, unit_code, 0 from units
        union all
        select chain.unit_code, units.successor_code, chain.depth + 1
        from chain
        join units on chain.current_unit_code = units.unit_code
        where units.successor_code is not null and chain.depth < 20
    )

    select unit_code, arg_max(current_unit_code, depth) as current_unit_code
    from chain
    group by unit_code
)

select
    units.*,
    successions.current_unit_code,
    units.valid_to is null as is_active
from units
join successions using (unit_code)
