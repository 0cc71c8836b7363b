"""Suite unit_reports: every report that counts breaks none of the rules of kpis.md.

The rules themselves are defined once, in dbt (int_unit_report_rules); this suite validates their verdicts, so
a breach shows in the check history and the data docs, row by row (unit, month). It never blocks publication.
"""

from __future__ import annotations

import great_expectations as gx

from expectations.engine import SuiteOutcome, run_suite
from expectations.raw_batches import frame_for_gx
from ingestion.vocabulary import UNIT_REPORT_MEASURES

PART_WHOLE = [("received_online", "received"), ("digitised", "received"), ("fee_bearing", "received"),
              ("paid_online", "fee_bearing"), ("resolved_on_time", "resolved")]


def unit_report_suite() -> list:
    e = gx.expectations
    never = [False]
    return [
        *[e.ExpectColumnValuesToBeInSet(column=f"not_a_count_{m}", value_set=never) for m in UNIT_REPORT_MEASURES],
        *[e.ExpectColumnValuesToBeInSet(column=f"exceeds_{p}_{w}", value_set=never) for p, w in PART_WHOLE],
        e.ExpectColumnValuesToBeInSet(column="is_valid_in_month", value_set=[True]),
        *[e.ExpectColumnValuesToBeInSet(column=f"mismatch_{m}", value_set=never) for m in UNIT_REPORT_MEASURES],
    ]


def validate_unit_reports(con, context=None) -> SuiteOutcome:
    frame = frame_for_gx(con.sql("select * from intermediate.int_unit_report_rules where not is_superseded"))
    return run_suite("unit_reports", unit_report_suite(), frame, key_columns=("unit_code", "period_month"),
                     context=context)
