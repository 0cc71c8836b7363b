"""The gate: the one list of checks that stop publication, whatever framework runs them.

Every other check warns: its failures are recorded in the check history and shown, and the marts are still
published. dbt tests run at severity `warn` (dbt_project.yml) and are graded here like the Python checks; the
README's list of blocking checks is compared with this one by a test.
"""

from __future__ import annotations

import dagster as dg

BLOCKING_CHECKS: dict[str, str] = {
    # "asset:check" -> why a failure must stop publication
    "raw/ingestion_ledger:no_held_batch":
        "a batch with more than 5% of its rows quarantined waits for an engineer's review (docs/contracts/landing.md)",
    "raw/dossier_snapshots:dossiers_loaded":
        "no dossier at all: an empty or wrongly pointed landing folder would publish empty marts",
    "raw/dossier_snapshots:raw_dossier_batch_suite": "loaded dossier rows break the landing contract",
    "raw/unit_reports:raw_unit_report_batch_suite": "loaded unit-report rows break the landing contract",
    "intermediate/int_dossier_current_state:unique_among_rebuilt_int_dossier_current_state_dossier_code":
        "a dossier would be counted twice",
    "facts/fct_dossiers:unique_among_rebuilt_fct_dossiers_dossier_code": "a dossier would be counted twice",
    "marts/kpi_unit_month:unique_combination_kpi_unit_month_unit_code__period_month":
        "a unit and month would be reported twice",
    "marts/kpi_level_month:unique_combination_kpi_level_month_level__period_month":
        "a level and month would be reported twice",
    "marts/directive10_scorecard:assert_rates_are_fractions": "a rate outside [0, 1], or NULL with a denominator",
    "marts/kpi_unit_month:assert_numerators_within_denominators": "a part larger than its whole",
    "marts/kpi_level_month:assert_level_month_equals_sum_of_units": "a level that is not the pool of its units",
    "marts/kpi_unit_month:received_not_dropped":
        "a complete month's received dossiers fell by more than 1% (province, or a unit with 100 or more) against "
        "the previous published file, and no excluded batch explains it",
    "marts/kpi_unit_month:assert_every_reference_unit_present": "a unit of the reference missing from the figures",
    "marts/directive10_scorecard:assert_directive_window_months": "a window or baseline other than the contract's",
    "marts/ingestion_ledger:assert_no_personal_data_column": "personal data would be published",
    "marts/kpi_current_unit_month:unique_current_unit_month":
        "a current unit and month would be reported twice",
    "marts/kpi_current_unit_month:assert_current_units_pool_every_unit":
        "the current-unit view would lose or double a unit's dossiers",
    "marts/programme_scorecard:unique_programme_scorecard_row":
        "a programme's unit, level or current unit would be scored twice",
    "marts/programme_unit_year:unique_programme_unit_year_row": "a unit-year would be scored twice",
    "marts/programme_unit_year:assert_criteria_met_within_total":
        "a unit-year would meet more criteria than it is scored on, or be proposed for an award it missed",
    "marts/index766_unit_month:unique_index766_unit_month_row": "a unit-month's 766 metric would be scored twice",
    "marts/index766_unit_month:assert_index766_points_within_max":
        "a 766 metric would score more than its maximum, or score with nothing to score",
    "marts/index766_unit_month:assert_index766_levels_pool_units":
        "a level's 766 estimate would not be the pool of its units",
}


def check_key(asset_key: dg.AssetKey, check_name: str) -> str:
    return f"{asset_key.to_user_string()}:{check_name}"


def is_blocking(asset_key: dg.AssetKey, check_name: str) -> bool:
    return check_key(asset_key, check_name) in BLOCKING_CHECKS


def graded(result: dg.AssetCheckResult) -> dg.AssetCheckResult:
    """The result with the gate's severity: ERROR for a blocking check, WARN for every other."""
    severity = dg.AssetCheckSeverity.ERROR if is_blocking(result.asset_key, result.check_name) \
        else dg.AssetCheckSeverity.WARN
    if result.severity == severity:
        return result
    return dg.AssetCheckResult(asset_key=result.asset_key, check_name=result.check_name, passed=result.passed,
                               severity=severity, description=result.description, metadata=result.metadata)
