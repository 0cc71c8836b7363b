"""Ingestion assets: the raw tables of the warehouse, materialised together from the landing folder.

Asset keys are ["raw", table]: the keys of the dbt sources, so lineage runs on from here into dbt.
"""

from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb

from contracts.landed_tables import RAW_TABLES as SPEC
from contracts.vocabulary import HOLD_QUARANTINED_SHARE
from ingestion.ingest import IngestReport
from ingestion.raw_schema import NOT_COUNTED_BATCHES
from orchestration.gate import is_blocking
from orchestration.history import record_expectations, recorded
from orchestration.ingestion_worker import IngestionFailed, ingest
from orchestration.resources import WarehouseResource
from orchestration.run_inputs import STOP_IF_NOTHING_NEW_TAG, record_inputs, stop_if_nothing_new

# the raw tables that are assets of their own, with their descriptions (contracts/landed_tables.py)
RAW_TABLES = {t.name: t.description for t in SPEC.values() if t.asset}
RAW = [dg.AssetKey(["raw", t]) for t in RAW_TABLES]
LEDGER = dg.AssetKey(["raw", "ingestion_ledger"])


def _key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


RAW_SUITES = {"dossier_snapshots": "raw_dossier_batch", "unit_reports": "raw_unit_report_batch"}  # expectations/
CHECKS = [
    spec
    for table, suite in RAW_SUITES.items()
    for spec in (
        dg.AssetCheckSpec("no_quarantined_rows", asset=_key(table),
                          description="Warns when any row of this run was quarantined."),
        dg.AssetCheckSpec(f"{suite}_suite", asset=_key(table), blocking=is_blocking(_key(table), f"{suite}_suite"),
                          description=f"Great Expectations suite {suite} on every loaded batch not validated yet "
                                      "(this run's, and any a killed run left)."),
    )
] + [
    dg.AssetCheckSpec("dossiers_loaded", asset=_key("dossier_snapshots"),
                      blocking=is_blocking(_key("dossier_snapshots"), "dossiers_loaded"),
                      description="Fails (blocking) when the warehouse holds no dossier that counts: an empty or "
                                  "wrongly pointed landing folder (TTHC_LANDING_DIR) would publish empty marts."),
    dg.AssetCheckSpec("no_held_batch", asset=LEDGER, blocking=is_blocking(LEDGER, "no_held_batch"),
                      description=f"Fails (blocking) while a batch with more than {HOLD_QUARANTINED_SHARE:.0%} of its "
                                  "rows quarantined is held: in this run and every later one, until an engineer "
                                  "runs `tthc accept-batch SHA256` or `tthc exclude-batch SHA256`."),
    dg.AssetCheckSpec("no_rejected_files", asset=LEDGER,
                      description="Warns when a landed file was rejected whole since the last successful run."),
]


def quarantine_check(report: IngestReport, table: str) -> dg.AssetCheckResult:
    batches = report.of(table=table, status="loaded")
    quarantined = sum(o.rows_quarantined for o in batches)
    return dg.AssetCheckResult(
        check_name="no_quarantined_rows", asset_key=_key(table), passed=quarantined == 0,
        description=f"{quarantined} rows quarantined in {sum(o.rows_quarantined > 0 for o in batches)} batches",
        metadata={"rows_quarantined": quarantined, "batches": len(batches)})


def suite_check(table: str, suite: str, outcome) -> dg.AssetCheckResult:
    """The raw suite over the batches of `table` not validated before this run (outcome None: none)."""
    return dg.AssetCheckResult(
        check_name=f"{suite}_suite", asset_key=_key(table), passed=outcome is None or outcome.success,
        description="no batch left to validate" if outcome is None else (outcome.describe_failures() or
                                                                         f"{outcome.evaluated} expectations passed"),
        metadata={"failed_rows": 0 if outcome is None else sum(o.unexpected_count for o in outcome.failed)})


def dossiers_loaded_check(con: duckdb.DuckDBPyConnection, landing: Path) -> dg.AssetCheckResult:
    """At least one dossier snapshot counts (its batch neither held nor excluded)."""
    found = con.execute(f"select exists (select 1 from raw.dossier_snapshots "
                        f"where batch_id not in ({NOT_COUNTED_BATCHES}))").fetchall()[0][0]
    folder = landing.resolve() / "dossiers"
    return dg.AssetCheckResult(
        check_name="dossiers_loaded", asset_key=_key("dossier_snapshots"), passed=bool(found),
        description=(f"dossier snapshots loaded from {folder}" if found else
                     f"no dossier at all: nothing that counts was loaded from {folder}; is TTHC_LANDING_DIR the "
                     "landing folder of the exports? Nothing is published until a dossier export loads"),
        metadata={"landing_folder": str(folder)})


