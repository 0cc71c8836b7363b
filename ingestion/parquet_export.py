"""The raw tables as Parquet, for an engine that reads files (Spark: TTHC_ENGINE=spark), written from the DuckDB raw
tables that ingestion keeps: ingestion is not done twice.

    <folder>/<table>/batch_seq=<n>/data_0.parquet     append-only tables, one partition per batch (batch_seq=0:
                                                      no row, the columns of a table that has no batch yet)
    <folder>/<table>/data.parquet                     the ledger and the validations, rewritten whole (small, and
                                                      their review column changes)

A batch's partition is written once, into a staging folder renamed into place, so a reader never sees half of it
and a crash leaves no partition that looks complete. The next export picks up every batch not yet in place.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from contracts.landed_tables import RAW_TABLES

# which tables, and how: contracts/landed_tables.py (RawTable.parquet)
APPEND_ONLY = tuple(t.name for t in RAW_TABLES.values() if t.parquet == "by_batch")
REWRITTEN = tuple(t.name for t in RAW_TABLES.values() if t.parquet == "whole")
EMPTY_BATCH = 0  # batch_seq starts at 1: partition 0 holds no row, only the columns of a table with no batch yet


def exported_batches(folder: Path, table: str) -> set[int]:
    """The batch_seq partitions already in place for `table`."""
    root = folder / table
    if not root.exists():
        return set()
    return {int(p.name.split("=", 1)[1]) for p in root.glob("batch_seq=*") if p.name.split("=", 1)[1].isdigit()}


def export_raw_parquet(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    """Write every batch not yet exported, and the ledger and validations whole; returns batches written per table."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for table in APPEND_ONLY:
        done = exported_batches(folder, table)
        batches = [seq for (seq,) in con.execute(f"select distinct batch_seq from raw.{table} order by 1").fetchall()
                   if seq not in done]
        if not batches and not done:
            batches = [EMPTY_BATCH]  # no batch yet (an optional file): an empty partition gives the table its columns
        for seq in batches:
            target = folder / table / f"batch_seq={seq}"
            staging = folder / table / f".batch_seq={seq}.{os.getpid()}.tmp"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            # the partition column lives in the folder name, as Spark and DuckDB's hive partitioning read it
            con.execute(f"copy (select * exclude (batch_seq) from raw.{table} where batch_seq = {int(seq)}) "
                        f"to '{staging / 'data_0.parquet'}' (format parquet)")
            os.replace(staging, target)
        written[table] = len(batches)
    for table in REWRITTEN:
        target = folder / table / "data.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".data.{os.getpid()}.tmp")
        con.execute(f"copy (select * from raw.{table}) to '{staging}' (format parquet)")
        os.replace(staging, target)
        written[table] = 1
    return written
