"""The check history: every check evaluation of every run, appended to quality.check_runs in the warehouse and
published as marts.data_quality_runs."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Iterable
from datetime import datetime

import dagster as dg
import duckdb

from orchestration.check_history import DDL, append_check_rows, data_quality_page, write_data_quality_page
from orchestration.gate import graded

FAILED_ROWS_KEYS = ("failed_rows", "dagster_dbt/failed_row_count", "rows_quarantined", "files_rejected")


def _value(metadata: dict, key: str):
    value = metadata.get(key)
    return getattr(value, "value", value)


def record_checks(con: duckdb.DuckDBPyConnection, run_id: str, results: Iterable[dg.AssetCheckResult]) -> int:
    """Append one row per check result; returns how many. `run_at` keeps its microseconds: the latest run is the one
    with the latest check, and two runs can record checks within one second (a run with nothing new right after)."""
    run_at = datetime.now()
    rows = []
    for r in results:
        metadata = dict(r.metadata or {})
        failed = next((_value(metadata, k) for k in FAILED_ROWS_KEYS if k in metadata), None)
        severity = (r.severity or dg.AssetCheckSeverity.ERROR).value.lower()
        rows.append((run_id, run_at, r.check_name, "/".join(r.asset_key.path), bool(r.passed), severity,
                     int(failed) if failed is not None else None, (r.description or "")[:4000] or None))
    return append_check_rows(con, rows)


def record_expectations(con: duckdb.DuckDBPyConnection, run_id: str, asset: str, outcome) -> int:
    """Append one row per expectation of a suite's outcome (expectations.outcomes.SuiteOutcome): what the data
    quality page shows expectation by expectation."""
    con.execute(DDL)
    run_at = datetime.now()
    rows = [(run_id, run_at, outcome.suite, asset, o.expectation, o.column,
             json.dumps(o.arguments, ensure_ascii=False, default=str, sort_keys=True) if o.arguments else None,
             o.success, o.element_count, o.unexpected_count, o.detail[:4000]) for o in outcome.outcomes]
    if rows:
        con.executemany("insert into quality.expectation_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


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
