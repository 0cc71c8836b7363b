"""Which models a dbt build keeps (orchestration/build_selection.py): the rules on a small graph, and the ledger's
digests on a DuckDB file. The runs that keep models are in tests/test_nightly_runs.py (day by day)."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.build_selection import KIND_TABLES, TESTS, changed_tables, kept_models, kind_digests, plan_build, record_digests

SOURCES = ["ingestion_ledger", "dossier_snapshots", "reference_units", "unit_reports", "quarantine"]
# model -> what it reads (sources by their table name, models by theirs)
GRAPH = {
    "stg_units": ["reference_units", "ingestion_ledger"],
    "dim_units": ["stg_units"],
    "stg_dossiers": ["dossier_snapshots", "ingestion_ledger"],
    "fct_dossiers": ["stg_dossiers", "ingestion_ledger"],
    "kpi": ["fct_dossiers", "dim_units"],
    "stg_reports": ["unit_reports", "ingestion_ledger"],
    "report_rules": ["stg_reports", "dim_units"],
    "ledger_mart": ["ingestion_ledger"],
    "quarantine_mart": ["quarantine", "dim_units"],
}


def _manifest() -> dict:
    sources = {f"source.p.raw.{t}": {"schema": "raw", "identifier": t, "name": t} for t in SOURCES}
    nodes = {f"model.p.{m}": {"resource_type": "model", "schema": "s", "alias": m, "name": m} for m in GRAPH}
    nodes["test.p.unique_dim_units"] = {"resource_type": "test", "schema": "s", "alias": None, "name": "t"}
    parents = {f"model.p.{m}": [f"source.p.raw.{r}" if r in SOURCES else f"model.p.{r}" for r in reads]
               for m, reads in GRAPH.items()}
    parents["test.p.unique_dim_units"] = ["model.p.dim_units"]
    return {"nodes": nodes, "sources": sources, "parent_map": parents}


EVERY_RELATION = {f"s.{m}" for m in GRAPH}


def _kept(changed: set[str], present: set[str] = EVERY_RELATION) -> list[str]:
    return [uid.split(".")[-1] for uid in kept_models(_manifest(), {f"raw.{t}" for t in changed}, present)]


def test_a_night_of_dossiers_keeps_the_reference_and_report_tables():
    assert sorted(_kept({"dossier_snapshots"})) == ["dim_units", "report_rules", "stg_reports", "stg_units"]


def test_a_reference_batch_rebuilds_everything_that_reads_the_units():
    assert sorted(_kept({"reference_units"})) == ["fct_dossiers", "stg_dossiers", "stg_reports"]


def test_what_reads_the_ledger_alone_or_an_unknown_raw_table_is_always_rebuilt():
    kept = _kept(set())
    assert "ledger_mart" not in kept and "quarantine_mart" not in kept
    assert {"stg_units", "dim_units", "fct_dossiers", "kpi", "report_rules"} <= set(kept)


def test_a_missing_relation_is_rebuilt_with_what_reads_it():
    kept = _kept(set(), EVERY_RELATION - {"s.fct_dossiers"})
    assert "fct_dossiers" not in kept and "kpi" not in kept
    assert "stg_dossiers" in kept and "dim_units" in kept


def test_kept_models_come_after_the_models_they_read():
    kept = _kept(set())
    assert kept.index("stg_units") < kept.index("dim_units") < kept.index("report_rules")
    assert kept.index("stg_dossiers") < kept.index("fct_dossiers") < kept.index("kpi")


def test_every_ledger_kind_of_ingestion_names_its_raw_tables():
    assert KIND_TABLES["dossiers"] == {"raw.dossier_snapshots"}
    assert KIND_TABLES["reference"] == {"raw.reference_units", "raw.reference_procedures", "raw.reference_targets",
                                        "raw.reference_programmes"}
    assert changed_tables({"dossiers": "a", "unit_reports": "b"}, {"dossiers": "a", "unit_reports": "c"}) == \
        {"raw.unit_reports"}
    assert changed_tables({"dossiers": "a"}, {"dossiers": "a", "explanations": "e"}) == {"raw.explanations"}


@pytest.fixture
def ledger(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema raw; create table raw.ingestion_ledger (file_path varchar, sha256 varchar, kind varchar, "
                "status varchar, review varchar, reviewed_at timestamp, batch_seq bigint)")
    con.execute("insert into raw.ingestion_ledger values ('dossiers/a.csv', 'x1', 'dossiers', 'loaded', null, null, 1), "
                "('reference/units.csv', 'x2', 'reference', 'loaded', null, null, 2)")
    yield con
    con.close()


def test_a_new_batch_and_a_review_change_their_kind_and_nothing_else(ledger):
    before = kind_digests(ledger)
    ledger.execute("insert into raw.ingestion_ledger values ('dossiers/b.csv', 'x3', 'dossiers', 'loaded', null, null, 3)")
    assert changed_tables(before, kind_digests(ledger)) == {"raw.dossier_snapshots"}
    before = kind_digests(ledger)
    ledger.execute("update raw.ingestion_ledger set review = 'excluded', reviewed_at = now() where batch_seq = 2")
    assert changed_tables(before, kind_digests(ledger)) == KIND_TABLES["reference"]


def test_a_build_keeps_nothing_before_digests_are_recorded_without_a_new_batch_or_when_told_to_build_whole(ledger):
    manifest = _manifest()
    assert plan_build(ledger, manifest, whole=False, tests="t1").kept == ()  # the first build
    record_digests(ledger, {**kind_digests(ledger), TESTS: "t1"})
    ledger.execute("create schema s")
    for model in GRAPH:
        ledger.execute(f"create table s.{model} (x int)")
    assert plan_build(ledger, manifest, whole=False, tests="t1").kept == ()  # no batch since: asked to rebuild
    ledger.execute("insert into raw.ingestion_ledger values ('dossiers/b.csv', 'x3', 'dossiers', 'loaded', null, null, 3)")
    plan = plan_build(ledger, manifest, whole=False, tests="t1")
    assert [uid.split(".")[-1] for uid in plan.kept] == _kept({"dossier_snapshots"})
    assert plan.dbt_args(manifest)[:2] == ["--exclude", " ".join(uid.split(".")[-1] for uid in plan.kept)]
    assert plan_build(ledger, manifest, whole=True, tests="t1").kept == ()
    assert plan_build(ledger, manifest, whole=False, tests="t2").kept == ()  # a changed singular test runs


def test_the_command_line_says_which_models_a_build_keeps(ledger):
    manifest = _manifest()
    record_digests(ledger, {**kind_digests(ledger), TESTS: "t1"})
    ledger.execute("insert into raw.ingestion_ledger values ('dossiers/b.csv', 'x3', 'dossiers', 'loaded', null, null, 3)")
    ledger.execute("create schema s")
    for model in GRAPH:
        ledger.execute(f"create table s.{model} (x int)")
    line = plan_build(ledger, manifest, whole=False, tests="t1").describe()
    assert line.startswith("dbt build: 4 models kept as they are") and "raw.dossier_snapshots" in line
    assert line.endswith("): stg_units, dim_units, stg_reports, report_rules")  # each after what it reads
    assert plan_build(ledger, manifest, whole=True, tests="t1").describe() == "dbt build: every model and its tests"
