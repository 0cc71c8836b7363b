{#
  Every unit and every unit its successor chain reaches, with the number of hops: (A, A, 0), (A, B, 1), (A, C, 2)
  for A -> B -> C. Read backwards it gives each unit's predecessors, which a current unit pools (kpis.md, Unit
  lineage). Ingestion rejects a units.csv with a cycle or a missing successor, so every chain ends; the depth
  bound only guards against a reference loaded before that rule.
#}
with units as (
    select unit_code, successor_code
    from ({{ reference_in_force('stg_reference__units') }})
),

chain as (
    with recursive reached (unit_code, reached_code, steps) as (
        select unit_code, unit_code, 0 from units
        union all
        select reached.unit_code, units.successor_code, reached.steps + 1
        from reached
        join units on reached.reached_code = units.unit_code
        where units.successor_code is not null and reached.steps < 50
    )

    select * from reached
)

select unit_code, reached_code, steps from chain
