"""A changed model or rule rebuilds the incremental tables whole.

The incremental tables (the dossiers' current state and facts, the tables of figures per month) only recompute
what new batches touch, so a model's SQL, a macro or a rule var changed since they were built would reach only the
dossiers and months touched after the change. Before each `dbt build`, the digest of what defines the tables
(`dbt_project/models`, `macros` and `dbt_project.yml`; not the tests) is compared with the one recorded at the
last completed build in `quality.model_definition`: when it differs, the incremental tables are dropped, the next
build builds them whole, and the next publication writes every table. Recorded after a build that finished.
On the Spark engine the incremental tables live in Spark's metastore, which this does not reach.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from orchestration.publication_plan import forget_publication

DEFINITION_DDL = """
create schema if not exists quality;
create table if not exists quality.model_definition (
    digest varchar not null,        -- of dbt_project/models, macros and dbt_project.yml (definition_digest)
    built_at timestamp not null     -- when the build that used it finished
)
"""
DEFINING = ("models", "macros", "dbt_project.yml")


def definition_digest(project_dir: Path, parts: tuple[str, ...] = DEFINING) -> str:
    """One digest of every file that defines what the tables hold (each path and its bytes, in path order); of the
    files under other `parts` of the project when given."""
    digest = hashlib.sha256()
    files = [p for part in parts for p in ([project_dir / part] if (project_dir / part).is_file()
                                           else (project_dir / part).rglob("*")) if p.is_file()]
    for path in sorted(files):
        digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def rebuild_if_changed(con: duckdb.DuckDBPyConnection, digest: str, incremental: list[str]) -> list[str]:
    """Drop the incremental tables when the definition differs from the last build's; the ones dropped."""
    con.execute(DEFINITION_DDL)
    row = con.execute("select digest from quality.model_definition order by built_at desc limit 1").fetchone()
    if row is not None and row[0] == digest:
        return []
    con.execute("begin")
    dropped = rebuild_whole(con, incremental)
    con.execute("commit")
    return dropped


def rebuild_whole(con: duckdb.DuckDBPyConnection, incremental: list[str]) -> list[str]:
    """Drop the incremental tables (the next build builds them whole) and forget the last publication (the next
    one writes every table): after a changed definition, and after a batch review (cli). The ones dropped."""
    present = warehouse_relations(con)
    dropped = [relation for relation in incremental if relation in present]
    for relation in dropped:
        con.execute(f"drop table {relation}")
    forget_publication(con)
    return dropped


def warehouse_relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every table and view of the warehouse as `schema.name`."""
    return {f"{schema}.{name}" for schema, name in con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = current_database()"
    ).fetchall()}


def record_definition(con: duckdb.DuckDBPyConnection, digest: str) -> None:
    con.execute(DEFINITION_DDL)
    con.execute("begin")
    con.execute("delete from quality.model_definition")
    con.execute("insert into quality.model_definition values (?, current_timestamp)", [digest])
    con.execute("commit")
