"""Which models a `dbt build` leaves as they are (issue #28: a nightly run builds what its batches touch).

Every model is a function of the raw tables it reads, and of nothing else (no model reads the clock). A model reads
the ingestion ledger for the batches of the other raw tables it reads (which count, and the watermarks past which
it looks); one that reads nothing else from raw reads all of it. So a model must be built again when
- a raw table it reads, through any model, changed since the last completed build: the digest of the ledger's rows
  of the table's kind (every batch, its status and review) differs from the one recorded then
  (`quality.built_inputs`); a new batch, a rejected one and a reviewed one all change it;
- it reads nothing from raw but the ledger, which changes every run;
- its relation is missing from the warehouse (dropped by a batch review or a changed definition, or by hand);
- a model it reads is built again.
Every model is built again when a singular test (`dbt_project/tests`) changed, so that it runs once, and when no
batch at all came since the last build: such a run was asked for (the nothing-new check stops the nightly
schedule's and `tthc run`'s), and it rebuilds and re-checks the whole warehouse. The first build, a build after a
changed definition and any build on Spark build everything too.
Everything else is kept: the reference tables on a night that brought dossiers only, the unit reports' rules on a
night without reports. A kept model's tests are kept with it; a test that also reads a rebuilt model runs (dbt's
`cautious` selection).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from ingestion.ingest import KIND_FOLDERS, REFERENCE_KINDS
from orchestration.model_definition import warehouse_relations

LEDGER = "raw.ingestion_ledger"
TESTS = "dbt tests"  # recorded beside the kinds: the digest of dbt_project/tests
# the raw tables each ledger kind's batches load; a raw table missing here (the quarantine, the batch validations,
# the check history) counts as changed at every build
KIND_TABLES: dict[str, set[str]] = {}
for _kind in [*REFERENCE_KINDS.values(), *KIND_FOLDERS.values()]:
    KIND_TABLES.setdefault(_kind.name, set()).add(f"raw.{_kind.table}")

BUILT_INPUTS_DDL = """
create schema if not exists quality;
create table if not exists quality.built_inputs (
    kind varchar not null,   -- a ledger kind: dossiers, explanations, unit_reports, reference
    digest varchar not null  -- of the kind's ledger rows when the last completed build started (kind_digests)
)
"""


def kind_digests(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Per ledger kind, one digest of its batches: each one's file, bytes, status and review."""
    return dict(con.execute(r"""
        select kind, md5(string_agg(
            concat_ws('|', batch_seq, file_path, sha256, status, coalesce(review, ''), coalesce(reviewed_at::varchar, '')),
            chr(10) order by batch_seq, file_path))
        from raw.ingestion_ledger
        group by kind
    """).fetchall())


def recorded_digests(con: duckdb.DuckDBPyConnection) -> dict[str, str] | None:
    """The kinds' digests when the last completed build started; None before the first."""
    con.execute(BUILT_INPUTS_DDL)
    rows = con.execute("select kind, digest from quality.built_inputs").fetchall()
    return dict(rows) or None


def record_digests(con: duckdb.DuckDBPyConnection, digests: Mapping[str, str]) -> None:
    """After a build that finished: the digests it started from (batches landed meanwhile count at the next)."""
    con.execute(BUILT_INPUTS_DDL)
    con.execute("begin")
    con.execute("delete from quality.built_inputs")
    con.executemany("insert into quality.built_inputs values (?, ?)", [list(item) for item in digests.items()])
    con.execute("commit")


def changed_tables(before: Mapping[str, str], now: Mapping[str, str]) -> set[str]:
    """The raw tables of the kinds whose batches differ between two sets of digests."""
    return {table for kind in set(before) | set(now) if before.get(kind) != now.get(kind)
            for table in KIND_TABLES.get(kind, set())}


def relation(node: Mapping[str, Any]) -> str:
    return f"{node['schema']}.{node.get('alias') or node['name']}"


def kept_models(manifest: Mapping[str, Any], changed: set[str], present: set[str]) -> list[str]:
    """The unique ids of the models a build can leave as they are (see the module's docstring), each after the
    models it reads.

    `changed`: the raw tables (`raw.<table>`) whose batches changed; `present`: the relations in the warehouse."""
    nodes, parents = manifest["nodes"], manifest["parent_map"]
    sources = {uid: f"{s['schema']}.{s.get('identifier') or s['name']}" for uid, s in manifest["sources"].items()}
    known = set().union(*KIND_TABLES.values())

    @functools.cache
    def raw_read(uid: str) -> frozenset[str]:
        return frozenset().union(*[{sources[p]} if p in sources else raw_read(p) for p in parents.get(uid, [])
                                   if p in sources or p in nodes])

    @functools.cache
    def rebuilt(uid: str) -> bool:
        read = raw_read(uid)
        return (relation(nodes[uid]) not in present
                or read == {LEDGER}
                or any(table not in known or table in changed for table in read - {LEDGER})
                or any(rebuilt(p) for p in parents.get(uid, []) if nodes.get(p, {}).get("resource_type") == "model"))

    kept: list[str] = []  # each after the models it reads

    def keep(uid: str) -> None:
        if uid in kept:
            return
        for parent in parents.get(uid, []):
            if nodes.get(parent, {}).get("resource_type") == "model":
                keep(parent)
        kept.append(uid)

    for uid in sorted(uid for uid, node in nodes.items() if node["resource_type"] == "model" and not rebuilt(uid)):
        keep(uid)  # a kept model's parents are kept too (a rebuilt parent rebuilds it)
    return kept


@dataclass(frozen=True)
class BuildPlan:
    """What one `dbt build` leaves as it is, and the digests to record once it finished."""

    kept: tuple[str, ...]  # unique ids of models kept as they are
    digests: Mapping[str, str]
    changed: frozenset[str]  # the raw tables whose batches changed (named when models are kept)

    def dbt_args(self, manifest: Mapping[str, Any]) -> list[str]:
        if not self.kept:
            return []
        # one value, names apart: dagster-dbt takes --exclude out of the arguments and gives dbt its words back
        return ["--exclude", " ".join(manifest["nodes"][uid]["name"] for uid in self.kept),
                "--indirect-selection", "cautious"]

    @classmethod
    def everything(cls) -> BuildPlan:
        return cls((), {}, frozenset())

    def describe(self) -> str:
        """One line for the run's log and the command line (it prints the step's lines that start "dbt build:")."""
        if not self.kept:
            return "dbt build: every model and its tests"
        return (f"dbt build: {len(self.kept)} models kept as they are, with their tests (they read none of the raw "
                f"tables with new, rejected or reviewed batches since the last build: {', '.join(sorted(self.changed))}"
                f"): {', '.join(uid.split('.')[-1] for uid in self.kept)}")


def plan_build(con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any], whole: bool, tests: str) -> BuildPlan:
    """The plan for the next build of the DuckDB warehouse `con` holds; `whole`: build everything (a changed
    definition); `tests`: the digest of the project's singular tests."""
    digests = {**kind_digests(con), TESTS: tests}
    before = None if whole else recorded_digests(con)
    if before is None or before.get(TESTS) != tests:
        return BuildPlan((), digests, frozenset())
    changed = changed_tables(before, digests)
    if not changed:
        return BuildPlan((), digests, frozenset())
    return BuildPlan(tuple(kept_models(manifest, changed, warehouse_relations(con))), digests, frozenset(changed))
