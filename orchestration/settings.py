"""The environment variables of kpis.md, and the machine's limits, read once, in one place."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from storage.duckdb_connection import DuckDBLimits, connect, default_memory_limit

DEVELOPMENT_PII_KEY = "tthc-development-key-not-for-production"
DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"  # its manifest: target/manifest.json
DEFAULT_LOCK_WAIT_SECONDS = 600.0
# The published file's DuckDB storage format: the oldest with backward compatibility (DuckDB 0.10 on) that keeps
# every type the marts use (text, integers, doubles, dates, timestamps, booleans). DuckDB 2.0 writes version 69 by
# default, which DuckDB 1.x readers refuse ("we can only read versions between 64 and 68").
DEFAULT_PUBLISHED_STORAGE_VERSION = "v0.10.0"
# A landed file modified less than this many seconds ago is read only if it stays unchanged until it is that old:
# a file still being copied into the landing folder is left for a later run instead of loading a cut-short row.
DEFAULT_SETTLE_SECONDS = 5.0
# Below this, DuckDB cannot build the marts at all: a smaller TTHC_DUCKDB_MEMORY_LIMIT is a typing mistake.
MIN_MEMORY_LIMIT_BYTES = 128 * 2**20
# The engine dbt builds the warehouse with: DuckDB (the default, no Java), or Spark (docs/scale-out.md), which
# reads the raw tables as Parquet written by ingestion: `spark` a PySpark session inside dbt's process (a laptop),
# `spark_cluster` a cluster's Thrift server (TTHC_SPARK_HOST, TTHC_SPARK_PORT; `tthc spark-cluster start`).
# Each engine is a target of dbt_project/profiles.yml of the same name (DuckDB's: `warehouse`).
ENGINES = ("duckdb", "spark", "spark_cluster")
DBT_TARGETS = {"duckdb": "warehouse", "spark": "spark", "spark_cluster": "spark_cluster"}
DEFAULT_SPARK_HOST = "127.0.0.1"
DEFAULT_SPARK_PORT = 10000  # the Spark Thrift server's usual port
DEFAULT_SPARK_MASTER_PORT = 7077  # a Spark standalone master's usual port


_BYTE_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
               "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_bytes(text: str) -> int:
    """A DuckDB memory size (`6GB`, `6144MB`, `5.5 GiB`) in bytes."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).upper() not in _BYTE_UNITS:
        raise ValueError(f"not a memory size: {text!r} (write it as DuckDB does, e.g. 6GB or 6144MB)")
    return int(float(match.group(1)) * _BYTE_UNITS[match.group(2).upper() or "B"])


class SettingsError(ValueError):
    """An environment variable that cannot be used: the message names it and says what it may be."""


def _seconds(variable: str, default: float) -> float:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{variable}={text!r}: give a number of seconds, e.g. {default:g}") from None
    if not value >= 0 or value == float("inf"):
        raise SettingsError(f"{variable}={text!r}: give a number of seconds, 0 or more")
    return value


def _memory_limit(text: str) -> str:
    try:
        size = parse_bytes(text)
    except ValueError as exc:
        raise SettingsError(f"TTHC_DUCKDB_MEMORY_LIMIT={text!r}: {exc}") from None
    if size < MIN_MEMORY_LIMIT_BYTES:
        raise SettingsError(f"TTHC_DUCKDB_MEMORY_LIMIT={text!r}: at least {MIN_MEMORY_LIMIT_BYTES // 2**20}MB "
                            "(DuckDB cannot build the marts in less)")
    return text


# The warehouse is opened under its file name, which becomes its catalog name: one named like a schema of it would
# make `raw.x` or `marts.x` ambiguous (the published file is always attached under a fixed alias instead).
WAREHOUSE_SCHEMAS = ("raw", "staging", "intermediate", "facts", "marts", "quality", "main", "system", "temp",
                     "memory")


def _path(variable: str, default: str) -> Path:
    text = os.environ.get(variable) or default
    if "'" in text or "\0" in text:
        raise SettingsError(f"{variable}={text!r}: a path with a quote cannot be given to DuckDB; choose another")
    return Path(text)


