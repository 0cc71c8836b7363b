"""Dagster's run and event storage under DAGSTER_HOME is SQLite: every event is a commit, and a commit in SQLite's
default rollback journal costs fsyncs, and Dagster writes a few hundred events a run (one per planned asset and
check, per dbt node, per log line): seconds of a nightly run (benchmarks/README.md).

Every SQLite connection this process opens runs in WAL mode with synchronous=NORMAL: a commit appends to the log
without waiting for the disk. The storage stays consistent after a crash or power cut; only the last events before
it may be lost, and a run whose process died is marked failed by the dead-run sensor and by `tthc run`.

Dagster opens and closes a connection for every statement (SQLAlchemy's NullPool), and closing the last connection
to a WAL database checkpoints it (fsyncs) and deletes its log: 1,600 times in a nightly run, about 1 ms each on a
quiet disk, more while another process writes (benchmarks/README.md). So the process keeps one idle connection open
to each of the files it last used (KEPT_OPEN of them): the others' closes are then no longer the last. An idle
connection holds no lock and no snapshot; the log is still checkpointed as it grows (SQLite's auto-checkpoint) and
when the process exits.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict

KEPT_OPEN = 8  # the run's shard, runs.db, index.db, schedules.db, with room for a webserver's recent runs

_installed = False
_kept: OrderedDict[str, sqlite3.Connection] = OrderedDict()
_kept_lock = threading.Lock()


def _pragmas(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        file = next((row[2] for row in cursor.execute("pragma database_list") if row[1] == "main"), "")
        if file not in _kept:  # WAL mode stays with the file: set once, before this process keeps it open
            cursor.execute("pragma journal_mode = wal")
        cursor.execute("pragma synchronous = normal")  # a connection's own setting: every time
    except sqlite3.OperationalError:
        return  # the file is busy (another process switching it): this connection keeps the defaults
    finally:
        cursor.close()
    if file:
        keep_open(file)


def keep_open(file: str) -> None:
    """An idle connection to `file` for the process's life, the least recently used closed beyond KEPT_OPEN."""
    with _kept_lock:
        if file in _kept:
            _kept.move_to_end(file)
            return
        keeper = sqlite3.connect(file, check_same_thread=False)
        keeper.execute("pragma schema_version").fetchall()  # opens the file and its WAL index
        _kept[file] = keeper
        while len(_kept) > KEPT_OPEN:
            _kept.popitem(last=False)[1].close()


def kept_open() -> list[str]:
    with _kept_lock:
        return list(_kept)


def close_kept() -> None:
    """Close the idle connections (the last close of each file checkpoints its log)."""
    with _kept_lock:
        while _kept:
            _kept.popitem(last=False)[1].close()


def use_write_ahead_log() -> None:
    """Install the pragmas for every SQLAlchemy engine of this process (once)."""
    global _installed
    if _installed:
        return
    import atexit

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "connect", _pragmas)
    atexit.register(close_kept)
    _installed = True
