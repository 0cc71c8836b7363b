"""The monthly report pack (issue #11): produced by the `reports` asset of a real pipeline run, read back with
openpyxl and compared with the published marts, value by value."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner
from openpyxl.utils import get_column_letter

from contracts.rules import rules
from contracts.vocabulary import INDICATORS
from reporting.labels import INDICATOR_LABELS, LEVEL_LABELS, LEVELS, MEETS_LABELS, UNIT_LEVELS
from reporting.pack import build_pack, province_workbook_name, unit_workbook_name
from reporting.workbooks import (
    DISCREPANCY_SHEET,
    EXPLANATION_SHEET,
    OVERDUE_SHEET,
    SUMMARY_SHEET,
    TREND_DATA_SHEET,
    TREND_SHEET,
    UNEXPLAINED_SHEET,
    UNIT_DIRECTIVE_SHEET,
    UNIT_INDEX766_SHEET,
    UNIT_MONTHS,
    UNIT_MONTHS_SHEET,
)
from tests.conftest import FORMULA_NAMES


def _marts(published: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(published), read_only=True) as con:
        return con.sql(sql).pl()


def _latest_complete_month(published: Path) -> date:
    return _marts(published, "select max(period_month) as m from marts.kpi_level_month where is_complete_month")["m"][0]


def _units_valid_in(published: Path, month: date) -> pl.DataFrame:
    """The units a pack reports on: valid on the month's last day (issue #23: the province as it is that day; a
    merged commune's old units get no workbook, its history is pooled under the new one)."""
    return _marts(published, f"select unit_code, level from marts.unit_lineage where valid_from <= last_day(date '{month}') "
                             f"and (valid_to is null or valid_to >= last_day(date '{month}'))")


def _table(sheet, header_text: str) -> tuple[int, list[str], list[tuple]]:
    """The table of a sheet: (header row number, headers, data rows), found by its first header."""
    for row in sheet.iter_rows(min_row=1, max_row=15):
        if row[0].value == header_text:
            header = [c.value for c in row]
            data = [tuple(c.value for c in r) for r in sheet.iter_rows(min_row=row[0].row + 1)]
            return row[0].row, header, [r for r in data if any(v is not None for v in r)]
    raise AssertionError(f"no table headed {header_text!r} in sheet {sheet.title}")


def _close(a, b) -> bool:
    """A cell's value against the marts': "–" (does not apply) where the marts have no value."""
    a = None if a == "–" else a
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)


def test_the_reports_asset_writes_the_pack_for_the_latest_complete_month(pack_run):
    published, folder = pack_run
    month = _latest_complete_month(published)
    units = _units_valid_in(published, month)["unit_code"].to_list()
    ended = _marts(published, f"select unit_code from marts.unit_lineage where valid_to < date '{month}'")["unit_code"]
    assert ended.len() > 0 and not set(ended) & set(units), "the sample has units that ended before the month"
    assert folder.name == f"{month:%Y-%m}"
    assert (folder / province_workbook_name(month)).is_file() and (folder / "dashboard.html").is_file()
    assert sorted(p.name for p in (folder / "don_vi").iterdir()) == sorted(unit_workbook_name(u) for u in units)
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")], "no staging folder is left behind"


def test_the_summary_sheet_is_the_published_scorecard_by_level(pack_run):
    published, folder = pack_run
    month = _latest_complete_month(published)
    book = openpyxl.load_workbook(folder / province_workbook_name(month), data_only=True)  # cached formula values
    assert book.sheetnames == [SUMMARY_SHEET, *(LEVEL_LABELS[lv] for lv in UNIT_LEVELS), TREND_SHEET,
                               TREND_DATA_SHEET, OVERDUE_SHEET, DISCREPANCY_SHEET, EXPLANATION_SHEET]
    sheet = book[SUMMARY_SHEET]
    header_row, header, rows = _table(sheet, "Chỉ tiêu")
    card = _marts(published, "select level, indicator, window_value, baseline_value, change_pp, target, meets_target "
                             "from marts.directive10_scorecard where scope = 'level'")
    # k/n over the units valid on the month's last day, each over its predecessors (scope current_unit), judged
    # when its window rests on at least min_dossiers_to_judge dossiers; the others counted apart ("ít hồ sơ")
    minimum = rules().min_dossiers_to_judge
    summary = _marts(published, f"""
        select level, indicator, count(*) filter (where window_denominator >= {minimum} and meets_target) as k,
               count(*) filter (where window_denominator >= {minimum}) as n,
               count(*) filter (where window_denominator < {minimum}) as few
        from marts.programme_scorecard where programme_code = 'ct10_2023' and scope = 'current_unit'
          and window_value is not null group by all""")
    month_rates = _marts(published, f"select * from marts.kpi_level_month where period_month = '{month}'")
    assert len(rows) == len(INDICATORS) * len(LEVELS)
    label_to_indicator = {v: k for k, v in INDICATOR_LABELS.items()}
    label_to_level = {v: k for k, v in LEVEL_LABELS.items()}
    for row in rows:
        indicator, level = label_to_indicator[row[0]], label_to_level[row[1]]
        expected = card.filter((pl.col("level") == level) & (pl.col("indicator") == indicator)).row(0, named=True)
        assert _close(row[2], month_rates.filter(pl.col("level") == level)[indicator][0])
        assert _close(row[3], expected["window_value"]) and _close(row[4], expected["baseline_value"])
        assert _close(row[5], expected["change_pp"]) and _close(row[6], expected["target"])
        assert row[7] == MEETS_LABELS[expected["meets_target"]]
        meeting = summary.filter((pl.col("level") == level) & (pl.col("indicator") == indicator))
        if level == "toan_tinh":
            assert row[8] is None and row[9] is None
        else:
            k, n, few = meeting["k"][0], meeting["n"][0], meeting["few"][0]
            assert (row[8], row[9], row[10], row[11] or 0) == (k, n, f"{k}/{n}", few)
    # numbers are numbers, with percent and points formats; a formula computes the verdict from the cells
    raw = openpyxl.load_workbook(folder / province_workbook_name(month))[SUMMARY_SHEET]
    first = raw.cell(header_row + 1, 4)
    assert first.data_type == "n" and first.number_format == "0.0%"
    assert raw.cell(header_row + 1, 6).number_format.startswith("+0.0")
    assert str(raw.cell(header_row + 1, 8).value).startswith("=IF(")
    assert sheet.freeze_panes == f"C{header_row + 1}" and sheet.auto_filter.ref.startswith(f"A{header_row}")
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    assert sheet.print_title_rows == f"$1:${header_row}"


