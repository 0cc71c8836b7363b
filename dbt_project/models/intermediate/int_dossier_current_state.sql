{#
  The current state of every dossier: its snapshot with the greatest updated_at; on a tie, the one from the
  batch ingested later, then the later row (landing.md). received_unit_code is the unit of its earliest snapshot
  whose status counts as received: a dossier handed to a successor keeps its reception where it was received.

  Each choice is a maximum or a minimum over a dossier's snapshots, so a dossier's state merges with new snapshots
  without reading its old ones again. A full build groups every snapshot by dossier on the few columns that rank and
  count them, then fetches each dossier's winner by its row id in the raw table (DuckDB reads those rows only). An incremental
  run reads only the snapshots of batches past the watermark (the ledger's last batch at the previous build) and
  ranks them with the stored state of the dossiers they touch: the stored state counts as its snapshots
  (snapshot_count of them; received_snapshot, the ordering key of its earliest received one, for the reception),
  so an out-of-order re-delivery is still placed where it belongs. A held batch that is later accepted or excluded
  rebuilds the model whole (the watermark only looks forward).
  Merging reads only the day's snapshots, where re-ranking every snapshot of the touched dossiers scanned most of the
  raw table (benchmarks/README.md).
  received_month is the partition Spark overwrites (macro incremental_by_dossier): there a run re-emits every
  dossier of the months it touches.
#}
{{ config(materialized='incremental', **incremental_by_dossier()) }}

{#- the snapshot's columns a dossier's state carries: the spec's current_state ones (contracts/landed_tables.py) -#}
{%- set state_columns = current_state_columns() + ['batch_id', 'batch_seq', 'source_row'] %}
{%- set received_key -%}
    case
        when status not in {{ statuses('not_received') }}
            then {{ ordering_key('updated_at', 'batch_seq', 'source_row') }}
    end
{%- endset %}

{%- set merging = is_incremental() %}

{% if merging %}
    with new_snapshots as (
        select dossier_code, {{ state_columns | join(', ') }}
        from {{ ref('stg_tthc__dossier_snapshots') }}
        where batch_seq > (select coalesce(max(processed_through_batch_seq), 0) from {{ this }})
    ),

    candidates as (
        -- the stored state of each touched dossier stands for the snapshots it was chosen from
        select
            dossier_code,
            {{ state_columns | join(', ') }},
            snapshot_count,
            case when received_snapshot is not null then received_unit_code end as received_unit_code,
            received_snapshot
            {{ replaced_rowid('rowid', 'stored_rowid') }}
        from {{ this }}
        {% if target.type == 'spark' -%}
            -- whole received months are overwritten (Spark): every dossier of a month the new snapshots touch
            where coalesce(received_month, date '1900-01-01') in (
                select coalesce(received_month, date '1900-01-01') from {{ this }}
                where dossier_code in (select dossier_code from new_snapshots)
                union all
                select coalesce({{ month_start('received_at') }}, date '1900-01-01') from new_snapshots
            )
        {%- else -%}
            where dossier_code in (select dossier_code from new_snapshots)
        {%- endif %}
        union all
        select
            dossier_code,
            {{ state_columns | join(', ') }},
            1 as snapshot_count,
            unit_code as received_unit_code,
            {{ received_key }} as received_snapshot
            {{ replaced_rowid('null', 'stored_rowid') }}
        from new_snapshots
    ),

    ranked as (
        select
            *,
            cast(sum(snapshot_count) over (partition by dossier_code) as bigint) as snapshots_of_dossier,
            -- the unit that received it: of its earliest snapshot with a status that counts as received (kpis.md)
            min_by(received_unit_code, received_snapshot) over (partition by dossier_code)
                as first_received_unit_code,
            min(received_snapshot) over (partition by dossier_code) as first_received_snapshot,
            row_number() over (
                partition by dossier_code order by updated_at desc, batch_seq desc, source_row desc
            ) as recency
            -- the dossier's stored state, which the winner replaces whichever snapshot won
            {{ replaced_rowid('max(stored_rowid) over (partition by dossier_code)') }}
        from candidates
    ),

    winners as (
        select * from ranked where recency = 1
    )
{% else %}
    with candidates as (
        select
            snapshot_rowid,
            dossier_code,
            unit_code,
            {{ ordering_key('updated_at', 'batch_seq', 'source_row') }} as recency_key,
            {{ received_key }} as received_snapshot
        from {{ ref('stg_tthc__dossier_snapshots') }}
    ),

    -- one group per dossier: a hash aggregation (windows over every snapshot sorted each dossier's: 4x slower at 10M)
    winners as (
        select
            dossier_code,
            max_by(snapshot_rowid, recency_key) as snapshot_rowid,
            count(*) as snapshots_of_dossier,
            -- the unit that received it: of its earliest snapshot with a status that counts as received (kpis.md)
            min_by(unit_code, received_snapshot) as first_received_unit_code,
            min(received_snapshot) as first_received_snapshot
        from candidates
        group by dossier_code
    )
{% endif %}

select
    winners.dossier_code,
    {% for column in state_columns -%}
        {{ 'winners' if merging else 'snapshots' }}.{{ column }},
    {% endfor -%}
    coalesce(winners.first_received_unit_code, {{ 'winners' if merging else 'snapshots' }}.unit_code)
        as received_unit_code,
    winners.first_received_snapshot as received_snapshot,
    {{ month_start(('winners' if merging else 'snapshots') ~ '.received_at') }} as received_month,
    winners.snapshots_of_dossier as snapshot_count,
    {{ ledger_watermark() }} as processed_through_batch_seq
    {{ replaced_rowid('winners.replaced_rowid') }}
from winners
{% if not merging %}
    inner join {{ ref('stg_tthc__dossier_snapshots') }} as snapshots
        on winners.snapshot_rowid = snapshots.snapshot_rowid
{% endif %}
