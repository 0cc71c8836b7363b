"""The Excel report pack: the province workbook `tong_hop_<YYYY-MM>.xlsx` and one workbook per unit
`don_vi/<unit_code>.xlsx`, Vietnamese sheet names and headers, from the published marts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from xlsxwriter.utility import xl_rowcol_to_cell

from contracts.rules import rules
from contracts.vocabulary import INDICATORS
from reporting.labels import (
    INDEX766_NOTE,
    INDEX766_TITLE,
    INDICATOR_LABELS,
    LEVEL_LABELS,
    MEASURE_LABELS,
    MEETS_LABELS,
    METRIC_LABELS,
    NOT_JUDGED_LABEL,
    RULE_ACTIONS,
    RULE_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    month_label,
)
from reporting.published import PublishedMarts, month_end
from reporting.sheets import (
    Column,
    Styles,
    absolute,
    compare_with_target,
    mark_not_judged,
    new_workbook,
    print_setup,
    write_cell,
    write_table,
    write_title,
)

SUMMARY_SHEET = "Tổng hợp"
TREND_SHEET = "Xu hướng"
TREND_DATA_SHEET = "Số liệu xu hướng"
OVERDUE_SHEET = "Hồ sơ quá hạn"
DISCREPANCY_SHEET = "Sai lệch báo cáo"
EXPLANATION_SHEET = "Giải trình trễ hạn"
UNEXPLAINED_SHEET = "Trễ hạn chưa giải trình"
UNIT_MONTHS_SHEET = "Kết quả 13 tháng"
UNIT_DIRECTIVE_SHEET = "Kết quả giai đoạn"  # the unit's result over the programme's window
UNIT_INDEX766_SHEET = "Chỉ số 766"
UNIT_MONTHS = 13
RANKED_BY = "online_rate"


def indicator_groups(sheet, styles: Styles, group_row: int, first: int, targets: dict, level: str,
                     pair: tuple[Column, Column]) -> list[Column]:
    """Two columns per indicator from column `first`: the indicator's name merged above them (group_row), the
    level's target merged below it (the row every target colour compares with); returns the columns."""
    for n, indicator in enumerate(INDICATORS):
        col = first + 2 * n
        sheet.merge_range(group_row, col, group_row, col + 1, INDICATOR_LABELS[indicator], styles.group)
        target = targets.get((level, indicator))
        sheet.merge_range(group_row + 1, col, group_row + 1, col + 1, target if target is not None else "",
                          styles.target)
    return [column for _ in INDICATORS for column in pair]


def level_sheet_name(level: str) -> str:
    return LEVEL_LABELS[level]


def _span_label(span: tuple[date, date] | None) -> str:
    return f"{span[0]:%d/%m/%Y} – {span[1]:%d/%m/%Y}" if span else "chưa có"


def _header_lines(marts: PublishedMarts, title: str) -> list[str]:
    as_of = f"{marts.as_of:%d/%m/%Y %H:%M}" if marts.as_of else "không rõ"
    return [title,
            f"Số liệu tháng {marts.month_label}; dữ liệu hệ thống cập nhật đến {as_of}",
            f"Giai đoạn {marts.programme_title}: {_span_label(marts.window)}; kỳ gốc: {_span_label(marts.baseline)}",
            f"Chất lượng dữ liệu: {marts.quality.label}",
            "–: không áp dụng (không có hồ sơ nào thuộc diện tính của chỉ tiêu, ví dụ đơn vị không có hồ sơ có phí)"]


# --- the province workbook -------------------------------------------------------------------------------------

def write_province_workbook(marts: PublishedMarts, path: Path) -> Path:
    book = new_workbook(path)
    styles = Styles(book, provisional=marts.provisional)
    _summary_sheet(book, styles, marts)
    for level in marts.unit_levels:  # a level that ended (the districts) has no sheet
        _level_sheet(book, styles, marts, level)
    _trend_sheet(book, styles, marts)  # and its data sheet after it
    _overdue_sheet(book, styles, marts.overdue, marts, "Hồ sơ đang xử lý quá hạn, theo đơn vị")
    _discrepancy_sheet(book, styles, marts.discrepancies.filter(pl.col("period_month") <= marts.month), marts,
                       "Sai lệch giữa báo cáo định kỳ của đơn vị và số liệu hệ thống")
    _explanation_sheet(book, styles, marts)
    book.close()
    return path