def test_level_sheets_rank_every_unit_with_live_target_colours(pack_run):
    published, folder = pack_run
    month = _latest_complete_month(published)
    book = openpyxl.load_workbook(folder / province_workbook_name(month))
    # each unit as it is on the month's last day, over its predecessors (the default sample's units are all current)
    unit_month = _marts(published, f"select current_unit_code as unit_code, * from marts.kpi_current_unit_month "
                                   f"where period_month = '{month}'")
    window = _marts(published, "select unit_code, indicator, window_value, window_denominator "
                               "from marts.programme_scorecard where programme_code = 'ct10_2023' "
                               "and scope = 'current_unit'")
    units = _units_valid_in(published, month)
    minimum = rules().min_dossiers_to_judge
    few_marked = 0
    for level in UNIT_LEVELS:
        sheet = book[LEVEL_LABELS[level]]
        header_row, header, rows = _table(sheet, "Xếp hạng")
        assert sorted(r[1] for r in rows) == sorted(units.filter(pl.col("level") == level)["unit_code"])
        online = {r["unit_code"]: r["online_rate"] for r in unit_month.iter_rows(named=True)}
        # rank: 1 + how many units of the level have a strictly higher online rate this month
        for row in rows:
            rate = online.get(row[1])
            expected_rank = None if rate is None else 1 + sum(
                1 for r in rows if online.get(r[1]) is not None and online[r[1]] > rate)
            assert row[0] == expected_rank, row
        ranks = [r[0] for r in rows if r[0] is not None]
        assert ranks == sorted(ranks)
        for row in rows[:: max(1, len(rows) // 7)]:  # a sample of units, every indicator
            for n, indicator in enumerate(INDICATORS):
                month_value = unit_month.filter(pl.col("unit_code") == row[1])[indicator]
                assert _close(row[4 + 2 * n], month_value[0] if month_value.len() else None)
                window_value = window.filter((pl.col("unit_code") == row[1]) & (pl.col("indicator") == indicator))
                assert _close(row[5 + 2 * n], window_value["window_value"][0] if window_value.height else None)
        # meeting / not meeting are conditional formats comparing each rate with the target cell, not fills; a
        # window value on too few dossiers is grey instead (a rule of its own cell, stopping the comparison)
        formats = [(str(cf.sqref), r.type, r.formula[0], r.stopIfTrue) for cf in sheet.conditional_formatting
                   for r in cf.rules]
        targets = [f for f in formats if f[2] != "TRUE"]
        assert len(targets) == 2 * 2 * len(INDICATORS)
        assert all(kind == "expression" and re.search(r"\$[A-Z]+\$\d+", formula) for _, kind, formula, _ in targets)
        grey = {cell for cell, _, formula, stop in formats if formula == "TRUE" and stop}
        expected_grey = set()
        for offset, row in enumerate(rows):
            few = window.filter((pl.col("unit_code") == row[1]) & pl.col("window_value").is_not_null()
                                & (pl.col("window_denominator") < minimum))["indicator"].to_list()
            for indicator in few:
                expected_grey.add(f"{get_column_letter(6 + 2 * INDICATORS.index(indicator))}{header_row + 1 + offset}")
            assert (row[-1] or "").startswith("ít hồ sơ") == bool(few), row
        assert grey == expected_grey
        few_marked += len(grey)
        data_cell = sheet.cell(header_row + 1, 5)
        assert data_cell.fill.fill_type is None and data_cell.number_format == "0.0%"
    assert few_marked > 0, "the sample has units with too few dossiers on some indicator"


def test_the_trend_sheet_has_native_line_charts_over_the_published_series(pack_run):
    published, folder = pack_run
    month = _latest_complete_month(published)
    path = folder / province_workbook_name(month)
    book = openpyxl.load_workbook(path)
    _, _, rows = _table(book[TREND_DATA_SHEET], "Chỉ tiêu")  # the long series on a sheet of its own
    breaks = [b.id for b in book[TREND_SHEET].row_breaks.brk]
    assert len(breaks) == len(INDICATORS) - 1, "each chart on a printed page of its own"
    level_month = _marts(published, f"select * from marts.kpi_level_month where period_month <= '{month}'")
    assert len(rows) == len(INDICATORS) * len(LEVELS) * level_month["period_month"].n_unique()
    by_label = {(INDICATOR_LABELS[i], LEVEL_LABELS[lv]): (i, lv) for i in INDICATORS for lv in LEVELS}
    for row in rows[::37]:
        indicator, level = by_label[(row[0], row[1])]
        expected = level_month.filter((pl.col("level") == level) & (pl.col("period_month") == row[2].date()))
        assert _close(row[3], expected[indicator][0])
    with zipfile.ZipFile(path) as archive:
        charts = [archive.read(n).decode() for n in archive.namelist() if re.match(r"xl/charts/chart\d+\.xml", n)]
    assert len(charts) == len(INDICATORS)
    for chart in charts:
        assert "<c:lineChart>" in chart and chart.count("<c:ser>") == 2 * len(LEVELS)  # each level and its target
        assert f"'{TREND_DATA_SHEET}'!" in chart


def test_overdue_and_discrepancy_sheets_list_the_published_rows(pack_run):
    published, folder = pack_run
    month = _latest_complete_month(published)
    book = openpyxl.load_workbook(folder / province_workbook_name(month))
    _, _, overdue = _table(book[OVERDUE_SHEET], "Mã hồ sơ")
    expected = _marts(published, "select dossier_code, unit_code, days_overdue from marts.overdue_dossiers")
    assert sorted((r[0], r[1], r[8]) for r in overdue) == sorted(expected.iter_rows())
    assert [r[1] for r in overdue] == sorted(r[1] for r in overdue), "grouped by unit"
    _, _, flagged = _table(book[DISCREPANCY_SHEET], "Mã đơn vị")
    expected = _marts(published, f"select unit_code, period_month, rule from marts.unit_report_discrepancies "
                                 f"where period_month <= '{month}'")
    assert len(flagged) == expected.height > 0
    assert {(r[0], r[2].date()) for r in flagged} == {(u, m) for u, m, _ in expected.iter_rows()}


def test_each_unit_workbook_holds_its_last_13_months_against_target_and_level(pack_run):
    published, folder = pack_run
    month = _latest_complete_month(published)
    unit_month = _marts(published, "select * from marts.kpi_unit_month")
    level_month = _marts(published, "select * from marts.kpi_level_month")
    targets = _marts(published, "select level, indicator, target from marts.directive10_summary")
    overdue = _marts(published, "select unit_code, dossier_code from marts.overdue_dossiers")
    # the unexplained late dossiers of the programme's window up to the month, newest first
    unexplained = _marts(published, f"""
        select unit_code, dossier_code, coalesce(finished_at, due_at) as late_on from marts.late_dossiers
        where not explained and coalesce(finished_at, due_at) >= (
            select min(window_start) from marts.programme_scorecard where programme_code = 'ct10_2023')
          and coalesce(finished_at, due_at) < date '{month}' + interval 1 month""")
    assert unexplained.height > 0
    months = sorted(m for m in level_month["period_month"].unique() if m <= month)[-UNIT_MONTHS:]
    sample = ["000.00.02.H02", *_units_valid_in(published, month)["unit_code"].sort().to_list()[::25]]
    for unit_code in sample:
        unit = unit_month.filter(pl.col("unit_code") == unit_code)
        level = unit["level"][0]
        book = openpyxl.load_workbook(folder / "don_vi" / unit_workbook_name(unit_code))
        assert book.sheetnames == [UNIT_MONTHS_SHEET, UNIT_DIRECTIVE_SHEET, UNIT_INDEX766_SHEET, OVERDUE_SHEET,
                                   UNEXPLAINED_SHEET, DISCREPANCY_SHEET]
        sheet = book[UNIT_MONTHS_SHEET]
        header_row, header, rows = _table(sheet, "Tháng")
        assert [r[0].date() for r in rows] == months
        target_row = [c.value for c in sheet[header_row - 1]]
        for n, indicator in enumerate(INDICATORS):
            target = targets.filter((pl.col("level") == level) & (pl.col("indicator") == indicator))["target"]
            assert _close(target_row[10 + 2 * n], target[0] if target.len() else None)
        for row in rows:
            own = unit.filter(pl.col("period_month") == row[0].date())
            pooled = level_month.filter((pl.col("level") == level) & (pl.col("period_month") == row[0].date()))
            assert row[1] == (own["received"][0] if own.height else None)
            for n, indicator in enumerate(INDICATORS):
                assert _close(row[10 + 2 * n], own[indicator][0] if own.height else None)
                assert _close(row[11 + 2 * n], pooled[indicator][0])
        _, _, own_overdue = _table(book[OVERDUE_SHEET], "Mã hồ sơ")
        assert sorted(r[0] for r in own_overdue) == sorted(overdue.filter(pl.col("unit_code") == unit_code)["dossier_code"])
        _, _, own_unexplained = _table(book[UNEXPLAINED_SHEET], "Mã hồ sơ")
        own = unexplained.filter(pl.col("unit_code") == unit_code)
        assert sorted(r[0] for r in own_unexplained) == sorted(own["dossier_code"])
        shown_on = [r[3] or r[2] for r in own_unexplained]
        assert shown_on == sorted(shown_on, reverse=True), "newest first"
        verdicts = {rule.formula[0] for cf in book[UNIT_DIRECTIVE_SHEET].conditional_formatting
                    for rule in cf.rules if rule.type == "cellIs"}
        assert verdicts == {'"Đạt"', '"Chưa đạt"'}, "the verdict column is coloured"


def test_landing_text_that_looks_like_a_formula_stays_text_in_every_workbook(pack_run):
    published, folder = pack_run
    month = _latest_complete_month(published)
    names = _marts(published, "select distinct unit_code, unit_name, level from marts.kpi_unit_month")
    assert set(FORMULA_NAMES.values()) <= set(names["unit_name"]), "the names reached the published marts as text"
    book = openpyxl.load_workbook(folder / province_workbook_name(month))
    seen = 0
    for code, name in FORMULA_NAMES.items():
        level = names.filter(pl.col("unit_code") == code)["level"][0]
        for row in book[LEVEL_LABELS[level]].iter_rows():
            if row[1].value == code:
                assert (row[2].value, row[2].data_type) == (name, "s")
                seen += 1
        unit_book = openpyxl.load_workbook(folder / "don_vi" / unit_workbook_name(code))
        title = unit_book[UNIT_MONTHS_SHEET]["A1"]
        assert title.data_type == "s" and name in title.value
    assert seen == len(FORMULA_NAMES)
    formulas = [c.value for s in book.worksheets for row in s.iter_rows() for c in row if c.data_type == "f"]
    # the only formulas are the project's own, over its own cells: the verdict and the k/n label of the summary
    assert formulas and all(re.fullmatch(r'=IF\(OR\(D\d+="",G\d+=""\),"",IF\(D\d+>=G\d+,"Đạt","Chưa đạt"\)\)', f)
                            or re.fullmatch(r'=I\d+&"/"&J\d+', f) for f in formulas), set(formulas)


def test_tthc_report_writes_a_chosen_month_into_the_chosen_folder_and_refuses_a_bad_month(pack_run, tmp_path, monkeypatch):
    from cli.commands import cli

    published, _ = pack_run
    monkeypatch.setenv("TTHC_PUBLISHED", str(published))
    runner = CliRunner()
    done = runner.invoke(cli, ["report", "--month", "2023-10", "--out", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "out" / "2023-10" / "tong_hop_2023-10.xlsx").is_file()
    book = openpyxl.load_workbook(tmp_path / "out" / "2023-10" / "tong_hop_2023-10.xlsx")
    assert book[SUMMARY_SHEET]["A1"].value.endswith("10/2023")
    bad = runner.invoke(cli, ["report", "--month", "2023-13"])
    assert bad.exit_code == 1 and "YYYY-MM" in bad.output
    outside = runner.invoke(cli, ["report", "--month", "1999-01"])
    assert outside.exit_code == 1 and "no data for 01/1999" in outside.output


def test_a_second_pack_replaces_what_the_first_wrote_and_keeps_what_the_user_kept(pack_run, tmp_path):
    """`tthc report --out DIR` writes only the pack's own files: a user's notes and hidden backups, in DIR and in
    the pack folder, stay; a file the previous pack wrote and this one does not is removed."""
    from click.testing import CliRunner

    from cli.commands import cli
    from reporting.pack import MANIFEST

    published, _ = pack_run
    (tmp_path / "ghi_chu.txt").write_text("mine")
    (tmp_path / ".sao_luu.1234.tmp").write_text("a hidden backup")  # looks like a staging name, is not one
    first = build_pack(published, date(2023, 10, 1), tmp_path)
    (first.folder / "ghi_chu_thang.txt").write_text("notes on the month")
    (first.folder / ".tong_hop_cu.xlsx").write_bytes(b"an older copy")
    (first.folder / "don_vi" / "y_kien.txt").write_text("feedback")
    (first.folder / "don_vi" / "OLD.xlsx").write_bytes(b"a unit of an earlier pack")
    with (first.folder / MANIFEST).open("a", encoding="utf-8") as manifest:
        manifest.write("don_vi/OLD.xlsx\n")
    runner = CliRunner()
    done = runner.invoke(cli, ["report", "--month", "2023-10", "--out", str(tmp_path)],
                         env={"TTHC_PUBLISHED": str(published)})
    assert done.exit_code == 0, done.output
    folder = tmp_path / "2023-10"
    assert (folder / "ghi_chu_thang.txt").read_text() == "notes on the month"
    assert (folder / ".tong_hop_cu.xlsx").read_bytes() == b"an older copy"
    assert (folder / "don_vi" / "y_kien.txt").read_text() == "feedback"
    assert not (folder / "don_vi" / "OLD.xlsx").exists()
    assert (tmp_path / "ghi_chu.txt").read_text() == "mine" and (tmp_path / ".sao_luu.1234.tmp").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sao_luu.1234.tmp", "2023-10", "ghi_chu.txt"]
    assert {p.name for p in (folder / "don_vi").iterdir()} == {p.name for p in first.unit_workbooks} | {"y_kien.txt"}


def test_the_explanation_sheet_counts_late_and_unexplained_dossiers_per_unit(pack_run):
    published, folder = pack_run
    month = _latest_complete_month(published)
    _, header, rows = _table(openpyxl.load_workbook(folder / province_workbook_name(month))[EXPLANATION_SHEET],
                             "Mã đơn vị")
    unexplained = _marts(published, "select unit_code, count(*) as n, count(*) filter (where days_late > 30) as old "
                                    "from marts.late_dossiers where not explained group by 1")
    in_month = _marts(published, f"select unit_code, late, late_explained from marts.late_explanations_unit_month "
                                 f"where period_month = '{month}'")
    shown = {r[0]: r for r in rows}
    assert set(shown) == set(unexplained["unit_code"]) | set(in_month["unit_code"])
    for unit, n, old in unexplained.iter_rows():
        assert (shown[unit][6], shown[unit][7]) == (n, old)
    for unit, late, done in in_month.iter_rows():
        assert (shown[unit][3], shown[unit][4]) == (late, done)
    assert [r[6] for r in rows] == sorted((r[6] for r in rows), reverse=True), "the units leaving most unexplained first"


def test_the_scorecard_shows_the_explained_rate_per_level(pack_run, monkeypatch):
    from cli.commands import cli

    published, _ = pack_run
    monkeypatch.setenv("TTHC_PUBLISHED", str(published))
    shown = CliRunner().invoke(cli, ["scorecard"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    late, done = _marts(published, "select sum(late), sum(late_explained) from marts.late_explanations_unit_month m, "
                                   "(select distinct window_start, window_end from marts.directive10_scorecard) w "
                                   "where m.period_month between date_trunc('month', w.window_start) and w.window_end "
                                   "and m.level is not null").row(0)
    assert "Hồ sơ trễ hạn được đơn vị giải trình" in shown.output
    assert f"{late:,}" in shown.output and f"{done / late * 100:.1f}%" in shown.output


def test_unit_workbooks_written_by_two_processes_are_the_bytes_one_process_writes(pack_run, tmp_path, monkeypatch):
    import reporting.pack as pack

    published, _ = pack_run
    monkeypatch.setattr(pack, "PARALLEL_ABOVE_ROWS", 10**9)
    alone = build_pack(published, date(2023, 10, 1), tmp_path / "one")
    monkeypatch.setattr(pack, "PARALLEL_ABOVE_ROWS", 0)
    monkeypatch.setattr(pack.os, "cpu_count", lambda: 2)
    shared = build_pack(published, date(2023, 10, 1), tmp_path / "two")
    assert [p.name for p in shared.unit_workbooks] == [p.name for p in alone.unit_workbooks]
    assert len(alone.unit_workbooks) > 100
    files = sorted(p.relative_to(alone.folder) for p in alone.folder.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(shared.folder) for p in shared.folder.rglob("*") if p.is_file())
    assert all(_contents(alone.folder / f) == _contents(shared.folder / f) for f in files)


def test_the_dossiers_that_cost_766_points_count_toward_writing_the_unit_workbooks_in_two_processes(pack_run,
                                                                                                      monkeypatch):
    """Most of a unit workbook's cells are now its 766 sheet's list: a pack of few overdue or unexplained dossiers
    but many losses is written by two processes too (at 1M dossiers: 6k listed rows, 22k losses)."""
    import dataclasses

    import reporting.pack as pack
    from reporting.published import read_published

    published, _ = pack_run
    marts = read_published(published, date(2023, 10, 1))
    listed = marts.overdue.height + marts.unexplained.height + marts.discrepancies.height
    assert marts.index766_losses is not None and marts.index766_losses.height > 0
    monkeypatch.setattr(pack, "PARALLEL_ABOVE_ROWS", listed)
    monkeypatch.setattr(pack.os, "cpu_count", lambda: 2)
    assert pack.unit_workers(marts) == 2
    assert pack.unit_workers(dataclasses.replace(marts, index766_losses=marts.index766_losses.clear())) == 1


def test_a_worker_is_sent_the_rows_of_its_own_units_and_the_levels_whole(pack_run):
    """The second process gets the marts cut to its share of the units (pickled: half the rows), every per-unit
    frame holding those units' rows and all of them, the levels' and the province's frames as read."""
    import reporting.pack as pack
    from reporting.published import read_published

    published, _ = pack_run
    marts = read_published(published, date(2023, 10, 1))
    codes = marts.units.get_column("unit_code").to_list()[1::2]
    share = pack.share_of(marts, codes)
    for name in pack.UNIT_FRAMES:
        whole, cut = getattr(marts, name), getattr(share, name)
        assert set(cut.get_column("unit_code").to_list()) <= set(codes), name
        assert cut.height == whole.filter(pl.col("unit_code").is_in(codes)).height > 0, name
        assert cut.height < whole.height, name
    assert share.index766.filter(pl.col("scope") != "current_unit").is_empty()
    assert share.index766.height == marts.index766.filter(
        (pl.col("scope") == "current_unit") & pl.col("unit_code").is_in(codes)).height > 0
    assert share.level_month.equals(marts.level_month) and share.level_scorecard.equals(marts.level_scorecard)
    assert share.explanations_month.equals(marts.explanations_month)


def _contents(path: Path) -> dict[str, bytes]:
    """A file's bytes; a workbook's parts but the one with the time it was written (docProps/core.xml)."""
    import zipfile

    if path.suffix != ".xlsx":
        return {"": path.read_bytes()}
    with zipfile.ZipFile(path) as book:
        return {name: book.read(name) for name in book.namelist() if name != "docProps/core.xml"}


def test_the_vega_bundle_is_built_once_per_vl_convert_version(tmp_path, monkeypatch):
    """The dashboard's inlined Vega bundle is kept in the user's cache folder and read from there next time."""
    from importlib.metadata import version

    import vl_convert

    from reporting.dashboard import vega_bundle

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    vega_bundle.cache_clear()
    try:
        built = vega_bundle()
        cached = list((tmp_path / "tthc").iterdir())
        assert [p.name for p in cached] == [f"vega-bundle-{version('vl-convert-python')}.js"]
        assert "vegaEmbed" in built and cached[0].read_text(encoding="utf-8") == built
        vega_bundle.cache_clear()

        def not_again():
            raise AssertionError("the bundle was built again")

        monkeypatch.setattr(vl_convert, "javascript_bundle", not_again)
        assert vega_bundle() == built
    finally:
        vega_bundle.cache_clear()


def test_the_scorecard_for_people_and_for_tools(pack_run, tmp_path, monkeypatch):
    """`tthc scorecard` on a file named `marts.duckdb`: Vietnamese labels in the contract's order (codes with
    --codes), one unit, the failing units, and CSV / JSON read back equal to the programme marts."""
    import csv
    import io
    import json
    import shutil

    from click.testing import CliRunner

    from cli.commands import cli
    from contracts.vocabulary import INDICATORS
    from reporting.labels import INDICATOR_LABELS

    published = tmp_path / "marts.duckdb"
    shutil.copy(pack_run[0], published)
    monkeypatch.setenv("TTHC_PUBLISHED", str(published))
    runner = CliRunner()
    table = runner.invoke(cli, ["scorecard"])
    assert table.exit_code == 0, table.output
    positions = [table.output.index(INDICATOR_LABELS[i]) for i in INDICATORS]
    assert positions == sorted(positions) and "online_rate" not in table.output
    assert "online_rate" in runner.invoke(cli, ["scorecard", "--codes"]).output

    card = _marts(pack_run[0], "select scope, unit_code, level, indicator, window_value, target, meets_target "
                               "from marts.programme_scorecard where programme_code = 'ct10_2023' "
                               "and scope in ('unit', 'level')")
    every = runner.invoke(cli, ["scorecard", "--units", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(every.output)))
    assert every.exit_code == 0 and len(rows) == card.height
    shown = {(r["scope"], r["unit_code"] or None, r["level"], r["indicator"]): r for r in rows}
    assert len(shown) == len(rows)
    for r in card.iter_rows(named=True):
        row = shown[(r["scope"], r["unit_code"], r["level"], r["indicator"])]
        assert (float(row["window_value"]) if row["window_value"] else None) == r["window_value"]

    unit = card.filter(pl.col("scope") == "unit")["unit_code"][0]
    one = json.loads(runner.invoke(cli, ["scorecard", "--unit", unit, "--format", "json"]).output)
    assert {r["unit_code"] for r in one} == {unit} and [r["indicator"] for r in one] == list(INDICATORS)
    failing = list(csv.DictReader(io.StringIO(runner.invoke(cli, ["scorecard", "--failing", "--format", "csv"]).output)))
    below = card.filter((pl.col("scope") == "unit") & (pl.col("meets_target") == False))  # noqa: E712
    assert {(r["unit_code"], r["indicator"]) for r in failing if r["scope"] == "unit"} == set(
        below.select("unit_code", "indicator").iter_rows()) and below.height > 0
    unknown = runner.invoke(cli, ["scorecard", "--unit", "000.99.99.H02"])
    assert unknown.exit_code == 1 and "no unit '000.99.99.H02'" in unknown.output


ENGINEER_TERMS = re.compile(r"\.md\b|reference/|\.csv\b|ngưỡng|\b[a-z]+_[a-z0-9_]+\b|TTHC_[A-Z_]+")


def test_documents_for_people_carry_no_engineer_terms(pack_run):
    """No file name, contract, variable or check id in what units read: Vietnamese, and what to do."""
    import html.parser

    published, folder = pack_run
    month = _latest_complete_month(published)
    books = [folder / province_workbook_name(month), *sorted((folder / "don_vi").iterdir())[:5]]
    found = []
    for path in books:
        for sheet in openpyxl.load_workbook(path).worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "s" and ENGINEER_TERMS.search(str(cell.value)):
                        found.append((path.name, sheet.title, cell.coordinate, cell.value))

    class VisibleText(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.hidden, self.text = 0, []

        def handle_starttag(self, tag, attrs):
            self.hidden += tag in ("script", "style")

        def handle_endtag(self, tag):
            self.hidden -= tag in ("script", "style")

        def handle_data(self, data):
            if not self.hidden:
                self.text.append(data)

    page = VisibleText()
    page.feed((folder / "dashboard.html").read_text(encoding="utf-8"))
    found += [("dashboard.html", text) for text in page.text if ENGINEER_TERMS.search(text)]
    assert found == []


def test_a_past_months_pack_scores_the_window_to_that_month(pack_run, tmp_path):
    """--month 2023-10: every window value is the pool of June to October 2023 (numerators over denominators, per
    kpis.md), not the whole window's; the header says where the window stops."""
    published, _ = pack_run
    pack = build_pack(published, date(2023, 10, 1), tmp_path)
    sheet = openpyxl.load_workbook(pack.province_workbook, data_only=True)[SUMMARY_SHEET]
    assert "01/06/2023 – 31/10/2023" in sheet["A3"].value
    _, _, rows = _table(sheet, "Chỉ tiêu")
    months = _marts(published, "select * from marts.kpi_level_month where period_month between '2023-06-01' "
                               "and '2023-10-01'")
    whole = _marts(published, "select level, indicator, window_value from marts.programme_scorecard "
                              "where programme_code = 'ct10_2023' and scope = 'level'")
    label_to_indicator = {v: k for k, v in INDICATOR_LABELS.items()}
    label_to_level = {v: k for k, v in LEVEL_LABELS.items()}
    differs = 0
    for row in rows:
        indicator, level = label_to_indicator[row[0]], label_to_level[row[1]]
        numerator, denominator = rules().rates[indicator]
        span = months.filter(pl.col("level") == level)
        expected = span[numerator].sum() / span[denominator].sum() if span[denominator].sum() else None
        assert _close(row[3], expected), (row, expected)
        full = whole.filter((pl.col("level") == level) & (pl.col("indicator") == indicator))["window_value"][0]
        differs += not _close(row[3], full)
    assert differs > 0, "the window to October is not the whole window"


def test_the_programme_in_force_is_the_one_whose_window_holds_the_month():
    from reporting.published import Programme, ReportError, choose_programme

    ct10 = Programme("ct10_2023", "Chỉ thị 10/CT-UBND", (date(2023, 6, 1), date(2025, 6, 30)), None)
    plan = Programme("kh_cds_2026", "Kế hoạch 2026", (date(2026, 1, 1), date(2026, 9, 30)), None)
    bridge = Programme("kh_2025", "Kế hoạch 2025", (date(2025, 1, 1), date(2025, 12, 31)), None)
    both = [ct10, plan, bridge]
    assert choose_programme(both, date(2024, 1, 1)) == ct10
    assert choose_programme(both, date(2025, 3, 1)) == bridge, "two hold the month: the latest start wins"
    assert choose_programme(both, date(2026, 9, 1)) == plan
    ended = choose_programme([ct10], date(2026, 9, 1))
    assert ended.code == "ct10_2023" and ended.ended and "đã kết thúc 30/06/2025" in ended.title
    assert choose_programme(both, date(2022, 6, 1)) == ct10, "before every window: the first (refused unless provisional)"
    assert choose_programme(both, date(2024, 1, 1), wanted="kh_cds_2026") == plan
    assert choose_programme([], date(2024, 1, 1)) is None
    with pytest.raises(ReportError, match="no programme 'kh_2099'.*ct10_2023, kh_2025, kh_cds_2026"):
        choose_programme(both, date(2024, 1, 1), wanted="kh_2099")


def test_the_december_pack_brings_the_years_assessment_workbook(pack_run, tmp_path):
    """The `reports` asset for December (what a run in January writes) also writes danh_gia_nam_<YYYY>.xlsx,
    read back against the annual mart; November's does not."""
    import shutil

    import dagster as dg
    from openpyxl import load_workbook

    from orchestration.assets.publication import reports
    from orchestration.resources import WarehouseResource

    published, _ = pack_run
    root = tmp_path / "copy"
    shutil.copytree(published.parents[1] / "warehouse", root / "warehouse")
    (root / "published").mkdir(parents=True)
    shutil.copy(published, root / "published" / published.name)
    resource = WarehouseResource(landing_dir=str(root / "landing"), warehouse_path=str(root / "warehouse" / "tthc.duckdb"),
                                 published_path=str(root / "published" / published.name))
    annual = root / "published" / "reports" / "danh_gia_nam_2023.xlsx"
    for month, written in (("2023-11", False), ("2023-12", True)):
        result = dg.materialize([reports], resources={"warehouse": resource}, instance=dg.DagsterInstance.ephemeral(),
                                run_config={"ops": {"reports": {"config": {"month": month}}}})
        assert result.success and annual.exists() is written, month
    with duckdb.connect(str(published), read_only=True) as con:
        expected = con.sql("select unit_code, any_value(award_eligible) as eligible, any_value(criteria_met) as met, "
                           "any_value(criteria_total) as total from marts.programme_unit_year where year = 2023 "
                           "and scope = 'current_unit' and programme_code = 'ct10_2023' and level = 'xa' "
                           "group by unit_code").pl()
    rows = list(load_workbook(annual)["Cấp xã"].iter_rows(values_only=True))
    header_at = next(n for n, r in enumerate(rows) if r[0] == "Mã đơn vị")
    shown = {r[0]: r for r in rows[header_at + 1:] if r[0]}
    assert set(shown) == set(expected["unit_code"])
    for r in expected.iter_rows(named=True):
        assert shown[r["unit_code"]][-4:] == (f"{r['met']}/{r['total']}", r["met"], r["total"],
                                              "Có" if r["eligible"] else "Không")
    assert "(năm chưa kết thúc" not in rows[0][0]  # December 2023 is complete in the data (it runs to February 2024)


def test_each_unit_workbook_shows_its_766_estimate_and_the_dossiers_that_cost_it_points(pack_run):
    from openpyxl import load_workbook

    from reporting.published import LOSSES_LISTED

    published, folder = pack_run
    month = folder.name
    with duckdb.connect(str(published), read_only=True) as con:
        unit = con.sql(f"select current_unit_code from marts.index766_dossier_losses where period_month = "
                       f"'{month}-01' group by 1 order by count(*) desc limit 1").fetchall()[0][0]
        months = con.sql(f"select period_month, metric, points, total_points, rank_in_level "
                         f"from marts.index766_unit_month where scope = 'current_unit' and unit_code = '{unit}' "
                         f"and period_month <= '{month}-01' order by period_month desc").pl()
        losses = con.sql(f"select dossier_code, metric, points_if_passed from marts.index766_dossier_losses "
                         f"where current_unit_code = '{unit}' and period_month = '{month}-01' "
                         f"order by points_if_passed desc, dossier_code, metric").pl()
    sheet = load_workbook(folder / "don_vi" / f"{unit}.xlsx")[UNIT_INDEX766_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert "ước tính" in rows[0][0].lower() and "không phải điểm chính thức" in rows[1][0]
    header_at = next(n for n, r in enumerate(rows) if r[0] == "Tháng")
    shown_months = [r for r in rows[header_at + 1:header_at + 14] if r[0] is not None]
    last_13 = sorted(set(months["period_month"]))[-13:]
    assert [r[0].date() for r in shown_months] == last_13
    latest = shown_months[-1]
    expected = months.filter(pl.col("period_month") == last_13[-1])
    metrics = list(rules().index766)
    for n, metric in enumerate(metrics, start=1):
        points = expected.filter(pl.col("metric") == metric)["points"][0]
        assert (latest[n] is None) if points is None else abs(latest[n] - points) < 1e-9, metric
    assert abs(latest[len(metrics) + 1] - expected["total_points"][0]) < 1e-9
    assert latest[-1] == expected["rank_in_level"][0]
    list_at = next(n for n, r in enumerate(rows) if r[0] == "Mã hồ sơ")
    assert f"{losses.height} hồ sơ" in rows[list_at - 1][0]
    listed = [r for r in rows[list_at + 1:] if r[0]]
    assert len(listed) == min(losses.height, LOSSES_LISTED)
    gains = [r[4] for r in listed]
    assert gains == sorted(gains, reverse=True)  # the dossiers that would give most back first
    assert abs(gains[0] - losses["points_if_passed"][0]) < 1e-12


def test_a_file_published_before_the_766_estimate_still_gets_its_pack(pack_run, tmp_path):
    """A published file from before the 766 marts existed (an older run, a copy kept by an analyst): the pack is
    written without the 766 section and sheet instead of failing."""
    import shutil

    published, folder = pack_run
    older = tmp_path / "older.duckdb"
    shutil.copy(published, older)
    with duckdb.connect(str(older)) as con:
        con.execute("drop table marts.index766_dossier_losses")
        con.execute("drop table marts.index766_unit_month")
    pack = build_pack(older, date.fromisoformat(f"{folder.name}-01"), tmp_path / "reports")
    assert 'id="index766"' not in pack.dashboard.read_text(encoding="utf-8")
    book = openpyxl.load_workbook(pack.unit_workbooks[0], read_only=True)
    assert UNIT_MONTHS_SHEET in book.sheetnames and UNIT_INDEX766_SHEET not in book.sheetnames
