"""Opening the project's DuckDB files: with the memory bound and spill folder of the settings, and waiting (with a
message and a bound) while another process holds the file, instead of failing at once on DuckDB's lock."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from orchestration.settings import Settings

LOCK_ERROR = "Could not set lock on file"
RETRY_SECONDS = 2.0


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
    settings.spill_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + settings.lock_wait_seconds
    said = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=settings.duckdb_config())
        except duckdb.IOException as exc:
            if LOCK_ERROR not in str(exc):
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
