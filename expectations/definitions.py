"""A suite's expectations as data: Great Expectations' expectation types and arguments, without importing it.

The suites are defined once, here-shaped: `expectations.engine.run_suite` turns them into Great Expectations
objects (to validate a frame with GX, and to compare engines in tests); `expectations.sql_engine.run_suite_sql`
evaluates them in DuckDB, so that a nightly run validates its batch without importing Great Expectations (seconds
of start-up for a few thousand rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Expectation:
    type: str  # Great Expectations' expectation type, e.g. expect_column_values_to_not_be_null
    kwargs: dict = field(default_factory=dict)

    @property
    def class_name(self) -> str:
        """The expectation's class in `great_expectations.expectations`: ExpectColumnValuesToNotBeNull."""
        return "".join(part.capitalize() for part in self.type.split("_"))


def not_null(column: str) -> Expectation:
    return Expectation("expect_column_values_to_not_be_null", {"column": column})


def in_set(column: str, values: list) -> Expectation:
    return Expectation("expect_column_values_to_be_in_set", {"column": column, "value_set": list(values)})


def between(column: str, minimum=None, maximum=None) -> Expectation:
    bounds = {k: v for k, v in (("min_value", minimum), ("max_value", maximum)) if v is not None}
    return Expectation("expect_column_values_to_be_between", {"column": column, **bounds})


def matches(column: str, regex: str) -> Expectation:
    return Expectation("expect_column_values_to_match_regex", {"column": column, "regex": regex})


def columns_exactly(columns: list[str]) -> Expectation:
    """Exactly these columns (exact_match is Great Expectations' default, and left out as it leaves it out)."""
    return Expectation("expect_table_columns_to_match_set", {"column_set": list(columns)})


def a_not_before_b(column_a: str, column_b: str) -> Expectation:
    """A >= B where both are set."""
    return Expectation("expect_column_pair_values_a_to_be_greater_than_b",
                       {"column_A": column_a, "column_B": column_b, "or_equal": True,
                        "ignore_row_if": "either_value_is_missing"})