def held_batch_check(con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    """Every batch held in the ledger, whichever run loaded it: the hold lasts until it is reviewed."""
    held = con.execute("""
        select any_value(file_path order by ingested_at), sha256, any_value(rows_quarantined),
               any_value(rows_read), min(ingested_at)
        from raw.ingestion_ledger where review = 'held' and status = 'loaded'
        group by sha256 order by min(ingested_at), sha256""").fetchall()
    return dg.AssetCheckResult(
        check_name="no_held_batch", asset_key=LEDGER, passed=not held,
        description=("; ".join(f"{path}: {bad}/{read} rows ({bad / read:.1%}) quarantined, held since "
                               f"{since:%Y-%m-%d %H:%M}: `tthc accept-batch {sha}` or `tthc exclude-batch {sha}`"
                               for path, sha, bad, read, since in held[:10])
                     or "no batch is held"),
        metadata={"held_batches": len(held), "failed_rows": sum(bad for _, _, bad, _, _ in held)})


def rejected_files_check(con: duckdb.DuckDBPyConnection, since: datetime | None) -> dg.AssetCheckResult:
    """Files rejected after `since`, the end of the last successful run: every rejection is warned about until a
    run that reported it succeeds, so a run that crashed after rejecting a file does not hide it."""
    rejected = [error for (error,) in con.execute(
        "select error from raw.ingestion_ledger where status = 'rejected' and ingested_at > ? "
        "order by ingested_at, file_path", [since or datetime.min]).fetchall()]
    return dg.AssetCheckResult(
        check_name="no_rejected_files", asset_key=LEDGER, passed=not rejected,
        description="; ".join(e or "" for e in rejected)[:2000] or "no file rejected",
        metadata={"files_rejected": len(rejected),
                  "since": str(since) if since else "the first run"})


def last_successful_run_end(context: dg.AssetExecutionContext) -> datetime | None:
    """When the last successful run of this job ended: what it rejected, it reported."""
    records = context.instance.get_run_records(
        filters=dg.RunsFilter(job_name=context.job_name, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=1)
    end = records[0].end_time if records else None
    return datetime.fromtimestamp(end) if end else None


class RawTablesConfig(dg.Config):
    rehash_landed_files: bool = False  # hash every landed file, even one whose path, size and times are unchanged


@dg.multi_asset(
    # skippable: a run the landing sensor started stops here when another run ingested everything meanwhile
    specs=[dg.AssetSpec(k, description=RAW_TABLES[k.path[-1]], group_name="ingestion", kinds={"duckdb", "polars"},
                        skippable=True) for k in RAW],
    check_specs=CHECKS,
    can_subset=False,
    name="raw_tables",
    description="Ingest new landed files (dossiers, unit reports, reference) into the raw tables.",
)
@recorded
def raw_tables(context: dg.AssetExecutionContext, config: RawTablesConfig, warehouse: WarehouseResource):
    settings = warehouse.settings()
    if settings.pii_key_is_default:
        context.log.warning("TTHC_PII_KEY is not set: applicant ids are hashed with the development key")
    if not settings.landing_dir.exists():
        raise dg.Failure(f"landing folder {settings.landing_dir} does not exist (TTHC_LANDING_DIR)")
    if context.run.tags.get(STOP_IF_NOTHING_NEW_TAG) == "true":
        stopped = stop_if_nothing_new(settings, context.run.run_id)
        if stopped is not None:
            said = f"{stopped[0].describe(settings)}: this run stops here"
            context.log.info(said)
            for spec in CHECKS:  # Dagster wants a result of each check; none was evaluated
                yield dg.AssetCheckResult(check_name=spec.name, asset_key=spec.asset_key, passed=True,
                                          description=f"not evaluated: {said}")
            return  # nothing materialised: every later step is skipped
    run_at = datetime.now().replace(microsecond=0)
    try:
        result = ingest(settings, run_at, log=context.log.info, warn=context.log.warning,
                        rehash=config.rehash_landed_files)
    except IngestionFailed as exc:
        raise dg.Failure(description=str(exc).splitlines()[0], metadata={"traceback": str(exc)}) from None
    report = result.report
    for line in report.deferred:
        context.log.warning(f"deferred: {line}")
    for o in report.of(status="rejected"):
        context.log.warning(f"rejected: {o.error}")
    for o in report.outcomes:
        if o.replaces:
            context.log.warning(f"replaced: {o.file_path}: batch {o.sha256[:16]} {o.replaced_note}")
    with warehouse.connect(log=context.log.warning) as con:
        validations = result.validations
        for table, outcome in validations.items():
            if outcome is not None:
                record_expectations(con, context.run.run_id, f"raw/{table}", outcome)
        checks = [check for table, suite in RAW_SUITES.items()
                  for check in (quarantine_check(report, table), suite_check(table, suite, validations[table]))]
        checks += [dossiers_loaded_check(con, settings.landing_dir), held_batch_check(con),
                   rejected_files_check(con, last_successful_run_end(context))]
        record_inputs(con, context.run.run_id, settings)
        if settings.on_spark:  # Spark reads the raw tables as Parquet, one partition per batch
            from ingestion.parquet_export import complete_raw_parquet

            # ingestion wrote each new batch's partition as it loaded it: this writes only what a crash or an
            # earlier DuckDB-only run left without one, and the ledger and validations whole
            repaired = complete_raw_parquet(con, settings.raw_parquet_dir)
            if sum(repaired.values()):
                context.log.info(f"raw tables as Parquet in {settings.raw_parquet_dir}: {sum(repaired.values())} "
                                 "batches written from the warehouse (loaded without their Parquet partition)")
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
