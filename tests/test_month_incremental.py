"""Month-incremental marts (issue #25 §2, macros/month_incremental.sql): a nightly build rebuilds only the months its
changes touch, and publishes what a full rebuild publishes, also when a change reaches back: a dossier resolved in
the spring reopened (open at the end of every month since), an open one withdrawn, one handed to another unit, one
whose reception date was corrected from July to August, and a day that starts a new month (the month before
becomes complete). The late dossiers and the explanations not counted, rebuilt by dossier
(macros/dossier_incremental.sql), likewise, and when explanations arrive."""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from contracts.landed_tables import DOSSIER_COLUMNS, EXPLANATION_COLUMNS
from ingestion.ingest import ingest_landing

from .conftest import PII_KEY, run_dbt
from .test_warehouse import _landing_until, _without_watermarks, table

MONTH_MODELS = {
    "intermediate.int_open_at_month_end": ["dossier_code", "period_month"],
    "marts.kpi_unit_month": ["unit_code", "period_month"],
    "marts.kpi_current_unit_month": ["current_unit_code", "period_month"],
    "marts.index766_unit_month": ["scope", "level", "unit_code", "period_month", "metric"],
    "marts.index766_dossier_losses": ["dossier_code", "period_month", "metric"],
}
# marts built from the month-incremental ones: they must not see a difference either
DOWNSTREAM = {
    "marts.kpi_level_month": ["level", "period_month"],
    "marts.directive10_scorecard": ["scope", "unit_code", "level", "indicator"],
    "marts.programme_unit_year": ["programme_code", "scope", "unit_code", "level", "year", "indicator"],
}
# rebuilt by dossier (macros/dossier_incremental.sql), and the marts built on it
DOSSIER_MODELS = ("marts.late_dossiers", "marts.explanation_issues", "marts.late_explanations_unit_month")
CORRECTED_AT = datetime(2023, 11, 30, 23, 59, 59)  # the last second of the landing: no new month


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    return str(value)


def _export_row(state: dict, **changes) -> list[str]:
    """A row of a dossier export: the dossier's current state with some fields changed, updated at CORRECTED_AT."""
    values = {**state, **changes, "updated_at": CORRECTED_AT, "applicant_name": None, "applicant_id": None}
    return [_text(values[field]) for field, _ in DOSSIER_COLUMNS.values()]


def _months(db: Path, relation: str, watermark: int) -> set[date]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {m for (m,) in con.execute(f"select distinct period_month from {relation} "
                                          "where processed_through_batch_seq = ?", [watermark]).fetchall()}


