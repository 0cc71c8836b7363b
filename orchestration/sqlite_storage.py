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

Dagster also builds a new SQLAlchemy engine for every statement on its run and event storage (and the engine's
first connection initialises its dialect): 3.4 ms to store an event in a micro-benchmark, five hundred events a
run. The process keeps one engine per file instead (pooled_engine), whose pool keeps the file's connection between
statements: 1.0 ms an event. `use_write_ahead_log` puts these engines under Dagster's SQLite run and event storage
(their `connect`, `_connect` and `has_table`, in the Dagster version pinned by uv.lock; tests/test_nightly_runs.py
runs them). An engine belongs to the file as it is on disk, so a file deleted behind the pool (a Dagster
home removed) is never written through a connection to the deleted one; wiping the event storage, which deletes
its run files, disposes the engines first.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

KEPT_OPEN = 8  # the run's shard, runs.db, index.db, schedules.db, with room for a webserver's recent runs

_installed = False
BUSY_TIMEOUT_SECONDS = 30  # as Dagster's own SQLite engines wait for another process's lock


class _LeastRecentlyUsed:
    """Up to KEPT_OPEN open things (connections, engines) by file, shared by the process's threads: the least
    recently used closed beyond that."""

    def __init__(self, close) -> None:
        self._open: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()
        self._close = close

    def get(self, key: str, opener):
        with self._lock:
            if key in self._open:
                self._open.move_to_end(key)
                return self._open[key]
            self._open[key] = thing = opener(key)
            while len(self._open) > KEPT_OPEN:
                self._close(self._open.popitem(last=False)[1])
            return thing

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._open

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._open)

    def close_all(self) -> None:
        with self._lock:
            while self._open:
                self._close(self._open.popitem(last=False)[1])


def _keeper(file: str) -> sqlite3.Connection:
    keeper = sqlite3.connect(file, check_same_thread=False)
    keeper.execute("pragma schema_version").fetchall()  # opens the file and its WAL index
    return keeper


def _pooled(conn_string: str):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import QueuePool

    return create_engine(conn_string, poolclass=QueuePool, pool_size=1, max_overflow=-1,
                         connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False})


_kept = _LeastRecentlyUsed(lambda keeper: keeper.close())  # file -> idle sqlite3 connection
_engines = _LeastRecentlyUsed(lambda engine: engine.dispose())  # connection string -> SQLAlchemy engine


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
    _kept.get(file, _keeper)


def kept_open() -> list[str]:
    return _kept.keys()


def close_kept() -> None:
    """Close the idle connections (the last close of each file checkpoints its log)."""
    _kept.close_all()


@contextmanager
def pooled_engine(conn_string: str) -> Iterator:
    """The process's engine for one SQLite file, created on first use; its pool keeps one connection between
    statements (more while threads overlap, closed on return). Beyond KEPT_OPEN files the least recently used
    engine is disposed, so a long-lived process (the webserver) does not hold every run's file open. An engine
    belongs to the file as it is on disk (its device and inode): a file deleted and created again at the same path
    gets a new engine, never the old one's connection to the deleted file; a file not created yet gets an engine
    for this statement only, disposed after it, as Dagster's own."""
    path = conn_string.split(":///", 1)[-1].split("?", 1)[0]
    try:
        stat = os.stat(path)
    except OSError:
        engine = _pooled(conn_string)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    yield _engines.get(f"{conn_string}|{stat.st_dev}:{stat.st_ino}", lambda _: _pooled(conn_string))


def pooled_engines() -> list[str]:
    """The connection strings of the engines the process keeps."""
    return [key.rsplit("|", 1)[0] for key in _engines.keys()]


def dispose_engines() -> None:
    """Close every pooled connection (before Dagster deletes its files, and at exit)."""
    _engines.close_all()


@contextmanager
def _event_log_connect(storage, shard: str) -> Iterator:
    """SqliteEventLogStorage._connect, on the file's pooled engine instead of a new one per statement."""
    with storage._db_lock, pooled_engine(storage.conn_string_for_shard(shard)) as engine:
        if shard not in storage._initialized_dbs:
            storage._initdb(engine)
            storage._initialized_dbs.add(shard)
        with engine.connect() as conn, conn.begin():
            yield conn


@contextmanager
def _run_storage_connect(storage) -> Iterator:
    """SqliteRunStorage.connect, on the file's pooled engine."""
    with pooled_engine(storage._conn_string) as engine, engine.connect() as conn, conn.begin():
        yield conn


def _event_log_has_table(storage, table_name: str) -> bool:
    """SqliteEventLogStorage.has_table (asked at every asset check event), on the index's pooled engine."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME

    with pooled_engine(storage.conn_string_for_shard(INDEX_SHARD_NAME)) as engine, engine.connect() as conn:
        return bool(engine.dialect.has_table(conn, table_name))


def _pool_dagster_storage() -> None:
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage

    wipe = SqliteEventLogStorage.wipe

    def wipe_after_disposing(storage) -> None:  # it deletes the run files the pool may hold open
        dispose_engines()
        wipe(storage)

    SqliteEventLogStorage._connect = _event_log_connect
    SqliteEventLogStorage.has_table = _event_log_has_table
    SqliteEventLogStorage.wipe = wipe_after_disposing
    SqliteRunStorage.connect = _run_storage_connect


def use_write_ahead_log() -> None:
    """Install the pragmas for every SQLAlchemy engine of this process, and the pooled engines under Dagster's
    SQLite storage (once)."""
    global _installed
    if _installed:
        return
    import atexit

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "connect", _pragmas)
    _pool_dagster_storage()
    atexit.register(close_kept)
    atexit.register(dispose_engines)  # runs first: the kept connections' closes are then the last
    _installed = True
