{#
  The programmes scored (kpis.md, Programmes): reference/programmes.csv's latest batch that counts or, when none
  was ever landed, Directive 10 alone (the `default_programme` var, with the Directive's dates).
#}
with landed as (
    {{ reference_in_force('stg_reference__programmes') }}
),

default_programme as (
    select
        '{{ var("default_programme")["code"] }}' as programme_code,
        '{{ var("default_programme")["name"] }}' as programme_name,
        cast('{{ var("directive_effective_date") }}' as date) as effective_date,
        {{ var('baseline_months') }} as baseline_months,
        cast(null as date) as end_date
)

select * from landed
union all
select * from default_programme
where not exists (select 1 from landed)
