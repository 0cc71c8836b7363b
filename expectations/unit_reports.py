"""Suite unit_reports: every report that counts breaks none of the rules of kpis.md.

The rules themselves are defined once, in dbt (int_unit_report_rules, one boolean column per rule and measure);
this suite validates those verdicts, so a breach shows in the check history and the data docs, row by row
(unit, month). It never blocks publication.
"""

from __future__ import annotations

from expectations.definitions import Expectation, in_set
from expectations.engine import SuiteOutcome, run_suite
from expectations.raw_batches import frame_for_gx

BREACH_FLAGS = ("not_a_count_", "exceeds_", "mismatch_")  # column prefixes of int_unit_report_rules


def unit_report_suite(columns: list[str]) -> list[Expectation]:
    """One expectation per rule verdict column of int_unit_report_rules."""
    return [in_set(c, [False]) for c in columns if c.startswith(BREACH_FLAGS)] + [in_set("is_valid_in_month", [True])]


def validate_unit_reports(con, context=None) -> SuiteOutcome:
    frame = frame_for_gx(con.sql("select * from quality.int_unit_report_rules where not is_superseded"))
    return run_suite("unit_reports", unit_report_suite(list(frame.columns)), frame,
                     key_columns=("unit_code", "period_month"), context=context)
