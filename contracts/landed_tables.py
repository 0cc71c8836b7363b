"""What lands and what the warehouse keeps of it: one declarative spec per raw table (docs/contracts/landing.md).

Each landed kind (the dossier export, the unit report, the explanations, the four reference files) and each raw
table the ingestion writes is declared here once: its headers, columns, types, which values are required, their
code sets and bounds. Everything that lists columns is derived from it:

- the raw DDL (ingestion/raw_schema.py) and the upgrade that adds a new column to an older warehouse
  (ingestion/migrations.py);
- the normaliser's headers, required values and loaded columns (ingestion/normalise.py, ingestion/ingest.py);
- the Great Expectations column sets, not-null lists, code sets and bounds (expectations/raw_batches.py);
- the Parquet table lists (ingestion/parquet_export.py and, through the sources YAML, dbt's raw_parquet.sql);
- dbt's raw sources, `dbt_project/models/staging/_raw_sources.yml`, rendered by `dbt_sources_yaml()` (`make
  dbt-sources`; a test fails when it is stale), which the staging models and the current state select from
  (macros/raw_columns.sql);
- the sample province's headers (sample_province/).

Adding a column to an export is one `Column` here, `make dbt-sources`, and the models that use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from contracts.rules import rules
from contracts.vocabulary import (
    CHANNEL_LABELS,
    INDICATORS,
    ONLINE_SERVICE_LEVELS,
    PAID_ONLINE_CODES,
    STATUS_LABELS,
    TARGET_LEVELS,
    UNIT_LEVELS,
)

MAX_FEE_VND = 100_000_000_000  # a fee above this is quarantined (landing.md)


@dataclass(frozen=True)
class Column:
    """A column of a raw table, and of the landed file when it has a header."""

    name: str  # the raw table's column (and the landed field, unless `landed_as` names another)
    type: str | None  # its DuckDB type; None: landed and read, never stored (personal data dropped)
    header: str | None = None  # the landed header; None: written by the ingestion, not landed
    required: bool = False  # a landed row without a value is quarantined (and the header must be there)
    header_required: bool | None = None  # the file is rejected without this header (default: `required`)
    not_null: bool | None = None  # NOT NULL in the raw table (default: `required`)
    landed_as: str | None = None  # the landed field when the stored column is derived from it
    codes: tuple = ()  # the values a stored row may hold
    minimum: float | None = None  # bounds of a stored value, inclusive
    maximum: float | None = None
    staged_as: str | None = None  # the type the staging model casts it to (the raw type is narrow)
    current_state: bool = False  # a dossier's current state carries it (int_dossier_current_state)
    doc: str = ""

    @property
    def field(self) -> str:
        """The landed field: the name under which the normaliser reads it."""
        return self.landed_as or self.name

    @property
    def is_header_required(self) -> bool:
        return self.required if self.header_required is None else self.header_required

    @property
    def is_not_null(self) -> bool:
        return self.required if self.not_null is None else self.not_null

    @property
    def stored(self) -> bool:
        return self.type is not None


@dataclass(frozen=True)
class RawTable:
    """A raw table of the warehouse: append-only per batch, or kept by the ingestion (ledger, quarantine)."""

    name: str
    description: str
    columns: tuple[Column, ...]
    parquet: str | None = None  # by_batch (one partition per batch) / whole (rewritten) / None: not exported
    freshness: bool = True  # dbt's source freshness applies (a batch per day is expected)
    asset: bool = True  # a Dagster asset of its own (raw/<name>)

    @property
    def stored(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.stored)

    @property
    def column_names(self) -> list[str]:
        """The raw table's columns, in order."""
        return [c.name for c in self.stored]

    @property
    def landed(self) -> tuple[Column, ...]:
        """The columns with a header, in the contract's order."""
        return tuple(c for c in self.columns if c.header is not None)

    @property
    def headers(self) -> dict[str, tuple[str, bool]]:
        """Landed header -> (field, header required), in contract order: what the readers match a file with."""
        return {c.header: (c.field, c.is_header_required) for c in self.landed}

    @property
    def loaded_fields(self) -> list[str]:
        """The fields the normaliser hands to the ingestion, stored as the raw table's columns (the batch
        columns aside: the ingestion sets those)."""
        return [c.field for c in self.stored if c not in BATCH_COLUMNS]

    @property
    def required_fields(self) -> list[str]:
        """The landed fields without which a row is quarantined."""
        return [c.field for c in self.landed if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def ddl(self) -> str:
        lines = [f"    {c.name} {c.type}{' not null' if c.is_not_null else ''}" for c in self.stored]
        return f"create table if not exists raw.{self.name} (\n" + ",\n".join(lines) + "\n);"


# columns every append-only raw table carries: where the row came from, and when it was loaded
BATCH_ID = Column("batch_id", "varchar", not_null=True, doc="sha256 of the landed file's bytes: the batch.")
BATCH_SEQ = Column("batch_seq", "bigint", not_null=True,
                   doc="Ingestion order of the batch; a later batch wins ties.")
SOURCE_ROW = Column("source_row", "bigint", not_null=True, doc="The row's number in the landed file.")
INGESTED_AT = Column("ingested_at", "timestamp", not_null=True, doc="When the batch was loaded.")
BATCH_COLUMNS = (BATCH_ID, BATCH_SEQ, SOURCE_ROW, INGESTED_AT)


def _batch_table(name: str, description: str, *landed: Column, **options) -> RawTable:
    """The batch columns first, then the landed ones, then ingested_at (unless the columns place it themselves)."""
    tail = () if INGESTED_AT in landed else (INGESTED_AT,)
    return RawTable(name, description, (BATCH_ID, BATCH_SEQ, SOURCE_ROW, *landed, *tail), **options)


def _reference(name: str, type_: str, required: bool = False, **options) -> Column:
    """A column of a reference file: its header is its name."""
    return Column(name, type_, header=name, required=required, **options)


def _timestamp(name: str, header: str, required: bool = False, **options) -> Column:
    return Column(name, "timestamp", header=header, required=required, **options)


DOSSIER_SNAPSHOTS = _batch_table(
    "dossier_snapshots",
    "Dossier snapshots (hồ sơ), one row per loaded export row; a dossier appears again whenever its state changes.",
    Column("dossier_code", "varchar", header="Mã hồ sơ", required=True, doc="Mã hồ sơ."),
    Column("procedure_code", "varchar", header="Mã TTHC", required=True, current_state=True,
           doc="Mã TTHC, the national catalogue code."),
    Column("procedure_name", "varchar", header="Tên TTHC", current_state=True, doc="Tên TTHC."),
    Column("unit_code", "varchar", header="Mã đơn vị", required=True, current_state=True,
           doc="Mã đơn vị, the unit holding the dossier."),
    Column("channel", "tinyint", header="Kênh nộp", required=True, codes=tuple(CHANNEL_LABELS),
           staged_as="integer", current_state=True, doc="Kênh nộp; 1 in person, 2 online, 3 postal (BCCI)."),
    _timestamp("received_at", "Ngày tiếp nhận", required=True, current_state=True, doc="Ngày tiếp nhận."),
    _timestamp("due_at", "Ngày hẹn trả", current_state=True, doc="Ngày hẹn trả."),
    _timestamp("finished_at", "Ngày kết thúc xử lý", current_state=True, doc="Ngày kết thúc xử lý."),
    Column("status", "tinyint", header="Trạng thái", required=True, codes=tuple(STATUS_LABELS),
           staged_as="integer", current_state=True, doc="Trạng thái, code 1-10."),
    Column("fee_amount", "bigint", header="Phí, lệ phí (đồng)", not_null=True, minimum=0, maximum=MAX_FEE_VND,
           current_state=True, doc="Phí, lệ phí in whole đồng; 0 when the export leaves it empty."),
    Column("paid_online", "tinyint", header="Thanh toán trực tuyến", not_null=True, codes=tuple(PAID_ONLINE_CODES),
           staged_as="integer", current_state=True,
           doc="Thanh toán trực tuyến; 0 not online, 1 national portal, 2 provincial gateway."),
    Column("e_receipt_no", "varchar", header="Số biên lai điện tử", current_state=True, doc="Số biên lai điện tử."),
    Column("components_digitised", "boolean", header="Số hóa thành phần hồ sơ", not_null=True, current_state=True,
           doc="Số hóa thành phần hồ sơ."),
    Column("e_result", "boolean", header="Có kết quả điện tử", not_null=True, current_state=True,
           doc="Có kết quả điện tử."),
    Column("applicant_name", None, header="Chủ hồ sơ", doc="Personal data: dropped at ingestion."),
    Column("applicant_id_hash", "varchar", header="Số giấy tờ chủ hồ sơ", landed_as="applicant_id",
           doc="Keyed hash (TTHC_PII_KEY) of Số giấy tờ chủ hồ sơ; the clear id is never stored."),
    _timestamp("updated_at", "Thời điểm cập nhật", required=True, current_state=True,
               doc="Thời điểm cập nhật, local time; the latest one is the dossier's current state."),
    parquet="by_batch",
)

UNIT_REPORTS = _batch_table(
    "unit_reports",
    "Monthly self-reports of the units (báo cáo định kỳ), measures as reported (text).",
    Column("unit_code", "varchar", header="Mã đơn vị", required=True, doc="Mã đơn vị."),
    Column("period", "varchar", header="Kỳ báo cáo", required=True, doc="Kỳ báo cáo as written (MM/yyyy)."),
    Column("period_month", "date", not_null=True, doc="The first day of the period."),
    # measures as reported (text): the not_a_count rule judges them; the header must be there, a value need not
    *(Column(measure, "varchar", header=header, header_required=True, doc=f"{header}, as reported.")
      for measure, header in rules().report_measures.items()),
    _timestamp("submitted_at", "Ngày gửi", required=True, doc="Ngày gửi; the latest report of a month counts."),
    parquet="by_batch",
)

EXPLANATIONS = _batch_table(
    "explanations",
    "Explanations of late dossiers sent by the units (giải trình hồ sơ trễ hạn), ids in the reason masked.",
    Column("dossier_code", "varchar", header="Mã hồ sơ", required=True, doc="Mã hồ sơ."),
    Column("unit_code", "varchar", header="Mã đơn vị", required=True, doc="Mã đơn vị, the unit that explains."),
    Column("reason", "varchar", header="Lý do trễ hạn", required=True,
           doc="Lý do trễ hạn, as the unit wrote it, every run of 9+ digits masked."),
    _timestamp("explained_at", "Ngày giải trình", required=True, doc="Ngày giải trình."),
    Column("apology_letter_no", "varchar", header="Số văn bản xin lỗi", doc="Số văn bản xin lỗi; empty if none."),
    parquet="by_batch",
)

REFERENCE_UNITS = _batch_table(
    "reference_units", "reference/units.csv per batch: the organisation tree, with validity and successors.",
    _reference("unit_code", "varchar", required=True),
    _reference("unit_name", "varchar", required=True),
    _reference("level", "varchar", required=True, codes=UNIT_LEVELS),
    _reference("parent_code", "varchar"),
    _reference("valid_from", "date", required=True),
    _reference("valid_to", "date"),
    _reference("successor_code", "varchar"),
    parquet="by_batch",
)

REFERENCE_PROCEDURES = _batch_table(
    "reference_procedures", "reference/procedures.csv per batch: the procedure catalogue.",
    _reference("procedure_code", "varchar", required=True),
    _reference("procedure_name", "varchar"),
    _reference("field", "varchar"),
    _reference("online_service_level", "varchar", codes=ONLINE_SERVICE_LEVELS),
    _reference("paper_result", "boolean", required=True),
    _reference("has_fee", "boolean", required=True),
    parquet="by_batch",
)

REFERENCE_TARGETS = _batch_table(
    "reference_targets", "reference/targets.csv per batch (programme_code empty for Directive 10's rows).",
    _reference("indicator", "varchar", required=True, codes=INDICATORS),
    _reference("level", "varchar", required=True, codes=TARGET_LEVELS),
    _reference("target", "double", required=True, minimum=0, maximum=1),
    _reference("valid_from", "date", required=True),
    _reference("valid_to", "date"),
    INGESTED_AT,
    # the optional column came later (ingestion/migrations.py): an older warehouse has it last
    _reference("programme_code", "varchar", doc="The programme; empty: Directive 10's."),
    parquet="by_batch",
)

REFERENCE_PROGRAMMES = _batch_table(
    "reference_programmes", "reference/programmes.csv per batch (optional file; Directive 10 alone when absent).",
    _reference("programme_code", "varchar", required=True),
    _reference("programme_name", "varchar"),
    _reference("effective_date", "date", required=True),
    _reference("baseline_months", "integer", required=True, minimum=1),
    _reference("end_date", "date"),
    parquet="by_batch",
)

QUARANTINE = RawTable(
    "quarantine", "Rows that failed the landing contract, masked, with every reason.", (
        Column("batch_id", "varchar", not_null=True),
        Column("kind", "varchar", not_null=True),
        Column("file_path", "varchar", not_null=True),
        Column("source_row", "bigint", not_null=True),
        Column("raw_record", "varchar", not_null=True,
               doc="The row as the file shows it (JSON), personal data masked."),
        Column("reasons", "varchar[]", not_null=True, doc="Every reason the row failed."),
        Column("quarantined_at", "timestamp", not_null=True),
    ), freshness=False)

INGESTION_LEDGER = RawTable(
    "ingestion_ledger", "One row per landed file (loaded, skipped_same_bytes, rejected) with row accounting.", (
        Column("file_path", "varchar", not_null=True, doc="Relative to the landing folder."),
        Column("sha256", "varchar", not_null=True, doc="The batch id: sha256 of the file's bytes."),
        Column("kind", "varchar", not_null=True, doc="dossiers / unit_reports / explanations / reference."),
        Column("status", "varchar", not_null=True, doc="loaded / skipped_same_bytes / rejected."),
        Column("rows_read", "bigint", not_null=True),
        Column("rows_loaded", "bigint", not_null=True),
        Column("rows_quarantined", "bigint", not_null=True),
        Column("duplicates_dropped", "bigint", not_null=True),
        Column("error", "varchar"),
        Column("warnings", "varchar"),
        Column("unknown_columns", "varchar"),
        Column("batch_seq", "bigint", not_null=True, doc="Ingestion order: later batches win ties."),
        Column("ingested_at", "timestamp", not_null=True),
        Column("review", "varchar", doc="held / accepted / excluded; NULL when the batch was never held."),
        Column("reviewed_at", "timestamp", doc="When an engineer accepted or excluded it."),
        # the file's size, modification and status-change times when it was read: a file whose path, size and
        # times are unchanged is not read and hashed again (ingestion.landing.file_signature)
        Column("file_size", "bigint"),
        Column("file_mtime_ns", "bigint"),
        Column("file_ctime_ns", "bigint"),
    ), parquet="whole", freshness=False)

BATCH_VALIDATIONS = RawTable(
    "batch_validations", "Great Expectations results per raw batch.", (
        Column("run_at", "timestamp", not_null=True),
        Column("batch_id", "varchar", not_null=True),
        Column("kind", "varchar", not_null=True),
        Column("suite", "varchar", not_null=True),
        Column("success", "boolean", not_null=True),
        Column("evaluated_expectations", "integer", not_null=True),
        Column("failed_expectations", "varchar"),
    ), parquet="whole", freshness=False, asset=False)

RAW_TABLES: dict[str, RawTable] = {t.name: t for t in (
    DOSSIER_SNAPSHOTS, UNIT_REPORTS, REFERENCE_UNITS, REFERENCE_PROCEDURES, REFERENCE_TARGETS, REFERENCE_PROGRAMMES,
    EXPLANATIONS, QUARANTINE, INGESTION_LEDGER, BATCH_VALIDATIONS)}

# the landed kinds' headers (header -> (field, header required)), as the readers match them
DOSSIER_COLUMNS = DOSSIER_SNAPSHOTS.headers
UNIT_REPORT_COLUMNS = UNIT_REPORTS.headers
EXPLANATION_COLUMNS = EXPLANATIONS.headers
UNIT_REPORT_MEASURES: tuple[str, ...] = tuple(rules().report_measures)


def raw_ddl() -> str:
    """The raw schema as this version creates it."""
    return "create schema if not exists raw;\n\n" + "\n\n".join(t.ddl() for t in RAW_TABLES.values()) + "\n"


GENERATED = "Generated from contracts/landed_tables.py by `make dbt-sources`: edit the spec, not this file."


def dbt_sources_yaml() -> str:
    """dbt's raw source, rendered from the spec: dbt_project/models/staging/_raw_sources.yml."""
    tables = []
    for table in RAW_TABLES.values():
        entry: dict = {"name": table.name, "description": table.description}
        if not table.freshness:
            entry["freshness"] = None
        entry["columns"] = [
            {"name": c.name, "data_type": c.type,
             **({"description": c.doc or f"{c.header}."} if c.doc or c.header not in (None, c.name) else {})}
            for c in table.stored]
        tables.append(entry)
    source = {"name": "raw",
              "description": "Append-only raw tables written by the ingestion (ingestion/), one batch per landed file.",
              "schema": "raw", "loaded_at_field": "ingested_at",
              "freshness": {"warn_after": {"count": 36, "period": "hour"}}, "tables": tables}
    body = yaml.safe_dump({"version": 2, "sources": [source]}, allow_unicode=True, sort_keys=False, width=120)
    return f"# {GENERATED}\n# tests/test_landed_tables.py fails when it is stale.\n" + body


def dbt_spec_macro() -> str:
    """The spec as the dbt macros read it (dbt_project/macros/raw_tables_spec.sql): each raw table's Parquet layout
    and its columns in order, with the staging cast and whether a dossier's current state carries it. A macro, not
    the sources' meta: dbt's unit tests have no graph to read sources from."""
    def table_literal(table: RawTable) -> str:
        columns = ",\n".join("        " + json.dumps({"name": c.name, "staged_as": c.staged_as or "",
                                                      "current_state": c.current_state}) for c in table.stored)
        return f'    "{table.name}": {{"parquet": "{table.parquet or ""}", "columns": [\n{columns}\n    ]}}'

    tables = ",\n".join(table_literal(t) for t in RAW_TABLES.values())
    return (f"{{# {GENERATED} #}}\n{{% macro raw_tables_spec() -%}}\n"
            f"{{{{ return({{\n{tables}\n}}) }}}}\n{{%- endmacro %}}\n")


def write_dbt_files(dbt_project: Path) -> list[Path]:
    """Write the files rendered from the spec into the dbt project; the paths written."""
    files = {dbt_project / "models" / "staging" / "_raw_sources.yml": dbt_sources_yaml(),
             dbt_project / "macros" / "raw_tables_spec.sql": dbt_spec_macro()}
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return list(files)


if __name__ == "__main__":  # make dbt-sources
    for written in write_dbt_files(Path(__file__).resolve().parents[1] / "dbt_project"):
        print(f"wrote {written}")
