"""The province as it is in 2026 (issue #12): the `bac_ninh_2026` sample at a small scale, run through the whole
pipeline, and its marts compared with the generator's ground truth: units as they were, current units pooled
over their predecessors, programmes and their summaries."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from contracts.rules import rules
from sample_province import province_2026, reference, truth
from sample_province.generate import generate

from .conftest import run_whole_job

MEASURES = list(rules().measures)


@pytest.fixture(scope="module")
def province_2026_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("province_2026")
    result = generate(root / "landing", seed=11, scale=0.01, profile="bac_ninh_2026")
    run_whole_job(root, "province-2026-test-key")
    with duckdb.connect(str(root / "warehouse" / "tthc.duckdb"), read_only=True) as con:
        ingested_at = con.execute("select max(ingested_at) from raw.ingestion_ledger where kind = 'dossiers'"
                                  ).fetchall()[0][0]
    # the exports end in October 2026, a month before the tests run: the newest dossiers show due dates after
    # tomorrow, which the contract quarantines; the truth is what the pipeline keeps of them
    result.truth_unit_month = result.truth_unit_month_as_ingested(ingested_at)
    yield result, root
    shutil.rmtree(root / "landing", ignore_errors=True)


def _marts(root, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(root / "published" / "tthc_marts.duckdb"), read_only=True) as con:
        return con.sql(sql).pl()


def _active(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.any_horizontal([pl.col(m) > 0 for m in MEASURES]))


def test_the_2026_exports_keep_every_quirk_of_the_landing_contract(province_2026_run):
    from sample_province.exports import QUARANTINE_REASONS

    result, root = province_2026_run
    assert set(result.bad_rows) == set(QUARANTINE_REASONS) and result.duplicate_rows > 0
    assert set(result.special_files) == {"redelivered", "legacy_encoding", "missing_column"}
    assert len(list((root / "landing" / "dossiers").rglob("*.xlsx"))) >= 3
    assert (root / "landing" / "reference" / "programmes.csv").is_file()


def test_dossiers_handed_to_successors_count_once_where_the_contract_says(province_2026_run):
    result, root = province_2026_run
    with duckdb.connect(str(root / "warehouse" / "tthc.duckdb"), read_only=True) as con:
        handed = con.execute("select count(*) from (select dossier_code from raw.dossier_snapshots group by 1 "
                             "having count(distinct unit_code) > 1)").fetchall()[0][0]
    assert handed > 50, "the sample hands open dossiers of ended units to their successors"
    published = _marts(root, f"select unit_code, period_month, {', '.join(MEASURES)} from marts.kpi_unit_month")
    expected = result.truth_unit_month.select("unit_code", "period_month", *MEASURES)
    keys = ["unit_code", "period_month"]
    assert _active(published).sort(keys).equals(_active(expected).sort(keys))


def test_current_unit_months_pool_every_predecessor_as_the_truth_does(province_2026_run):
    result, root = province_2026_run
    published = _marts(root, f"select current_unit_code, period_month, {', '.join(MEASURES)} "
                             f"from marts.kpi_current_unit_month")
    expected = truth.current_unit_month(result.truth_unit_month, result.units)
    keys = ["current_unit_code", "period_month"]
    assert _active(published).sort(keys).equals(_active(expected.select(*keys, *MEASURES)).sort(keys))
    # a commune of 2026 carries the history of the communes merged into it, back to the first month of the data
    new_commune = _marts(root, "select min(period_month) as first, max(units_pooled) as pooled "
                               "from marts.kpi_current_unit_month where current_unit_code = '000.01.90.H24'")
    assert new_commune["first"][0] == date(2024, 6, 1) and new_commune["pooled"][0] >= 3


def test_unit_lineage_follows_chains_merges_and_ends(province_2026_run):
    result, root = province_2026_run
    lineage = _marts(root, "select unit_code, current_unit_code, steps, current_level from marts.unit_lineage")
    expected = truth.current_units(result.units)
    assert dict(zip(lineage["unit_code"], lineage["current_unit_code"], strict=True)) == expected
    by_code = {r["unit_code"]: r for r in lineage.iter_rows(named=True)}
    # merged in 2023, then again in 2025: two hops; a district ended without successor: its own current unit
    assert by_code["000.01.27.H02"]["steps"] == 2 and by_code["000.01.27.H02"]["current_level"] == "xa"
    assert by_code["000.00.21.H10"]["steps"] == 0
    assert by_code["000.00.21.H02"]["current_unit_code"] == "000.00.41.H02"  # a district office became a branch


def test_programme_scorecard_equals_the_truth_in_every_scope(province_2026_run):
    result, root = province_2026_run
    published = _marts(root, "select programme_code, scope, unit_code, level, indicator, window_value "
                             "from marts.programme_scorecard where window_value is not null")
    expected = truth.programme_scores(result.truth_unit_month, result.units, result.programmes, result.as_of)
    expected = expected.filter(pl.col("window_value").is_not_null())
    keys = ["programme_code", "scope", "unit_code", "level", "indicator"]
    joined = published.join(expected, on=keys, how="full", nulls_equal=True, suffix="_truth")
    assert joined.filter(pl.col("window_value").is_null() | pl.col("window_value_truth").is_null()).height == 0
    assert (joined["window_value"] - joined["window_value_truth"]).abs().max() < 1e-12
    assert set(published["programme_code"]) == {"ct10_2023", "kh_cds_2026"}
    assert {"unit", "level", "current_unit"} == set(published["scope"])
    # Directive 10 ends with the old province: its window ends on its end_date
    window_end = _marts(root, "select distinct window_end from marts.directive10_scorecard")["window_end"]
    assert window_end.to_list() == [province_2026.BEFORE_MERGER]


def test_programme_summary_counts_units_and_current_units_meeting_each_target(province_2026_run):
    result, root = province_2026_run
    scores = truth.programme_scores(result.truth_unit_month, result.units, result.programmes, result.as_of)
    targets = {"ct10_2023": reference.TARGETS, "kh_cds_2026": province_2026.TARGETS_2026}
    summary = _marts(root, "select * from marts.programme_summary")
    assert summary.height == sum(1 for t in targets.values() for (_, lv) in t if lv != "toan_tinh")
    for row in summary.iter_rows(named=True):
        target = targets[row["programme_code"]][(row["indicator"], row["level"])]
        for scope, total, meeting in (("unit", "units_total", "units_meeting_target"),
                                      ("current_unit", "current_units_total", "current_units_meeting_target")):
            values = scores.filter((pl.col("programme_code") == row["programme_code"]) & (pl.col("scope") == scope)
                                   & (pl.col("level") == row["level"]) & (pl.col("indicator") == row["indicator"])
                                   )["window_value"].drop_nulls()
            assert (row[total], row[meeting]) == (values.len(), (values >= target).sum()), (row, scope)


def test_some_current_units_stay_below_the_2026_plan_on_every_indicator(province_2026_run):
    _, root = province_2026_run
    scored = _marts(root, "select level, indicator, window_value, target from marts.programme_scorecard "
                          "where programme_code = 'kh_cds_2026' and scope = 'current_unit' and level = 'xa'")
    for indicator in rules().rates:
        values = scored.filter(pl.col("indicator") == indicator)
        below = values.filter(pl.col("window_value") < pl.col("target")).height
        assert 1 <= below <= values.height // 2, (indicator, below, values.height)


def test_the_new_province_is_calibrated_to_its_first_months_and_scored_by_programme(province_2026_run, monkeypatch):
    _, root = province_2026_run
    plan = _marts(root, "select indicator, window_value from marts.programme_scorecard "
                        "where programme_code = 'kh_cds_2026' and scope = 'level' and level = 'toan_tinh'")
    value = dict(plan.iter_rows())
    assert value["online_rate"] > 0.87 and value["digitisation_rate"] > 0.93 and value["e_result_rate"] > 0.95
    from cli.commands import cli

    monkeypatch.setenv("TTHC_PUBLISHED", str(root / "published" / "tthc_marts.duckdb"))
    shown = CliRunner().invoke(cli, ["scorecard", "--programme", "kh_cds_2026"])
    assert shown.exit_code == 0 and "Kế hoạch chuyển đổi số năm 2026" in shown.output
    assert "01/01/2026 – 30/09/2026" in shown.output
    in_force = CliRunner().invoke(cli, ["scorecard"])  # the plan of 2026 is in force in the latest complete month
    assert in_force.exit_code == 0 and in_force.output == shown.output
    unknown = CliRunner().invoke(cli, ["scorecard", "--programme", "kh_2099"])
    assert unknown.exit_code == 1 and "ct10_2023, kh_cds_2026" in unknown.output


# --- the documents follow the province as it is in the month they report (issue #23) ---------------------------

def _pack(root):
    folders = sorted((root / "published" / "reports").iterdir())
    assert [f.name for f in folders] == ["2026-09"], "the latest complete month"
    return folders[0]


def test_the_pack_scores_the_plan_in_force_on_the_units_of_the_day(province_2026_run):
    import openpyxl

    from reporting.labels import INDICATOR_LABELS, LEVEL_LABELS
    from reporting.pack import province_workbook_name
    from reporting.workbooks import SUMMARY_SHEET

    _, root = province_2026_run
    book = openpyxl.load_workbook(_pack(root) / province_workbook_name(date(2026, 9, 1)), data_only=True)
    summary = book[SUMMARY_SHEET]
    assert "KẾ HOẠCH CHUYỂN ĐỔI SỐ NĂM 2026" in summary["A1"].value and "CHỈ THỊ 10" not in summary["A1"].value
    assert LEVEL_LABELS["huyen"] not in book.sheetnames, "the district level ended on 1 July 2025"
    targets = {(lv, i): t for lv, i, t in _marts(root, "select level, indicator, target from marts.programme_scorecard "
                                                       "where programme_code = 'kh_cds_2026' and scope = 'level'"
                                                 ).iter_rows()}
    by_label = {(INDICATOR_LABELS[i], LEVEL_LABELS[lv]): (lv, i) for lv, i in targets}
    rows = [r for r in summary.iter_rows(min_row=1, values_only=True) if (r[0], r[1]) in by_label]
    assert len(rows) == len(targets) - 5, "every indicator and level but the districts"
    for row in rows:
        assert abs(row[6] - targets[by_label[(row[0], row[1])]]) < 1e-9, row
    communes = _marts(root, "select unit_code from marts.unit_lineage where level = 'xa' and valid_from <= '2026-09-30' "
                            "and (valid_to is null or valid_to >= '2026-09-30')")["unit_code"].to_list()
    listed = [r[1] for r in book[LEVEL_LABELS["xa"]].iter_rows(values_only=True) if r[1] in set(communes)]
    assert sorted(listed) == sorted(communes) and len(communes) == 99, "the 99 communes of the day, each once"


def test_a_merged_communes_workbook_pools_its_predecessors_history(province_2026_run, tmp_path):
    import openpyxl

    from reporting.pack import build_pack, unit_workbook_name
    from reporting.workbooks import UNIT_MONTHS_SHEET

    _, root = province_2026_run
    published = root / "published" / "tthc_marts.duckdb"
    merged = _marts(root, "select current_unit_code, count(*) as n from marts.unit_lineage where steps > 0 "
                          "and current_level = 'xa' group by 1 order by n desc, 1 limit 1")["current_unit_code"][0]
    pack = build_pack(published, date(2025, 8, 1), tmp_path)  # 13 months back: most before the merger
    sheet = openpyxl.load_workbook(pack.folder / "don_vi" / unit_workbook_name(merged))[UNIT_MONTHS_SHEET]
    pooled = {m: r for m, r in _marts(root, f"select period_month, received from marts.kpi_current_unit_month "
                                            f"where current_unit_code = '{merged}'").iter_rows()}
    shown = {r[0].date(): r[1] for r in sheet.iter_rows(values_only=True) if hasattr(r[0], "year")}
    before = [m for m in shown if m < date(2025, 7, 1)]
    assert len(before) >= 10 and all(shown[m] == pooled.get(m) for m in shown), (merged, shown, pooled)
    assert sum(shown[m] or 0 for m in before) > 0, "the predecessors' dossiers, pooled under today's commune"


def test_the_dashboard_of_the_2026_province_offline(province_2026_run, browser):
    from .test_pages import OfflinePage

    _, root = province_2026_run
    dashboard = _pack(root) / "dashboard.html"
    view = OfflinePage(browser, dashboard)
    try:
        view.page.evaluate("window.tthcReady")
        assert view.errors == [] and view.refused == []
        assert "Kế hoạch chuyển đổi số năm 2026" in view.page.locator("h1").inner_text()
        assert view.page.locator(".tile[data-level=huyen]").count() == 0 and view.page.locator("#ranking-huyen").count() == 0
        online = _marts(root, "select level, count(*) as n from marts.programme_scorecard where programme_code = "
                              "'kh_cds_2026' and scope = 'current_unit' and indicator = 'online_rate' "
                              "and window_value is not null group by level")
        for level, n in online.iter_rows():
            bars = view.page.locator(f"#ranking-{level} g.mark-rect.role-mark path")
            assert bars.count() == n, level
        tile = view.page.locator(".tile[data-indicator=digitisation_rate][data-level=xa] .target").inner_text()
        target = _marts(root, "select target from marts.programme_scorecard where programme_code = 'kh_cds_2026' "
                              "and scope = 'level' and level = 'xa' and indicator = 'digitisation_rate'")["target"][0]
        assert tile == f"mục tiêu {target * 100:.0f}%", "the 2026 plan's target, not Directive 10's"
    finally:
        view.close()


def test_the_annual_assessment_pools_each_year_and_counts_the_criteria_a_unit_meets(province_2026_run):
    """programme_unit_year against an independent computation from the generator's ground truth: every value of
    every programme, year, scope and unit; the targets of the programme; criteria and award eligibility counted
    here from the contract's words."""
    result, root = province_2026_run
    expected = truth.programme_years(result.truth_unit_month, result.units, result.programmes, result.as_of)
    marts = _marts(root, "select * from marts.programme_unit_year")
    keys = ["programme_code", "year", "scope", "unit_code", "indicator"]
    assert expected.join(marts, on=keys, how="anti").is_empty()
    # a unit valid in the year without a single dossier has its rows (kpi_unit_month's zeros), every value NULL
    idle = marts.join(expected, on=keys, how="anti")
    assert idle["value"].is_null().all() and (idle["denominator"] == 0).all()
    joined = marts.join(expected, on=keys, how="inner", suffix="_truth")
    both = joined.filter(pl.col("value").is_not_null() | pl.col("value_truth").is_not_null())
    assert (both["value"] - both["value_truth"]).abs().max() < 1e-12
    assert (joined["is_complete_year"] == joined["is_complete_year_truth"]).all()
    assert set(marts["year"]) == {2024, 2025, 2026}
    # 2026 is still running (the data ends in October); the plan of 2026 is scored in 2026 only
    assert not marts.filter(pl.col("year") == 2026)["is_complete_year"].any()
    assert set(marts.filter(pl.col("programme_code") == "kh_cds_2026")["year"]) == {2026}
    targets = {"ct10_2023": reference.TARGETS, "kh_cds_2026": province_2026.TARGETS_2026}
    for row in marts.filter(pl.col("target").is_not_null()).iter_rows(named=True):
        assert row["target"] == targets[row["programme_code"]][(row["indicator"], row["level"])]
    per_unit = marts.group_by("programme_code", "year", "scope", "unit_code").agg(
        total=(pl.col("target").is_not_null() & pl.col("value").is_not_null()).sum(),
        met=(pl.col("value") >= pl.col("target")).fill_null(False).sum(),
        criteria_total=pl.col("criteria_total").first(), criteria_met=pl.col("criteria_met").first(),
        eligible=pl.col("award_eligible").first())
    assert (per_unit["total"] == per_unit["criteria_total"]).all() and (per_unit["met"] == per_unit["criteria_met"]).all()
    assert (per_unit["eligible"] == ((per_unit["total"] > 0) & (per_unit["met"] == per_unit["total"]))).all()
    # the sample's spread: some current communes are eligible for a high award in 2026, some are not
    communes_2026 = per_unit.join(marts.select("unit_code", "level").unique(), on="unit_code").filter(
        (pl.col("programme_code") == "kh_cds_2026") & (pl.col("scope") == "current_unit") & (pl.col("level") == "xa"))
    assert 0 < communes_2026["eligible"].sum() < communes_2026.height


