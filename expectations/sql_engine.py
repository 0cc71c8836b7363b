"""The same Great Expectations suites, evaluated in DuckDB SQL: the raw batches of every run, a nightly export's
few thousand rows as a backfill's millions.

Great Expectations validates a pandas frame row by row in Python, a large share of a first load's time, and its
import costs seconds of a nightly run (benchmarks/README.md). A suite's expectations (expectations/definitions.py,
GX's types and arguments) stay its one definition; this module counts the unexpected rows of each in one SQL pass
over the relation, with the rows' keys, as `run_suite` reports them. Only the expectation types the project's
suites use are translated; any other is refused by name. tests/test_ingestion.py
(test_the_sql_engine_finds_what_great_expectations_finds) runs both engines on the same rows.
"""

from __future__ import annotations

import duckdb

from expectations.definitions import Expectation
from expectations.outcomes import ExpectationOutcome, SuiteOutcome

KEY_SAMPLE = 3  # unexpected values quoted in the detail, as GX's partial list


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _unexpected_condition(kind: str, kwargs: dict) -> str:
    """The SQL condition of a row that breaks a column-map expectation (GX ignores nulls in these, and so does this)."""
    if kind == "expect_column_values_to_not_be_null":
        return f"{_quote(kwargs['column'])} is null"
    if kind == "expect_column_values_to_be_in_set":
        values = ", ".join(duckdb_literal(v) for v in kwargs["value_set"])
        return f"{_quote(kwargs['column'])} is not null and {_quote(kwargs['column'])} not in ({values})"
    if kind == "expect_column_values_to_be_between":
        column, parts = _quote(kwargs["column"]), []
        if kwargs.get("min_value") is not None:
            parts.append(f"{column} {'<=' if kwargs.get('strict_min') else '<'} {duckdb_literal(kwargs['min_value'])}")
        if kwargs.get("max_value") is not None:
            parts.append(f"{column} {'>=' if kwargs.get('strict_max') else '>'} {duckdb_literal(kwargs['max_value'])}")
        return f"{column} is not null and ({' or '.join(parts) or 'false'})"
    if kind == "expect_column_values_to_match_regex":
        column = _quote(kwargs["column"])
        return f"{column} is not null and not regexp_matches({column}, {duckdb_literal(kwargs['regex'])})"
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        if kwargs.get("ignore_row_if") not in ("either_value_is_missing", "any_value_is_missing"):
            raise NotImplementedError(f"{kind} with ignore_row_if={kwargs.get('ignore_row_if')!r}")
        a, b = _quote(kwargs["column_A"]), _quote(kwargs["column_B"])
        return f"{a} is not null and {b} is not null and not ({a} {'>=' if kwargs.get('or_equal') else '>'} {b})"
    raise NotImplementedError(f"expectation {kind} has no SQL translation (expectations/sql_engine.py)")


def duckdb_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def run_suite_sql(con: duckdb.DuckDBPyConnection, suite_name: str, expectations: list[Expectation], relation: str,
                  key_columns: tuple[str, ...] = ()) -> SuiteOutcome:
    """Validate the rows of `relation` (a table, view or parenthesised query) against `expectations`, without
    importing Great Expectations."""
    rows = con.execute(f"select count(*) from {relation}").fetchall()[0][0]
    columns = [name for name, *_ in con.execute(f"describe select * from {relation}").fetchall()]
    configs = expectations
    row_checks = [(i, c) for i, c in enumerate(configs) if c.type != "expect_table_columns_to_match_set"]
    counts: dict[int, int] = {}
    if row_checks:
        selects = ", ".join(f"count(*) filter (where {_unexpected_condition(c.type, c.kwargs)})" for _, c in row_checks)
        counts = dict(zip((i for i, _ in row_checks), con.execute(f"select {selects} from {relation}").fetchall()[0],
                          strict=True))
    outcomes = []
    for i, config in enumerate(configs):
        kwargs = config.kwargs
        arguments = {k: v for k, v in kwargs.items() if k not in ("batch_id", "column", "result_format")}
        column = kwargs.get("column") or kwargs.get("column_A")
        if config.type == "expect_table_columns_to_match_set":
            expected = list(kwargs["column_set"])
            success = set(columns) == set(expected) if kwargs.get("exact_match", True) else set(expected) <= set(columns)
            outcomes.append(ExpectationOutcome(config.type, None, success, 0,
                                               "passed" if success else f"0 unexpected, e.g. {columns[:KEY_SAMPLE]}",
                                               set(), arguments, rows))
            continue
        unexpected = int(counts[i])
        keys: set[tuple] = set()
        detail = "passed"
        if unexpected:
            condition = _unexpected_condition(config.type, kwargs)
            if key_columns:
                keys = set(con.execute(f"select distinct {', '.join(map(_quote, key_columns))} from {relation} "
                                       f"where {condition}").fetchall())
            shown = _quote(column) if column else "null"
            sample = [v for (v,) in con.execute(f"select {shown} from {relation} where {condition} "
                                                f"limit {KEY_SAMPLE}").fetchall()]
            detail = f"{unexpected} unexpected, e.g. {sample}"
        outcomes.append(ExpectationOutcome(config.type, column, unexpected == 0, unexpected, detail, keys, arguments,
                                           rows))
    return SuiteOutcome(suite_name, all(o.success for o in outcomes), len(outcomes), outcomes)
