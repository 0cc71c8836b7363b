"""What a run was built from, and whether anything changed since the last run that completed.

A run's inputs are the ledger (every batch, its status and review), the project's code (Python, dbt models,
macros and tests) and the settings that shape the tables. The ingestion step records their digest in
quality.run_inputs; the last step marks the run completed with the size and time of the file it published. A
later run whose landing folder holds no new or changed file, whose inputs have the same digest, and whose
published file is still the one that run left, has nothing to build: `tthc run` and the nightly schedule say so
and leave the published file as it is, recording the run in the check history (issue #14).

No Dagster here: the check runs before `tthc run` imports it, so that a run with nothing new costs about a second.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import duckdb

from ingestion.landing import LedgerSeen, landing_changes
from orchestration import duckdb_files
from orchestration.check_history import DDL, append_check_rows, data_quality_page, write_data_quality_page
from orchestration.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# the code that decides what the tables hold: a change to any of it rebuilds
CODE_FOLDERS = ("contracts", "ingestion", "expectations", "orchestration", "reporting",
                "dbt_project/models", "dbt_project/macros", "dbt_project/tests")
CODE_FILES = ("dbt_project/dbt_project.yml", "dbt_project/profiles.yml")
CODE_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".csv", ".json"}
NOTHING_NEW_CHECK = "nothing_new"
STOP_IF_NOTHING_NEW_TAG = "tthc/stop_if_nothing_new"  # a run with this tag (the sensor's) stops when nothing is new
LEDGER_ASSET = "raw/ingestion_ledger"


def code_digest(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    files = [root / f for f in CODE_FILES] + [p for folder in CODE_FOLDERS for p in (root / folder).rglob("*")
                                              if p.suffix in CODE_SUFFIXES and "__pycache__" not in p.parts]
    for path in sorted(p for p in files if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def settings_digest(settings: Settings) -> str:
    """The settings that change what the tables hold or where they go (not memory or waiting)."""
    shaping = [str(settings.landing_dir.resolve()), str(settings.published.resolve()),
               hashlib.sha256(settings.pii_key).hexdigest(), settings.published_storage_version, settings.engine]
    return hashlib.sha256("\0".join(shaping).encode()).hexdigest()


def inputs_digest(con: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    """One digest of the ledger's batches and reviews, the code and the shaping settings."""
    digest = hashlib.sha256()
    for row in con.execute("select file_path, sha256, status, review, reviewed_at, batch_seq "
                           "from raw.ingestion_ledger order by batch_seq, file_path").fetchall():
        digest.update(repr(row).encode())
    digest.update(code_digest().encode() + settings_digest(settings).encode())
    return digest.hexdigest()


def record_inputs(con: duckdb.DuckDBPyConnection, run_id: str, settings: Settings) -> str:
    """After ingestion: what this run builds from."""
    con.execute(DDL)
    digest = inputs_digest(con, settings)
    con.execute("insert into quality.run_inputs (run_id, inputs_digest, ingested_at) values (?, ?, ?)",
                [run_id, digest, datetime.now().replace(microsecond=0)])
    return digest


def mark_completed(con: duckdb.DuckDBPyConnection, run_id: str, published: Path) -> None:
    """At the end of a run that published: the file it left, as it is now."""
    con.execute(DDL)
    stat = published.stat()
    con.execute("update quality.run_inputs set completed_at = ?, published_size = ?, published_mtime_ns = ? "
                "where run_id = ?", [datetime.now().replace(microsecond=0), stat.st_size, stat.st_mtime_ns, run_id])


@dataclass(frozen=True)
class NothingNew:
    """The last completed run, whose published file stands for the landing folder as it is."""

    run_id: str
    completed_at: datetime
    files: int

    def describe(self, settings: Settings) -> str:
        return (f"nothing new since run {self.run_id} completed at {self.completed_at:%Y-%m-%d %H:%M}: no landed "
                f"file ({self.files} seen), batch review, code or setting changed; {settings.published} is left "
                "as it is")


