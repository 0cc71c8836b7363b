"""Run a Great Expectations suite on a pandas frame (read from DuckDB) and summarise what failed.

GX's SQL datasource returns no rows on DuckDB (it closes the connection before fetching), so every suite here
validates a pandas frame through GX's pandas datasource; row-level checks of the big tables stay in dbt tests.
"""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
logging.getLogger("great_expectations").setLevel(logging.ERROR)

_counter = itertools.count()
_contexts: dict[str, object] = {}


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    detail: str
    failing_keys: set[tuple] = field(default_factory=set)


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
        return "; ".join(f"{o.expectation}({o.column or ''}): {o.detail}" for o in self.failed)


def get_context(docs_root: Path | None = None):
    """An ephemeral GX context, or a file context under docs_root whose data docs are built there."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    key = str(docs_root) if docs_root else ""
    if key not in _contexts:
        if docs_root:
            docs_root.mkdir(parents=True, exist_ok=True)
            context = gx.get_context(mode="file", project_root_dir=str(docs_root))
        else:
            context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _contexts[key] = context
    return _contexts[key]


def run_suite(suite_name: str, expectations: list, frame: pd.DataFrame, key_columns: tuple[str, ...] = (),
              context=None) -> SuiteOutcome:
    """Validate `frame` against `expectations`; failing rows are identified by key_columns."""
    import great_expectations as gx

    context = context or get_context()
    n = next(_counter)
    source = context.data_sources.add_or_update_pandas(f"{suite_name}_source")
    asset_name = f"{suite_name}_{n}"
    asset = source.add_dataframe_asset(asset_name)
    batch = asset.add_batch_definition_whole_dataframe("whole")
    try:
        context.suites.delete(suite_name)  # suites are defined in code: the latest definition wins
    except Exception:
        pass
    suite = context.suites.add(gx.ExpectationSuite(name=suite_name))
    for expectation in expectations:
        suite.add_expectation(expectation)
    definition = gx.ValidationDefinition(name=f"{suite_name}_{n}", data=batch, suite=suite)
    definition = context.validation_definitions.add(definition)
    result_format: dict = {"result_format": "COMPLETE" if key_columns else "SUMMARY"}
    if key_columns:
        result_format["unexpected_index_column_names"] = list(key_columns)
    result = definition.run(batch_parameters={"dataframe": frame}, result_format=result_format)
    outcomes = []
    for r in result.results:
        config = r.expectation_config
        details = r.result or {}
        keys = {tuple(row[k] for k in key_columns) for row in details.get("unexpected_index_list", []) or []
                if isinstance(row, dict)}
        unexpected = int(details.get("unexpected_count") or 0)
        if r.success:
            detail = "passed"
        elif r.exception_info and r.exception_info.get("raised_exception"):
            detail = str(r.exception_info.get("exception_message"))
        else:
            sample = details.get("partial_unexpected_list") or details.get("observed_value")
            detail = f"{unexpected} unexpected" + (f", e.g. {list(sample)[:3]}" if sample is not None else "")
        outcomes.append(ExpectationOutcome(config.type, config.kwargs.get("column"), bool(r.success), unexpected,
                                           detail, keys))
    return SuiteOutcome(suite_name, bool(result.success), len(outcomes), outcomes)
