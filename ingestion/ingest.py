"""Ingest the landing folder into the warehouse's raw tables: nothing lost, nothing counted twice.

For every landed file: hash its bytes, skip bytes already ingested, read and normalise it, and write its loaded
rows, its quarantined rows and its ledger row in one transaction (a crash leaves no half batch; the next run
picks the batch up again). Rows read = rows loaded + rows quarantined + exact duplicates dropped, per batch.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from contracts import landed_tables as spec
from contracts.personal_data import MASK
from contracts.vocabulary import HOLD_QUARANTINED_SHARE
from ingestion import normalise, parsing
from ingestion.landing import (
    EXPORT_FOLDERS,
    REFERENCE_FILES,
    LedgerSeen,
    discover,
    file_signature,
    landed_name,
    sha256_of,
)
from ingestion.lineage import UnitValidity, lineage_errors
from ingestion.parquet_export import APPEND_ONLY, BatchParquet
from ingestion.pii import hmac_sql, is_personal_header, mask_ids
from ingestion.raw_schema import NOT_COUNTED_BATCHES, ensure_raw_schema, next_batch_seq
from ingestion.readers import SOURCE_ROW, LandedTable, RejectedFile, read_landed

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Kind:
    """One kind of landed table: where it lands, its columns, its rules, its raw table."""

    name: str  # ledger kind: dossiers / unit_reports / reference
    raw: spec.RawTable  # its raw table, declared in contracts/landed_tables.py
    normaliser: Callable[..., normalise.Normalised]
    # rules over a whole file's loaded rows: messages that reject the file whole (the previous batch stays in force)
    file_check: Callable[[pl.DataFrame], list[str]] | None = None

    @property
    def table(self) -> str:
        return self.raw.name

    @property
    def columns(self) -> dict[str, tuple[str, bool]]:
        """Landed header -> (field, header required)."""
        return self.raw.headers

    @property
    def first_required_header(self) -> str:
        return next(h for h, (_, req) in self.columns.items() if req)


# the kind of what lands at each place of the landing folder (ingestion.landing: the reference files, in the order
# they are ingested, and the export folders)
REFERENCE_KINDS = dict(zip(REFERENCE_FILES, (
    Kind("reference", spec.REFERENCE_UNITS, normalise.reference_units,  # units.csv
         file_check=lambda loaded: lineage_errors(
             [UnitValidity(*row) for row in loaded.select(
                 "unit_code", "valid_from", "valid_to", pl.col("successor_code").replace("", None)).iter_rows()])),
    Kind("reference", spec.REFERENCE_PROCEDURES, normalise.reference_procedures),  # procedures.csv
    Kind("reference", spec.REFERENCE_TARGETS, normalise.reference_targets),  # targets.csv
    Kind("reference", spec.REFERENCE_PROGRAMMES, normalise.reference_programmes),  # programmes.csv
), strict=True))
DOSSIERS = Kind("dossiers", spec.DOSSIER_SNAPSHOTS, normalise.dossiers)
UNIT_REPORTS = Kind("unit_reports", spec.UNIT_REPORTS, normalise.unit_reports)
EXPLANATIONS = Kind("explanations", spec.EXPLANATIONS, normalise.explanations)
KIND_FOLDERS = dict(zip(EXPORT_FOLDERS, (DOSSIERS, UNIT_REPORTS, EXPLANATIONS), strict=True))
CODED_KINDS = (DOSSIERS.table, EXPLANATIONS.table)  # rows checked against the unit (and procedure) codes in force


@dataclass
class FileOutcome:
    file_path: str
    sha256: str
    kind: str
    table: str
    status: str  # loaded / skipped_same_bytes / rejected
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    duplicates_dropped: int = 0
    error: str | None = None
    warnings: str | None = None
    unknown_columns: str | None = None
    batch_seq: int = 0
    review: str | None = None  # `held` when over the quarantine share (landing.md), until an engineer decides
    reviewed_at: datetime | None = None
    file_size: int | None = None  # the file as it was read (file_signature): unchanged, its bytes are unchanged
    file_mtime_ns: int | None = None
    file_ctime_ns: int | None = None
    replaces: str | None = None  # the batch this path held before, when its bytes changed (landing.md: logged)

    @property
    def replaced_note(self) -> str | None:
        return (f"replaces batch {self.replaces[:16]} (new bytes under the same path)" if self.replaces else None)

    @property
    def quarantined_share(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # files left for a later run, with the reason

    def of(self, table: str | None = None, status: str | None = None) -> list[FileOutcome]:
        return [o for o in self.outcomes if (table is None or o.table == table) and (status is None or o.status == status)]

    def summary(self) -> dict[str, int]:
        return {
            "files_new": len(self.outcomes),
            "files_loaded": len(self.of(status="loaded")),
            "files_skipped_same_bytes": len(self.of(status="skipped_same_bytes")),
            "files_rejected": len(self.of(status="rejected")),
            "rows_read": sum(o.rows_read for o in self.outcomes),
            "rows_loaded": sum(o.rows_loaded for o in self.outcomes),
            "rows_quarantined": sum(o.rows_quarantined for o in self.outcomes),
            "duplicates_dropped": sum(o.duplicates_dropped for o in self.outcomes),
        }


def first_occurrences(frame: pl.DataFrame, columns: list[str],
                      row_hash: Callable[[list[str]], pl.Expr] = lambda columns: pl.struct(columns).hash()) -> pl.Series:
    """Whether each row is the first with its values in `columns` (exact duplicates after it are False).

    Rows are told apart by a hash of their values first; only rows whose hash another row shares (a duplicate,
    or rarely a collision) are compared value by value: 2.5x faster than comparing every row's values.
    """
    hashes = frame.select(row_hash(columns).alias("hash")).get_column("hash")
    shared = hashes.is_duplicated()
    first = pl.repeat(True, frame.height, dtype=pl.Boolean, eager=True)
    if shared.any():
        compared = frame.filter(shared).select(pl.struct(columns).is_first_distinct()).to_series()
        first = first.scatter(shared.arg_true(), compared)
    return first


def _fields_frame(table: LandedTable, kind: Kind, rel: str, sha: str
                  ) -> tuple[pl.DataFrame, pl.DataFrame, int, list[str]]:
    """Map the file's headers to contract fields and drop exact duplicate rows.

    Returns (fields frame, the deduplicated raw frame with its masked JSON text, duplicates, unknown headers).
    """
    repeated = parsing.repeated_headers(table.headers)
    if repeated:
        raise RejectedFile(f"{rel}: header appears more than once: {', '.join(repeated)}")
    mapping, missing, unknown = parsing.match_headers(table.headers, kind.columns)
    if missing:
        raise RejectedFile(f"{rel}: required column missing: {', '.join(missing)}")
    positional = [c for c in table.frame.columns if c != SOURCE_ROW]
    position_of = {h: positional[i] for i, h in enumerate(table.headers)}
    field_of = {position_of[h]: f for h, f in mapping.items()}
    frame = table.frame
    deduped = frame.filter(first_occurrences(frame, positional)) if positional else frame
    duplicates = frame.height - deduped.height
    masked = [
        (pl.when(pl.col(c).is_not_null()).then(pl.lit(MASK)) if is_personal_header(h, known=c in field_of)
         else pl.col(c) if c in field_of else mask_ids(pl.col(c))).alias(h or f"column {i + 1}")
        for i, (c, h) in enumerate(zip(positional, table.headers, strict=False))]
    raw_text = deduped.lazy().select(
        source_row=pl.col(SOURCE_ROW).cast(pl.Int64), raw_record=pl.struct(masked).struct.json_encode())
    out = deduped.select(
        *[parsing.clean_text(pl.col(c)).alias(f) for c, f in field_of.items()],
        *[pl.lit(None, pl.String).alias(f) for f, _ in kind.columns.values() if f not in field_of.values()],
        batch_id=pl.lit(sha), source_row=pl.col(SOURCE_ROW).cast(pl.Int64), file_path=pl.lit(rel),
        **{normalise.CUT_SHORT: pl.col(SOURCE_ROW) == table.cut_short_row if table.cut_short_row is not None
           else pl.lit(False)},
    )
    ordered = [f for f, _ in kind.columns.values()] + ["batch_id", "source_row", "file_path", normalise.CUT_SHORT]
    return out.select(ordered), raw_text, duplicates, unknown


def _current_codes(con: duckdb.DuckDBPyConnection, table: str, column: str) -> set[str]:
    """The codes of the reference in force: its latest batch that counts (not held, not excluded)."""
    counted = f"batch_id not in ({NOT_COUNTED_BATCHES})"
    rows = con.execute(f"select distinct {column} from raw.{table} where {counted} and "
                       f"batch_seq = (select max(batch_seq) from raw.{table} where {counted})").fetchall()
    return {r[0] for r in rows}


def _write_ledger(con: duckdb.DuckDBPyConnection, o: FileOutcome, now: datetime) -> None:
    con.execute(
        "insert into raw.ingestion_ledger (file_path, sha256, kind, status, rows_read, rows_loaded, rows_quarantined, "
        "duplicates_dropped, error, warnings, unknown_columns, batch_seq, ingested_at, review, reviewed_at, file_size, "
        "file_mtime_ns, file_ctime_ns) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [o.file_path, o.sha256, o.kind, o.status, o.rows_read, o.rows_loaded, o.rows_quarantined,
         o.duplicates_dropped, o.error, "; ".join(filter(None, (o.replaced_note, o.warnings))) or None,
         o.unknown_columns, o.batch_seq, now, o.review, o.reviewed_at, o.file_size,
         o.file_mtime_ns, o.file_ctime_ns])


TRANSACTION_ROWS = 250_000  # batches are written in groups of about this many rows, never split


def _write_batches(con: duckdb.DuckDBPyConnection, kind: Kind, group: list[tuple[FileOutcome, pl.DataFrame, pl.DataFrame]],
                   now: datetime, parquet_dir: Path | None) -> None:
    """Whole batches in one transaction: their rows, quarantines and ledger rows, or nothing of any of them.

    A batch is never split across transactions, so a crash leaves no half batch, and a batch without its ledger
    row is simply picked up again by the next run. With `parquet_dir` (a Spark engine), each batch's rows are also
    written as its Parquet partition, which appears once the transaction has committed (ingestion.parquet_export).
    """
    loaded = [df.drop("file_path").with_columns(batch_seq=pl.lit(o.batch_seq, pl.Int64)) for o, df, _ in group if df.height]
    quarantined = [q for _, _, q in group if q.height]
    parquet = BatchParquet(parquet_dir) if parquet_dir is not None and kind.table in APPEND_ONLY else None
    con.begin()
    try:
        if loaded:
            frame = pl.concat(loaded, how="vertical_relaxed").with_columns(ingested_at=pl.lit(now))
            con.register("batch_frame", frame.to_arrow())
            if parquet is None:
                con.execute(f"insert into raw.{kind.table} by name select * from batch_frame")
            else:  # the rows as the raw table types them, written to DuckDB and to each batch's Parquet
                con.execute(f"create or replace temp table batch_rows as from raw.{kind.table} limit 0")
                con.execute("insert into batch_rows by name select * from batch_frame")
                con.execute(f"insert into raw.{kind.table} select * from batch_rows")
                parquet.stage(con, kind.table, "batch_rows",
                              [(o.batch_seq, o.sha256) for o, df, _ in group if df.height])
                con.execute("drop table batch_rows")
            con.unregister("batch_frame")
        if quarantined:
            con.register("quarantine_frame", pl.concat(quarantined).to_arrow())
            con.execute("insert into raw.quarantine select batch_id, ?, file_path, source_row, raw_record, reasons, ? "
                        "from quarantine_frame", [kind.name, now])
            con.unregister("quarantine_frame")
        for outcome, _, _ in group:
            _write_ledger(con, outcome, now)
        con.commit()
    except BaseException:
        # a failed commit (no space left, say) has ended the transaction already: its error is the one to tell
        with contextlib.suppress(duckdb.Error):
            con.rollback()
        if parquet is not None:
            parquet.discard()
        raise
    if parquet is not None:  # committed: the partitions appear (a crash before this is repaired from DuckDB)
        parquet.publish()


def unsettled(paths: list[Path], settle_seconds: float) -> set[Path]:
    """The files still being written: of those modified less than `settle_seconds` ago, the ones whose size or
    modification time changes while we wait for them to reach that age (at most `settle_seconds`)."""
    if settle_seconds <= 0 or not paths:
        return set()
    now = time.time()
    young = {p: st for p in paths if now - (st := p.stat()).st_mtime < settle_seconds}
    if not young:
        return set()
    time.sleep(min(settle_seconds, settle_seconds - min(now - st.st_mtime for st in young.values())))
    return {p for p, st in young.items() if file_signature(p.stat())[:2] != (st.st_size, st.st_mtime_ns)}


def ingest_landing(landing: Path, con: duckdb.DuckDBPyConnection, pii_key: bytes,
                   progress: Progress | None = None, now: datetime | None = None, settle_seconds: float = 0.0,
                   rehash: bool = False, reviews: dict[str, tuple[str, datetime]] | None = None,
                   parquet_dir: Path | None = None) -> IngestReport:
    """Ingest every new landed file; returns what happened to each.

    A file modified in the last `settle_seconds` is read only if it stays unchanged until it is that old (a file
    still being copied in is left for a later run). `rehash`: hash every landed file, even one whose path, size
    and times the ledger saw (`tthc run --force`). `reviews`: batch decisions of the review journal, applied to
    the batches loaded again (ingestion.reviews). `parquet_dir`: also write each loaded batch as a Parquet
    partition there, in the same pass (for the Spark engines; ingestion.parquet_export).
    """
    report_progress = progress or (lambda step, done, total: None)
    now = now or datetime.now().replace(microsecond=0)
    landing = Path(landing)
    ensure_raw_schema(con)
    # Many small batch transactions: checkpoint once at the end instead of whenever the WAL passes 16 MB
    # (benchmarks/README.md).
    con.execute("set checkpoint_threshold = '4GB'")
    seen = LedgerSeen.read(con)
    seen_files = seen.files
    loaded_shas = {r[0] for r in con.execute(
        "select sha256 from raw.ingestion_ledger where status = 'loaded'").fetchall()}
    report = IngestReport()
    candidates = discover(landing)
    new, restat = [], []
    for i, entry in enumerate(candidates, start=1):
        report_progress("landed files checked against the ledger", i, len(candidates))  # hashed only if the ledger saw it otherwise
        rel, kind = landed_name(landing, entry.path), REFERENCE_KINDS.get(entry.place) or KIND_FOLDERS[entry.place]
        if entry.refusal is not None:
            if seen.saw(rel, entry):  # a refusal already reported
                continue
            sha = sha256_of(entry.refusal.encode("utf-8"))  # what was refused: reported once, again if it changes
            outcome = FileOutcome(rel, sha, kind.name, kind.table, "rejected", error=f"{rel}: {entry.refusal}",
                                  batch_seq=next_batch_seq(con))
            _write_ledger(con, outcome, now)
            report.outcomes.append(outcome)
            continue
        if not rehash and seen.saw(rel, entry):  # unchanged since it was read
            continue
        if rel not in seen.latest:  # a path never seen is new whatever its bytes: hashed once, when it is read
            new.append((entry.path, rel, kind))
            continue
        signature = file_signature(entry.path.stat())
        with open(entry.path, "rb") as handle:
            sha = hashlib.file_digest(handle, "sha256").hexdigest()
        if (rel, sha) not in seen_files:
            new.append((entry.path, rel, kind))  # bytes are read again when processed: memory stays flat
        else:  # the same bytes, touched (or read before signatures were kept): remember how the file looks now
            restat.append((*signature, rel, sha))
    if restat:
        con.executemany("update raw.ingestion_ledger set file_size = ?, file_mtime_ns = ?, file_ctime_ns = ? "
                        "where file_path = ? and sha256 = ?", restat)
    still_written = unsettled([path for path, _, _ in new], settle_seconds)
    report.deferred += [f"{rel}: changed during the last {settle_seconds:g} s (still being written?): read by a "
                        "later run" for path, rel, _ in new if path in still_written]
    new = [item for item in new if item[0] not in still_written]
    for table in [k.table for k in REFERENCE_KINDS.values()] + [k.table for k in KIND_FOLDERS.values()]:
        batch = [item for item in new if item[2].table == table]
        if batch:
            _ingest_kind(con, batch, loaded_shas, pii_key, now, report, report_progress, seen.latest, reviews or {},
                         parquet_dir)
    con.execute("checkpoint")
    con.execute("reset checkpoint_threshold")
    return report


NORMALISE_ROWS = 1_000_000  # files are read, normalised and written in chunks of about this many rows


@dataclass
class _Chunk:
    """Files read but not yet normalised: their field frames, masked raw text and ledger outcomes."""

    frames: list[pl.DataFrame] = field(default_factory=list)
    raw_texts: dict[str, pl.LazyFrame] = field(default_factory=dict)
    pending: list[FileOutcome] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(o.rows_read for o in self.pending)


def _ingest_kind(con, files, loaded_shas: set[str], pii_key: bytes, now: datetime, report: IngestReport,
                 report_progress: Callable[[str, int, int], None],
                 previous: dict[str, str], reviews: dict[str, tuple[str, datetime]], parquet_dir: Path | None) -> None:
    kind: Kind = files[0][2]
    if kind.table in CODED_KINDS:
        unit_codes = _current_codes(con, "reference_units", "unit_code")
        procedure_codes = _current_codes(con, "reference_procedures", "procedure_code")
        if not unit_codes:
            report.deferred += [f"{rel}: no reference/units.csv loaded yet" for _, rel, _ in files]
            return

        def apply_rules(frame: pl.DataFrame) -> normalise.Normalised:
            result = kind.normaliser(frame, unit_codes, procedure_codes, now)
            if "applicant_id" in result.loaded.columns:
                result.loaded = _pseudonymise(con, result.loaded, pii_key)
            return result
    else:
        def apply_rules(frame: pl.DataFrame) -> normalise.Normalised:
            return kind.normaliser(frame, now)
    first_seq = next_batch_seq(con)
    chunk = _Chunk()
    for i, (path, rel, _) in enumerate(files, start=1):
        report_progress(f"reading {kind.name}", i, len(files))
        size, mtime_ns, ctime_ns = file_signature(path.stat())
        raw = path.read_bytes()
        sha = sha256_of(raw)  # the batch id is the hash of the bytes actually loaded, even if the file just changed
        outcome = FileOutcome(rel, sha, kind.name, kind.table, "loaded", batch_seq=first_seq + i - 1,
                              file_size=size, file_mtime_ns=mtime_ns, file_ctime_ns=ctime_ns)
        if previous.get(rel, sha) != sha:
            outcome.replaces = previous[rel]
        if sha in loaded_shas:
            outcome.status = "skipped_same_bytes"
            _write_ledger(con, outcome, now)
            report.outcomes.append(outcome)
            continue
        try:
            table = read_landed(path, raw, kind.first_required_header, shown_as=rel)
            fields, raw_text, duplicates, unknown = _fields_frame(table, kind, rel, sha)
        except RejectedFile as exc:
            outcome.status, outcome.error = "rejected", str(exc)
            _write_ledger(con, outcome, now)
            report.outcomes.append(outcome)
            continue
        outcome.rows_read = table.frame.height
        outcome.duplicates_dropped = duplicates
        outcome.unknown_columns = ", ".join(unknown) or None
        loaded_shas.add(sha)  # the same bytes later in this run are skipped
        chunk.frames.append(fields)
        chunk.raw_texts[sha] = raw_text
        chunk.pending.append(outcome)
        if chunk.rows >= NORMALISE_ROWS:
            _load_chunk(con, kind, chunk, apply_rules, now, report, reviews, parquet_dir)
            report_progress(f"loading {kind.name}", i, len(files))
            chunk = _Chunk()
    if chunk.pending:
        _load_chunk(con, kind, chunk, apply_rules, now, report, reviews, parquet_dir)
        report_progress(f"loading {kind.name}", len(files), len(files))


def _load_chunk(con: duckdb.DuckDBPyConnection, kind: Kind, chunk: _Chunk,
                apply_rules: Callable[[pl.DataFrame], normalise.Normalised], now: datetime,
                report: IngestReport, reviews: dict[str, tuple[str, datetime]], parquet_dir: Path | None) -> None:
    """Apply the kind's rules to a chunk of batches at once (vectorised), then write them batch by batch.

    Whatever a file holds, one file never stops the others: if the rules fail on the chunk (a polars panic is
    a BaseException), they are applied file by file, and a file on which they still fail is rejected, named,
    with the cause in its ledger row.
    """
    try:
        result = apply_rules(pl.concat(chunk.frames, how="vertical_relaxed"))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3's PanicException derives from BaseException
        if len(chunk.pending) > 1:
            for frame, outcome in zip(chunk.frames, chunk.pending, strict=False):
                _load_chunk(con, kind, _Chunk([frame], {outcome.sha256: chunk.raw_texts[outcome.sha256]}, [outcome]),
                            apply_rules, now, report, reviews, parquet_dir)
            return
        outcome = chunk.pending[0]
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        outcome.status = "rejected"
        outcome.rows_read = outcome.duplicates_dropped = 0
        outcome.error = f"{outcome.file_path}: the landing rules could not be applied ({type(exc).__name__}: {cause})"
        _write_ledger(con, outcome, now)
        report.outcomes.append(outcome)
        return
    loaded_by = result.loaded.partition_by("batch_id", as_dict=True)
    quarantined_by = result.quarantined.partition_by("batch_id", as_dict=True)
    warnings = dict(result.warnings.iter_rows())
    empty_loaded = result.loaded.clear()
    empty_quarantine = result.quarantined.clear()
    group: list[tuple[FileOutcome, pl.DataFrame, pl.DataFrame]] = []
    for i, outcome in enumerate(chunk.pending, start=1):
        loaded = loaded_by.get((outcome.sha256,), empty_loaded)
        quarantined = quarantined_by.get((outcome.sha256,), empty_quarantine)
        broken = kind.file_check(loaded) if kind.file_check else []
        if broken:
            outcome.status, outcome.rows_read, outcome.duplicates_dropped = "rejected", 0, 0
            outcome.error = (f"{outcome.file_path}: rejected whole, the previous reference stays in force: "
                             + "; ".join(broken))
            _write_ledger(con, outcome, now)
            report.outcomes.append(outcome)
            if i == len(chunk.pending) and group:
                _write_batches(con, kind, group, now, parquet_dir)
                report.outcomes += [o for o, _, _ in group]
                group = []
            continue
        if quarantined.height:
            # the masked raw text of the quarantined rows only (the filter reaches the file's rows before encoding)
            records = chunk.raw_texts[outcome.sha256].filter(
                pl.col("source_row").is_in(quarantined.get_column("source_row").implode()))
            quarantined = quarantined.join(records.collect(), on="source_row", how="left")
        outcome.rows_loaded, outcome.rows_quarantined = loaded.height, quarantined.height
        outcome.warnings = warnings.get(outcome.sha256)
        if outcome.quarantined_share > HOLD_QUARANTINED_SHARE:
            outcome.review = "held"
        if outcome.sha256 in reviews:  # decided before the warehouse was rebuilt: the review journal says how
            outcome.review, outcome.reviewed_at = reviews[outcome.sha256]
        assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined + outcome.duplicates_dropped, outcome
        group.append((outcome, loaded, quarantined))
        if sum(o.rows_read for o, _, _ in group) >= TRANSACTION_ROWS or i == len(chunk.pending):
            _write_batches(con, kind, group, now, parquet_dir)
            report.outcomes += [o for o, _, _ in group]
            group = []


def _pseudonymise(con: duckdb.DuckDBPyConnection, loaded: pl.DataFrame, pii_key: bytes) -> pl.DataFrame:
    """Replace the clear applicant id by its keyed hash (vectorised in DuckDB); the clear id goes no further."""
    ids = loaded.select(pl.col("applicant_id").unique().drop_nulls())
    con.register("clear_ids", ids.to_arrow())
    hashed = con.sql(f"select applicant_id, {hmac_sql('applicant_id', pii_key)} as applicant_id_hash "
                     f"from clear_ids").pl()
    con.unregister("clear_ids")
    return loaded.join(hashed, on="applicant_id", how="left").drop("applicant_id")