def _month_range(first: date, last: date) -> set[date]:
    months, month = set(), first
    while month <= last:
        months.add(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _assert_equals_a_full_rebuild(db: Path, tmp_path: Path) -> None:
    """The month-incremental models and the marts built on them equal a --full-refresh build of a copy."""
    copy = tmp_path / f"full_{db.stem}.duckdb"
    shutil.copy(db, copy)
    run_dbt(copy, "build", "--quiet", "--full-refresh")
    for name, keys in {**MONTH_MODELS, **DOWNSTREAM}.items():
        full, incremental = (_without_watermarks(table(path, name)).sort(keys, nulls_last=True)
                             for path in (copy, db))
        assert full.height > 0, name
        assert incremental.equals(full), (name, _difference(incremental, full))
    for name in DOSSIER_MODELS:
        full, incremental = (_without_watermarks(table(path, name)).sort(pl.all(), nulls_last=True)
                             for path in (copy, db))
        assert incremental.equals(full), (name, _difference(incremental, full))
    copy.unlink()


def test_a_nightly_build_rebuilds_the_months_its_changes_touch_and_equals_a_full_rebuild(small_landing, tmp_path):
    landing, db = tmp_path / "landing", tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        ingest_landing(_landing_until(small_landing, landing, "20231130"), con, PII_KEY)
    run_dbt(db, "build", "--quiet")

    with duckdb.connect(str(db), read_only=True) as con:
        def one(where: str) -> dict:
            row = con.sql(f"select s.* from intermediate.int_dossier_current_state as s "
                          f"join facts.fct_dossiers as f using (dossier_code) where {where} "
                          f"order by dossier_code limit 1").pl().to_dicts()
            assert row, where
            return row[0]
        # corrections whose months do not overlap, so that each one's months are seen
        # received in July, resolved in August: corrected to a reception in August, only its old version counts in July
        redated = one("f.received_month = date '2022-07-01' and f.resolved_month = date '2022-08-01' "
                      "and f.finished_at >= timestamp '2022-08-02'")
        moved = one("f.received_month = date '2023-01-01' and f.resolved_month = date '2023-01-01'")
        reopened = one("f.received_month = date '2023-05-01' and f.resolved_month = date '2023-05-01'")
        withdrawn = one("f.is_open and f.received_month = date '2023-10-01'")
        other_unit = con.execute("select unit_code from facts.dim_units where level = "
                                 "(select level from facts.dim_units where unit_code = ?) and unit_code != ? "
                                 "and valid_to is null order by unit_code limit 1",
                                 [moved["unit_code"], moved["unit_code"]]).fetchone()[0]
        months_before = {m for (m,) in con.execute("select distinct period_month from marts.kpi_unit_month").fetchall()}

    # 1. a corrections export within November: only the months the four dossiers count in, before and after
    corrections = landing / "dossiers" / "2023" / "11" / "hoso_20231130_dieu_chinh.csv"
    with corrections.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(DOSSIER_COLUMNS)
        writer.writerow(_export_row(redated, received_at=datetime(2022, 8, 1, 9, 0, 0)))
        writer.writerow(_export_row(moved, unit_code=other_unit))  # handed to another unit
        writer.writerow(_export_row(reopened, status=4, finished_at=None))  # open at the end of every month since May
        writer.writerow(_export_row(withdrawn, status=7))
    watermark = _ingest(landing, db)
    run_dbt(db, "build", "--quiet")
    expected = {date(2022, 7, 1), date(2022, 8, 1), date(2023, 1, 1)} \
        | _month_range(date(2023, 5, 1), date(2023, 11, 1))
    assert _months(db, "marts.kpi_unit_month", watermark) == expected
    for relation in MONTH_MODELS:
        assert _months(db, relation, watermark) <= expected, relation
    _assert_equals_a_full_rebuild(db, tmp_path)

    # 2. the day that starts December: a new month, and November complete
    _landing_until(small_landing, landing, "20231201")
    watermark = _ingest(landing, db)
    run_dbt(db, "build", "--quiet")
    rebuilt = _months(db, "marts.kpi_unit_month", watermark)
    assert {date(2023, 11, 1), date(2023, 12, 1)} <= rebuilt and min(months_before) not in rebuilt
    _assert_equals_a_full_rebuild(db, tmp_path)

    # 3. explanations arrive: for a late dossier from its unit, for another from a unit not its own, and for an open
    # dossier not late yet; the late list rewrites the rows of those dossiers and of the open late ones, no other
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from marts.late_dossiers where explained").fetchone()[0] == 0
        late = con.execute("select dossier_code, unit_code from marts.late_dossiers where not is_open "
                           "order by dossier_code limit 2").fetchall()
        early = con.execute("select dossier_code, unit_code from facts.fct_dossiers where is_open and due_at >= "
                            "(select as_of from intermediate.int_directive_window) order by dossier_code limit 1"
                            ).fetchall()
    assert len(late) == 2 and len(early) == 1
    explanations = landing / "explanations" / "2023" / "giai_trinh_20231201.csv"
    explanations.parent.mkdir(parents=True)
    with explanations.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPLANATION_COLUMNS)
        for (code, unit), reason in zip([late[0], (late[1][0], other_unit), early[0]],
                                        ["quá tải", "chuyển nhầm", "báo trước"], strict=True):
            writer.writerow([code, unit, reason, _text(datetime(2023, 12, 1, 10, 0, 0)), ""])
    watermark = _ingest(landing, db)
    run_dbt(db, "build", "--quiet")
    with duckdb.connect(str(db), read_only=True) as con:
        rewritten = {c for (c,) in con.execute("select dossier_code from marts.late_dossiers "
                                               "where processed_through_batch_seq = ?", [watermark]).fetchall()}
        open_late = {c for (c,) in con.execute("select dossier_code from marts.late_dossiers where is_open").fetchall()}
        explained = dict(con.execute("select dossier_code, explained from marts.late_dossiers "
                                     "where dossier_code in (?, ?)", [late[0][0], late[1][0]]).fetchall())
        issues = dict(con.execute("select dossier_code, issue from marts.explanation_issues "
                                  "where processed_through_batch_seq = ?", [watermark]).fetchall())
    assert open_late and rewritten == open_late | {late[0][0], late[1][0]}
    assert explained == {late[0][0]: True, late[1][0]: late[1][1] == other_unit}
    # the explanations not counted: sent early, and (unless it is the dossier's own) by another unit
    assert issues == {early[0][0]: "not_late", **({late[1][0]: "other_unit"} if late[1][1] != other_unit else {})}
    _assert_equals_a_full_rebuild(db, tmp_path)


