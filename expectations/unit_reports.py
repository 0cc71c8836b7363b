"""Suite unit_reports: every report that counts breaks none of the rules of kpis.md.

The rules themselves are defined once, in dbt (int_unit_report_rules, one boolean column per rule and measure);
this suite validates those verdicts, so a breach shows in the check history and the data docs, row by row
(unit, month). It never blocks publication.

A run evaluates it in DuckDB SQL (expectations/sql_engine.py), in the run's process, as it does the raw suites: a
few thousand counting reports, validated in milliseconds, with no Great Expectations import (seconds of a
nightly run). The tests run the same suite in Great Expectations and hold both engines to the same verdicts.
"""

from __future__ import annotations

from expectations.definitions import Expectation, in_set
from expectations.outcomes import SuiteOutcome
from expectations.sql_engine import run_suite_sql

BREACH_FLAGS = ("not_a_count_", "exceeds_", "mismatch_")  # column prefixes of int_unit_report_rules
COUNTING_REPORTS = "(select * from quality.int_unit_report_rules where not is_superseded)"
KEY_COLUMNS = ("unit_code", "period_month")
SUITE = "unit_reports"


def unit_report_suite(columns: list[str]) -> list[Expectation]:
    """One expectation per rule verdict column of int_unit_report_rules."""
    return [in_set(c, [False]) for c in columns if c.startswith(BREACH_FLAGS)] + [in_set("is_valid_in_month", [True])]


def report_columns(con) -> list[str]:
    return [name for name, *_ in con.execute(f"describe select * from {COUNTING_REPORTS}").fetchall()]


def validate_unit_reports(con) -> SuiteOutcome:
    """The suite on the counting unit reports, in DuckDB SQL; failing rows are identified by (unit, month)."""
    return run_suite_sql(con, SUITE, unit_report_suite(report_columns(con)), COUNTING_REPORTS, key_columns=KEY_COLUMNS)
