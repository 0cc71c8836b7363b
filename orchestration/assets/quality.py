"""Quality: the Great Expectations suite on the unit reports (it warns; a unit's bad report never holds back the
province's figures), recorded expectation by expectation for the data quality page. The marts' invariants are dbt tests, graded by the gate."""

import dagster as dg

from orchestration.history import data_quality_page, record_expectations, recorded
from orchestration.resources import WarehouseResource

DISCREPANCIES = dg.AssetKey(["marts", "unit_report_discrepancies"])


def gx_context(warehouse: WarehouseResource):
    from expectations.engine import get_context

    settings = warehouse.settings()
    return get_context(root=settings.warehouse.parent / "gx")


@dg.asset_check(asset=DISCREPANCIES, name="gx_unit_reports", blocking=False,
                additional_deps=[dg.AssetKey(["quality", "int_unit_report_rules"])],
                description="Every unit report that counts breaks no rule of kpis.md (Great Expectations suite "
                            "unit_reports, on the data quality page). Warns; never blocks publication.")
@recorded
def gx_unit_reports(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    from expectations.unit_reports import validate_unit_reports

    with warehouse.connect(log=context.log.warning) as con:
        reports = validate_unit_reports(con, context=gx_context(warehouse))
        record_expectations(con, context.op_execution_context.run_id, "/".join(DISCREPANCIES.path), reports)
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
