"""Ingestion assets: the raw tables of the warehouse, materialised together from the landing folder.

Asset keys are ["raw", table]: the keys of the dbt sources, so lineage runs on from here into dbt.
"""

from datetime import datetime

import dagster as dg

from ingestion.ingest import IngestReport, ingest_landing
from ingestion.warehouse import ensure_raw_schema
from orchestration.history import record_checks
from orchestration.resources import WarehouseResource

RAW_TABLES = {
    "dossier_snapshots": "Dossier snapshots (hồ sơ), one row per loaded export row, append-only.",
    "unit_reports": "Monthly unit self-reports (báo cáo định kỳ) as reported, append-only.",
    "reference_units": "Organisation tree (đơn vị) per reference batch.",
    "reference_procedures": "Procedure catalogue (TTHC) per reference batch.",
    "reference_targets": "Directive 10 targets per reference batch.",
    "quarantine": "Rejected rows with their masked raw text and every reason.",
    "ingestion_ledger": "One row per landed file: loaded, skipped_same_bytes or rejected, with row accounting.",
}
QUARANTINE_BLOCKING_SHARE = 0.05
RAW = [dg.AssetKey(["raw", t]) for t in RAW_TABLES]


def _key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


RAW_SUITES = {"dossier_snapshots": "raw_dossier_batch", "unit_reports": "raw_unit_report_batch"}  # expectations/
CHECKS = [
    spec
    for table, suite in RAW_SUITES.items()
    for spec in (
        dg.AssetCheckSpec("no_quarantined_rows", asset=_key(table),
                          description="Warns when any row of this run was quarantined."),
        dg.AssetCheckSpec("batch_quarantine_share_at_most_5pct", asset=_key(table), blocking=True,
                          description="Fails (blocking) when more than 5% of a batch of this run was quarantined."),
        dg.AssetCheckSpec(f"{suite}_suite", asset=_key(table), blocking=True,
                          description=f"Great Expectations suite {suite} on this run's batches."),
    )
] + [dg.AssetCheckSpec("no_rejected_files", asset=_key("ingestion_ledger"),
                       description="Warns when a landed file was rejected whole in this run.")]


def quarantine_checks(report: IngestReport, table: str) -> list[dg.AssetCheckResult]:
    batches = report.of(table=table, status="loaded")
    quarantined = sum(o.rows_quarantined for o in batches)
    worst = sorted(batches, key=lambda o: -o.quarantined_share)
    over = [o for o in worst if o.quarantined_share > QUARANTINE_BLOCKING_SHARE]
    return [
        dg.AssetCheckResult(
            check_name="no_quarantined_rows", asset_key=_key(table), passed=quarantined == 0,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{quarantined} rows quarantined in {sum(o.rows_quarantined > 0 for o in batches)} batches",
            metadata={"rows_quarantined": quarantined, "batches": len(batches)}),
        dg.AssetCheckResult(
            check_name="batch_quarantine_share_at_most_5pct", asset_key=_key(table), passed=not over,
            severity=dg.AssetCheckSeverity.ERROR,
            description=("; ".join(f"{o.file_path}: {o.rows_quarantined}/{o.rows_read} rows "
                                   f"({o.quarantined_share:.1%}) quarantined" for o in over[:10])
                         or "no batch over 5% quarantined"),
            metadata={"worst_batch": worst[0].file_path if worst else "",
                      "worst_share": float(worst[0].quarantined_share) if worst else 0.0}),
    ]


@dg.multi_asset(
    specs=[dg.AssetSpec(k, description=RAW_TABLES[k.path[-1]], group_name="ingestion", kinds={"duckdb", "polars"})
           for k in RAW],
    check_specs=CHECKS,
    can_subset=False,
    name="raw_tables",
    description="Ingest new landed files (dossiers, unit reports, reference) into the raw tables.",
)
def raw_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from expectations.raw_batches import validate_batches

    settings = warehouse.settings()
    if settings.pii_key_is_default:
        context.log.warning("TTHC_PII_KEY is not set: applicant ids are hashed with the development key")
    if not settings.landing_dir.exists():
        raise dg.Failure(f"landing folder {settings.landing_dir} does not exist (TTHC_LANDING_DIR)")
    run_at = datetime.now().replace(microsecond=0)
    last_step = {"step": None}

    def progress(step: str, done: int, total: int) -> None:
        if step != last_step["step"] or done == total or done % 100 == 0:
            context.log.info(f"{step}: {done}/{total}")
            last_step["step"] = step

    with warehouse.connect() as con:
        ensure_raw_schema(con)
        report = ingest_landing(settings.landing_dir, con, settings.pii_key, progress=progress, now=run_at)
        for line in report.deferred:
            context.log.warning(f"deferred: {line}")
        for o in report.of(status="rejected"):
            context.log.warning(f"rejected: {o.error}")
        checks: list[dg.AssetCheckResult] = []
        for table, suite in RAW_SUITES.items():
            checks += quarantine_checks(report, table)
            outcome = validate_batches(con, table, [o.sha256 for o in report.of(table=table, status="loaded")], run_at)
            checks.append(dg.AssetCheckResult(
                check_name=f"{suite}_suite", asset_key=_key(table), passed=outcome is None or outcome.success,
                severity=dg.AssetCheckSeverity.ERROR,
                description="no new batch" if outcome is None else (outcome.describe_failures() or
                                                                    f"{outcome.evaluated} expectations passed"),
                metadata={"failed_rows": 0 if outcome is None else sum(o.unexpected_count for o in outcome.failed)}))
        rejected = report.of(status="rejected")
        checks.append(dg.AssetCheckResult(
            check_name="no_rejected_files", asset_key=_key("ingestion_ledger"), passed=not rejected,
            severity=dg.AssetCheckSeverity.WARN,
            description="; ".join(o.error or "" for o in rejected)[:2000] or "no file rejected",
            metadata={"files_rejected": len(rejected)}))
        record_checks(con, context.run.run_id, checks, run_at)
        counts = dict(con.execute(" union all ".join(
            f"select '{t}', count(*) from raw.{t}" for t in RAW_TABLES)).fetchall())
    context.log.info(f"ingestion: {report.summary()}")
    for table in RAW_TABLES:
        batches = report.outcomes if table in ("quarantine", "ingestion_ledger") else report.of(table=table)
        yield dg.MaterializeResult(asset_key=_key(table), metadata={
            "rows_total": counts[table],
            "files_seen": len(batches),
            "files_loaded": sum(o.status == "loaded" for o in batches),
            "files_skipped": sum(o.status == "skipped_same_bytes" for o in batches),
            "files_rejected": sum(o.status == "rejected" for o in batches),
            "rows_loaded": sum(o.rows_loaded for o in batches),
            "rows_quarantined": sum(o.rows_quarantined for o in batches),
        })
    yield from checks