def explanation_rows(marts: PublishedMarts) -> list[dict]:
    """Per unit with late dossiers: the month's late and explained ones, and every late dossier still unexplained
    (all months), with those late for more than the rules' threshold."""
    days = rules().unexplained_late_days
    month = marts.explanations_month.filter(pl.col("period_month") == marts.month).select(
        "unit_code", "late", "late_explained", "explained_rate")
    open_ = marts.unexplained.group_by("unit_code").agg(
        unexplained=pl.len(), unexplained_old=(pl.col("days_late") > days).sum())
    names = pl.DataFrame({"unit_code": list(marts.unit_names), "unit_name": list(marts.unit_names.values())},
                         schema={"unit_code": pl.String, "unit_name": pl.String})
    frame = month.join(open_, on="unit_code", how="full", coalesce=True).join(names, on="unit_code", how="left")
    levels = marts.level_of
    return (frame.with_columns(level=pl.col("unit_code").replace_strict(levels, default=None),
                               unexplained=pl.col("unexplained").fill_null(0),
                               unexplained_old=pl.col("unexplained_old").fill_null(0))
            .sort(["unexplained", "unit_code"], descending=[True, False]).to_dicts())


def _explanation_sheet(book, styles: Styles, marts: PublishedMarts) -> None:
    sheet = book.add_worksheet(EXPLANATION_SHEET)
    days = rules().unexplained_late_days
    header_row = write_title(sheet, styles, _header_lines(
        marts, f"GIẢI TRÌNH HỒ SƠ TRỄ HẠN THEO ĐƠN VỊ – THÁNG {marts.month_label}"))
    write_table(sheet, styles, header_row,
                [Column("Mã đơn vị"), Column("Tên đơn vị"), Column("Cấp"),
                 Column(f"Trễ hạn tháng {marts.month_label}", "count"), Column("Đã giải trình trong tháng", "count"),
                 Column("Tỷ lệ giải trình", "rate"), Column("Chưa giải trình (mọi tháng)", "count"),
                 Column(f"Chưa giải trình, trễ quá {days} ngày", "count")],
                [(r["unit_code"], r["unit_name"], LEVEL_LABELS.get(r["level"], r["level"] or ""), r["late"],
                  r["late_explained"], r["explained_rate"], r["unexplained"], r["unexplained_old"])
                 for r in explanation_rows(marts)], freeze_cols=1, min_widths={1: 24})


UNEXPLAINED_LISTED = 1000  # a unit's sheet lists its newest unexplained late dossiers, this many at most


def unexplained_of_the_window(marts: PublishedMarts, unexplained: pl.DataFrame) -> pl.DataFrame:
    """A unit's unexplained late dossiers whose late month (of finishing, or of the due date while open) is in the
    programme's window up to the report month, newest first."""
    late_on = pl.coalesce("finished_at", "due_at")
    start = marts.window[0] if marts.window else date.min
    return (unexplained.filter((late_on.dt.date() >= start.replace(day=1)) & (late_on.dt.date() <= month_end(marts.month)))
            .sort(late_on, descending=True))


