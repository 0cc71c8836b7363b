"""Writing tables into xlsxwriter sheets the way analysts expect: numbers as numbers with percent and thousands
formats, landing text always as text (never a formula), header frozen, widths that fit, autofilter, A4 landscape
with the title rows repeated on every printed page, and target comparisons as conditional formats (live rules,
not static fills, so an edited value changes colour)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from reporting.cell_xml import ListSheet, rows_xml
from reporting.labels import NOT_APPLICABLE, PROVISIONAL_MARK

# what each column kind is written as: the Excel number format ("" for text)
NUMBER_FORMATS = {
    "text": None,
    "count": "#,##0",
    "number": "#,##0.##",
    "score": "0.00",  # points of the 766 estimate
    "gain": "0.0000",  # points one dossier would give back (often a hundredth)
    "rate": "0.0%",  # a rate that does not apply (no dossier in its denominator) is written "–"
    "series": "0.0%",  # a rate in a chart's data: left empty when it does not apply (a chart plots text as 0)
    "points": "+0.0;-0.0;0.0",
    "month": "mm/yyyy",
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
}


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # a key of NUMBER_FORMATS

    def display_width(self, value) -> int:
        if value is None:
            return 0
        if self.kind in ("month",):
            return 7
        if self.kind in ("date",):
            return 10
        if self.kind == "datetime":
            return 16
        if self.kind == "rate":
            return 6
        if self.kind in ("count", "number", "points", "score", "gain"):
            return len(f"{value:,.0f}") + (2 if self.kind != "count" else 0)
        return len(str(value))


class Workbook(xlsxwriter.Workbook):
    """XlsxWriter's workbook whose sheets take a table's rows as one block of XML (cell_xml.ListSheet)."""

    worksheet_class = ListSheet


def new_workbook(path: Path) -> xlsxwriter.Workbook:
    path.parent.mkdir(parents=True, exist_ok=True)
    return Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                                "default_date_format": "dd/mm/yyyy", "in_memory": True})


class Styles:
    """The formats of one workbook."""

    def __init__(self, book: xlsxwriter.Workbook, provisional: bool = False):
        self.book = book
        self.provisional = provisional  # every sheet's title says the month is not complete
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.subtitle = book.add_format({"italic": True, "font_color": "#444444"})
        self.header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                       "valign": "vcenter"})
        self.group = book.add_format({"bold": True, "bg_color": "#BDD7EE", "border": 1, "align": "center"})
        self.target = book.add_format({"bold": True, "num_format": NUMBER_FORMATS["rate"], "bg_color": "#FFF2CC",
                                       "border": 1, "align": "center"})
        self.target_label = book.add_format({"bold": True, "bg_color": "#FFF2CC", "border": 1})
        self.meets = book.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})
        self.misses = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.not_judged = book.add_format({"bg_color": "#EDEDED", "font_color": "#595959", "italic": True})
        self.centred = book.add_format({"align": "center"})
        self.cells = {kind: book.add_format({"num_format": fmt} if fmt else {}) for kind, fmt in NUMBER_FORMATS.items()}

    def cell_formats(self) -> dict[str, int]:
        """The cell formats' indexes as cell_xml writes them: one per column kind, and "na" for "–"."""
        return {**{kind: fmt._get_xf_index() for kind, fmt in self.cells.items()}, "na": self.centred._get_xf_index()}


def write_cell(sheet, styles: Styles, row: int, col: int, value, kind: str = "text") -> None:
    if value is None and kind == "rate":
        sheet.write_string(row, col, NOT_APPLICABLE, styles.centred)
    elif value is None:
        sheet.write_blank(row, col, None, styles.cells[kind])
    elif kind == "text" or isinstance(value, str):
        sheet.write_string(row, col, str(value), styles.cells["text"])
    elif isinstance(value, (datetime, date)):
        sheet.write_datetime(row, col, value if isinstance(value, datetime) else datetime(value.year, value.month, value.day),
                             styles.cells[kind])
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    else:
        sheet.write_number(row, col, float(value), styles.cells[kind])


def write_title(sheet, styles: Styles, lines: list[str]) -> int:
    """Title and subtitle lines from row 0 (repeated on every printed page), the first marked provisional in a
    provisional pack; returns the next free row (one blank row after)."""
    if styles.provisional:
        lines = [f"{PROVISIONAL_MARK} – {lines[0]}", *lines[1:]]
    for row, line in enumerate(lines):
        sheet.write_string(row, 0, line, styles.title if row == 0 else styles.subtitle)
    return len(lines) + 1


