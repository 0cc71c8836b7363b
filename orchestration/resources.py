"""The one DuckDB resource: where the warehouse, landing and published files are, and one writer at a time."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from orchestration import duckdb_files
from orchestration.dead_runs import tag_run_with_this_process
from orchestration.settings import Settings


@contextmanager
def warehouse_lock(warehouse: Path, log=None) -> Iterator[None]:
    """An exclusive lock beside the warehouse file, held while a run writes it; others wait for it."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock_path = warehouse.with_name(warehouse.name + ".lock")
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if log:
                log(f"waiting for the warehouse lock {lock_path} (another run is writing)")
            started = time.monotonic()
            fcntl.flock(handle, fcntl.LOCK_EX)
            if log:
                log(f"got the warehouse lock after {time.monotonic() - started:.1f} s")
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class WarehouseResource(dg.ConfigurableResource):
    """Paths from the environment (kpis.md); `connect()` opens the warehouse for writing.

    DuckDB allows one writer per file, so a run holds an exclusive lock beside the warehouse from the start to
    the end of its execution (the job runs in one process, so resources are set up once per run): a second run,
    from the schedule, the sensor, the UI or `tthc run`, waits for the first instead of failing on a lock error.
    """

    landing_dir: str = ""
    warehouse_path: str = ""
    published_path: str = ""
    hold_run_lock: bool = True

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run
        if context.instance is not None and run is not None:
            tag_run_with_this_process(context.instance, run.run_id)  # a run whose process dies is then reaped
        if self.hold_run_lock:
            log = context.log.info if context.log else None
            self._lock = warehouse_lock(self.settings().warehouse, log=log)
            self._lock.__enter__()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.__exit__(None, None, None)
            self._lock = None

    def settings(self) -> Settings:
        return Settings.from_env().with_paths(
            landing_dir=Path(self.landing_dir) if self.landing_dir else None,
            warehouse=Path(self.warehouse_path) if self.warehouse_path else None,
            published=Path(self.published_path) if self.published_path else None,
        )

    @contextmanager
    def connect(self, read_only: bool = False, log=None) -> Iterator[duckdb.DuckDBPyConnection]:
        """The warehouse, with the memory bound; waits (saying so) while another process holds the file."""
        settings = self.settings()
        con = duckdb_files.connect(settings.warehouse, settings, read_only=read_only, log=log)
        try:
            yield con
        finally:
            con.close()
