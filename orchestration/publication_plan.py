"""Which published tables a publication must write again, and how (issue #28: publish only what changed).

A publication starts from a copy of the file it replaces when that file is the one the last publication wrote (its
size and modification time, recorded in the warehouse's `quality.publication_state`), and then, table by
table:
- keeps a table whose warehouse relation has the same fingerprint (its columns and types, row count and the sum of
  its rows' hashes) as when it was last published;
- for a month-incremental mart (it keeps `processed_through_batch_seq`, macros/month_incremental.sql), replaces only
  the months rebuilt since (their rows carry a later watermark), unless the mart was rebuilt whole since;
- for a dossier-incremental list (late_dossiers, explanation_issues: macros/dossier_incremental.sql), likewise
  replaces only the dossiers rewritten since, and removes the ones the list no longer holds;
- writes any other table whole.
Without a usable previous file (the first run, a file replaced by hand, a crash between the file and its state, a
batch review, which rebuilds the incremental models whole at the same watermark: forget_publication) every table is
written. The state is recorded after the file and its Parquet copies are in place, so a crash in
between only costs the next run a whole publication.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.migrations import relation_columns

WATERMARK = "processed_through_batch_seq"
# the column by which an incremental mart's builds replace its rows: a month's, or a dossier's
INCREMENTAL_KEYS = ("period_month", "dossier_code")
STATE_DDL = """
create schema if not exists quality;
create table if not exists quality.publication_state (
    published_table varchar not null,  -- the table's name in the published file
    fingerprint varchar not null,      -- its columns and contents when published (see fingerprint())
    watermark bigint,                  -- a month-incremental mart's last watermark when published
    published_file varchar not null    -- size and mtime of the file that publication wrote
)
"""


@dataclass(frozen=True)
class Published:
    fingerprint: str
    watermark: int | None


@dataclass(frozen=True)
class Plan:
    """What to do with one table: keep it, replace some months or dossiers of it, or write it whole."""
    action: str  # "keep", "months", "dossiers" or "whole"
    fingerprint: str
    watermark: int | None
    months: tuple = ()
    since: int | None = None  # "dossiers": the watermark when last published (the rows written after it replace)


def file_identity(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"  # a copy that keeps the time (cp -a, a backup) is the same file


def columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    """The relation's (column, type) in order; a relation the warehouse does not hold is an error that names it."""
    columns = relation_columns(con, relation)
    if not columns:
        raise duckdb.CatalogException(f"the warehouse holds no table {relation} to publish")
    return columns


def fingerprint(con: duckdb.DuckDBPyConnection, relation: str, columns: list[tuple[str, str]],
                described: str = "") -> tuple[str, int | None]:
    """(fingerprint, watermark). An incremental mart (by month or by dossier): its columns, its oldest watermark (a
    whole rebuild moves it) and its row count at its latest watermark (rows removed without a build: written
    whole), and that latest watermark; any other relation: its columns, row count and the sum of its rows' hashes (order-free: the same
    rows in another order give the same sum). `described`: a digest of the table's descriptions, so that a
    changed description writes the table whole (its COMMENTs and Parquet metadata with it). dbt is the one writer of the marts: a mart's rows changed in place
    by hand, at the same count and watermark, would not be seen. `columns`: the relation's (columns_of)."""
    signature = ",".join(f"{name} {kind}" for name, kind in columns) + f" described {described}"
    if incremental_key(columns) is not None:
        oldest, latest, rows = con.execute(
            f"select min({WATERMARK}), max({WATERMARK}), count(*) from {relation}").fetchone()
        return f"{signature}|built {oldest}|{rows} rows at {latest}", latest
    rows, hashes = con.execute(f"select count(*), sum(hash(t)::hugeint) from {relation} as t").fetchone()
    return f"{signature}|{rows} rows|{hashes}", None


def incremental_key(columns: list[tuple[str, str]]) -> str | None:
    """The column by which an incremental mart's builds replace its rows (period_month before dossier_code), or None
    for a table that is not incremental."""
    names = dict(columns)
    return next((key for key in INCREMENTAL_KEYS if key in names), None) if WATERMARK in names else None


def read_state(con: duckdb.DuckDBPyConnection, published: Path) -> dict[str, Published]:
    """The last publication's tables, if `published` is the file it wrote; else nothing (write every table)."""
    con.execute(STATE_DDL)
    rows = con.execute("select published_table, fingerprint, watermark, published_file "
                       "from quality.publication_state").fetchall()
    if not rows or not published.exists() or {row[3] for row in rows} != {file_identity(published)}:
        return {}
    return {table: Published(fp, watermark) for table, fp, watermark, _ in rows}


def plan(con: duckdb.DuckDBPyConnection, table: str, relation: str, state: dict[str, Published],
         described: str = "") -> Plan:
    columns = columns_of(con, relation)
    current, watermark = fingerprint(con, relation, columns, described)
    before = state.get(table)
    if before is not None and before.fingerprint == current:
        return Plan("keep", current, watermark)
    if before is None or watermark is None or watermark == before.watermark \
            or before.fingerprint.split("|")[:2] != current.split("|")[:2]:
        # new, not incremental, changed without a build, or other columns or rebuilt whole since
        return Plan("whole", current, watermark)
    if incremental_key(columns) == "dossier_code":
        return Plan("dossiers", current, watermark, since=before.watermark)
    months = tuple(m for (m,) in con.execute(
        f"select distinct period_month from {relation} where {WATERMARK} > ? order by 1", [before.watermark]).fetchall())
    return Plan("months", current, watermark, months)


def record_state(con: duckdb.DuckDBPyConnection, plans: dict[str, Plan], published: Path) -> None:
    """The tables as now published, with the identity of the file now in place."""
    con.execute(STATE_DDL)
    identity = file_identity(published)
    con.execute("begin")
    con.execute("delete from quality.publication_state")
    con.executemany("insert into quality.publication_state values (?, ?, ?, ?)",
                    [[table, p.fingerprint, p.watermark, identity] for table, p in plans.items()])
    con.execute("commit")



def forget_publication(con: duckdb.DuckDBPyConnection) -> None:
    """The next publication writes every table (a batch review rebuilds the marts whole, at the same watermark)."""
    con.execute(STATE_DDL)
    con.execute("delete from quality.publication_state")
