"""Publication: the marts schema, and nothing else, into $TTHC_PUBLISHED, atomically.

Runs only when every blocking check upstream passed (Dagster skips it otherwise), so a failed gate leaves the
previous file byte for byte. The new file is written beside the old one and renamed into place: analysts who
have the old file open keep reading it undisturbed.
"""

import os
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import duckdb

from contracts.personal_data import PERSONAL_DATA_COLUMNS
from orchestration import duckdb_files
from orchestration.check_history import DDL as CHECK_HISTORY_DDL
from orchestration.data_dictionary import write_data_dictionary
from orchestration.history import recorded
from orchestration.publication_plan import WATERMARK, Plan, columns_of, plan, read_state, record_state
from orchestration.published_docs import (
    PARQUET_DESCRIPTION_KEY,
    WAREHOUSE_ONLY_COLUMNS,
    TableDoc,
    parquet_metadata,
    published_docs,
    write_comments,
)
from orchestration.resources import WarehouseResource
from orchestration.run_inputs import mark_completed
from orchestration.settings import Settings
from reporting.published import open_published, report_month
from storage.duckdb_connection import DuckDBLimits
from storage.processes import process_alive

PUBLISHED_TABLES = {
    # published table -> warehouse relation
    "kpi_unit_month": "marts.kpi_unit_month",
    "kpi_level_month": "marts.kpi_level_month",
    "directive10_scorecard": "marts.directive10_scorecard",
    "directive10_summary": "marts.directive10_summary",
    "unit_report_discrepancies": "marts.unit_report_discrepancies",
    "overdue_dossiers": "marts.overdue_dossiers",
    "unit_lineage": "marts.unit_lineage",
    "kpi_current_unit_month": "marts.kpi_current_unit_month",
    "programme_scorecard": "marts.programme_scorecard",
    "programme_summary": "marts.programme_summary",
    "programme_unit_year": "marts.programme_unit_year",
    "index766_unit_month": "marts.index766_unit_month",
    "index766_dossier_losses": "marts.index766_dossier_losses",
    "late_dossiers": "marts.late_dossiers",
    "late_explanations_unit_month": "marts.late_explanations_unit_month",
    "explanation_issues": "marts.explanation_issues",
    "data_quality_runs": "quality.check_runs",
    "ingestion_ledger": "marts.ingestion_ledger",
    "targets": "marts.targets",
    "dim_units": "facts.dim_units",
    "dim_procedures": "facts.dim_procedures",
}
PERSONAL_DATA = re.compile(PERSONAL_DATA_COLUMNS)
PARQUET_BATCH_ROWS = 100_000
MART_DEPS = [dg.AssetKey(relation.split(".")) for t, relation in PUBLISHED_TABLES.items() if t != "data_quality_runs"]


def staging_file(published: Path, pid: int) -> Path:
    return published.with_name(f".{published.name}.{pid}.tmp")


def remove_staging_file(staging: Path) -> None:
    """A staging file and the write-ahead log DuckDB may have left beside it."""
    staging.unlink(missing_ok=True)
    staging.with_name(staging.name + ".wal").unlink(missing_ok=True)


def remove_stale_staging_files(published: Path) -> list[Path]:
    """Staging files (`.<name>.<pid>.tmp`, of the file or of its Parquet copies, and their `.tmp.wal`) of
    publications whose process died mid-write (killed, power cut): nobody will finish them."""
    stale = []
    month_folders = [parquet_folder(published) / t for t in PARQUET_BY_MONTH]
    for folder in (published.parent, parquet_folder(published), *month_folders):
        for path in [*folder.glob(".*.tmp"), *folder.glob(".*.tmp.wal")]:
            pid = path.name.removesuffix(".wal").removesuffix(".tmp").rsplit(".", 1)[-1]
            if pid.isdigit() and not process_alive(int(pid)):
                path.unlink(missing_ok=True)
                stale.append(path)
    return stale


