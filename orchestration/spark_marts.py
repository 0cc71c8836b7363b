"""With TTHC_ENGINE=spark, dbt builds the models on Spark; the tables the rest of the graph reads (the marts, and the
unit-report rules that Great Expectations validates) are copied from Spark's Parquet into the DuckDB warehouse, so the
checks, the publication and the report pack run on the same DuckDB tables whichever engine built them. The marts are
small (a few thousand rows per table, the late-dossier list apart): one read of their files.

Spark keeps a managed table `<schema>.<table>` as Parquet files under `<spark_dir>/tables/<schema>.db/<table>/`
(spark.sql.warehouse.dir in dbt_project/profiles.yml).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

# the schemas whose tables Python reads from the warehouse: marts (suites, publication), quality (unit-report suite)
COPIED_SCHEMAS = ("marts", "quality")
# and the dimensions published beside the marts (orchestration.assets.publication.PUBLISHED_TABLES)
COPIED_TABLES = (("facts", "dim_units"), ("facts", "dim_procedures"))


def copied_relations(manifest: Path) -> list[tuple[str, str]]:
    """The (schema, table) of every model that dbt materialises as a table in COPIED_SCHEMAS, and COPIED_TABLES."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return sorted((node["schema"], node["alias"] or node["name"]) for node in nodes
                  if node["resource_type"] == "model"
                  and (node["schema"] in COPIED_SCHEMAS or (node["schema"], node["alias"] or node["name"]) in COPIED_TABLES)
                  and node["config"].get("materialized") in ("table", "incremental"))


def spark_table_files(spark_dir: Path, schema: str, table: str) -> list[Path]:
    """The Parquet files of a managed Spark table; an error naming the folder when there are none."""
    folder = spark_dir / "tables" / f"{schema}.db" / table
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"{schema}.{table}: Spark left no Parquet file in {folder} "
                                f"(did `dbt build --target spark` build it?)")
    return files


def copy_spark_tables(con: duckdb.DuckDBPyConnection, spark_dir: Path,
                      relations: list[tuple[str, str]]) -> dict[str, int]:
    """Replace each relation in the DuckDB warehouse with Spark's table, all in one transaction (a failure leaves
    the previous tables); returns the rows copied per `schema.table`."""
    files = {(schema, table): spark_table_files(spark_dir, schema, table) for schema, table in relations}
    copied = {}
    con.execute("begin")
    try:
        for (schema, table), parts in files.items():
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create or replace table {schema}.{table} as select * from read_parquet(?)",
                        [[str(p) for p in parts]])
            copied[f"{schema}.{table}"] = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return copied
