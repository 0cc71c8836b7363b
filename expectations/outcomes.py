"""What a suite's evaluation found, whichever engine evaluated it (expectations/sql_engine.py in the runs, Great
Expectations in expectations/engine.py): plain data, so that reading or recording an outcome imports neither
Great Expectations nor pandas."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    detail: str
    failing_keys: set[tuple] = field(default_factory=set)
    arguments: dict = field(default_factory=dict)  # the expectation's other arguments (value sets, bounds)
    element_count: int = 0  # rows validated


@dataclass
class SuiteOutcome:
    suite: str
    success: bool
    evaluated: int
    outcomes: list[ExpectationOutcome]

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def failing_keys(self) -> set[tuple]:
        return set().union(*(o.failing_keys for o in self.failed)) if self.failed else set()

    def describe_failures(self) -> str:
        return describe(self.failed)


def describe(outcomes: list[ExpectationOutcome]) -> str:
    """Failed expectations as one line: expectation(column): what was unexpected; ..."""
    return "; ".join(f"{o.expectation}({o.column or ''}): {o.detail}" for o in outcomes)
