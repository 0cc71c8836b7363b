"""The published file explains itself (issue #24, sections 1 and 2): every table and column carries its
"Vietnamese — English" description from the dbt YAML, in the DuckDB file and in the Parquet copies, and the
dimensions an analyst joins (units, procedures, targets) are published beside the marts."""

from __future__ import annotations

import json
import subprocess
import textwrap
from urllib.parse import urlparse

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from orchestration.assets.publication import PUBLISHED_TABLES, parquet_folder, parquet_paths, publish
from orchestration.published_docs import is_bilingual


@pytest.fixture(scope="module")
def published(small_built, tmp_path_factory):
    path = tmp_path_factory.mktemp("published_docs") / "published" / "tthc_marts.duckdb"
    publish(small_built, path)
    return path


def test_a_duckdb_1_client_sees_a_description_on_every_published_table_and_column(published, duckdb1_python):
    script = textwrap.dedent(f"""
        import duckdb, json
        con = duckdb.connect({str(published)!r}, read_only=True)
        print(json.dumps({{
            "version": duckdb.__version__,
            "tables": con.execute("select table_name, comment from duckdb_tables() where schema_name = 'marts'"
                                  ).fetchall(),
            "columns": con.execute("select table_name, column_name, comment from duckdb_columns() "
                                   "where schema_name = 'marts'").fetchall()}}))
    """)
    done = subprocess.run([str(duckdb1_python), "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    assert seen["version"].startswith("1.")
    tables = dict(seen["tables"])
    assert set(tables) == set(PUBLISHED_TABLES)
    assert [t for t, comment in tables.items() if not is_bilingual(comment or "")] == []
    assert [f"{t}.{c}" for t, c, comment in seen["columns"] if not is_bilingual(comment or "")] == []
    comments = {(t, c): comment for t, c, comment in seen["columns"]}
    assert comments[("kpi_unit_month", "online_rate")].startswith("Tỷ lệ hồ sơ trực tuyến — ")
    assert "percentage points" in comments[("programme_scorecard", "change_pp")]
    assert comments[("data_quality_runs", "severity")].startswith("Mức độ — ")


def test_the_parquet_copies_carry_the_same_descriptions_as_field_and_file_metadata(published):
    with duckdb.connect(str(published), read_only=True) as con:
        comments = {(t, c): comment for t, c, comment in con.execute(
            "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'").fetchall()}
        table_comments = dict(con.execute(
            "select table_name, comment from duckdb_tables() where schema_name = 'marts'").fetchall())
    for table in PUBLISHED_TABLES:
        path = parquet_paths(published, table)[-1]
        schema = pq.read_schema(path)
        for column in schema.names:
            assert schema.field(column).metadata[b"description"].decode() == comments[(table, column)], (table, column)
        file_meta = pq.read_metadata(path).metadata
        assert file_meta[b"description"].decode() == table_comments[table]
        for column in schema.names:
            assert file_meta[f"description.{column}".encode()].decode() == comments[(table, column)]
    # and DuckDB reads the same file's key-value metadata
    with duckdb.connect() as con:
        keys = {k.decode() if isinstance(k, bytes) else k for (k,) in con.execute(
            f"select key from parquet_kv_metadata('{parquet_folder(published) / 'targets.parquet'}')").fetchall()}
    assert {"description", "description.target", "table"} <= keys


def test_a_description_is_bilingual_only_with_both_parts():
    assert is_bilingual("Mã — code") and is_bilingual("Tỷ lệ — a / b, a fraction — from 0 to 1")
    assert not is_bilingual(" — English only") and not is_bilingual("only English") and not is_bilingual("Mã — ")


def _published(path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).pl()


def test_units_procedures_and_targets_are_published_for_analysts_to_join(published, small_landing):
    units = pl.read_csv(small_landing / "reference" / "units.csv", infer_schema=False)
    dim_units = _published(published, "select * from marts.dim_units")
    assert dim_units.height == units.height and dim_units["unit_name"].null_count() == 0
    procedures = _published(published, "select * from marts.dim_procedures")
    assert procedures.height > 0 and {"procedure_name", "field", "online_service_level", "paper_result",
                                      "has_fee"} <= set(procedures.columns)
    targets_csv = pl.read_csv(small_landing / "reference" / "targets.csv")
    targets = _published(published, "select * from marts.targets")
    assert targets.height == targets_csv.height
    assert targets["programme_name"].null_count() == 0
    joined = targets.join(targets_csv.select("indicator", "level", pl.col("target").alias("in_csv")),
                          on=["indicator", "level"])
    assert joined.height == targets.height and (joined["target"] == joined["in_csv"]).all()
    late = _published(published, "select l.unit_name, u.unit_name as expected from marts.late_dossiers l "
                                  "join marts.dim_units u using (unit_code)")
    assert late.height > 0 and (late["unit_name"] == late["expected"]).all()


def test_the_data_dictionary_opens_offline_from_the_file_and_shows_the_marts_and_their_columns(
        small_built, tmp_path, browser):
    from orchestration.assets.warehouse import dbt_executable, ensure_manifest
    from orchestration.data_dictionary import write_data_dictionary
    from orchestration.settings import DBT_PROJECT_DIR, Settings
    from tests.test_pages import OfflinePage

    settings = Settings.from_env().with_paths(warehouse=small_built, published=tmp_path / "published" / "m.duckdb")
    page, written = write_data_dictionary(settings, ensure_manifest(), dbt_executable(), DBT_PROJECT_DIR)
    assert written and page == tmp_path / "published" / "data_dictionary.html"
    again = write_data_dictionary(settings, ensure_manifest(), dbt_executable(), DBT_PROJECT_DIR)
    assert again == (page, False)  # nothing it shows changed: not written again

    opened = OfflinePage(browser, page)
    failed: list[str] = []
    opened.page.on("requestfailed", lambda request: failed.append(request.url))
    try:
        opened.page.goto(page.resolve().as_uri() + "#!/model/model.tthc.kpi_unit_month")
        opened.page.wait_for_selector("text=Tỷ lệ hồ sơ trực tuyến", timeout=20_000)
        body = opened.page.inner_text("body")
        for mart in ("kpi_unit_month", "programme_scorecard", "late_dossiers", "targets"):
            assert mart in body, mart
        assert "Tỷ lệ hồ sơ trực tuyến — received_online / received" in body
        assert opened.refused == []  # nothing was asked of the network
        # nor of a host through a file URL (dbt's usage tracker would be `file://<cdn>/sp.js`: its flag is off)
        assert [u for u in opened.requests if urlparse(u).scheme == "file" and urlparse(u).netloc] == []
        # dbt's own page asks for icons through templates it has not rendered yet; nothing else may fail
        assert [u for u in failed if "%7B" not in u] == []
    finally:
        opened.close()


def test_a_spark_build_copies_every_table_the_publication_reads():
    """TTHC_ENGINE=spark builds the models on Spark and copies what Python reads into DuckDB: every published
    relation but the check history (written by the run itself) must be among the copies."""
    from orchestration.assets.warehouse import ensure_manifest
    from orchestration.spark_marts import copied_relations

    copied = {f"{schema}.{table}" for schema, table in copied_relations(ensure_manifest())}
    assert {r for t, r in PUBLISHED_TABLES.items() if t != "data_quality_runs"} <= copied


def test_every_indicator_description_names_exactly_the_rates_of_the_vars():
    """issue #26 §2: the indicators are the vars' rates; the YAML that describes an indicator column names them all
    and no other, and a label set that does not match the rates is refused."""
    import re

    import yaml

    from contracts.rules import DBT_PROJECT_YML, parse, rules
    from orchestration.assets.warehouse import ensure_manifest

    manifest = json.loads(ensure_manifest().read_text())
    described = {f"{node['name']}.{name}": column["description"] for node in manifest["nodes"].values()
                 if node["resource_type"] == "model" for name, column in node["columns"].items()
                 if name == "indicator"}
    assert len(described) >= 6
    for column, text in described.items():
        assert set(re.findall(r"\b[a-z_]+_rate\b", text)) == set(rules().rates), column
    variables = yaml.safe_load(DBT_PROJECT_YML.read_text(encoding="utf-8"))["vars"]
    variables["indicator_labels"].pop("e_result_rate")
    with pytest.raises(ValueError, match="indicator_labels must name exactly the rates"):
        parse(variables)