def _unexplained_sheet(book, styles: Styles, unexplained: pl.DataFrame, marts: PublishedMarts, name: str) -> None:
    sheet = book.add_worksheet(UNEXPLAINED_SHEET)
    listed = unexplained_of_the_window(marts, unexplained)
    since = f"từ {marts.window[0]:%d/%m/%Y}" if marts.window else ""
    count = (f"{listed.height} hồ sơ {since}, mới nhất trước" if listed.height <= UNEXPLAINED_LISTED else
             f"{UNEXPLAINED_LISTED} hồ sơ mới nhất trong tổng số {listed.height} hồ sơ {since}")
    header_row = write_title(sheet, styles, [f"HỒ SƠ TRỄ HẠN CHƯA GIẢI TRÌNH CỦA {name.upper()}",
                                             "Mỗi hồ sơ trễ hạn phải được giải trình và xin lỗi người dân", count])
    write_table(sheet, styles, header_row,
                [Column("Mã hồ sơ"), Column("Mã TTHC"), Column("Ngày hẹn trả", "datetime"),
                 Column("Ngày kết thúc xử lý", "datetime"), Column("Tình trạng"), Column("Số ngày trễ", "count")],
                listed.head(UNEXPLAINED_LISTED).select(
                    "dossier_code", "procedure_code", "due_at", "finished_at",
                    pl.when(pl.col("is_open")).then(pl.lit("Đang xử lý")).otherwise(pl.lit("Đã giải quyết")),
                    "days_late"), freeze_cols=1)


def summary_rows(marts: PublishedMarts) -> list[dict]:
    """The scorecard by level, every indicator and level, with the month's pooled rate and the units meeting."""
    month = marts.level_month.filter(pl.col("period_month") == marts.month)
    month_rates = {(r["level"], i): r[i] for r in month.iter_rows(named=True) for i in INDICATORS}
    meeting = marts.meeting()
    card = {(r["level"], r["indicator"]): r for r in marts.level_scorecard.iter_rows(named=True)}
    rows = []
    for indicator in INDICATORS:
        for level in marts.levels:
            r = card.get((level, indicator), {})
            k, n, few = meeting.get((level, indicator), (None, None, None)) if level != "toan_tinh" else (None,) * 3
            rows.append({"indicator": indicator, "level": level, "month_value": month_rates.get((level, indicator)),
                         "window_value": r.get("window_value"), "baseline_value": r.get("baseline_value"),
                         "change_pp": r.get("change_pp"), "target": r.get("target"), "meets": r.get("meets_target"),
                         "units_meeting": k, "units_total": n, "units_not_judged": few})
    return rows


def _summary_sheet(book, styles: Styles, marts: PublishedMarts) -> None:
    sheet = book.add_worksheet(SUMMARY_SHEET)
    header_row = write_title(sheet, styles, _header_lines(
        marts, f"BÁO CÁO KẾT QUẢ THỰC HIỆN {marts.programme_title.upper()} – THÁNG {marts.month_label}"))
    columns = [Column("Chỉ tiêu"), Column("Cấp"), Column(f"Tháng {marts.month_label}", "rate"),
               Column("Cả giai đoạn", "rate"), Column("Kỳ gốc", "rate"), Column("Thay đổi (điểm %)", "points"),
               Column("Mục tiêu", "rate"), Column("Đánh giá"), Column("Số đơn vị đạt", "count"),
               Column("Số đơn vị được đánh giá", "count"), Column("Đơn vị đạt / tổng số"),
               Column(f"Chưa đánh giá ({NOT_JUDGED_LABEL})", "count")]
    rows = summary_rows(marts)
    data_rows = write_table(sheet, styles, header_row, columns,
                            [(INDICATOR_LABELS[r["indicator"]], LEVEL_LABELS[r["level"]], r["month_value"],
                              r["window_value"], r["baseline_value"], r["change_pp"], r["target"], None,
                              r["units_meeting"], r["units_total"], None, r["units_not_judged"]) for r in rows],
                            freeze_cols=2, min_widths={0: 28})
    for sheet_row, r in zip(data_rows, rows, strict=True):
        window, target = xl_rowcol_to_cell(sheet_row, 3), xl_rowcol_to_cell(sheet_row, 6)
        # formulas over the sheet's own cells, with the value they compute cached for readers that do not calculate
        sheet.write_formula(sheet_row, 7, f'=IF(OR({window}="",{target}=""),"",IF({window}>={target},"Đạt","Chưa đạt"))',
                            styles.centred, MEETS_LABELS.get(r["meets"], ""))
        if r["units_total"] is not None:
            k, n = xl_rowcol_to_cell(sheet_row, 8), xl_rowcol_to_cell(sheet_row, 9)
            sheet.write_formula(sheet_row, 10, f'={k}&"/"&{n}', styles.centred, f"{r['units_meeting']}/{r['units_total']}")
    for col in (2, 3):
        compare_with_target(sheet, styles, data_rows, col, xl_rowcol_to_cell(data_rows.start, 6, col_abs=True))
    colour_verdicts(sheet, styles, data_rows, 7)
    sheet.activate()


