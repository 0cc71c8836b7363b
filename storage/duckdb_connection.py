"""Every DuckDB connection of the project opens here, bounded: a memory limit and a folder to spill to.

DuckDB takes 80% of the machine's memory by default, and the kernel kills the process beyond it; a connection
opened here gets the limits it is given (orchestration's Settings, built once from the environment), or the one
default below, and spills past them instead. tests/test_settings_enter_once.py fails on a `duckdb.connect`
anywhere else in the project.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

# A quarter of the machine's memory: on the 24 GiB, 2-core machine the project is sized for, 6 GiB for DuckDB keeps
# a whole run (polars, pandas, Dagster beside it) under 8 GiB.
DEFAULT_MEMORY_SHARE = 0.25


def machine_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def default_memory_limit() -> str:
    """The one default of TTHC_DUCKDB_MEMORY_LIMIT: DEFAULT_MEMORY_SHARE of the machine's memory."""
    return f"{int(machine_memory_bytes() * DEFAULT_MEMORY_SHARE / 2**20)}MiB"


@dataclass(frozen=True)
class DuckDBLimits:
    """What bounds a connection: DuckDB's memory_limit, and the folder it spills to past it (None: DuckDB's own,
    which an in-memory connection does not have)."""

    memory_limit: str
    temp_directory: Path | None = None

    def config(self) -> dict[str, str]:
        config = {"memory_limit": self.memory_limit}
        if self.temp_directory is not None:
            config["temp_directory"] = str(self.temp_directory)
        return config


def connect(database: Path | str = ":memory:", limits: DuckDBLimits | None = None,
            read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to `database` (a file, or in memory) bounded by `limits` (default: default_memory_limit,
    no spill folder); the spill folder is created."""
    limits = limits or DuckDBLimits(default_memory_limit())
    if limits.temp_directory is not None:
        limits.temp_directory.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(database), read_only=read_only, config=limits.config())


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    """The rows of `sql` as dicts by column name."""
    cursor = con.execute(sql, params or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
