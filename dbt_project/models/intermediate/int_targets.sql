{{ reference_in_force('stg_reference__targets') }}