def colour_verdicts(sheet, styles: Styles, data_rows: range, col: int) -> None:
    """A verdict column ("Đạt" / "Chưa đạt") green and red, as live rules on its text."""
    if data_rows:
        cells = (data_rows.start, col, data_rows.stop - 1, col)
        sheet.conditional_format(*cells, {"type": "cell", "criteria": "==", "value": f'"{MEETS_LABELS[True]}"',
                                          "format": styles.meets})
        sheet.conditional_format(*cells, {"type": "cell", "criteria": "==", "value": f'"{MEETS_LABELS[False]}"',
                                          "format": styles.misses})


def level_unit_rows(marts: PublishedMarts, level: str) -> list[dict]:
    """Every unit of `level` with the month's and the window's rates, ranked by the month's online rate
    (1 the highest; equal rates share a rank; a unit without a rate is unranked, last)."""
    units = marts.units.filter(pl.col("level") == level).select("unit_code", "unit_name")
    month = (marts.unit_month.filter((pl.col("period_month") == marts.month) & (pl.col("level") == level))
             .select("unit_code", "received", *INDICATORS))
    card = marts.unit_scorecard.filter(pl.col("level") == level)
    window = card.pivot(on="indicator", index="unit_code", values="window_value")
    window = window.rename({i: f"window_{i}" for i in INDICATORS if i in window.columns})
    judged = card.pivot(on="indicator", index="unit_code", values="judged")
    judged = judged.rename({i: f"judged_{i}" for i in INDICATORS if i in judged.columns})
    frame = (units.join(month, on="unit_code", how="left").join(window, on="unit_code", how="left")
             .join(judged, on="unit_code", how="left"))
    frame = frame.with_columns(*(pl.lit(None, pl.Float64).alias(f"window_{i}") for i in INDICATORS
                                 if f"window_{i}" not in frame.columns),
                               *(pl.lit(True).alias(f"judged_{i}") for i in INDICATORS
                                 if f"judged_{i}" not in frame.columns))
    frame = frame.with_columns(rank=pl.col(RANKED_BY).rank("min", descending=True).cast(pl.Int64))
    return frame.sort(["rank", "unit_code"], nulls_last=True).to_dicts()


def _level_sheet(book, styles: Styles, marts: PublishedMarts, level: str) -> None:
    sheet = book.add_worksheet(level_sheet_name(level))
    lines = _header_lines(marts, f"{LEVEL_LABELS[level].upper()} – KẾT QUẢ THEO ĐƠN VỊ, THÁNG {marts.month_label}")
    lines.insert(1, f"Xếp hạng theo {INDICATOR_LABELS[RANKED_BY].lower()} của tháng; mỗi tỷ lệ so với mục tiêu "
                    f"của {LEVEL_LABELS[level].lower()} (xanh: đạt, đỏ: chưa đạt)")
    group_row = write_title(sheet, styles, lines)
    target_row, header_row = group_row + 1, group_row + 2
    targets = marts.targets()
    columns = [Column("Xếp hạng", "count"), Column("Mã đơn vị"), Column("Tên đơn vị"),
               Column(f"Hồ sơ tiếp nhận tháng {marts.month_label}", "count")]
    sheet.merge_range(target_row, 0, target_row, 3, "Mục tiêu", styles.target_label)
    first = len(columns)
    columns += indicator_groups(sheet, styles, group_row, first, targets, level,
                                (Column(f"Tháng {marts.month_label}", "rate"), Column("Cả giai đoạn", "rate")))
    columns.append(Column("Ghi chú"))
    rows = level_unit_rows(marts, level)
    data_rows = write_table(sheet, styles, header_row, columns,
                            [(r["rank"], r["unit_code"], r["unit_name"], r["received"],
                              *(v for i in INDICATORS for v in (r[i], r[f"window_{i}"])), not_judged_note(r))
                             for r in rows], freeze_cols=3, min_widths={2: 24})
    mark_not_judged(sheet, styles, [(row, first + 2 * n + 1) for row, r in zip(data_rows, rows, strict=True)
                                    for n, i in enumerate(INDICATORS)
                                    if r[f"window_{i}"] is not None and r[f"judged_{i}"] is False])
    for n in range(len(INDICATORS)):
        col = first + 2 * n
        for offset in (0, 1):
            compare_with_target(sheet, styles, data_rows, col + offset, absolute(target_row, col))


