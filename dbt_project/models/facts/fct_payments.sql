{{ config(materialized='view') }}
-- Received dossiers with a fee (phí, lệ phí > 0) and whether it was paid online (thanh toán trực tuyến).
select dossier_code, unit_code, procedure_code, received_at, received_month, fee_amount, paid_online,
       is_paid_online
from {{ ref('fct_dossiers') }}
where is_fee_bearing
