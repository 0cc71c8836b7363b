"""What each published table and column means, from the one place that says it: the dbt YAML (models, and the
`quality` source for the check history), as dbt's manifest holds it with its doc blocks rendered.

Every description reads "Vietnamese — English" (dbt_project/models/_columns.md). The publish step writes them as
COMMENT ON TABLE / COLUMN into the published file (DBeaver, `duckdb_columns()` and BI tools show them) and as
field and file key-value metadata into the Parquet copies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

PARQUET_DESCRIPTION_KEY = "description"
# the warehouse's bookkeeping, not figures: the month-incremental marts' watermark stays out of the published file
WAREHOUSE_ONLY_COLUMNS = ("processed_through_batch_seq",)


@dataclass(frozen=True)
class TableDoc:
    description: str
    columns: dict[str, str] = field(default_factory=dict)


def docs_by_relation(manifest: dict) -> dict[str, TableDoc]:
    """`schema.table` -> its description and its columns', for every model and source of the manifest."""
    out = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model":
            out[f"{node['schema']}.{node.get('alias') or node['name']}"] = _doc(node)
    for source in manifest.get("sources", {}).values():
        out[f"{source['schema']}.{source.get('identifier') or source['name']}"] = _doc(source)
    return out


def _doc(node: dict) -> TableDoc:
    return TableDoc((node.get("description") or "").strip(),
                    {name: (column.get("description") or "").strip() for name, column in node["columns"].items()})


def published_docs(manifest_path: Path, relations: dict[str, str]) -> dict[str, TableDoc]:
    """Published table -> its description, for `relations` (published table -> warehouse `schema.table`)."""
    by_relation = docs_by_relation(json.loads(manifest_path.read_text()))
    docs = {table: by_relation.get(relation, TableDoc("")) for table, relation in relations.items()}
    return {table: TableDoc(doc.description, {column: text for column, text in doc.columns.items()
                                              if column not in WAREHOUSE_ONLY_COLUMNS})
            for table, doc in docs.items()}


def is_bilingual(description: str) -> bool:
    """A description that reads "Vietnamese — English", both parts non-empty (what every published one must be)."""
    vietnamese, _, english = description.partition(" — ")
    return bool(vietnamese.strip() and english.strip())


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_comments(con: duckdb.DuckDBPyConnection, schema: str, docs: dict[str, TableDoc]) -> None:
    """COMMENT ON every table of `docs` in `schema` (e.g. `published.marts`) and on each of its columns."""
    for table, doc in docs.items():
        if doc.description:
            con.execute(f"comment on table {schema}.{table} is {_literal(doc.description)}")
        present = {name for (name,) in con.execute(
            f"select column_name from (describe {schema}.{table})").fetchall()}
        for column, text in doc.columns.items():
            if text and column in present:
                con.execute(f"comment on column {schema}.{table}.{column} is {_literal(text)}")


def parquet_metadata(doc: TableDoc, table: str) -> dict[bytes, bytes]:
    """The Parquet file's key-value metadata: the table, its description, and each column's as
    `description.<column>` (for readers that show file metadata but not Arrow field metadata)."""
    meta = {b"table": table.encode(), PARQUET_DESCRIPTION_KEY.encode(): doc.description.encode()}
    for column, text in doc.columns.items():
        meta[f"{PARQUET_DESCRIPTION_KEY}.{column}".encode()] = text.encode()
    return meta
