{{ config(materialized='view') }}
-- Received dossiers (nộp hồ sơ) with their channel: the online-submission subject.
select dossier_code, unit_code, procedure_code, received_at, received_month, channel, is_online
from {{ ref('fct_dossiers') }}
where is_received
