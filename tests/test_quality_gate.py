"""The data-quality gate and publication: unit-report rules, blocking checks, the published file, history."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from rich.console import Console

from orchestration.assets.publication import PUBLISHED_TABLES, publish
from orchestration.definitions import defs
from orchestration.settings import Settings

from .test_ingestion import GOOD, write_csv


def test_discrepancies_are_exactly_the_planted_defects_and_nothing_within_tolerance(small_generation, small_built):
    planted = pl.DataFrame(small_generation.planted_report_defects).select("unit_code", "period_month", "rule").unique()
    with duckdb.connect(str(small_built), read_only=True) as con:
        flagged = con.sql("select distinct unit_code, period_month, rule from marts.unit_report_discrepancies").pl()
        severities = dict(con.execute("select rule, any_value(severity) from marts.unit_report_discrepancies "
                                      "group by rule").fetchall())
        superseded = con.sql("select unit_code, period_month from marts.unit_report_discrepancies "
                             "where rule = 'superseded'").pl()
    keys = ["unit_code", "period_month", "rule"]
    assert planted.join(flagged, on=keys, how="anti").height == 0
    assert flagged.join(planted, on=keys, how="anti").height == 0
    assert severities == {"not_a_count": "error", "part_exceeds_whole": "error", "unknown_unit": "error",
                          "mismatch_with_system": "error", "superseded": "warning", "missing_report": "warning"}
    assert superseded.height == 8


def test_a_flagged_report_never_changes_the_system_figures(small_generation, small_built):
    with duckdb.connect(str(small_built), read_only=True) as con:
        rows = con.sql("select d.system_value, k.received from marts.unit_report_discrepancies d "
                       "join marts.kpi_unit_month k using (unit_code, period_month) "
                       "where d.rule = 'mismatch_with_system' and d.measure = 'received'").pl()
    assert rows.height > 0 and (rows["system_value"] == rows["received"]).all()


def test_the_unit_report_suite_flags_the_broken_reports_only(small_generation, small_built):
    from expectations.unit_reports import validate_unit_reports

    with duckdb.connect(str(small_built), read_only=True) as con:
        outcome = validate_unit_reports(con)
    counted = {(p["unit_code"], p["period_month"]) for p in small_generation.planted_report_defects
               if p["rule"] not in ("superseded", "missing_report")}
    assert not outcome.success
    assert {(u, m) for u, m in outcome.failing_keys()} == counted


def test_great_expectations_finds_what_the_sql_engine_finds_in_the_unit_reports(small_built, tmp_path):
    """The suite the runs evaluate in SQL, run by Great Expectations on the same rows: the same verdicts, counts and
    failing (unit, month), the planted defects and a report broken here on every rule column at once."""
    from expectations.engine import frame_for_gx, run_suite
    from expectations.unit_reports import COUNTING_REPORTS, KEY_COLUMNS, SUITE, unit_report_suite, validate_unit_reports

    db = tmp_path / "w.duckdb"
    shutil.copy(small_built, db)
    with duckdb.connect(str(db)) as con:
        flags = [c for (c,) in con.execute("select column_name from information_schema.columns where table_schema = "
                                           "'quality' and table_name = 'int_unit_report_rules' and "
                                           "regexp_matches(column_name, '^(not_a_count|exceeds|mismatch)_')").fetchall()]
        unit, month = con.execute(f"select unit_code, period_month from {COUNTING_REPORTS} as r "
                                  "order by unit_code desc, period_month limit 1").fetchall()[0]
        con.execute(f"update quality.int_unit_report_rules set {', '.join(f'{c} = true' for c in flags)}, "
                    "is_valid_in_month = false where unit_code = ? and period_month = ?", [unit, month])
        by_sql = validate_unit_reports(con)
        frame = frame_for_gx(con.sql(f"select * from {COUNTING_REPORTS} as r"))
        by_gx = run_suite(SUITE, unit_report_suite(list(frame.columns)), frame, key_columns=KEY_COLUMNS)

    def verdicts(outcome):
        return sorted((o.expectation, o.column or "", o.success, o.unexpected_count, o.element_count, o.arguments,
                       sorted((u, str(m)[:10]) for u, m in o.failing_keys)) for o in outcome.outcomes)

    assert len(by_sql.outcomes) == len(flags) + 1 and not by_sql.success
    assert all((unit, month) in o.failing_keys for o in by_sql.outcomes)  # every rule column broken at once
    assert verdicts(by_sql) == verdicts(by_gx)


def test_publication_is_atomic_and_readers_keep_their_file(small_built, tmp_path):
    """A reader of the published file keeps reading the old one while a different new one replaces it."""
    published = tmp_path / "published" / "tthc_marts.duckdb"
    publish(small_built, published)
    reader = duckdb.connect(str(published), read_only=True)
    before = reader.execute("select count(*) from marts.kpi_unit_month").fetchone()[0]
    changed = tmp_path / "changed.duckdb"
    shutil.copy(small_built, changed)
    with duckdb.connect(str(changed)) as con:
        con.execute("delete from marts.kpi_unit_month where period_month < date '2023-01-01'")
        after = con.execute("select count(*) from marts.kpi_unit_month").fetchone()[0]
    assert 0 < after < before
    publish(changed, published)  # replaced while the analyst still has the old file open
    assert reader.execute("select count(*) from marts.kpi_unit_month").fetchone()[0] == before
    reader.close()
    with duckdb.connect(str(published), read_only=True) as fresh:
        assert fresh.execute("select count(*) from marts.kpi_unit_month").fetchone()[0] == after
    assert not [p for p in published.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def pipeline(small_landing, tmp_path_factory):
    """Run the whole job (as `tthc run` does) on a copy of the small landing, in a temporary data folder."""
    from cli.runner import run_pipeline

    root = tmp_path_factory.mktemp("pipeline")
    shutil.copytree(small_landing, root / "landing")
    env = {"TTHC_LANDING_DIR": str(root / "landing"), "TTHC_WAREHOUSE": str(root / "warehouse" / "tthc.duckdb"),
           "TTHC_PUBLISHED": str(root / "published" / "tthc_marts.duckdb"), "DAGSTER_HOME": str(root / "dagster"),
           "TTHC_PII_KEY": "pipeline-test-key"}
    with pytest.MonkeyPatch.context() as patch:
        for k, v in env.items():
            patch.setenv(k, v)
        console = Console(file=open(root / "console.txt", "w"), width=200)

        def run():
            return run_pipeline(Settings.from_env(), console, defs.resolve_job_def("full_refresh"))

        yield root, run, Settings.from_env()


def _history(settings: Settings) -> pl.DataFrame:
    with duckdb.connect(str(settings.published), read_only=True) as con:
        return con.sql("select * from marts.data_quality_runs").pl()


def test_the_pipeline_publishes_exactly_the_contract_tables_without_personal_data(pipeline):
    root, run, settings = pipeline
    outcome = run()
    assert outcome.ok and outcome.published, outcome
    with duckdb.connect(str(settings.published), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        columns = [c for (c,) in con.execute("select column_name from information_schema.columns").fetchall()]
        ledger = con.sql("select * from marts.ingestion_ledger").pl()
    assert sorted(tables) == sorted(("marts", t) for t in PUBLISHED_TABLES)
    assert not [c for c in columns if "applicant" in c or c.endswith("_hash")]
    assert set(ledger["status"]) == {"loaded", "skipped_same_bytes", "rejected"}
    assert (root / "published" / "data_docs" / "index.html").exists()
    history = _history(settings)
    # every check that runs before publication (the report pack's check runs after it, from the published file)
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys if key.asset_key != dg.AssetKey("reports")}
    assert set(history["check_name"]) == checks and {"assert_rates_are_fractions", "no_held_batch",
                                                     "gx_unit_reports", "not_null_columns_kpi_unit_month"} <= checks


def test_history_grows_by_one_row_per_check_per_run(pipeline):
    _, run, settings = pipeline
    before = _history(settings)
    outcome = run()
    assert outcome.ok and outcome.published
    after = _history(settings)
    new = after.filter(~pl.col("run_id").is_in(before["run_id"].unique().to_list()))
    assert new["run_id"].n_unique() == 1
    per_check = new.group_by("check_name", "asset").len()
    assert (per_check["len"] == 1).all()
    assert per_check.height == before.group_by("check_name", "asset").len().height


def _published_received(settings: Settings, unit: str, month: str) -> int:
    with duckdb.connect(str(settings.published), read_only=True) as con:
        return con.execute("select received from marts.kpi_unit_month where unit_code = ? and period_month = ?",
                           [unit, month]).fetchone()[0]


def _warehouse_count(settings: Settings, sql: str) -> int:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def test_a_held_batch_blocks_every_run_until_an_engineer_excludes_or_accepts_it(pipeline):
    """landing.md: a batch over 5% quarantined is held, in this run and every later one, until reviewed."""
    from click.testing import CliRunner

    from cli.commands import cli

    root, run, settings = pipeline
    old = hashlib.sha256(settings.published.read_bytes()).hexdigest()
    received_before = _published_received(settings, GOOD["Mã đơn vị"], "2023-06-01")
    bad = [{**GOOD, "Mã hồ sơ": f"X-{i}", "Kênh nộp": "Fax" if i % 2 else "2"} for i in range(20)]
    path = write_csv(root / "landing" / "dossiers" / "2024" / "02" / "hoso_loi_nhieu.csv", bad)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    for _attempt in range(2):  # the run that loads it, then a plain rerun with nothing new
        outcome = run()
        assert not outcome.ok and not outcome.published and not outcome.broke
        assert "raw/ingestion_ledger:no_held_batch" in outcome.failure_line()
        assert hashlib.sha256(settings.published.read_bytes()).hexdigest() == old
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:  # nothing was published: the warehouse
        held = con.execute("select detail from quality.check_runs where check_name = 'no_held_batch' "
                           "order by run_at desc limit 1").fetchone()[0]
    assert held.startswith("dossiers/2024/02/hoso_loi_nhieu.csv: 10/20 rows (50.0%) quarantined")
    assert f"tthc accept-batch {sha}" in held

    assert CliRunner().invoke(cli, ["accept-batch", "0000000000"]).exit_code != 0  # no such batch
    excluded = CliRunner().invoke(cli, ["exclude-batch", sha[:12]])
    assert excluded.exit_code == 0, excluded.output
    outcome = run()
    assert outcome.ok and outcome.published
    assert _warehouse_count(settings, "select count(*) from facts.fct_dossiers where dossier_code like 'X-%'") == 0
    assert _published_received(settings, GOOD["Mã đơn vị"], "2023-06-01") == received_before
    with duckdb.connect(str(settings.published), read_only=True) as con:
        review = con.execute("select review, reviewed_at is not null from marts.ingestion_ledger where sha256 = ?",
                             [sha]).fetchall()
    assert review == [("excluded", True)]

    accepted = CliRunner().invoke(cli, ["accept-batch", sha])
    assert accepted.exit_code == 0, accepted.output
    outcome = run()
    assert outcome.ok and outcome.published
    assert _warehouse_count(settings, "select count(*) from facts.fct_dossiers where dossier_code like 'X-%'") == 10
    assert _published_received(settings, GOOD["Mã đơn vị"], "2023-06-01") == received_before + 10


def _landing_people(landing: Path) -> tuple[set[str], set[str]]:
    """Every applicant id and every person's name (applicant, staff) that the landing's dossier exports hold."""
    from contracts.vocabulary import label_key
    from ingestion.landing import discover
    from ingestion.readers import SOURCE_ROW, RejectedFile, read_landed

    people = {label_key(h) for h in ("Chủ hồ sơ", "Cán bộ tiếp nhận")}
    ids, names = set(), set()
    for entry in discover(landing):
        if entry.place != "dossiers" or entry.refusal:
            continue
        try:
            table = read_landed(entry.path, entry.path.read_bytes(), "Mã hồ sơ")
        except RejectedFile:
            continue
        for column, header in zip([c for c in table.frame.columns if c != SOURCE_ROW], table.headers, strict=False):
            values = table.frame.get_column(column).drop_nulls().str.strip_chars()
            if label_key(header).startswith(label_key("Số giấy tờ chủ hồ sơ")):
                ids |= set(values.to_list())
            elif label_key(header) in people:
                names |= set(values.to_list())
    return ids, names


def _leaks(text: str, ids: set[str], names: set[str]) -> set[str]:
    words = text.split()
    trigrams = {" ".join(words[i:i + 3]) for i in range(len(words) - 2)}
    return (set(re.findall(r"\d{12}", text)) & ids) | (trigrams & names)


def test_no_id_or_name_of_the_landing_is_kept_anywhere_in_clear(pipeline):
    """The whole warehouse, the published file, the run logs, the data docs: no applicant id, no person's name."""
    root, run, settings = pipeline
    ids, names = _landing_people(root / "landing")
    assert len(ids) > 1000 and len(names) > 100 and "Nguyễn Thị Hà" in names  # the staff column is a person too
    leaks = {}
    for db in (settings.warehouse, settings.published):
        with duckdb.connect(str(db), read_only=True) as con:
            columns = con.execute("select table_schema, table_name, column_name from information_schema.columns "
                                  "where data_type in ('VARCHAR', 'VARCHAR[]')").fetchall()
            for schema, table, column in columns:
                values = con.execute(f'select distinct cast("{column}" as varchar) from "{schema}"."{table}"').fetchall()
                found = _leaks("\n".join(v for (v,) in values if v), ids, names)
                if found:
                    leaks[f"{db.name}:{schema}.{table}.{column}"] = sorted(found)[:3]
    scanned = 0
    for path in root.rglob("*"):
        if path.is_file() and "landing" not in path.relative_to(root).parts and not path.name.endswith(".duckdb"):
            found = _leaks(path.read_bytes().decode("utf-8", errors="replace"), ids, names)
            scanned += 1
            if found:
                leaks[str(path.relative_to(root))] = sorted(found)[:3]
    assert scanned > 10 and not leaks, leaks


def test_a_failing_mart_check_blocks_publication(pipeline):
    """Not only raw-batch checks gate: a dossier counted twice in the facts (as a bug in the incremental logic
    would do: the copy is a row the latest build wrote, which is what the uniqueness test looks at) fails a
    blocking dbt test, and the analysts keep the last good file."""
    _, run, settings = pipeline
    assert run().published  # a good state to start from
    old = hashlib.sha256(settings.published.read_bytes()).hexdigest()
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("""insert into facts.fct_dossiers select * from facts.fct_dossiers
                       where processed_through_batch_seq = (select max(processed_through_batch_seq)
                                                            from facts.fct_dossiers) limit 1""")
    outcome = run()
    assert not outcome.ok and not outcome.published and not outcome.broke
    assert "facts/fct_dossiers:unique_among_rebuilt_fct_dossiers_dossier_code" in outcome.failure_line()
    assert hashlib.sha256(settings.published.read_bytes()).hexdigest() == old
