"""Ingestion and raw-batch validation in a process of their own, so that their memory is given back before dbt.

polars, pandas and DuckDB's buffer pool keep what a 10-million-dossier ingestion used, and `dbt build` needs its
own memory after it (benchmarks/README.md). A spawned child does the work and exits; the run's process only
receives the report. Progress lines come back through a queue as they happen.
"""

from __future__ import annotations

import multiprocessing
import queue
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from orchestration.settings import Settings

# DuckDB's share of the memory bound in the worker: the rest is for the polars and pandas frames it also holds
# (with the whole bound, DuckDB's cache of the raw tables read for validation goes beyond it).
DUCKDB_SHARE_IN_WORKER = 0.4
# A run whose changed landed files weigh more than this (a first load, a backfill: above about 400k rows) validates
# its batches in the worker, which imports Great Expectations while it reads the files, and frees their frames
# with it. A smaller one (a nightly export: tens of thousands of rows) leaves them to the run's process, which
# imports Great Expectations for its own checks while the worker ingests: imported in the worker too, the import
# competes with ingestion for the worker's interpreter and the second core (benchmarks/README.md).
VALIDATE_IN_WORKER_ABOVE_BYTES = 100 * 2**20


@dataclass
class IngestionResult:
    report: object  # ingestion.ingest.IngestReport
    # raw table -> expectations.engine.SuiteOutcome, or None when no new batch; None: left to the run's process
    validations: dict | None


def changed_bytes(landing, con) -> int:
    """The size of the landed files the ledger has not seen as they are now."""
    from ingestion.ingest import LedgerSeen, landing_changes

    return sum((landing / rel).stat().st_size for rel in landing_changes(landing, LedgerSeen.read(con))
               if (landing / rel).is_file())


def unvalidated_batches(con, table: str) -> list[str]:
    """The loaded batches of a raw table that no suite has validated yet, in loading order: this run's, and any
    that a run killed between writing and validating them left behind."""
    return [sha for (sha,) in con.execute(
        "select l.sha256 from raw.ingestion_ledger l where l.status = 'loaded' and l.kind = ? "
        "and coalesce(l.review, '') <> 'excluded' "
        "and not exists (select 1 from raw.batch_validations v where v.batch_id = l.sha256 and v.kind = ?) "
        "order by l.batch_seq", [KIND_OF_TABLE[table], table]).fetchall()]


KIND_OF_TABLE = {"dossier_snapshots": "dossiers", "unit_reports": "unit_reports"}  # raw table -> ledger kind


def validate_new_batches(con, run_at: datetime, log: Callable[[str], None]) -> dict:
    """Each raw suite over the batches not validated yet (one raw.batch_validations row per batch)."""
    from expectations.raw_batches import SUITES, validate_batches

    validations = {}
    for table in SUITES:
        batches = unvalidated_batches(con, table)
        log(f"validating {len(batches)} batches of raw.{table}")
        validations[table] = validate_batches(con, table, batches, run_at)
    return validations


class IngestionFailed(Exception):
    """The worker raised (its traceback is the message) or died (killed, out of memory)."""


def _work(settings: Settings, run_at: datetime, validate_above_bytes: int, rehash: bool, messages) -> None:
    """In the child: ingest the landing folder, validate this run's batches if they are many, send back the result."""
    try:
        from ingestion.ingest import ingest_landing
        from ingestion.raw_schema import ensure_raw_schema
        from ingestion.reviews import journal_path, read_journal
        from orchestration import duckdb_files

        last = {"step": None}

        def progress(step: str, done: int, total: int) -> None:
            if step != last["step"] or done == total or done % 100 == 0:
                messages.put(("log", f"{step}: {done}/{total}"))
                last["step"] = step

        with duckdb_files.connect(settings.warehouse, settings.with_memory_share(DUCKDB_SHARE_IN_WORKER),
                                  log=lambda line: messages.put(("warning", line))) as con:
            ensure_raw_schema(con)
            validate_here = changed_bytes(settings.landing_dir, con) > validate_above_bytes
            if validate_here:
                from expectations.engine import preload_great_expectations

                preload_great_expectations()  # imported while the files are read
            report = ingest_landing(settings.landing_dir, con, settings.pii_key, progress=progress, now=run_at,
                                    settle_seconds=settings.settle_seconds, rehash=rehash,
                                    reviews=read_journal(journal_path(settings.warehouse)))
            validations = None
            if validate_here:
                validations = validate_new_batches(con, run_at, log=lambda line: messages.put(("log", line)))
            messages.put(("log", "closing the warehouse (checkpoint)"))
        messages.put(("done", IngestionResult(report, validations)))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the run, which names it (last line)
        from orchestration.duckdb_files import no_space_left

        full = no_space_left(exc, settings.warehouse)
        messages.put(("error", traceback.format_exc() + (f"NoSpaceLeft: {full}\n" if full else "")))


def ingest_in_worker(settings: Settings, run_at: datetime, log: Callable[[str], None],
                     warn: Callable[[str], None],
                     validate_above_bytes: int = VALIDATE_IN_WORKER_ABOVE_BYTES,
                     rehash: bool = False) -> IngestionResult:
    spawn = multiprocessing.get_context("spawn")  # not fork: the run's process has threads (Dagster, polars)
    messages = spawn.Queue()
    worker = spawn.Process(target=_work, args=(settings, run_at, validate_above_bytes, rehash, messages), name="tthc-ingestion")
    worker.start()
    try:
        while True:
            try:
                kind, payload = messages.get(timeout=1.0)
            except queue.Empty:
                if not worker.is_alive():
                    worker.join()
                    raise IngestionFailed(f"the ingestion process died (exit code {worker.exitcode}: "
                                          f"{'killed by a signal' if (worker.exitcode or 0) < 0 else 'error'}); "
                                          f"the next run picks up every batch it did not commit") from None
                continue
            if kind == "log":
                log(payload)
            elif kind == "warning":
                warn(payload)
            elif kind == "error":
                raise IngestionFailed(payload.strip().splitlines()[-1] + "\n" + payload)
            else:
                return payload
    finally:
        worker.join(timeout=60)
        if worker.is_alive():
            worker.kill()
