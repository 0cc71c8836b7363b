"""Suites on the marts, run before publication (blocking): rates are fractions, parts never exceed wholes,
level rows equal the sum of their units, every unit of the reference is present, no personal data."""

from __future__ import annotations

import great_expectations as gx

from expectations.engine import SuiteOutcome, run_suite
from expectations.raw_batches import frame_for_gx
from contracts.personal_data import PERSONAL_DATA_COLUMNS
from contracts.rules import rules
from contracts.vocabulary import KPI_MEASURES, KPI_RATES

RATES = list(KPI_RATES)
MEASURES = list(KPI_MEASURES)
PART_WHOLE = rules().part_whole


def _rates_and_parts() -> list:
    e = gx.expectations
    return [*[e.ExpectColumnValuesToBeBetween(column=r, min_value=0, max_value=1) for r in RATES],
            *[e.ExpectColumnPairValuesAToBeGreaterThanB(column_A=whole, column_B=part, or_equal=True)
              for part, whole in PART_WHOLE]]


def kpi_unit_month_suite(reference_units: list[str]) -> list:
    return _rates_and_parts() + [
        gx.expectations.ExpectColumnDistinctValuesToContainSet(column="unit_code", value_set=reference_units)]


def kpi_level_month_suite() -> list:
    e = gx.expectations
    return _rates_and_parts() + [
        e.ExpectColumnValuesToBeInSet(column="level", value_set=["tinh", "huyen", "xa", "toan_tinh"]),
        *[e.ExpectColumnPairValuesToBeEqual(column_A=m, column_B=f"units_{m}") for m in MEASURES]]


def scorecard_suite() -> list:
    e = gx.expectations
    return [e.ExpectColumnValuesToBeBetween(column="window_value", min_value=0, max_value=1),
            e.ExpectColumnValuesToBeBetween(column="baseline_value", min_value=0, max_value=1),
            e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="window_denominator", column_B="window_numerator",
                                                      or_equal=True),
            e.ExpectColumnValuesToBeInSet(column="scope", value_set=["unit", "level"])]


def personal_data_suite() -> list:
    return [gx.expectations.ExpectColumnValuesToNotMatchRegex(column="column_name", regex=PERSONAL_DATA_COLUMNS)]


def validate_marts(con, context=None) -> dict[str, SuiteOutcome]:
    """Every mart suite, keyed by suite name."""
    units = [r[0] for r in con.execute("select unit_code from facts.dim_units").fetchall()]
    unit_month = frame_for_gx(con.sql("select * from marts.kpi_unit_month"))
    measures = ", ".join(f"sum(u.{m}) as units_{m}" for m in MEASURES)
    level_month = frame_for_gx(con.sql(f"""
        with sums as (
            select coalesce(level, '?') as level, period_month, {measures} from marts.kpi_unit_month u group by all
            union all
            select 'toan_tinh', period_month, {measures} from marts.kpi_unit_month u group by all)
        select l.*, {", ".join(f"s.units_{m}" for m in MEASURES)}
        from marts.kpi_level_month l left join sums s using (level, period_month)"""))
    scorecard = frame_for_gx(con.sql("select * from marts.directive10_scorecard"))
    columns = frame_for_gx(con.sql(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('marts', 'quality')"))
    return {
        "kpi_unit_month": run_suite("kpi_unit_month", kpi_unit_month_suite(units), unit_month,
                                    key_columns=("unit_code", "period_month"), context=context),
        "kpi_level_month": run_suite("kpi_level_month", kpi_level_month_suite(), level_month,
                                     key_columns=("level", "period_month"), context=context),
        "directive10_scorecard": run_suite("directive10_scorecard", scorecard_suite(), scorecard,
                                           key_columns=("scope", "unit_code", "level", "indicator"), context=context),
        "no_personal_data": run_suite("no_personal_data", personal_data_suite(), columns,
                                      key_columns=("table_name", "column_name"), context=context),
    }
