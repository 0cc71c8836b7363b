"""Opening the project's DuckDB files: with the memory bound and spill folder of the settings, and waiting (with a
message and a bound) while another process holds the file, instead of failing at once on DuckDB's lock."""

from __future__ import annotations

import errno
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from orchestration.settings import Settings
from storage.duckdb_connection import connect as open_duckdb

LOCK_ERROR = "Could not set lock on file"
RETRY_SECONDS = 2.0
# A DuckDB write error on a disk with less free space than this is taken for a full disk whatever DuckDB says
# (a failed checkpoint reports "CHECKPOINT during DETACH failed", a failed commit "cannot rollback").
LOW_SPACE_BYTES = 64 * 2**20


class NoSpaceLeft(OSError):
    """A DuckDB file could not be written because its disk is full: the message names the file and the folder."""


def no_space_left(exc: BaseException, path: Path) -> NoSpaceLeft | None:
    """`exc` (or an error it was raised from) as a NoSpaceLeft naming `path`, when the disk under it is full."""
    folder = path.parent if path.parent.exists() else Path(".")
    free = shutil.disk_usage(folder).free
    seen, cause = [], exc
    while cause is not None and len(seen) < 10:
        seen.append(cause)
        cause = cause.__cause__ or cause.__context__
    full = any((isinstance(e, OSError) and e.errno == errno.ENOSPC) or "No space left on device" in str(e)
               for e in seen) or (any(isinstance(e, duckdb.Error) for e in seen) and free < LOW_SPACE_BYTES)
    if not full:
        return None
    return NoSpaceLeft(errno.ENOSPC, f"no space left on device writing {path} ({free / 2**20:.1f} MB free in "
                                     f"{folder.resolve()}): free some space there and run again")


CORRUPTION_SIGNS = ("not a valid DuckDB database file", "Corrupt database file", "does not match stored checksum")


class WarehouseCorrupt(Exception):
    """A DuckDB file of the project cannot be read: the message names it and says how to recover."""


def corruption(exc: BaseException, path: Path) -> WarehouseCorrupt | None:
    """`exc` as a WarehouseCorrupt naming `path` and the way back, when DuckDB says the file is damaged."""
    text = str(exc)
    if not any(sign in text for sign in CORRUPTION_SIGNS):
        return None
    from ingestion.reviews import journal_path

    return WarehouseCorrupt(
        f"{path} is damaged and cannot be read ({text.splitlines()[0][:200]}). To recover, move it (and "
        f"{path.name}.wal, if there is one) out of {path.parent}, then run `tthc run`: the warehouse is rebuilt "
        f"from the landing folder, and the batch reviews kept in {journal_path(path)} are applied again")


class FileBusy(Exception):
    """Another process kept a DuckDB file open for longer than the settings allow a run to wait."""


def lock_holder(message: str) -> str:
    """The process DuckDB names in its lock error ("... held in /usr/bin/python3 (PID 123) ..."), or ''."""
    found = re.search(r"held in (.+?) \(PID (\d+)\)", message)
    return f"PID {found.group(2)} ({found.group(1)})" if found else ""


def connect(path: Path, settings: Settings, read_only: bool = False,
            log: Callable[[str], None] | None = None) -> duckdb.DuckDBPyConnection:
    """A connection to `path` with the settings' memory limit and temp directory.

    When another process holds the file (an analyst's client on the working warehouse, say), wait for it for
    up to `settings.lock_wait_seconds`, saying so once, then fail naming the file and the process to close.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + settings.lock_wait_seconds
    said = False
    while True:
        try:
            return open_duckdb(path, settings.duckdb_limits(), read_only=read_only)
        except duckdb.Error as exc:
            damaged = corruption(exc, path)
            if damaged is not None:
                raise damaged from None
            if not isinstance(exc, duckdb.IOException) or LOCK_ERROR not in str(exc):
                raise
            holder = lock_holder(str(exc)) or "another process"
            if time.monotonic() >= deadline:
                raise FileBusy(
                    f"{path} is held open by {holder} for over {settings.lock_wait_seconds:.0f} s: close it "
                    f"(analysts read the published file {settings.published}, which is never locked)") from None
            if not said and log is not None:
                log(f"waiting for {path}: it is held open by {holder}; close it, or the run fails after "
                    f"{settings.lock_wait_seconds:.0f} s (TTHC_LOCK_WAIT_SECONDS)")
                said = True
            time.sleep(min(RETRY_SECONDS, max(0.0, deadline - time.monotonic())))