def _warehouse_path() -> Path:
    path = _path("TTHC_WAREHOUSE", "data/warehouse/tthc.duckdb")
    if path.stem.lower() in WAREHOUSE_SCHEMAS:
        raise SettingsError(f"TTHC_WAREHOUSE={str(path)!r}: a warehouse file named like one of its schemas "
                            f"({', '.join(WAREHOUSE_SCHEMAS[:6])}) makes its tables ambiguous; name it otherwise, "
                            "e.g. tthc.duckdb")
    return path


def _storage_version(text: str) -> str:
    import duckdb

    try:
        with connect() as con:
            con.execute(f"attach ':memory:' as probe (storage_version '{text}')")
    except duckdb.Error as exc:
        known = "a DuckDB version such as v0.10.0 or v1.2.0"
        raise SettingsError(f"TTHC_PUBLISHED_STORAGE_VERSION={text!r}: not {known} "
                            f"({str(exc).split(',')[0]})") from None
    return text


def _port(variable: str, default: int) -> int:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SettingsError(f"{variable}={text!r}: give a TCP port, a number from 1 to 65535")
    return int(text)


def engine_from(text: str) -> str:
    """TTHC_ENGINE: empty for the default, DuckDB; anything but ENGINES is refused with what it may be."""
    engine = text.strip().lower() or ENGINES[0]
    if engine not in ENGINES:
        raise SettingsError(f"TTHC_ENGINE={text!r}: the engine is one of {', '.join(ENGINES)}")
    return engine


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse: Path
    published: Path
    pii_key: bytes
    pii_key_is_default: bool
    # DuckDB's memory_limit for every connection (ingestion, dbt, publication, the report pack); one default
    memory_limit: str = field(default_factory=default_memory_limit)
    temp_dir: Path | None = None  # DuckDB's spill folder; None: `duckdb_tmp` beside the warehouse
    lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS  # how long a run waits for a reader to close the warehouse
    published_storage_version: str = DEFAULT_PUBLISHED_STORAGE_VERSION  # DuckDB format of the published file
    engine: str = "duckdb"  # TTHC_ENGINE: one of ENGINES
    settle_seconds: float = DEFAULT_SETTLE_SECONDS  # how long a landed file must stay unchanged before it is read
    spark_host: str = DEFAULT_SPARK_HOST  # TTHC_SPARK_HOST: the Thrift server of TTHC_ENGINE=spark_cluster
    spark_port: int = DEFAULT_SPARK_PORT  # TTHC_SPARK_PORT
    spark_master_port: int = DEFAULT_SPARK_MASTER_PORT  # TTHC_SPARK_MASTER_PORT: of the cluster tthc spark-cluster starts
    spark_warehouse: Path | None = None  # TTHC_SPARK_WAREHOUSE; None: `spark/` beside the warehouse

    @classmethod
    def from_env(cls) -> Settings:
        """The settings of the environment; a variable that cannot be used raises SettingsError naming it, so that
        a run is refused before it starts."""
        key = os.environ.get("TTHC_PII_KEY", "")
        temp = os.environ.get("TTHC_DUCKDB_TEMP_DIR", "")
        version = os.environ.get("TTHC_PUBLISHED_STORAGE_VERSION") or DEFAULT_PUBLISHED_STORAGE_VERSION
        return cls(
            landing_dir=_path("TTHC_LANDING_DIR", "data/landing"),
            warehouse=_warehouse_path(),
            published=_path("TTHC_PUBLISHED", "data/published/tthc_marts.duckdb"),
            pii_key=(key or DEVELOPMENT_PII_KEY).encode("utf-8"),
            pii_key_is_default=not key,
            memory_limit=_memory_limit(os.environ.get("TTHC_DUCKDB_MEMORY_LIMIT") or default_memory_limit()),
            temp_dir=_path("TTHC_DUCKDB_TEMP_DIR", "") if temp else None,
            lock_wait_seconds=_seconds("TTHC_LOCK_WAIT_SECONDS", DEFAULT_LOCK_WAIT_SECONDS),
            published_storage_version=(version if version == DEFAULT_PUBLISHED_STORAGE_VERSION
                                       else _storage_version(version)),
            engine=engine_from(os.environ.get("TTHC_ENGINE", "")),
            settle_seconds=_seconds("TTHC_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS),
            spark_host=os.environ.get("TTHC_SPARK_HOST", "").strip() or DEFAULT_SPARK_HOST,
            spark_port=_port("TTHC_SPARK_PORT", DEFAULT_SPARK_PORT),
            spark_master_port=_port("TTHC_SPARK_MASTER_PORT", DEFAULT_SPARK_MASTER_PORT),
            spark_warehouse=_path("TTHC_SPARK_WAREHOUSE", "") if os.environ.get("TTHC_SPARK_WAREHOUSE") else None,
        )

    def with_paths(self, landing_dir: Path | None = None, warehouse: Path | None = None,
                   published: Path | None = None) -> Settings:
        return replace(self, landing_dir=landing_dir or self.landing_dir, warehouse=warehouse or self.warehouse,
                       published=published or self.published)

    def with_memory_share(self, share: float) -> Settings:
        """The same settings with DuckDB bounded to `share` of the memory limit: for a process that also holds
        polars and pandas frames (ingestion), so that the process as a whole stays within the bound."""
        return replace(self, memory_limit=f"{int(parse_bytes(self.memory_limit) * share / 2**20)}MiB")

    @property
    def on_spark(self) -> bool:
        """dbt builds on Spark (either Spark engine), which reads the raw tables as Parquet."""
        return self.engine != "duckdb"

    @property
    def dbt_target(self) -> str:
        return DBT_TARGETS[self.engine]

    @property
    def raw_parquet_dir(self) -> Path:
        """Where ingestion writes the raw tables as Parquet for the Spark engines: `raw_parquet/` beside the
        warehouse (a cluster's executors must read it: on a real cluster, a shared mount)."""
        return self.warehouse.parent / "raw_parquet"

    @property
    def spark_dir(self) -> Path:
        """The Spark engines' tables, metastore and scratch (`tables/`, `metastore_db/`; `cluster/` for the cluster
        `tthc spark-cluster` starts): TTHC_SPARK_WAREHOUSE, or `spark/` beside the warehouse. The run reads the
        marts' Parquet back from `tables/`: for a remote cluster, its warehouse folder mounted here."""
        return self.spark_warehouse or self.warehouse.parent / "spark"

    @property
    def spill_dir(self) -> Path:
        return self.temp_dir or self.warehouse.parent / "duckdb_tmp"

    def duckdb_limits(self) -> DuckDBLimits:
        """What bounds every DuckDB connection of the project (storage.duckdb_connection.connect)."""
        return DuckDBLimits(self.memory_limit, self.spill_dir)

    def dbt_vars(self) -> dict[str, str]:
        """What dbt's profile and macros read (dbt_project/profiles.yml, macros/raw_parquet.sql), given to every dbt
        command as `--vars` (dbt_args): the warehouse, the same memory bound and spill folder, the Spark folders. Run
        by hand, dbt falls back on the environment variables of the same names, then on the repository's data/."""
        return {"tthc_warehouse": str(self.warehouse.resolve()), "tthc_duckdb_memory_limit": self.memory_limit,
                "tthc_duckdb_temp_dir": str(self.spill_dir.resolve()),
                "tthc_raw_parquet": str(self.raw_parquet_dir.resolve()),
                "tthc_spark_warehouse": str(self.spark_dir.resolve()),
                "tthc_spark_host": self.spark_host, "tthc_spark_port": str(self.spark_port)}

    def dbt_args(self) -> list[str]:
        """`--vars` with dbt_vars: the settings reach dbt on its command line, the environment stays as it is."""
        import json

        return ["--vars", json.dumps(self.dbt_vars(), sort_keys=True)]
