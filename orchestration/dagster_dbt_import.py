"""dagster-dbt, imported with dbt-core hidden.

dagster-dbt imports dbt-core when it is importable (1.3 s of every run's and code location's start) only to read
its version and name its node types and statuses; when it is not, it runs the dbt executable all the same, with those
names as plain strings (its path for dbt Fusion). dbt runs in its own process here (the warehouse step's `dbt build`),
so this process imports dagster-dbt with dbt-core hidden, as Great Expectations is imported with PySpark hidden
(expectations/engine.py). Where dbt-core is already imported (a test that ran dbt in its process), dagster-dbt uses it.
"""

# ruff: noqa: E402
import sys


def _import_without_dbt_core() -> None:
    if "dagster_dbt" in sys.modules or "dbt.version" in sys.modules:
        return
    sys.modules["dbt.version"] = None  # `from dbt.version import ...` raises ImportError: "dbt-core not installed"
    try:
        import dagster_dbt  # noqa: F401
    finally:
        if sys.modules.get("dbt.version", False) is None:
            del sys.modules["dbt.version"]


_import_without_dbt_core()

from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

__all__ = ["DagsterDbtTranslator", "DagsterDbtTranslatorSettings", "DbtCliResource", "DbtProject", "dbt_assets"]
