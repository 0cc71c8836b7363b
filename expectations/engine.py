"""Run a Great Expectations suite on a pandas frame (read from DuckDB) and summarise what failed.

GX's SQL datasource returns no rows on DuckDB (it closes the connection before fetching), so every suite here
validates a pandas frame through GX's pandas datasource; row-level checks of the big tables stay in dbt tests.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
logging.getLogger("great_expectations").setLevel(logging.ERROR)

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
        return describe(self.failed)


def describe(outcomes: list[ExpectationOutcome]) -> str:
    """Failed expectations as one line: expectation(column): what was unexpected; ..."""
    return "; ".join(f"{o.expectation}({o.column or ''}): {o.detail}" for o in outcomes)


DOCS_SITE = "tthc"


def get_context(root: Path | None = None, docs_dir: Path | None = None):
    """An ephemeral GX context, or a file context under `root` whose data docs are built into `docs_dir`."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    key = f"{root}|{docs_dir}" if root else ""
    if key not in _contexts:
        if root:
            root.mkdir(parents=True, exist_ok=True)
            context = gx.get_context(mode="file", project_root_dir=str(root))
            if docs_dir is not None:
                site = {"class_name": "SiteBuilder",
                        "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                          "base_directory": str(docs_dir.resolve())},
                        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}}
                if DOCS_SITE in (context.get_site_names() or []):
                    context.update_data_docs_site(DOCS_SITE, site)
                else:
                    context.add_data_docs_site(site_name=DOCS_SITE, site_config=site)
        else:
            context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _contexts[key] = context
    return _contexts[key]


def run_suite(suite_name: str, expectations: list, frame: pd.DataFrame, key_columns: tuple[str, ...] = (),
              context=None) -> SuiteOutcome:
    """Validate `frame` against `expectations`; failing rows are identified by key_columns.

    With a file context that has a data docs site, the validation runs through a checkpoint that updates the
    docs, so engineers can open the result as HTML.
    """
    import great_expectations as gx

    context = context or get_context()
    source = context.data_sources.add_or_update_pandas(f"{suite_name}_source")
    try:
        asset = source.get_asset(suite_name)
    except (LookupError, KeyError, ValueError):
        asset = source.add_dataframe_asset(suite_name)
    try:
        batch = asset.get_batch_definition("whole")
    except (LookupError, KeyError, ValueError):
        batch = asset.add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=expectations))
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_name, data=batch, suite=suite))
    result_format: dict = {"result_format": "COMPLETE" if key_columns else "SUMMARY"}
    if key_columns:
        result_format["unexpected_index_column_names"] = list(key_columns)
    if DOCS_SITE in (getattr(context, "get_site_names", lambda: [])() or []):
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name=suite_name, validation_definitions=[definition], result_format=result_format,
            actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs", site_names=[DOCS_SITE])]))
        result = next(iter(checkpoint.run(batch_parameters={"dataframe": frame}).run_results.values()))
    else:
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
        outcomes.append(ExpectationOutcome(config.type, config.kwargs.get("column") or config.kwargs.get("column_A"),
                                           bool(r.success), unexpected, detail, keys))
    return SuiteOutcome(suite_name, bool(result.success), len(outcomes), outcomes)