WIDTH_FROM_ROWS = 500  # widths from the first rows, like Excel's own autofit on a large sheet
# a frame of at least this many rows is written as one block of XML: below it, the block's fixed cost (about 2.5 ms
# of polars a table) is more than writing its cells one by one (benchmarks/README.md)
BLOCK_FROM_ROWS = 150


def write_table(sheet, styles: Styles, header_row: int, columns: list[Column], rows: list[tuple] | pl.DataFrame,
                first_col: int = 0, freeze_cols: int = 0, min_widths: dict[int, int] | None = None) -> range:
    """Header at `header_row`, rows below (tuples, or a frame whose columns are `columns`: a long frame's rows go
    into the sheet as one block of XML when they can, `cell_xml`, and must be the sheet's last); fits widths, freezes
    the header, sets the autofilter and the print setup. Returns the sheet rows of the data."""
    widths = [max(len(c.header) * 0.7 if len(c.header) > 14 else len(c.header), 6) for c in columns]
    sheet.set_row(header_row, 32)  # two lines of a wrapped header
    for offset, column in enumerate(columns):
        sheet.write_string(header_row, first_col + offset, column.header, styles.header)
    n_rows = len(rows)
    block = rows_xml(rows, [c.kind for c in columns], styles.cell_formats(), header_row + 1, first_col) \
        if isinstance(rows, pl.DataFrame) and n_rows >= BLOCK_FROM_ROWS and isinstance(sheet, ListSheet) else None
    if block is not None:
        sheet.write_block(header_row + 1, first_col, n_rows, len(columns), block)
        sample = rows.head(WIDTH_FROM_ROWS).rows()
    else:
        listed = rows.rows() if isinstance(rows, pl.DataFrame) else rows
        for r, values in enumerate(listed, start=header_row + 1):
            for offset, (column, value) in enumerate(zip(columns, values, strict=True)):
                write_cell(sheet, styles, r, first_col + offset, value, column.kind)
        sample = listed[:WIDTH_FROM_ROWS]
    for values in sample:
        for offset, (column, value) in enumerate(zip(columns, values, strict=True)):
            widths[offset] = max(widths[offset], column.display_width(value))
    for offset, width in enumerate(widths):
        width = max(width, (min_widths or {}).get(offset, 0))
        sheet.set_column(first_col + offset, first_col + offset, min(60, width + 2))
    last_row = header_row + max(n_rows, 1)
    sheet.autofilter(header_row, first_col, last_row, first_col + len(columns) - 1)
    sheet.freeze_panes(header_row + 1, freeze_cols)
    print_setup(sheet, header_row)
    return range(header_row + 1, header_row + 1 + n_rows)


def print_setup(sheet, last_title_row: int) -> None:
    """A4 landscape, one page wide, the title and header rows repeated on every page."""
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0, last_title_row)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)


def compare_with_target(sheet, styles: Styles, data_rows: range, col: int, target_cell: str) -> None:
    """Green where the value in `col` meets the target in `target_cell` (>=), red where it does not, nothing where
    either is empty: a live rule, so an edited value or target changes the colour."""
    if not data_rows:
        return
    first = xl_rowcol_to_cell(data_rows.start, col)
    cells = (data_rows.start, col, data_rows.stop - 1, col)
    both = f"ISNUMBER({first}),ISNUMBER({target_cell})"
    sheet.conditional_format(*cells, {"type": "formula", "criteria": f"=AND({both},{first}>={target_cell})",
                                      "format": styles.meets})
    sheet.conditional_format(*cells, {"type": "formula", "criteria": f"=AND({both},{first}<{target_cell})",
                                      "format": styles.misses})


def mark_not_judged(sheet, styles: Styles, cells: list[tuple[int, int]]) -> None:
    """Grey instead of green or red for values on too few dossiers to judge (the rules' min_dossiers_to_judge):
    set before the target comparison of the same cells, and stopping it."""
    for row, col in cells:
        sheet.conditional_format(row, col, row, col, {"type": "formula", "criteria": "=TRUE",
                                                      "format": styles.not_judged, "stop_if_true": True})


def absolute(row: int, col: int) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)