def not_judged_note(row: dict) -> str | None:
    """`ít hồ sơ: …` naming the indicators whose window value rests on too few dossiers to judge."""
    few = [INDICATOR_LABELS[i].lower() for i in INDICATORS
           if row.get(f"window_{i}") is not None and row.get(f"judged_{i}") is False]
    return f"{NOT_JUDGED_LABEL} ({', '.join(few)}): chưa đánh giá" if few else None


def trend_rows(marts: PublishedMarts) -> list[dict]:
    """Monthly pooled rate per indicator and level up to the report month, with the level's target."""
    targets = marts.targets()
    months = marts.level_month.filter(pl.col("period_month") <= marts.month)
    by_key = {(r["level"], r["period_month"]): r for r in months.iter_rows(named=True)}
    month_list = sorted({m for _, m in by_key})
    return [{"indicator": i, "level": lv, "period_month": m, "value": by_key[(lv, m)][i] if (lv, m) in by_key else None,
             "target": targets.get((lv, i))}
            for i in INDICATORS for lv in marts.levels for m in month_list]


LEVEL_COLOURS = {"toan_tinh": "#1F4E79", "tinh": "#C55A11", "huyen": "#548235", "xa": "#7030A0"}


CHART_ROWS = 24  # one chart a printed page: its title rows, the chart, and a page break after it


def _trend_sheet(book, styles: Styles, marts: PublishedMarts) -> None:
    """The charts on `Xu hướng`, one a printed page; the monthly series they draw on a sheet of their own."""
    sheet = book.add_worksheet(TREND_SHEET)
    data = book.add_worksheet(TREND_DATA_SHEET)
    header_row = write_title(sheet, styles, _header_lines(marts, f"XU HƯỚNG THEO THÁNG ĐẾN {marts.month_label}"))
    print_setup(sheet, header_row - 1)
    data_header = write_title(data, styles, _header_lines(
        marts, f"SỐ LIỆU XU HƯỚNG THEO THÁNG ĐẾN {marts.month_label} (CÁC BIỂU ĐỒ Ở TRANG {TREND_SHEET.upper()})"))
    rows = trend_rows(marts)
    data_rows = write_table(data, styles, data_header,
                            [Column("Chỉ tiêu"), Column("Cấp"), Column("Tháng", "month"), Column("Tỷ lệ", "series"),
                             Column("Mục tiêu", "series")],
                            [(INDICATOR_LABELS[r["indicator"]], LEVEL_LABELS[r["level"]], r["period_month"], r["value"],
                              r["target"]) for r in rows], min_widths={0: 26})
    months = len({r["period_month"] for r in rows})
    if not months:
        return
    name = data.get_name()
    for n, indicator in enumerate(INDICATORS):
        chart = book.add_chart({"type": "line"})
        for m, level in enumerate(marts.levels):
            first = data_rows.start + (n * len(marts.levels) + m) * months
            last = first + months - 1
            categories = [name, first, 2, last, 2]
            chart.add_series({"name": LEVEL_LABELS[level], "categories": categories, "values": [name, first, 3, last, 3],
                              "line": {"color": LEVEL_COLOURS[level], "width": 2.25}})
            chart.add_series({"name": f"Mục tiêu {LEVEL_LABELS[level].lower()}", "categories": categories,
                              "values": [name, first, 4, last, 4],
                              "line": {"color": LEVEL_COLOURS[level], "width": 1, "dash_type": "dash"}})
        started = f" ({marts.programme_short} từ {month_label(marts.window[0])})" if marts.window else ""
        chart.set_title({"name": f"{INDICATOR_LABELS[indicator]}{started}",
                         "name_font": {"size": 11}})
        chart.set_x_axis({"date_axis": True, "num_format": "mm/yyyy", "major_unit": 3, "major_unit_type": "months"})
        chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1, "major_gridlines": {"visible": True}})
        chart.set_legend({"position": "right"})
        chart.set_size({"width": 900, "height": 400})
        sheet.insert_chart(header_row + n * CHART_ROWS, 0, chart)
    sheet.set_h_pagebreaks([header_row + n * CHART_ROWS for n in range(1, len(INDICATORS))])


