"""Run a Great Expectations suite on a pandas frame (read from DuckDB) and summarise what failed.

GX's SQL datasource returns no rows on DuckDB (it closes the connection before fetching), so every suite here
validates a pandas frame through GX's pandas datasource; row-level checks of the big tables stay in dbt tests.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa

from expectations.definitions import Expectation
from expectations.outcomes import ExpectationOutcome, SuiteOutcome

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
logging.getLogger("great_expectations").setLevel(logging.ERROR)

_contexts: dict[str, object] = {}
_import_lock = threading.Lock()


def import_great_expectations():
    """The `great_expectations` module, imported without PySpark.

    GX's compatibility layer imports PySpark whenever it is installed (the `spark` dependency group): 0.6 s and a
    pandas FutureWarning in every run's output, for Spark frames this project never validates (on either engine,
    Spark runs in dbt's own process). So PySpark is hidden while GX is first imported, and visible again after.
    Every import of GX in the project goes through here."""
    with _import_lock:
        if "great_expectations" in sys.modules:
            return sys.modules["great_expectations"]
        hidden = "pyspark" not in sys.modules
        if hidden:
            sys.modules["pyspark"] = None  # `import pyspark` raises ImportError, which GX takes for "not installed"
        try:
            return importlib.import_module("great_expectations")
        finally:
            if hidden and sys.modules.get("pyspark", False) is None:
                del sys.modules["pyspark"]


def get_context(root: Path | None = None):
    """An ephemeral GX context, or a file context under `root` (which keeps the suites as JSON).

    Results are not rendered by GX's data docs (they load their styles and scripts from CDNs and render broken
    without a network): the project records every expectation's result and renders its own offline page.
    """
    gx = import_great_expectations()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    key = str(root) if root else ""
    if key not in _contexts:
        if root:
            root.mkdir(parents=True, exist_ok=True)
            context = gx.get_context(mode="file", project_root_dir=str(root))
        else:
            context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _contexts[key] = context
    return _contexts[key]


def frame_for_gx(relation) -> pd.DataFrame:
    """A DuckDB relation as pandas with Arrow-backed strings (far faster than Python strings: benchmarks/README.md)."""
    def mapper(t: pa.DataType):
        return pd.ArrowDtype(t) if pa.types.is_string(t) or pa.types.is_large_string(t) else None

    return relation.to_arrow_table().to_pandas(types_mapper=mapper)


def to_gx(expectations: list[Expectation]) -> list:
    """The suite's expectations as Great Expectations objects."""
    gx = import_great_expectations()
    return [getattr(gx.expectations, e.class_name)(**e.kwargs) for e in expectations]


def run_suite(suite_name: str, expectations: list[Expectation], frame: pd.DataFrame,
              key_columns: tuple[str, ...] = (), context=None) -> SuiteOutcome:
    """Validate `frame` against `expectations` with Great Expectations; failing rows are identified by
    key_columns."""
    gx = import_great_expectations()

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
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite_name, expectations=to_gx(expectations)))
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_name, data=batch, suite=suite))
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
        arguments = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "column", "result_format")}
        outcomes.append(ExpectationOutcome(config.type, config.kwargs.get("column") or config.kwargs.get("column_A"),
                                           bool(r.success), unexpected, detail, keys, arguments,
                                           int(details.get("element_count") or len(frame))))
    return SuiteOutcome(suite_name, bool(result.success), len(outcomes), outcomes)
