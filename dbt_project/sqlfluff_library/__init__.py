"""sqlfluff's jinja templater gets the real vars of dbt_project.yml: the macros iterate over the rules."""

from pathlib import Path

import yaml

_VARS = yaml.safe_load((Path(__file__).resolve().parents[1] / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


def var(name, default=None):
    return _VARS.get(name, default)


class _Target:
    """dbt's `target` as the macros read it: sqlfluff lints the DuckDB branch."""

    type = "duckdb"
    name = "warehouse"


target = _Target()