def publish(warehouse: Path, published: Path, settings: Settings | None = None,
            log: Callable[[str], None] | None = None, manifest: Path | None = None,
            say: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write the published tables into a file beside `published` (a copy of it, where the last publication wrote
    it: only what changed is written again, publication_plan.py), with their descriptions from the dbt YAML
    (`manifest`, by default the dbt project's), verify it, and rename it into place. `log` gets warnings, `say`
    what was written."""
    if manifest is None:
        from orchestration.assets.warehouse import ensure_manifest

        manifest = ensure_manifest()
    docs = published_docs(manifest, PUBLISHED_TABLES)
    settings = (settings or Settings.from_env()).with_paths(warehouse=warehouse, published=published)
    published.parent.mkdir(parents=True, exist_ok=True)
    for stale in remove_stale_staging_files(published):
        if log:
            log(f"removed {stale.name}, left by a publication whose process died mid-write")
    staging = staging_file(published, os.getpid())
    remove_staging_file(staging)
    try:
        with duckdb_files.connect(warehouse, settings) as con:
            con.execute(CHECK_HISTORY_DDL)  # a first run blocked before any check ran still publishes none
            state = read_state(con, published)
            if state:  # the file the last publication wrote: start from it (publication_plan.py)
                shutil.copyfile(published, staging)
            # written in a storage format that DuckDB 1.x readers (most SQL clients, notebooks, BI drivers) open
            con.execute(f"attach '{staging}' as published (storage_version '{settings.published_storage_version}')")
            con.execute("create schema if not exists published.marts")
            plans = {table: plan(con, table, relation, state, described(docs[table]))
                     for table, relation in PUBLISHED_TABLES.items()}
            for table, relation in PUBLISHED_TABLES.items():
                write_table(con, table, relation, plans[table])
            write_comments(con, "published.marts", {t: docs[t] for t, p in plans.items() if p.action == "whole"})
            con.execute("detach published")
        counts = verify(staging, settings.duckdb_limits())
        with open(staging, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(staging, published)
        export_parquet(published, docs, plans, settings.duckdb_limits())
        with duckdb_files.connect(warehouse, settings) as con:
            record_state(con, plans, published)
        if say:
            say(describe_plans(plans) if state else f"wrote all {len(plans)} tables")
        return counts
    except BaseException as exc:
        full = duckdb_files.no_space_left(exc, staging if staging.exists() else published)
        if full is not None:
            raise full from None  # the one line to show: which file, which folder, what to do
        raise
    finally:
        remove_staging_file(staging)


def described(doc: TableDoc) -> str:
    """A digest of a table's descriptions (publication_plan.fingerprint)."""
    import hashlib

    return hashlib.sha256(repr((doc.description, sorted(doc.columns.items()))).encode()).hexdigest()[:16]


def describe_plans(plans: dict[str, Plan]) -> str:
    """What a publication wrote: "2 tables written whole (explanation_issues, data_quality_runs); the rebuilt months
    of kpi_unit_month (1) and index766_dossier_losses (1); the rewritten dossiers of late_dossiers; 16 tables kept as
    they were"."""
    whole = [t for t, p in plans.items() if p.action == "whole"]
    months = [f"{t} ({len(p.months)})" for t, p in plans.items() if p.action == "months"]
    dossiers = [t for t, p in plans.items() if p.action == "dossiers"]
    kept = sum(p.action == "keep" for p in plans.values())
    parts = ([f"{len(whole)} table{'s' if len(whole) != 1 else ''} written whole ({', '.join(whole)})"] if whole else []) \
        + ([f"the rebuilt months of {', '.join(months[:-1])}{' and ' if len(months) > 1 else ''}{months[-1]}"]
           if months else []) + ([f"the rewritten dossiers of {', '.join(dossiers)}"] if dossiers else []) \
        + [f"{kept} tables kept as they were"]
    return "; ".join(parts)


def write_table(con: duckdb.DuckDBPyConnection, table: str, relation: str, how: Plan) -> None:
    """Bring published.marts.<table> to the warehouse relation, as planned (publication_plan.py)."""
    target, columns = f"published.marts.{table}", published_columns(con, relation)
    if how.action == "whole":
        con.execute(f"drop table if exists {target}")
        con.execute(f"create table {target} as select {columns} from {relation}")
    elif how.action == "dossiers":  # those rewritten since the last publication, and those no longer listed
        con.execute(f"delete from {target} where dossier_code in (select dossier_code from {relation} "
                    f"where {WATERMARK} > ?) or dossier_code not in (select dossier_code from {relation})",
                    [how.since])
        con.execute(f"insert into {target} select {columns} from {relation} where {WATERMARK} > ?", [how.since])
    elif how.action == "months":
        con.execute("create or replace temp table months_to_publish (period_month date)")
        con.executemany("insert into months_to_publish values (?)", [[m] for m in how.months])
        con.execute(f"delete from {target} where period_month in (select period_month from months_to_publish) "
                    f"or period_month not in (select distinct period_month from {relation})")  # or emptied
        con.execute(f"insert into {target} select {columns} from {relation} "
                    f"where period_month in (select period_month from months_to_publish)")


def published_columns(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """The select list that publishes a warehouse relation: every column but the warehouse's own bookkeeping."""
    return ", ".join(f'"{name}"' for name, _ in columns_of(con, relation) if name not in WAREHOUSE_ONLY_COLUMNS)


def parquet_folder(published: Path) -> Path:
    return published.parent / "parquet"


# written as a folder of one file per month (`parquet/<table>/<YYYY-MM>.parquet`): the losses list is the one
# published table that grows with dossiers × months, and a nightly run rewrites only the months it changed
PARQUET_BY_MONTH = ("index766_dossier_losses",)


def parquet_paths(published: Path, table: str) -> list[Path]:
    """The Parquet file(s) of a published table."""
    folder = parquet_folder(published)
    return sorted((folder / table).glob("*.parquet")) if table in PARQUET_BY_MONTH else [folder / f"{table}.parquet"]


PARQUET_WRITERS = 2  # files written at once: DuckDB reads one table while pyarrow compresses another's rows


def export_parquet(published: Path, docs: dict[str, TableDoc] | None = None,
                   plans: dict[str, Plan] | None = None, limits: DuckDBLimits | None = None) -> list[Path]:
    """The published tables as `parquet/<table>.parquet` beside the file (a folder of months for PARQUET_BY_MONTH),
    for tools that read no DuckDB, each column's description as its field metadata and the table's as the file's;
    each file written beside and renamed into place, like the file itself. With the publication's `plans`, only what
    it wrote: a kept table's copy stays, a table of months gets the months written again; a missing copy is
    written in any case. The files are written PARQUET_WRITERS at a time, the largest tables first."""
    docs, plans = docs or {}, plans or {}
    folder = parquet_folder(published)
    folder.mkdir(parents=True, exist_ok=True)
    writes: list[tuple[str, Path, TableDoc, str]] = []  # (query, file, descriptions, table)
    files_of: dict[str, int] = {}  # a table of months: how many files its rows are spread over
    with open_published(published, limits) as con:
        for table in PUBLISHED_TABLES:
            doc, how = docs.get(table, TableDoc("")), plans.get(table)
            if table not in PARQUET_BY_MONTH:
                target = folder / f"{table}.parquet"
                if how is None or how.action != "keep" or not target.exists():
                    writes.append((f"select * from published.marts.{table}", target, doc, table))
                continue
            months = {m for (m,) in con.execute(f"select distinct period_month from published.marts.{table}").fetchall()}
            files_of[table] = len(months) or 1
            (folder / table).mkdir(exist_ok=True)
            present = {path.stem: path for path in (folder / table).glob("*.parquet")}
            rewrite = set(how.months) if how is not None and how.action == "months" else \
                set() if how is not None and how.action == "keep" else months
            for month in sorted(months):
                target = folder / table / f"{month:%Y-%m}.parquet"
                if month in rewrite or target.stem not in present:
                    writes.append((f"select * from published.marts.{table} where period_month = date "
                                   f"'{month:%Y-%m-%d}'", target, doc, table))
            for stem, path in present.items():
                if stem not in {f"{m:%Y-%m}" for m in months}:
                    path.unlink()  # a month the table no longer holds
        rows = dict(con.execute("select table_name, estimated_size from duckdb_tables() "
                                "where database_name = 'published'").fetchall())
        writes.sort(key=lambda write: rows.get(write[3], 0) / files_of.get(write[3], 1), reverse=True)  # rows a file

        def write(query: str, target: Path, doc: TableDoc, table: str) -> None:
            with con.cursor() as cursor:  # a connection of its own to the same file, for its thread
                _write_parquet(cursor, query, target, doc, table)

        with ThreadPoolExecutor(PARQUET_WRITERS) as pool:
            for done in [pool.submit(write, *w) for w in writes]:
                done.result()  # the first failure, once every write has stopped
    return [target for _, target, _, _ in writes]


def _write_parquet(con: duckdb.DuckDBPyConnection, query: str, target: Path, doc: TableDoc, table: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        reader = con.sql(query).to_arrow_reader(PARQUET_BATCH_ROWS)
        schema = pa.schema(
            [f.with_metadata({PARQUET_DESCRIPTION_KEY: doc.columns.get(f.name, "")}) for f in reader.schema],
            metadata=parquet_metadata(doc, table))
        with pq.ParquetWriter(staging, schema, compression="snappy") as writer:
            for batch in reader:
                writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)


def verify(path: Path, limits: DuckDBLimits | None = None) -> dict[str, int]:
    """The file holds exactly the contract's tables in schema marts, and no personal-data column.

    It is attached under a fixed name (open_published), so a file named `marts.duckdb` is read the same way.
    """
    with open_published(path, limits) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_catalog = 'published'").fetchall()
        if sorted(tables) != sorted(("marts", t) for t in PUBLISHED_TABLES):
            raise dg.Failure(f"published file would hold {sorted(tables)}, not the contract's marts tables")
        columns = con.execute("select table_name, column_name from information_schema.columns "
                              "where table_catalog = 'published'").fetchall()
        personal = [f"{t}.{c}" for t, c in columns if PERSONAL_DATA.search(c)]
        if personal:
            raise dg.Failure(f"personal data columns would be published: {', '.join(personal)}")
        return {t: con.execute(f"select count(*) from published.marts.{t}").fetchone()[0] for t in PUBLISHED_TABLES}


@dg.asset(
    key="published_marts",
    deps=MART_DEPS,
    group_name="publication",
    kinds={"duckdb"},
    description="The marts published to $TTHC_PUBLISHED for analysts (schema marts, no personal data), "
                "replaced atomically and only when every blocking check passed.",
)
def published_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings()
    counts = publish(settings.warehouse, settings.published, settings, log=context.log.warning, say=context.log.info)
    context.log.info(f"published {settings.published} ({', '.join(f'{t}: {n}' for t, n in counts.items())})")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(settings.published.resolve())),
        "bytes": settings.published.stat().st_size,
        "parquet": dg.MetadataValue.path(str(parquet_folder(settings.published).resolve())),
        "storage_version": settings.published_storage_version,
        **{f"rows_{t}": n for t, n in counts.items()},
    })


