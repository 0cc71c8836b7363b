"""Ingestion and raw-batch validation: in the run's process for a nightly export, in a process of its own for a
large load, so that a first load's memory is given back before dbt.

polars, pandas and DuckDB's buffer pool keep what a 10-million-dossier ingestion used, and `dbt build` needs its
own memory after it (benchmarks/README.md): a spawned child does that work and exits, and the run's process only
receives the report (progress lines come back through a queue as they happen). A nightly export (tens of thousands
of rows) is ingested where the run is: a second interpreter's start-up would cost more than the load. Either way
the new batches are validated by the raw suites in DuckDB SQL on the same connection (no Great Expectations
import for them: expectations/raw_batches.py).
"""

from __future__ import annotations

import multiprocessing
import queue
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from orchestration.settings import Settings

# DuckDB's share of the memory bound in the worker: the rest is for the polars frames it also holds.
DUCKDB_SHARE_IN_WORKER = 0.4
# A run whose changed landed files weigh more than this (a first load, a backfill: above about 400k rows) ingests
# in a worker process; a smaller one (a nightly export) in the run's process.
INGEST_IN_WORKER_ABOVE_BYTES = 100 * 2**20


@dataclass
class IngestionResult:
    report: object  # ingestion.ingest.IngestReport
    validations: dict  # raw table -> expectations.outcomes.SuiteOutcome, or None when no new batch


def changed_bytes(landing, con) -> int:
    """The size of the landed files the ledger has not seen as they are now."""
    from ingestion.landing import LedgerSeen, landing_changes

    return sum((landing / rel).stat().st_size for rel in landing_changes(landing, LedgerSeen.read(con))
               if (landing / rel).is_file())


def unvalidated_batches(con, table: str) -> list[str]:
    """The loaded batches of a raw table that no suite has validated yet, in loading order: this run's, and any
    that a run killed between writing and validating them left behind."""
    from ingestion.ingest import KIND_FOLDERS

    kind = next(kind.name for kind in KIND_FOLDERS.values() if kind.table == table)  # the ledger's name for it
    return [sha for (sha,) in con.execute(
        "select l.sha256 from raw.ingestion_ledger l where l.status = 'loaded' and l.kind = ? "
        "and coalesce(l.review, '') <> 'excluded' "
        "and not exists (select 1 from raw.batch_validations v where v.batch_id = l.sha256 and v.kind = ?) "
        "order by l.batch_seq", [kind, table]).fetchall()]


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


def _progress(log: Callable[[str], None]) -> Callable[[str, int, int], None]:
    """Ingestion's progress as log lines: at each new step, every 100 files, and at the end of a step."""
    last = {"step": None}

    def progress(step: str, done: int, total: int) -> None:
        if step != last["step"] or done == total or done % 100 == 0:
            log(f"{step}: {done}/{total}")
            last["step"] = step
    return progress


def _ingest_and_validate(con, settings: Settings, run_at: datetime, rehash: bool,
                         log: Callable[[str], None]) -> IngestionResult:
    from ingestion.ingest import ingest_landing
    from ingestion.reviews import journal_path, read_journal

    report = ingest_landing(settings.landing_dir, con, settings.pii_key, progress=_progress(log), now=run_at,
                            settle_seconds=settings.settle_seconds, rehash=rehash,
                            reviews=read_journal(journal_path(settings.warehouse)),
                            parquet_dir=settings.raw_parquet_dir if settings.on_spark else None)
    return IngestionResult(report, validate_new_batches(con, run_at, log=log))


def _work(settings: Settings, run_at: datetime, rehash: bool, messages) -> None:
    """In the child: ingest the landing folder, validate the new batches, send back the result."""
    try:
        from ingestion.raw_schema import ensure_raw_schema
        from orchestration import duckdb_files

        def log(line: str) -> None:
            messages.put(("log", line))

        with duckdb_files.connect(settings.warehouse, settings.with_memory_share(DUCKDB_SHARE_IN_WORKER),
                                  log=lambda line: messages.put(("warning", line))) as con:
            ensure_raw_schema(con)
            result = _ingest_and_validate(con, settings, run_at, rehash, log)
            log("closing the warehouse (checkpoint)")
        messages.put(("done", result))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the run, which names it (last line)
        from orchestration.duckdb_files import no_space_left

        full = no_space_left(exc, settings.warehouse)
        messages.put(("error", traceback.format_exc() + (f"NoSpaceLeft: {full}\n" if full else "")))


def ingest(settings: Settings, run_at: datetime, log: Callable[[str], None], warn: Callable[[str], None],
           rehash: bool = False, worker_above_bytes: int = INGEST_IN_WORKER_ABOVE_BYTES) -> IngestionResult:
    """Ingest what landed and validate the new batches: here when the changed files weigh at most
    `worker_above_bytes`, in a worker process when they weigh more (ingest_in_worker)."""
    from ingestion.raw_schema import ensure_raw_schema
    from orchestration import duckdb_files

    try:
        with duckdb_files.connect(settings.warehouse, settings, log=warn) as con:
            ensure_raw_schema(con)
            if changed_bytes(settings.landing_dir, con) <= worker_above_bytes:
                return _ingest_and_validate(con, settings, run_at, rehash, log)
    except BaseException as exc:
        full = duckdb_files.no_space_left(exc, settings.warehouse)
        if full is not None:
            raise full from None  # the one line to show: which file, which folder, what to do
        raise
    return ingest_in_worker(settings, run_at, log, warn, rehash)


def ingest_in_worker(settings: Settings, run_at: datetime, log: Callable[[str], None],
                     warn: Callable[[str], None], rehash: bool = False) -> IngestionResult:
    spawn = multiprocessing.get_context("spawn")  # not fork: the run's process has threads (Dagster, polars)
    messages = spawn.Queue()
    worker = spawn.Process(target=_work, args=(settings, run_at, rehash, messages), name="tthc-ingestion")
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