def _overdue_sheet(book, styles: Styles, overdue: pl.DataFrame, marts: PublishedMarts, title: str) -> None:
    sheet = book.add_worksheet(OVERDUE_SHEET)
    header_row = write_title(sheet, styles, [title.upper(), f"Tính đến {marts.as_of:%d/%m/%Y %H:%M}" if marts.as_of
                                             else "Không có hồ sơ quá hạn", f"{overdue.height} hồ sơ"])
    write_table(sheet, styles, header_row,
                [Column("Mã hồ sơ"), Column("Mã đơn vị"), Column("Tên đơn vị"), Column("Cấp"), Column("Mã TTHC"),
                 Column("Trạng thái"), Column("Ngày tiếp nhận", "datetime"), Column("Ngày hẹn trả", "datetime"),
                 Column("Số ngày quá hạn", "count")],
                overdue.select("dossier_code", "unit_code", "unit_name", labelled("level", LEVEL_LABELS),
                               "procedure_code", labelled("status", STATUS_LABELS), "received_at", "due_at",
                               "days_overdue"), freeze_cols=1)


def labelled(column: str, labels: dict[str, str]) -> pl.Expr:
    """A code column as its label, a code without one as itself (a list's `labels.get(code, code)`)."""
    return pl.col(column).cast(pl.String).replace(labels)


def _discrepancy_sheet(book, styles: Styles, discrepancies: pl.DataFrame, marts: PublishedMarts, title: str) -> None:
    sheet = book.add_worksheet(DISCREPANCY_SHEET)
    header_row = write_title(sheet, styles, [title.upper(), f"Các kỳ báo cáo đến {marts.month_label}: báo cáo định kỳ "
                                                            "của đơn vị đối chiếu với số liệu hồ sơ trên hệ thống",
                                             f"{discrepancies.height} dòng"])
    write_table(sheet, styles, header_row,
                [Column("Mã đơn vị"), Column("Tên đơn vị"), Column("Kỳ báo cáo", "month"), Column("Chỉ số"),
                 Column("Giá trị báo cáo", "number"), Column("Giá trị hệ thống", "number"), Column("Quy tắc"),
                 Column("Mức độ"), Column("Chi tiết"), Column("Cần làm"), Column("Ngày gửi", "datetime")],
                [(r["unit_code"], r["unit_name"], r["period_month"], MEASURE_LABELS.get(r["measure"], r["measure"]),
                  r["reported_value"], r["system_value"], RULE_LABELS.get(r["rule"], r["rule"]),
                  SEVERITY_LABELS.get(r["severity"], r["severity"]), r["detail"], RULE_ACTIONS.get(r["rule"], ""),
                  r["submitted_at"]) for r in discrepancies.iter_rows(named=True)], min_widths={8: 40, 9: 30})


# --- one workbook per unit -------------------------------------------------------------------------------------

def unit_month_rows(marts: PublishedMarts, unit_code: str, level: str, unit_month: pl.DataFrame) -> list[dict]:
    """The unit's last 13 months: every measure and rate, and its level's pooled rate, month by month (a month
    without any of its dossiers has empty measures)."""
    months = marts.last_months(UNIT_MONTHS)
    own = {r["period_month"]: r for r in unit_month.iter_rows(named=True)}
    pooled = {r["period_month"]: r for r in marts.level_month.filter(pl.col("level") == level).iter_rows(named=True)}
    return [{"period_month": m, **{k: own.get(m, {}).get(k) for k in (*rules().measures, *INDICATORS)},
             **{f"level_{i}": pooled.get(m, {}).get(i) for i in INDICATORS}} for m in months]


