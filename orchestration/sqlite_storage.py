"""Dagster's run and event storage under DAGSTER_HOME is SQLite: every event is a commit, and a commit in SQLite's
default rollback journal costs fsyncs, and Dagster writes a few hundred events a run (one per planned asset and
check, per dbt node, per log line): seconds of a nightly run (benchmarks/README.md).

Every SQLite connection this process opens runs in WAL mode with synchronous=NORMAL: a commit appends to the log
without waiting for the disk. The storage stays consistent after a crash or power cut; only the last events before
it may be lost, and a run whose process died is marked failed by the dead-run sensor and by `tthc run`.
"""

from __future__ import annotations

import sqlite3

_installed = False


def _pragmas(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("pragma journal_mode = wal")
        cursor.execute("pragma synchronous = normal")
    except sqlite3.OperationalError:
        pass  # the file is busy (another process switching it): this connection keeps the defaults
    finally:
        cursor.close()


def use_write_ahead_log() -> None:
    """Install the pragmas for every SQLAlchemy engine of this process (once)."""
    global _installed
    if _installed:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "connect", _pragmas)
    _installed = True
