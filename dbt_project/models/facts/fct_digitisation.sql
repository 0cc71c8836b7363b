{{ config(materialized='view') }}
-- Received dossiers with the digitisation of their components (số hóa thành phần hồ sơ).
select dossier_code, unit_code, procedure_code, received_at, received_month, is_digitised
from {{ ref('fct_dossiers') }}
where is_received