def write_unit_workbook(marts: PublishedMarts, unit: dict, path: Path) -> Path:
    """The workbook of `unit`, from `marts` cut to its own rows (reporting.pack.write_unit_workbooks): its months,
    its programme scorecard, its 766 estimate and the dossiers that cost it points, its overdue dossiers, its late
    ones not explained and its reports' discrepancies."""
    book = new_workbook(path)
    styles = Styles(book, provisional=marts.provisional)
    level, targets = unit["level"], marts.targets()
    name = f"{unit['unit_code']} – {unit['unit_name'] or ''}"
    sheet = book.add_worksheet(UNIT_MONTHS_SHEET)
    lines = _header_lines(marts, f"{name} ({LEVEL_LABELS.get(level, level)})")
    lines.insert(1, f"{UNIT_MONTHS} tháng đến {marts.month_label}: số liệu của đơn vị, tỷ lệ so với mục tiêu của "
                    f"{LEVEL_LABELS.get(level, level).lower()} (xanh: đạt, đỏ: chưa đạt) và tỷ lệ chung của cấp")
    group_row = write_title(sheet, styles, lines)
    target_row, header_row = group_row + 1, group_row + 2
    columns = [Column("Tháng", "month"), *(Column(MEASURE_LABELS[m], "count") for m in rules().measures)]
    sheet.merge_range(group_row, 0, group_row, len(columns) - 1, "Số hồ sơ", styles.group)
    sheet.merge_range(target_row, 0, target_row, len(columns) - 1, "Mục tiêu", styles.target_label)
    first = len(columns)
    columns += indicator_groups(sheet, styles, group_row, first, targets, level,
                                (Column("Đơn vị", "rate"), Column(f"Chung {LEVEL_LABELS.get(level, level).lower()}", "rate")))
    rows = unit_month_rows(marts, unit["unit_code"], level, marts.unit_month)
    data_rows = write_table(sheet, styles, header_row, columns,
                            [(r["period_month"], *(r[m] for m in rules().measures),
                              *(v for i in INDICATORS for v in (r[i], r[f"level_{i}"]))) for r in rows], freeze_cols=1)
    for n in range(len(INDICATORS)):
        compare_with_target(sheet, styles, data_rows, first + 2 * n, absolute(target_row, first + 2 * n))
    sheet.activate()

    directive = book.add_worksheet(UNIT_DIRECTIVE_SHEET)
    header_row = write_title(directive, styles, _header_lines(
        marts, f"{name}: KẾT QUẢ GIAI ĐOẠN {marts.programme_title.upper()}"))
    card = marts.unit_scorecard.filter(pl.col("unit_code") == unit["unit_code"])
    by_indicator = {r["indicator"]: r for r in card.iter_rows(named=True)}
    data_rows = write_table(directive, styles, header_row,
                            [Column("Chỉ tiêu"), Column("Cả giai đoạn", "rate"), Column("Kỳ gốc", "rate"),
                             Column("Thay đổi (điểm %)", "points"), Column("Mục tiêu", "rate"), Column("Đánh giá")],
                            [(INDICATOR_LABELS[i], by_indicator.get(i, {}).get("window_value"),
                              by_indicator.get(i, {}).get("baseline_value"), by_indicator.get(i, {}).get("change_pp"),
                              by_indicator.get(i, {}).get("target"),
                              MEETS_LABELS.get(by_indicator.get(i, {}).get("meets_target"), ""))
                             for i in INDICATORS], min_widths={0: 28})
    compare_with_target(directive, styles, data_rows, 1, xl_rowcol_to_cell(data_rows.start, 4, col_abs=True))
    colour_verdicts(directive, styles, data_rows, 5)

    if marts.index766 is not None:
        _index766_sheet(book, styles, marts, unit["unit_code"], name)
    _overdue_sheet(book, styles, marts.overdue, marts, f"Hồ sơ quá hạn của {name}")
    _unexplained_sheet(book, styles, marts.unexplained, marts, name)
    _discrepancy_sheet(book, styles, marts.discrepancies.filter(pl.col("period_month") <= marts.month), marts,
                       f"Sai lệch báo cáo định kỳ của {name}")
    book.close()
    return path