def _ingest(landing: Path, db: Path) -> int:
    """Ingest what is new in the landing; the ledger's last batch."""
    with duckdb.connect(str(db)) as con:
        report = ingest_landing(landing, con, PII_KEY)
        assert sum(o.rows_loaded for o in report.outcomes) > 0
        return con.execute("select max(batch_seq) from raw.ingestion_ledger").fetchone()[0]


def _difference(left: pl.DataFrame, right: pl.DataFrame) -> str:
    only_left, only_right = left.join(right, on=left.columns, how="anti", nulls_equal=True), \
        right.join(left, on=left.columns, how="anti", nulls_equal=True)
    return f"nightly only:\n{only_left.head(5)}\nfull rebuild only:\n{only_right.head(5)}"


def test_a_changed_model_or_rule_rebuilds_the_incremental_tables_whole(small_built, tmp_path):
    """The incremental tables recompute only what new batches touch: a changed model, macro or rule var
    (orchestration/model_definition.py) drops them before the build, which builds them whole, and the next
    publication writes every table; a changed dbt test does not."""
    from orchestration.assets.warehouse import incremental_relations
    from orchestration.model_definition import definition_digest, rebuild_if_changed, record_definition
    from orchestration.publication_plan import STATE_DDL
    from orchestration.settings import DBT_PROJECT_DIR

    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    built = definition_digest(project)
    (project / "tests" / "assert_rates_are_fractions.sql").write_text("select 1 where false\n")
    assert definition_digest(project) == built  # tests check the tables, they do not define them
    rules = project / "dbt_project.yml"
    rules.write_text(rules.read_text().replace("online_rate: [received_online, received]",
                                               "online_rate: [received_online, fee_bearing]"))
    changed = definition_digest(project)
    assert changed != built

    db = tmp_path / "w.duckdb"
    shutil.copy(small_built, db)
    incremental = incremental_relations()
    assert "marts.kpi_unit_month" in incremental and "facts.fct_dossiers" in incremental
    with duckdb.connect(str(db)) as con:
        record_definition(con, built)
        con.execute(STATE_DDL)
        con.execute("insert into quality.publication_state values ('kpi_unit_month', 'x', 1, '1:1')")
        assert rebuild_if_changed(con, built, incremental) == []  # as built: nothing to do
        assert rebuild_if_changed(con, changed, incremental) == incremental
        assert {f"{s}.{t}" for s, t in con.execute("select table_schema, table_name from information_schema.tables")
                .fetchall()}.isdisjoint(incremental)
        assert con.execute("select count(*) from quality.publication_state").fetchone()[0] == 0
