"""Suite unit_reports: every report that counts breaks none of the rules of kpis.md.

The rules themselves are defined once, in dbt (int_unit_report_rules, one boolean column per rule and measure);
this suite validates those verdicts, so a breach shows in the check history and the data docs, row by row
(unit, month). It never blocks publication.

Great Expectations evaluates it when the reports' verdicts or the suite changed since the last validation; a run in
which neither changed (most nightly runs: the units report once a month) reuses that validation's outcome, and
imports no Great Expectations.
"""

from __future__ import annotations

import hashlib
import pickle
from datetime import datetime
from pathlib import Path

from expectations.definitions import Expectation, in_set
from expectations.engine import SuiteOutcome, frame_for_gx, get_context, run_suite

BREACH_FLAGS = ("not_a_count_", "exceeds_", "mismatch_")  # column prefixes of int_unit_report_rules
COUNTING_REPORTS = "select * from quality.int_unit_report_rules where not is_superseded"
SUITE = "unit_reports"
RESULTS_DDL = """
create schema if not exists quality;
create table if not exists quality.suite_results (
    suite varchar primary key,
    fingerprint varchar not null,   -- the suite's expectations and the rows they validated
    outcome blob not null,          -- the SuiteOutcome, pickled
    validated_at timestamp not null
)
"""


def unit_report_suite(columns: list[str]) -> list[Expectation]:
    """One expectation per rule verdict column of int_unit_report_rules."""
    return [in_set(c, [False]) for c in columns if c.startswith(BREACH_FLAGS)] + [in_set("is_valid_in_month", [True])]


def validate_unit_reports(con, context=None) -> SuiteOutcome:
    frame = frame_for_gx(con.sql(COUNTING_REPORTS))
    return run_suite(SUITE, unit_report_suite(list(frame.columns)), frame,
                     key_columns=("unit_code", "period_month"), context=context)


def suite_fingerprint(con) -> str:
    """The suite's expectations and what they read of the counting reports: each report's key and verdicts (their
    count and the sum of their hashes). The reports' figures and the system's are left out: a night's dossiers move
    the system figures of the months reported, not the verdicts, unless a verdict changes."""
    columns = [name for name, *_ in con.execute(f"describe {COUNTING_REPORTS}").fetchall()]
    suite = unit_report_suite(columns)
    read = ", ".join(["unit_code", "period_month", *(e.kwargs["column"] for e in suite)])
    # fetchall: DuckDB 2 refuses other work on a connection while a result is still open
    rows, hashes = con.execute(f"select count(*), sum(hash(t)::hugeint) from (select {read} from "
                               f"({COUNTING_REPORTS})) as t").fetchall()[0]
    return hashlib.sha256(f"{suite!r}|{rows}|{hashes}".encode()).hexdigest()


def validate_unit_reports_if_changed(con, context_root: Path | None = None) -> tuple[SuiteOutcome, bool]:
    """(outcome, evaluated): the suite evaluated by Great Expectations when the reports or the suite changed since
    the last validation recorded in quality.suite_results, else that validation's outcome."""
    con.execute(RESULTS_DDL)
    fingerprint = suite_fingerprint(con)
    stored = con.execute("select fingerprint, outcome from quality.suite_results where suite = ?", [SUITE]).fetchall()
    stored = stored[0] if stored else None
    if stored is not None and stored[0] == fingerprint:
        try:
            return pickle.loads(stored[1]), False
        except Exception:  # noqa: BLE001 - an outcome an older version stored: evaluate again
            pass
    outcome = validate_unit_reports(con, context=get_context(root=context_root))
    con.execute("insert or replace into quality.suite_results values (?, ?, ?, ?)",
                [SUITE, fingerprint, pickle.dumps(outcome), datetime.now()])
    return outcome, True