@dg.asset(
    key="data_dictionary",
    deps=["published_marts"],
    group_name="publication",
    kinds={"dbt", "html"},
    description="The data dictionary: dbt's documentation of every table, column and test (descriptions in "
                "Vietnamese and English, types, lineage) as one static page, data_dictionary.html beside the "
                "published file, that opens from the file system with no server or network. Written again only "
                "when the dbt project or the warehouse's tables and columns changed; `tthc docs` writes it on demand.",
)
def data_dictionary(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from orchestration.assets.warehouse import dbt_executable, ensure_manifest
    from orchestration.settings import DBT_PROJECT_DIR

    settings = warehouse.settings()
    page, written = write_data_dictionary(settings, ensure_manifest(), dbt_executable(), DBT_PROJECT_DIR,
                                          log=context.log.info)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(page.resolve())),
                                          "written": written, "bytes": page.stat().st_size})


class ReportConfig(dg.Config):
    month: str | None = None  # YYYY-MM; default the latest complete month
    provisional: bool = False  # allow `month` to be a month that is not complete (the pack is marked provisional)
    programme: str | None = None  # the programme to score; default the one in force in the report month


REPORTS = dg.AssetKey("reports")


@dg.asset(
    key=REPORTS,
    deps=["published_marts"],
    group_name="publication",
    kinds={"excel", "html"},
    check_specs=[dg.AssetCheckSpec(
        "report_month_complete", asset=REPORTS,
        description="Warns when the pack is provisional: no month of the published data is complete yet (a "
                    "province that started mid-month, a small backfill), so the latest month's pack is marked "
                    "TẠM TÍNH on every sheet and page and written to reports/YYYY-MM_tam_tinh/. Never blocks.")],
    description="The monthly report pack from the published file: the province workbook tong_hop_YYYY-MM.xlsx, "
                "one workbook per unit (don_vi/UNIT_CODE.xlsx) and the offline dashboard.html, under "
                "reports/YYYY-MM/ beside the published file, for the latest complete month; while no month is "
                "complete, a provisional pack of the latest month (reports/YYYY-MM_tam_tinh/). When that month is "
                "December (a run in January), also the year's assessment, reports/danh_gia_nam_YYYY.xlsx.",
)
@recorded
def reports(context: dg.AssetExecutionContext, config: ReportConfig, warehouse: WarehouseResource):
    from reporting.pack import build_pack

    def progress(step: str, done: int, total: int) -> None:
        if done % 50 == 0 or done == total:
            context.log.info(f"{step}: {done}/{total}")

    month = report_month(config.month)
    settings = warehouse.settings()
    # with no month asked for, a run that published always gets a pack: provisional while no month is complete
    pack = build_pack(settings.published, month, progress=progress, provisional=config.provisional or month is None,
                      programme=config.programme, limits=settings.duckdb_limits())
    said = (f"provisional report pack for {pack.month:%m/%Y} (no complete month yet: marked TẠM TÍNH)"
            if pack.provisional else f"report pack for {pack.month:%m/%Y}")
    (context.log.warning if pack.provisional else context.log.info)(
        f"{said} in {pack.folder} ({pack.seconds:.1f} s)")
    annual = None
    if pack.month.month == 12 and not pack.provisional:  # December complete (a run in January): the year's assessment
        from reporting.annual import build_annual

        annual = build_annual(settings.published, pack.month.year, programme=config.programme,
                              limits=settings.duckdb_limits())
        context.log.info(f"annual assessment {pack.month.year}: {annual}")
    with warehouse.connect(log=context.log.warning) as con:
        mark_completed(con, context.run.run_id, settings.published)  # the next run with nothing new can stop early
    yield dg.MaterializeResult(metadata={
        "month": f"{pack.month:%Y-%m}",
        "provisional": pack.provisional,
        "folder": dg.MetadataValue.path(str(pack.folder.resolve())),
        "province_workbook": dg.MetadataValue.path(str(pack.province_workbook.resolve())),
        "dashboard": dg.MetadataValue.path(str(pack.dashboard.resolve())),
        "dashboard_bytes": pack.dashboard.stat().st_size,
        "unit_workbooks": len(pack.unit_workbooks),
        "seconds": round(pack.seconds, 1),
        **({"annual_workbook": dg.MetadataValue.path(str(annual.resolve()))} if annual else {}),
    })
    yield dg.AssetCheckResult(
        check_name="report_month_complete", asset_key=REPORTS, passed=not pack.provisional,
        description=f"{said}: {pack.folder}")
