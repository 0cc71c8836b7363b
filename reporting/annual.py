"""The annual assessment (kpis.md, Annual assessment) as people read it: for a year and a programme, every current
unit of each level with each indicator's year value against its target, the criteria it meets (k/n), and whether
it may be proposed for a high award; read from the published file only (marts.programme_unit_year)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from contracts.vocabulary import INDICATORS
from reporting.labels import INDICATOR_LABELS, LEVELS
from reporting.published import ReportError, open_published, scored_programmes
from storage.duckdb_connection import DuckDBLimits

AWARD_LABEL = "Đủ điều kiện đề nghị khen thưởng cao"
AWARD_VALUES = {True: "Có", False: "Không"}


@dataclass(frozen=True)
class AnnualAssessment:
    programme_code: str
    programme_name: str
    year: int
    window: tuple[date, date]
    is_complete_year: bool
    units: pl.DataFrame  # one row per current unit and indicator, levels and indicators in the contract's order

    @property
    def title(self) -> str:
        running = "" if self.is_complete_year else f" (năm chưa kết thúc: số liệu đến {self.window[1]:%d/%m/%Y})"
        return f"Đánh giá năm {self.year} — {self.programme_name}{running}"

    def unit_summary(self) -> pl.DataFrame:
        """One row per current unit: level, code, name, criteria met, criteria total, award eligible."""
        return (self.units.group_by("level", "unit_code", maintain_order=True)
                .agg(pl.col("unit_name").first(), pl.col("criteria_met").first(), pl.col("criteria_total").first(),
                     pl.col("award_eligible").first()))


def read_annual(published: Path, year: int, programme: str | None = None,
                limits: DuckDBLimits | None = None) -> AnnualAssessment:
    """The year's assessment of `programme`, by default of the programme in force at the end of the year's data
    (of those that score the year, the one whose part of the year ends last, the latest started winning)."""
    with open_published(published, limits) as con:
        names = {p.code: p.name for p in scored_programmes(con)}
        windows = con.execute(
            "select programme_code, min(window_start), max(window_end), bool_and(is_complete_year) "
            "from programme_unit_year where year = ? group by programme_code", [year]).fetchall()
        if not windows:
            years = [y for (y,) in con.execute("select distinct year from programme_unit_year order by 1").fetchall()]
            raise ReportError(f"no assessment for {year} in {published.name}; years assessed: "
                              f"{', '.join(map(str, years)) or 'none yet'}")
        by_code = {code: (start, end, complete) for code, start, end, complete in windows}
        if programme is None:
            programme = max(by_code, key=lambda c: (by_code[c][1], by_code[c][0], c))
        elif programme not in by_code:
            raise ReportError(f"programme {programme!r} scores no month of {year}; programmes of {year}: "
                              f"{', '.join(sorted(by_code))}")
        units = con.sql("""
            select y.level, y.unit_code, u.unit_name, y.indicator, y.value, y.target, y.meets_target,
                   y.numerator, y.denominator, y.criteria_met, y.criteria_total, y.award_eligible
            from programme_unit_year y
            left join (select distinct unit_code, unit_name from unit_lineage) u using (unit_code)
            where y.year = $year and y.programme_code = $programme and y.scope = 'current_unit'""",
                        params={"year": year, "programme": programme}).pl()
    level_order = {level: n for n, level in enumerate(LEVELS)}
    indicator_order = {indicator: n for n, indicator in enumerate(INDICATORS)}
    units = units.with_columns(
        _level=pl.col("level").replace_strict(level_order, default=9),
        _indicator=pl.col("indicator").replace_strict(indicator_order, default=99),
    ).sort("_level", "unit_code", "_indicator").drop("_level", "_indicator")
    start, end, complete = by_code[programme]
    return AnnualAssessment(programme, names.get(programme, programme), year, (start, end), bool(complete), units)


def annual_workbook_name(year: int) -> str:
    return f"danh_gia_nam_{year}.xlsx"


def write_annual_workbook(assessment: AnnualAssessment, path: Path) -> Path:
    """`danh_gia_nam_<YYYY>.xlsx`: a sheet per level with every current unit, each indicator's year value against
    the level's target (green met, red missed, as live rules), the criteria met k/n and the award verdict."""
    from reporting.sheets import Column, Styles, absolute, compare_with_target, new_workbook, write_table, write_title
    from reporting.workbooks import level_sheet_name

    book = new_workbook(path)
    styles = Styles(book)
    units = assessment.units
    indicators = [i for i in INDICATORS if i in set(units["indicator"])]
    for level in [lv for lv in LEVELS if lv in set(units["level"])]:
        at_level = units.filter(pl.col("level") == level)
        sheet = book.add_worksheet(level_sheet_name(level))
        header = write_title(sheet, styles, [
            assessment.title.upper(),
            f"{level_sheet_name(level)}: các đơn vị hiện nay (mỗi đơn vị gộp số liệu các đơn vị tiền thân); kỳ đánh "
            f"giá {assessment.window[0]:%d/%m/%Y} – {assessment.window[1]:%d/%m/%Y}",
            "Mỗi kết quả so với mục tiêu của cấp (xanh: đạt, đỏ: chưa đạt); –: không áp dụng (không có hồ sơ thuộc "
            "diện tính). Đơn vị chưa đạt một chỉ tiêu không đề nghị khen thưởng cao (Chỉ thị 10/CT-UBND)."])
        target_row, header_row = header, header + 1
        targets = {r["indicator"]: r["target"] for r in at_level.filter(pl.col("target").is_not_null())
                   .unique("indicator").iter_rows(named=True)}
        sheet.merge_range(target_row, 0, target_row, 1, "Mục tiêu", styles.target_label)
        for n, indicator in enumerate(indicators):
            target = targets.get(indicator)
            if target is None:
                sheet.write_blank(target_row, 2 + n, None, styles.target)
            else:
                sheet.write_number(target_row, 2 + n, target, styles.target)
        columns = [Column("Mã đơn vị"), Column("Tên đơn vị"),
                   *(Column(INDICATOR_LABELS[i], "rate") for i in indicators),
                   Column("Tiêu chí đạt"), Column("Số tiêu chí đạt", "count"), Column("Số tiêu chí", "count"),
                   Column(AWARD_LABEL)]
        rows = []
        for (code,), unit_rows in at_level.group_by("unit_code", maintain_order=True):
            values = {r["indicator"]: r["value"] for r in unit_rows.iter_rows(named=True)}
            first = unit_rows.row(0, named=True)
            rows.append((code, first["unit_name"], *(values.get(i) for i in indicators),
                         f"{first['criteria_met']}/{first['criteria_total']}", first["criteria_met"],
                         first["criteria_total"], AWARD_VALUES[bool(first["award_eligible"])]))
        data_rows = write_table(sheet, styles, header_row, columns, rows, freeze_cols=2, min_widths={1: 24})
        for n in range(len(indicators)):
            compare_with_target(sheet, styles, data_rows, 2 + n, absolute(target_row, 2 + n))
        verdict = len(columns) - 1
        if data_rows:
            cells = (data_rows.start, verdict, data_rows.stop - 1, verdict)
            for value, style in ((AWARD_VALUES[True], styles.meets), (AWARD_VALUES[False], styles.misses)):
                sheet.conditional_format(*cells, {"type": "cell", "criteria": "==", "value": f'"{value}"',
                                                  "format": style})
    book.close()
    return path


def build_annual(published: Path, year: int, reports: Path | None = None, programme: str | None = None,
                 limits: DuckDBLimits | None = None) -> Path:
    """The annual workbook of `year` in the reports folder (default: reports/ beside the published file), written
    beside and renamed into place."""
    import os

    from reporting.pack import reports_folder

    assessment = read_annual(published, year, programme, limits)
    folder = reports or reports_folder(published)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / annual_workbook_name(year)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write_annual_workbook(assessment, staging)
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return target