def test_the_annual_workbook_and_scorecard_show_each_current_unit_against_the_plan(province_2026_run, tmp_path,
                                                                                   monkeypatch):
    import csv
    import io

    from openpyxl import load_workbook

    from cli.commands import cli
    from reporting.annual import AWARD_LABEL, AWARD_VALUES

    _, root = province_2026_run
    monkeypatch.setenv("TTHC_PUBLISHED", str(root / "published" / "tthc_marts.duckdb"))
    marts = _marts(root, "select * from marts.programme_unit_year where year = 2026 and scope = 'current_unit' "
                         "and programme_code = 'kh_cds_2026'")
    done = CliRunner().invoke(cli, ["report", "--year", "2026", "--out", str(tmp_path)])
    assert done.exit_code == 0, done.output
    book = load_workbook(tmp_path / "danh_gia_nam_2026.xlsx")
    assert book.sheetnames == ["Cấp tỉnh", "Cấp xã"]  # the districts ended in 2025: no sheet
    sheet = book["Cấp xã"]
    assert "ĐÁNH GIÁ NĂM 2026" in sheet["A1"].value and "năm chưa kết thúc" in sheet["A1"].value.lower()
    rows = list(sheet.iter_rows(values_only=True))
    header_at = next(n for n, r in enumerate(rows) if r[0] == "Mã đơn vị")
    header = list(rows[header_at])
    shown = {r[0]: dict(zip(header, r, strict=True)) for r in rows[header_at + 1:] if r[0]}
    communes = marts.filter(pl.col("level") == "xa")
    assert set(shown) == set(communes["unit_code"])  # every current commune, once
    for row in communes.iter_rows(named=True):
        cell = shown[row["unit_code"]]
        from reporting.labels import INDICATOR_LABELS

        value = cell[INDICATOR_LABELS[row["indicator"]]]
        assert (value == "–") if row["value"] is None else abs(value - row["value"]) < 1e-12
        assert cell["Tiêu chí đạt"] == f"{row['criteria_met']}/{row['criteria_total']}"
        assert cell[AWARD_LABEL] == AWARD_VALUES[row["award_eligible"]]
    targets = rows[header_at - 1]
    assert targets[2] == province_2026.TARGETS_2026[("online_rate", "xa")]

    printed = CliRunner().invoke(cli, ["scorecard", "--year", "2026", "--failing", "--format", "csv"])
    assert printed.exit_code == 0, printed.output
    failing = list(csv.DictReader(io.StringIO(printed.output)))
    not_eligible = marts.filter(~pl.col("award_eligible"))
    assert {(r["unit_code"], r["indicator"]) for r in failing} == set(
        not_eligible.select("unit_code", "indicator").iter_rows())
    table = CliRunner().invoke(cli, ["scorecard", "--year", "2026"])
    assert table.exit_code == 0 and "khen thưởng cao" in table.output and "Kế hoạch chuyển đổi số năm 2026" in table.output
    missing = CliRunner().invoke(cli, ["scorecard", "--year", "2019"])
    assert missing.exit_code == 1 and "years assessed: 2024, 2025, 2026" in missing.output
