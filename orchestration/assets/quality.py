"""Quality: the Great Expectations suite on the unit reports, evaluated in DuckDB SQL (it warns; a unit's bad report never
holds back the province's figures), recorded expectation by expectation for the data quality page. The marts'
invariants are dbt tests, graded by the gate."""

import dagster as dg

from orchestration.history import data_quality_page, record_expectations, recorded
from orchestration.resources import WarehouseResource

DISCREPANCIES = dg.AssetKey(["marts", "unit_report_discrepancies"])


@dg.asset_check(asset=DISCREPANCIES, name="gx_unit_reports", blocking=False,
                additional_deps=[dg.AssetKey(["quality", "int_unit_report_rules"])],
                description="Every unit report that counts breaks no rule of docs/contracts/kpis.md (Great Expectations suite "
                            "unit_reports, evaluated in DuckDB SQL; on the data quality page). Warns; never blocks "
                            "publication.")
@recorded
def gx_unit_reports(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    from expectations.unit_reports import validate_unit_reports

    with warehouse.connect(log=context.log.warning) as con:
        reports = validate_unit_reports(con)
        record_expectations(con, context.op_execution_context.run_id, "/".join(DISCREPANCIES.path), reports)
        con.execute("drop table if exists quality.suite_results")  # where earlier versions kept GX's last outcome
    flagged = reports.failing_keys()
    context.log.info(f"data quality page: {data_quality_page(warehouse.settings())}")
    return dg.AssetCheckResult(
        check_name="gx_unit_reports", asset_key=DISCREPANCIES, passed=reports.success,
        description=(f"{len(flagged)} unit reports break a rule: see marts.unit_report_discrepancies"
                     if flagged else "every counting unit report is consistent"),
        metadata={"failed_rows": len(flagged), "expectations": reports.evaluated})


LATE_DOSSIERS = dg.AssetKey(["marts", "late_dossiers"])


def unexplained_late_units(con, days: int) -> list[tuple[str, int]]:
    """(unit, dossiers) of the units with dossiers late for more than `days` days and not explained, most first."""
    return con.execute("select unit_code, count(*) from marts.late_dossiers where not explained and days_late > ? "
                       "group by unit_code order by count(*) desc, unit_code", [days]).fetchall()


@dg.asset_check(asset=LATE_DOSSIERS, name="late_dossiers_explained", blocking=False,
                description="Warns when a unit has dossiers late for more than `unexplained_late_days` (30) days that "
                            "it has not explained (Directive 10), naming the units and how many. Never blocks.")
@recorded
def late_dossiers_explained(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    from contracts.rules import rules

    days = rules().unexplained_late_days
    with warehouse.connect(log=context.log.warning) as con:
        units = unexplained_late_units(con, days)
    return dg.AssetCheckResult(
        check_name="late_dossiers_explained", asset_key=LATE_DOSSIERS, passed=not units,
        description=(f"{len(units)} units have dossiers late for more than {days} days and unexplained: "
                     + ", ".join(f"{unit} ({n})" for unit, n in units[:30]) + (" ..." if len(units) > 30 else "")
                     if units else f"every dossier late for more than {days} days is explained"),
        metadata={"failed_rows": sum(n for _, n in units), "units": len(units)})


UNIT_MONTH = dg.AssetKey(["marts", "kpi_unit_month"])
LEVEL_MONTH = dg.AssetKey(["marts", "kpi_level_month"])

# The received figures of every complete month of the previous published file (attached as `previous_published`)
# against this build's
# marts: a drop by more than the share, province-wide or for a unit that had enough dossiers, that no excluded
# batch explains (an excluded batch holding dossiers received that month, of that unit for a unit's drop).
RECEIVED_DROPS = """
with before as (
    select null as unit_code, period_month, received from previous_published.marts.kpi_level_month
    where level = 'toan_tinh' and is_complete_month
    union all
    select unit_code, period_month, received from previous_published.marts.kpi_unit_month
    where is_complete_month and received >= $min_unit
),
now as (
    select null as unit_code, period_month, received from marts.kpi_level_month where level = 'toan_tinh'
    union all
    select unit_code, period_month, received from marts.kpi_unit_month
),
excluded as (  -- batch_seq grows with loading: its range lets DuckDB skip the other row groups
    select distinct s.unit_code, date_trunc('month', s.received_at)::date as period_month
    from raw.dossier_snapshots s
    where s.batch_seq between $first_excluded and $last_excluded
      and s.batch_id in (select sha256 from raw.ingestion_ledger where review = 'excluded')
)
select b.unit_code, b.period_month, b.received, coalesce(n.received, 0) as received_now
from before b
left join now n on n.period_month = b.period_month and n.unit_code is not distinct from b.unit_code
where coalesce(n.received, 0) < b.received * (1 - $share)
  and not exists (select 1 from excluded x where x.period_month = b.period_month
                  and (b.unit_code is null or x.unit_code = b.unit_code))
order by b.unit_code nulls first, b.period_month
"""


def received_drops(con, previous_published, share: float, min_unit: int) -> list[tuple]:
    """(unit_code or None for the province, month, received before, received now) of each unexplained drop."""
    first, last = con.execute("select coalesce(min(batch_seq), 0), coalesce(max(batch_seq), -1) "
                              "from raw.ingestion_ledger where review = 'excluded'").fetchall()[0]
    con.execute(f"attach '{previous_published}' as previous_published (read_only)")
    try:
        return con.execute(RECEIVED_DROPS, {"share": share, "min_unit": min_unit, "first_excluded": first,
                                            "last_excluded": last}).fetchall()
    finally:
        con.execute("detach previous_published")


@dg.asset_check(asset=UNIT_MONTH, name="received_not_dropped", blocking=True,
                additional_deps=[LEVEL_MONTH, dg.AssetKey(["raw", "dossier_snapshots"]),
                                 dg.AssetKey(["raw", "ingestion_ledger"])],
                description="Blocks publication when a complete month's received dossiers fall, against the previous "
                            "published file, by more than `received_drop.share` (1%) province-wide or for a unit that "
                            "had at least `received_drop.min_unit_received` (100), naming the month and unit, unless "
                            "an excluded batch (`tthc exclude-batch`) holds dossiers of that month (and unit).")
@recorded
def received_not_dropped(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    from contracts.rules import rules

    settings = warehouse.settings()
    if not settings.published.exists():
        return dg.AssetCheckResult(check_name="received_not_dropped", asset_key=UNIT_MONTH, passed=True,
                                   description="no previous published file to compare with")
    share, min_unit = rules().received_drop_share, rules().received_drop_min_unit
    with warehouse.connect(log=context.log.warning) as con:
        drops = received_drops(con, settings.published, share, min_unit)
    shown = "; ".join(f"{unit or 'toàn tỉnh'} {month:%m/%Y}: {before:,} -> {now:,} received "
                      f"({(now - before) / before:+.1%})" for unit, month, before, now in drops[:20])
    return dg.AssetCheckResult(
        check_name="received_not_dropped", asset_key=UNIT_MONTH, passed=not drops,
        description=(f"received dossiers of a complete month fell by more than {share:.0%} against "
                     f"{settings.published}: {shown}{' ...' if len(drops) > 20 else ''}. If a batch was wrong, "
                     "`tthc exclude-batch SHA256` explains the drop; otherwise find the export that changed them"
                     if drops else f"no complete month's received figure fell by more than {share:.0%} against "
                                   f"{settings.published}"),
        metadata={"failed_rows": len(drops)})