def _open_for_a_look(settings: Settings) -> duckdb.DuckDBPyConnection | None:
    """The warehouse read-only, or None when it cannot be read now (absent, or held by a run that writes it)."""
    if not settings.warehouse.exists():
        return None
    try:
        return duckdb_files.connect(settings.warehouse, replace(settings, lock_wait_seconds=0), read_only=True)
    except (duckdb.Error, duckdb_files.FileBusy):
        return None


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {t for (t,) in con.execute("select schema_name || '.' || table_name from duckdb_tables()").fetchall()}


@dataclass(frozen=True)
class LandingChanges:
    """What the ledger has not seen of the landing folder as it is now (the question of the nothing-new check)."""

    paths: list[str]  # relative paths of the new or changed entries
    last_batch: int  # the ledger's last batch_seq (0 for an empty or new warehouse)


def landing_changes_now(settings: Settings) -> LandingChanges | None:
    """The landed entries the ledger has not seen as they are now, or None while a run holds the warehouse."""
    from ingestion.landing import discover, landed_name

    everything = LandingChanges([landed_name(settings.landing_dir, e.path) for e in discover(settings.landing_dir)], 0)
    if not settings.warehouse.exists():
        return everything
    con = _open_for_a_look(settings)
    if con is None:
        return None
    try:
        if "raw.ingestion_ledger" not in _tables(con):
            return everything
        last = con.execute("select coalesce(max(batch_seq), 0) from raw.ingestion_ledger").fetchall()[0][0]
        return LandingChanges(landing_changes(settings.landing_dir, LedgerSeen.read(con)), int(last))
    finally:
        con.close()


def nothing_new(settings: Settings) -> NothingNew | None:
    """The last completed run when nothing changed since it, else None (also when it cannot tell: no warehouse,
    another process writing it, no completed run, a published file replaced or gone)."""
    if not settings.published.exists() or not settings.landing_dir.exists():
        return None
    con = _open_for_a_look(settings)
    if con is None:
        return None  # absent, or held by a writer: let the run wait for it and find out
    try:
        if not {"quality.run_inputs", "raw.ingestion_ledger"} <= _tables(con):
            return None
        last = con.execute("select run_id, inputs_digest, completed_at, published_size, published_mtime_ns "
                           "from quality.run_inputs order by ingested_at desc limit 1").fetchone()
        if last is None or last[2] is None:
            return None  # the latest run did not complete (blocked, broke, or still going)
        run_id, digest, completed_at, size, mtime_ns = last
        stat = settings.published.stat()
        if (stat.st_size, stat.st_mtime_ns) != (size, mtime_ns):
            return None
        seen = LedgerSeen.read(con)
        if landing_changes(settings.landing_dir, seen) or inputs_digest(con, settings) != digest:
            return None
        return NothingNew(run_id, completed_at, len(seen.stats))
    finally:
        con.close()


def record_nothing_new(settings: Settings, run_id: str, found: NothingNew) -> Path:
    """The run in the check history (quality.check_runs): that nothing was new, and whether the dossier exports
    are still fresh (the one check whose answer moves with the clock); the data quality page says it too."""
    from orchestration.freshness_rule import dossier_export_freshness

    now = datetime.now()  # to the microsecond, as every check row (orchestration.history.record_checks)
    with duckdb_files.connect(settings.warehouse, settings) as con:
        fresh = dossier_export_freshness(con, now)
        append_check_rows(con, [
            (run_id, now, NOTHING_NEW_CHECK, LEDGER_ASSET, True, "warn", 0, found.describe(settings)),
            (run_id, now, fresh.check_name, fresh.asset, fresh.passed, "warn", None, fresh.description)])
        return write_data_quality_page(con, data_quality_page(settings))


def stop_if_nothing_new(settings: Settings, run_id: str) -> tuple[NothingNew, Path] | None:
    """For `tthc run` and the nightly schedule: when nothing changed, the run recorded in the check history as
    `run_id` and the data quality page rewritten: (the last completed run, the page). None: run every step."""
    found = nothing_new(settings)
    if found is None:
        return None
    return found, record_nothing_new(settings, run_id, found)