def index766_unit_rows(marts: PublishedMarts, unit_code: str) -> list[dict]:
    """The unit's 766 estimate for its last 13 months: per month each metric's points, the total, the maximum at
    stake, the share and the rank in its level."""
    months = set(marts.last_months(UNIT_MONTHS))
    rows = marts.index766.filter((pl.col("scope") == "current_unit") & (pl.col("unit_code") == unit_code)
                                 & pl.col("period_month").is_in(months))
    out = []
    for (month,), group in rows.group_by("period_month"):
        first = group.row(0, named=True)
        out.append({"period_month": month, **{r["metric"]: r["points"] for r in group.iter_rows(named=True)},
                    "total_points": first["total_points"], "total_max_points": first["total_max_points"],
                    "score_pct": first["score_pct"], "rank_in_level": first["rank_in_level"]})
    return sorted(out, key=lambda r: r["period_month"])


def _index766_sheet(book, styles: Styles, marts: PublishedMarts, unit_code: str, name: str) -> None:
    """The unit's 766 estimate by month, and the report month's dossiers that cost it points, those that would
    give most back first (the first LOSSES_LISTED of them, with the total)."""
    sheet = book.add_worksheet(UNIT_INDEX766_SHEET)
    metrics = list(rules().index766)
    row = write_title(sheet, styles, [f"{name}: {INDEX766_TITLE.upper()}", INDEX766_NOTE,
                                      f"{UNIT_MONTHS} tháng đến {marts.month_label}; hạng: thứ hạng trong các đơn vị "
                                      "cùng cấp (1 là cao nhất)"])
    columns = [Column("Tháng", "month"),
               *(Column(f"{METRIC_LABELS[m]} (tối đa {rules().index766[m].max_points:.0f})", "score") for m in metrics),
               Column("Tổng điểm", "score"), Column("Điểm tối đa", "score"), Column("Tỷ lệ điểm", "rate"),
               Column("Hạng trong cấp", "count")]
    sheet.set_row(row, 32)
    for col, column in enumerate(columns):
        sheet.write_string(row, col, column.header, styles.header)
        sheet.set_column(col, col, 16 if col else 9)
    for r in index766_unit_rows(marts, unit_code):
        row += 1
        for col, (column, value) in enumerate(zip(columns, (
                r["period_month"], *(r.get(m) for m in metrics), r["total_points"], r["total_max_points"],
                r["score_pct"], r["rank_in_level"]), strict=True)):
            write_cell(sheet, styles, row, col, value, column.kind)
    losses = marts.index766_losses.filter(pl.col("unit_code") == unit_code)
    total = losses["lost_total"][0] if losses.height else 0
    row += 2
    listed = f" ({losses.height} hồ sơ đầu tiên)" if total > losses.height else ""
    sheet.write_string(row, 0, f"Hồ sơ làm mất điểm tháng {marts.month_label}: {total} hồ sơ{listed}, hồ sơ lấy lại "
                               "được nhiều điểm nhất trước", styles.title)
    header_row = row + 1
    data = losses.select("dossier_code", "procedure_code", labelled("metric", METRIC_LABELS), "reason",
                         "points_if_passed")
    write_table(sheet, styles, header_row, [Column("Mã hồ sơ"), Column("Mã thủ tục"), Column("Tiêu chí"),
                                            Column("Lý do mất điểm"), Column("Điểm có thể lấy lại", "gain")],
                data, min_widths={0: 22, 3: 40})
    sheet.freeze_panes(header_row + 1, 0)
    sheet.repeat_rows(header_row)  # on paper, the list's header (not the month table) on every page
