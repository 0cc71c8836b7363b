"""Quality gate: Great Expectations suites on the marts (blocking) and on the unit reports (warning)."""

import dagster as dg

from orchestration.history import record_checks
from orchestration.resources import WarehouseResource

BLOCKING_SUITES = {
    # suite -> (asset it guards, what it asserts)
    "kpi_unit_month": (["marts", "kpi_unit_month"],
                       "Rates in [0, 1], parts never exceed wholes, every unit of the reference present."),
    "kpi_level_month": (["marts", "kpi_level_month"],
                        "Rates in [0, 1], parts never exceed wholes, level rows equal the sum of their units."),
    "directive10_scorecard": (["marts", "directive10_scorecard"],
                              "Window and baseline values in [0, 1], numerators within denominators."),
    "no_personal_data": (["marts", "ingestion_ledger"],
                         "No column of the marts or the check history holds personal data (applicant name, id, id hash)."),
}
SPECS = [dg.AssetCheckSpec(f"gx_{suite}", asset=dg.AssetKey(key), blocking=True, description=description)
         for suite, (key, description) in BLOCKING_SUITES.items()]
SPECS.append(dg.AssetCheckSpec(
    "gx_unit_reports", asset=dg.AssetKey(["marts", "unit_report_discrepancies"]), blocking=False,
    additional_deps=[dg.AssetKey(["quality", "int_unit_report_rules"])],
    description="Every unit report that counts breaks no rule of kpis.md. Warns; never blocks publication."))


def gx_context(warehouse: WarehouseResource):
    from expectations.engine import get_context

    settings = warehouse.settings()
    return get_context(root=settings.warehouse.parent / "gx", docs_dir=settings.published.parent / "data_docs")


@dg.multi_asset_check(specs=SPECS, name="mart_quality_suites", can_subset=False)
def mart_quality_suites(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    from expectations.marts import validate_marts
    from expectations.unit_reports import validate_unit_reports

    gx = gx_context(warehouse)
    results = []
    with warehouse.connect(log=context.log.warning) as con:
        outcomes = validate_marts(con, context=gx)
        for suite, (key, _) in BLOCKING_SUITES.items():
            outcome = outcomes[suite]
            results.append(dg.AssetCheckResult(
                check_name=f"gx_{suite}", asset_key=dg.AssetKey(key), passed=outcome.success,
                severity=dg.AssetCheckSeverity.ERROR,
                description=outcome.describe_failures() or f"{outcome.evaluated} expectations passed",
                metadata={"failed_rows": sum(o.unexpected_count for o in outcome.failed),
                          "expectations": outcome.evaluated}))
        reports = validate_unit_reports(con, context=gx)
        flagged = reports.failing_keys()
        results.append(dg.AssetCheckResult(
            check_name="gx_unit_reports", asset_key=dg.AssetKey(["marts", "unit_report_discrepancies"]),
            passed=reports.success, severity=dg.AssetCheckSeverity.WARN,
            description=(f"{len(flagged)} unit reports break a rule: see marts.unit_report_discrepancies"
                         if flagged else "every counting unit report is consistent"),
            metadata={"failed_rows": len(flagged), "expectations": reports.evaluated}))
        record_checks(con, context.op_execution_context.run_id, results)
    context.log.info(f"Great Expectations data docs: {warehouse.settings().published.parent / 'data_docs' / 'index.html'}")
    yield from results
