"""One spec per landed kind and raw table (issue #26 §1, contracts/landed_tables.py): the contract's tables, the
raw DDL, the normaliser, the suites, the Parquet lists and dbt's sources all read it, and none keeps a copy."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import yaml

from contracts import landed_tables as spec
from contracts.rules import rules
from ingestion.migrations import columns
from ingestion.raw_schema import ensure_raw_schema

ROOT = Path(__file__).resolve().parents[1]
RAW_SOURCES = ROOT / "dbt_project" / "models" / "staging" / "_raw_sources.yml"
LANDING_MD = ROOT / "docs" / "contracts" / "landing.md"


def _contract_table(section: str) -> list[tuple[str, str, bool]]:
    """(header, field, required) of the `| Header | Field | Required | Values |` table under a landing.md heading."""
    text = LANDING_MD.read_text(encoding="utf-8")
    body = text[text.index(f"## {section}"):]
    body = body[:body.index("\n## ", 1)]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in body.splitlines()
            if line.startswith("| ") and not line.startswith("| Header") and not line.startswith("|---")]
    return [(row[0], row[1], row[2] == "yes") for row in rows if len(row) == 4]  # not the codes' tables


@pytest.mark.parametrize(("section", "table"), [("dossiers/", spec.DOSSIER_SNAPSHOTS),
                                                ("unit_reports/", spec.UNIT_REPORTS),
                                                ("explanations/", spec.EXPLANATIONS)])
def test_the_landed_headers_are_the_contracts_tables(section, table):
    assert [(h, f, req) for h, (f, req) in table.headers.items()] == _contract_table(section)


@pytest.mark.parametrize(("file", "table"), [("units.csv", spec.REFERENCE_UNITS),
                                             ("procedures.csv", spec.REFERENCE_PROCEDURES),
                                             ("targets.csv", spec.REFERENCE_TARGETS),
                                             ("programmes.csv", spec.REFERENCE_PROGRAMMES)])
def test_the_reference_columns_are_the_contracts_lists(file, table):
    text = LANDING_MD.read_text(encoding="utf-8")
    listed = re.search(rf"`{re.escape(file)}`.*?\n`([^`]+)`(?: and, optionally, `(\w+)`)?", text, re.S)
    named = [c.strip() for c in listed.group(1).split(",")] + ([listed.group(2)] if listed.group(2) else [])
    assert list(table.headers) == named
    assert [f for f, _ in table.headers.values()] == named  # a reference header is its field


def test_the_code_sets_and_bounds_are_the_contracts():
    dossier = spec.DOSSIER_SNAPSHOTS
    assert dossier.column("status").codes == tuple(range(1, 11))
    assert dossier.column("channel").codes == (1, 2, 3)
    assert (dossier.column("fee_amount").minimum, dossier.column("fee_amount").maximum) == (0, 100_000_000_000)
    assert spec.REFERENCE_TARGETS.column("indicator").codes == tuple(rules().rates)
    assert (spec.REFERENCE_TARGETS.column("target").minimum, spec.REFERENCE_TARGETS.column("target").maximum) == (0, 1)
    # personal data: the name is never stored, the id only as its keyed hash
    assert "applicant_name" not in dossier.column_names and "applicant_id" not in dossier.column_names
    assert dossier.column("applicant_id_hash").field == "applicant_id"


def test_the_dbt_files_rendered_from_the_spec_are_current(tmp_path):
    (tmp_path / "models" / "staging").mkdir(parents=True)
    (tmp_path / "macros").mkdir()
    for rendered in spec.write_dbt_files(tmp_path):
        committed = ROOT / "dbt_project" / rendered.relative_to(tmp_path)
        assert committed.read_text(encoding="utf-8") == rendered.read_text(encoding="utf-8"), (
            f"{committed.relative_to(ROOT)} is stale: run `make dbt-sources`")
    source = yaml.safe_load(RAW_SOURCES.read_text(encoding="utf-8"))["sources"][0]
    assert {t["name"]: [c["name"] for c in t["columns"]] for t in source["tables"]} == {
        name: table.column_names for name, table in spec.RAW_TABLES.items()}


def test_the_raw_tables_are_created_as_declared(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_raw_schema(con)
        for name, table in spec.RAW_TABLES.items():
            described = con.execute(f"describe raw.{name}").fetchall()
            assert [(c, t.lower(), null == "NO") for c, t, null, *_ in described] == [
                (c.name, c.type.lower(), c.is_not_null) for c in table.stored], name


def test_an_optional_column_of_the_spec_reaches_a_warehouse_that_lacks_it(small_ingested, tmp_path):
    db = tmp_path / "older.duckdb"
    db.write_bytes(small_ingested[0].read_bytes())
    with duckdb.connect(str(db)) as con:
        rows = con.execute("select count(*) from raw.explanations").fetchone()[0]
        con.execute("alter table raw.explanations drop column apology_letter_no")
        assert ensure_raw_schema(con) == ["raw_columns_of_the_spec"]
        assert "apology_letter_no" in columns(con, "raw.explanations")
        assert con.execute("select count(*), count(apology_letter_no) from raw.explanations").fetchone() == (rows, 0)
        assert ensure_raw_schema(con) == []


def test_no_module_keeps_its_own_list_of_a_raw_tables_columns():
    """The lists the spec replaced stay gone: a raw table's columns are written out nowhere else."""
    lists = {"dossier_snapshots": ["e_receipt_no", "components_digitised", "applicant_id_hash"],
             "reference_units": ["parent_code", "valid_from", "successor_code"]}
    for path in [*ROOT.glob("ingestion/*.py"), *ROOT.glob("expectations/*.py"),
                 *ROOT.glob("dbt_project/models/staging/*.sql"), *ROOT.glob("dbt_project/macros/*.sql")]:
        text = path.read_text(encoding="utf-8")
        if text.startswith(f"{{# {spec.GENERATED}"):
            continue  # rendered from the spec
        for table, names in lists.items():
            assert not all(n in text for n in names), f"{path.relative_to(ROOT)} lists the columns of {table}"
