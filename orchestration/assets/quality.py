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
