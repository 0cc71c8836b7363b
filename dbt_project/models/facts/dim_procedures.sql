select procedure_code, procedure_name, field, online_service_level, paper_result, has_fee
from {{ ref('int_procedures') }}
