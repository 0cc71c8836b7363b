with source as (
    -- where the row is in the append-only raw table, read within one query (int_dossier_current_state)
    select {{ snapshot_rowid() }} as snapshot_rowid, * from {{ source('raw', 'dossier_snapshots') }}
    where {{ counted_batches() }}
),

renamed as (
    select
        snapshot_rowid,
        {{ staged_columns('dossier_snapshots') }}
    from source
)

select * from renamed
