with source as (
    -- where the row is in the append-only raw table, read within one query (int_dossier_current_state)
    select {{ snapshot_rowid() }} as snapshot_rowid, * from {{ source('raw', 'dossier_snapshots') }}
    where {{ counted_batches() }}
),

renamed as (
    select
        snapshot_rowid,
        batch_id,
        batch_seq,
        source_row,
        dossier_code,
        procedure_code,
        procedure_name,
        unit_code,
        cast(channel as integer) as channel,
        received_at,
        due_at,
        finished_at,
        cast(status as integer) as status,
        fee_amount,
        cast(paid_online as integer) as paid_online,
        e_receipt_no,
        components_digitised,
        e_result,
        applicant_id_hash,
        updated_at,
        ingested_at
    from source
)

select * from renamed
