"""The raw tables as Parquet, for the engines that read files (Spark: TTHC_ENGINE=spark or spark_cluster).

    <folder>/<table>/batch_seq=<n>/<batch id>.parquet   append-only tables, one partition per batch, written by
                                                        ingestion in the pass that loads the batch into DuckDB
                                                        (batch_seq=0: no row, the columns of a table with no batch)
    <folder>/<table>/data.parquet                       the ledger and the validations, rewritten whole at the end
                                                        of ingestion (small, and their review column changes)

A batch's partition is written into a staging folder while the batch's DuckDB transaction is open, and renamed into
place once it has committed (`BatchParquet`): a reader never sees half a partition, a crash leaves none that looks
complete, and a batch the warehouse rolled back never appears. A crash between the commit and the rename leaves a
committed batch without its partition: `complete_raw_parquet`, run after every ingestion, writes it from DuckDB, and
replaces any partition whose file names another batch (a warehouse rebuilt from the landing numbers its batches
again).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from contracts.landed_tables import RAW_TABLES

# which tables, and how: contracts/landed_tables.py (RawTable.parquet)
APPEND_ONLY = tuple(t.name for t in RAW_TABLES.values() if t.parquet == "by_batch")
REWRITTEN = tuple(t.name for t in RAW_TABLES.values() if t.parquet == "whole")
EMPTY_BATCH = 0  # batch_seq starts at 1: partition 0 holds no row, only the columns of a table with no batch yet
STAGING_PREFIX = "."  # staging folders are hidden: Spark and DuckDB's hive partitioning skip names starting with a dot
EMPTY_BATCH_FILE = "empty.parquet"


def partition(folder: Path, table: str, seq: int) -> Path:
    return folder / table / f"batch_seq={seq}"


def batch_file_name(batch_id: str) -> str:
    """A partition's one file is named by its batch (the sha256 of the landed bytes): a partition left by another
    numbering of the batches is recognised and replaced."""
    return f"{batch_id[:32]}.parquet"


def _staging(folder: Path, table: str, seq: int) -> Path:
    return folder / table / f"{STAGING_PREFIX}batch_seq={seq}.{os.getpid()}.tmp"


def _copy_batch(con: duckdb.DuckDBPyConnection, relation: str, seq: int, target_file: Path) -> None:
    # the partition column lives in the folder name, as Spark and DuckDB's hive partitioning read it
    con.execute(f"copy (select * exclude (batch_seq) from {relation} where batch_seq = {int(seq)}) "
                f"to '{target_file}' (format parquet)")


def _stage_batch(con: duckdb.DuckDBPyConnection, relation: str, folder: Path, table: str, seq: int,
                 file_name: str) -> Path:
    """Write batch `seq` of `relation` into a fresh hidden staging folder; returns the folder."""
    staging = _staging(folder, table, seq)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    _copy_batch(con, relation, seq, staging / file_name)
    return staging


def _put_in_place(staging: Path, target: Path) -> None:
    if target.exists():  # a partition of another numbering (the warehouse was rebuilt): replaced
        shutil.rmtree(target)
    os.replace(staging, target)


@dataclass
class BatchParquet:
    """The partitions of the batches of one DuckDB transaction: `stage` them while it is open, `publish` them once
    it has committed, `discard` them if it did not."""

    folder: Path
    staged: list[tuple[Path, Path]] = field(default_factory=list)

    def stage(self, con: duckdb.DuckDBPyConnection, table: str, relation: str,
              batches: list[tuple[int, str]]) -> None:
        """Write each (batch_seq, batch id) of `relation` (the rows about to be committed) into a staging folder."""
        for seq, batch_id in batches:
            staging = _stage_batch(con, relation, self.folder, table, seq, batch_file_name(batch_id))
            self.staged.append((staging, partition(self.folder, table, seq)))

    def publish(self) -> None:
        for staging, target in self.staged:
            _put_in_place(staging, target)
        self.staged.clear()

    def discard(self) -> None:
        for staging, _ in self.staged:
            shutil.rmtree(staging, ignore_errors=True)
        self.staged.clear()


def exported_batches(folder: Path, table: str) -> dict[int, set[str]]:
    """The batch_seq partitions in place for `table`, with the names of their files."""
    root = folder / table
    if not root.exists():
        return {}
    return {int(p.name.split("=", 1)[1]): {f.name for f in p.glob("*.parquet")}
            for p in root.glob("batch_seq=*") if p.name.split("=", 1)[1].isdigit()}


def _loaded_batch_ids(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    return dict(con.execute("select batch_seq, sha256 from raw.ingestion_ledger where status = 'loaded'").fetchall())


def complete_raw_parquet(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """Make the Parquet folder hold exactly the committed batches: write from DuckDB every batch whose partition is
    missing or names another batch (a crash after a commit, a warehouse rebuilt, a first Spark run on a warehouse
    that DuckDB built), remove partitions of batches the warehouse does not hold and leftover staging folders; then
    rewrite the ledger and the validations whole. Returns the batches written per table (0 when ingestion wrote
    them all)."""
    folder.mkdir(parents=True, exist_ok=True)
    batch_ids = _loaded_batch_ids(con)
    written: dict[str, int] = {}
    for table in APPEND_ONLY:
        for leftover in (folder / table).glob(f"{STAGING_PREFIX}batch_seq=*.tmp"):
            shutil.rmtree(leftover, ignore_errors=True)
        held = {seq for (seq,) in con.execute(f"select distinct batch_seq from raw.{table}").fetchall()}
        in_place = exported_batches(folder, table)
        for seq in set(in_place) - held - {EMPTY_BATCH}:  # written for a transaction that a rebuild numbered again
            shutil.rmtree(partition(folder, table, seq))
        expected = {seq: batch_file_name(batch_ids.get(seq, f"batch-{seq}")) for seq in held}
        if not held and EMPTY_BATCH not in in_place:
            # no batch yet (an optional file): an empty partition gives the table its columns
            expected[EMPTY_BATCH] = EMPTY_BATCH_FILE
        missing = sorted(seq for seq, name in expected.items() if in_place.get(seq) != {name})
        for seq in missing:
            staging = _stage_batch(con, f"raw.{table}", folder, table, seq, expected[seq])
            _put_in_place(staging, partition(folder, table, seq))
        written[table] = len(missing)
    for table in REWRITTEN:
        target = folder / table / "data.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".data.{os.getpid()}.tmp")
        con.execute(f"copy (select * from raw.{table}) to '{staging}' (format parquet)")
        os.replace(staging, target)
    return written
