select unit_code, unit_name, level, parent_code, valid_from, valid_to, successor_code, current_unit_code, steps, is_active
from {{ ref('int_units') }}
