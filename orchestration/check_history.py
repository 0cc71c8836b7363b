"""The check history's tables in the warehouse (quality.check_runs, quality.expectation_results, and the inputs of
each run in quality.run_inputs) and the data quality page rendered from them. No Dagster here: `tthc run` records a
run with nothing new without importing it."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import duckdb

from storage.duckdb_connection import fetch_dicts

DDL = """
create schema if not exists quality;
create table if not exists quality.check_runs (
    run_id varchar not null,
    run_at timestamp not null,
    check_name varchar not null,
    asset varchar not null,
    passed boolean not null,
    severity varchar not null,
    failed_rows bigint,
    detail varchar
);
create table if not exists quality.expectation_results (
    run_id varchar not null,
    run_at timestamp not null,
    suite varchar not null,
    asset varchar not null,
    expectation varchar not null,
    column_name varchar,
    arguments varchar,
    success boolean not null,
    element_count bigint,
    unexpected_count bigint,
    detail varchar
);
create table if not exists quality.run_inputs (
    run_id varchar not null,
    inputs_digest varchar not null,
    ingested_at timestamp not null,
    completed_at timestamp,
    published_size bigint,
    published_mtime_ns bigint
);
"""


def append_check_rows(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> int:
    """Append rows (run_id, run_at, check_name, asset, passed, severity, failed_rows, detail) to the history."""
    con.execute(DDL)
    if rows:
        con.executemany("insert into quality.check_runs values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def data_quality_page(settings) -> Path:
    """`data_docs/index.html` beside the published file (orchestration.settings.Settings)."""
    return settings.published.parent / "data_docs" / "index.html"


def write_data_quality_page(con: duckdb.DuckDBPyConnection, path: Path, runs: int = 30) -> Path:
    """The project's own data docs (`data_docs/index.html`): the latest runs' checks and expectations, rendered
    from the history tables, self-contained (it opens without a network), replaced atomically."""
    from orchestration.check_descriptions import project_manifest, vietnamese_descriptions
    from reporting.quality_page import render_quality_page

    con.execute(DDL)
    recent = fetch_dicts(con, f"""
        select run_id, max(run_at) as run_at, count(*) as checks,
               count(*) filter (not passed and severity = 'error') as blocking_failed,
               count(*) filter (not passed and severity <> 'error') as warnings
        from quality.check_runs group by run_id order by max(run_at) desc limit {int(runs)}""")
    checks = fetch_dicts(con, "select check_name, asset, severity, passed, failed_rows, detail "
                              "from quality.check_runs where run_id = ? order by passed, severity, asset, check_name",
                         [recent[0]["run_id"] if recent else None])
    expectations = fetch_dicts(con, """
        select suite, asset, run_at, expectation, column_name, arguments, success, element_count, unexpected_count, detail
        from quality.expectation_results
        qualify run_at = max(run_at) over (partition by suite)
        order by suite, success, expectation, column_name""")
    page = render_quality_page(recent, checks, expectations, generated_at=datetime.now().replace(microsecond=0),
                               descriptions=vietnamese_descriptions(project_manifest()))
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staging.write_text(page, encoding="utf-8")
    os.replace(staging, path)
    return path


