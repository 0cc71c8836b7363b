"""The check history: every check evaluation of every run, appended to quality.check_runs in the warehouse and
published as marts.data_quality_runs."""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.gate import graded

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
"""
FAILED_ROWS_KEYS = ("failed_rows", "dagster_dbt/failed_row_count", "rows_quarantined", "files_rejected")


def data_quality_page(settings) -> Path:
    """`data_docs/index.html` beside the published file (orchestration.settings.Settings)."""
    return settings.published.parent / "data_docs" / "index.html"


def _value(metadata: dict, key: str):
    value = metadata.get(key)
    return getattr(value, "value", value)


def record_checks(con: duckdb.DuckDBPyConnection, run_id: str, results: Iterable[dg.AssetCheckResult]) -> int:
    """Append one row per check result; returns how many."""
    con.execute(DDL)
    run_at = datetime.now().replace(microsecond=0)
    rows = []
    for r in results:
        metadata = dict(r.metadata or {})
        failed = next((_value(metadata, k) for k in FAILED_ROWS_KEYS if k in metadata), None)
        severity = (r.severity or dg.AssetCheckSeverity.ERROR).value.lower()
        rows.append((run_id, run_at, r.check_name, "/".join(r.asset_key.path), bool(r.passed), severity,
                     int(failed) if failed is not None else None, (r.description or "")[:4000] or None))
    if rows:
        con.executemany("insert into quality.check_runs values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def record_expectations(con: duckdb.DuckDBPyConnection, run_id: str, asset: str, outcome) -> int:
    """Append one row per expectation of a suite's outcome (expectations.engine.SuiteOutcome): what the data
    quality page shows expectation by expectation."""
    con.execute(DDL)
    run_at = datetime.now().replace(microsecond=0)
    rows = [(run_id, run_at, outcome.suite, asset, o.expectation, o.column,
             json.dumps(o.arguments, ensure_ascii=False, default=str, sort_keys=True) if o.arguments else None,
             o.success, o.element_count, o.unexpected_count, o.detail[:4000]) for o in outcome.outcomes]
    if rows:
        con.executemany("insert into quality.expectation_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def write_data_quality_page(con: duckdb.DuckDBPyConnection, path: Path, runs: int = 30) -> Path:
    """The project's own data docs (`data_docs/index.html`): the latest runs' checks and expectations, rendered
    from the history tables, self-contained (it opens without a network), replaced atomically."""
    from reporting.quality_page import render_quality_page

    con.execute(DDL)
    recent = con.sql(f"""
        select run_id, max(run_at) as run_at, count(*) as checks,
               count(*) filter (not passed and severity = 'error') as blocking_failed,
               count(*) filter (not passed and severity <> 'error') as warnings
        from quality.check_runs group by run_id order by max(run_at) desc limit {int(runs)}""").pl()
    latest = recent.get_column("run_id").to_list()[:1]
    checks = con.sql("select check_name, asset, severity, passed, failed_rows, detail from quality.check_runs "
                     "where run_id = $run_id order by passed, severity, asset, check_name",
                     params={"run_id": latest[0] if latest else None}).pl()
    expectations = con.sql("""
        select suite, asset, run_at, expectation, column_name, arguments, success, element_count, unexpected_count, detail
        from quality.expectation_results
        qualify run_at = max(run_at) over (partition by suite)
        order by suite, success, expectation, column_name""").pl()
    page = render_quality_page(recent, checks, expectations, generated_at=datetime.now().replace(microsecond=0))
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staging.write_text(page, encoding="utf-8")
    os.replace(staging, path)
    return path


def recorded(body):
    """For the body of an asset or a check that takes the `warehouse` resource: every check result it yields or
    returns is graded by the gate (orchestration/gate.py) and appended to the check history once, when the body
    ends (also when it fails: what was checked before the failure is kept). One helper, for every framework."""

    @functools.wraps(body)
    def wrapper(context, *args, **kwargs):
        results: list[dg.AssetCheckResult] = []
        warehouse = inspect.signature(body).bind(context, *args, **kwargs).arguments["warehouse"]
        outcome = body(context, *args, **kwargs)
        try:
            for event in (outcome if inspect.isgenerator(outcome) else [outcome]):
                if isinstance(event, dg.AssetCheckResult):
                    event = graded(event)
                    results.append(event)
                yield event
        finally:
            if results:
                with warehouse.connect(log=context.log.warning) as con:
                    record_checks(con, context.op_execution_context.run_id, results)
                    write_data_quality_page(con, data_quality_page(warehouse.settings()))

    return wrapper
