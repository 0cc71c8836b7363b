"""A list written as one block of XML (reporting/cell_xml.py) reads back as the same cells, values and formats as
the list written cell by cell by XlsxWriter."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from reporting.cell_xml import rows_xml
from reporting.sheets import BLOCK_FROM_ROWS, Column, Styles, new_workbook, write_table

COLUMNS = [Column("Mã hồ sơ"), Column("Số", "count"), Column("Tỷ lệ", "rate"), Column("Ngày hẹn trả", "datetime"),
           Column("Tháng", "month"), Column("Điểm", "gain"), Column("Ghi chú"), Column("Mã số", "text")]


def list_frame() -> pl.DataFrame:
    return pl.DataFrame({
        "code": ["A&B <1>", " leading", "=SUM(A1:A2)", "Đã giải quyết", None],
        "count": [1, 2_500_000, 0, None, 7],
        "rate": [0.5, None, 1.0, 0.123456789, None],
        "due_at": [datetime(2024, 1, 31, 17, 30, 15, 250_000), None, datetime(1900, 3, 1), datetime(2026, 12, 7),
                   datetime(2023, 6, 1, 0, 0, 1)],
        "month": [date(2024, 1, 1), date(2023, 12, 1), None, date(2024, 2, 1), date(2024, 3, 1)],
        "gain": [0.0123, 1e-05, 3.0, None, 123456.789],
        "note": [None, None, None, None, None],
        "number_as_text": [10, 20, None, 40, 50],
    })


def long_list(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame's rows repeated past the length from which write_table writes a block."""
    return pl.concat([frame] * (BLOCK_FROM_ROWS // frame.height + 1))


def written(path: Path, rows) -> list[tuple]:
    book = new_workbook(path)
    styles = Styles(book)
    sheet = book.add_worksheet("Danh sách")
    sheet.write_string(0, 0, "title", styles.title)
    write_table(sheet, styles, 2, COLUMNS, rows)
    book.close()
    return [(c.value, c.number_format, c.data_type) for row in openpyxl.load_workbook(path)["Danh sách"].iter_rows()
            for c in row]


def sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode()


def test_a_block_of_rows_reads_back_as_the_cells_xlsxwriter_writes(tmp_path):
    frame = long_list(list_frame())
    by_block = written(tmp_path / "block.xlsx", frame)
    by_cell = written(tmp_path / "cells.xlsx", frame.rows())
    assert 'inlineStr' in sheet_xml(tmp_path / "block.xlsx") and 'inlineStr' not in sheet_xml(tmp_path / "cells.xlsx")
    assert by_block == by_cell
    values = [v for v, _, _ in by_block]
    assert "A&B <1>" in values and " leading" in values and "=SUM(A1:A2)" in values  # text, never a formula
    assert datetime(2024, 1, 31, 17, 30, 15, 250_000) in values and "–" in values and "10" in values
    written(tmp_path / "short.xlsx", list_frame())
    assert 'inlineStr' not in sheet_xml(tmp_path / "short.xlsx")  # a short list: cell by cell


def test_values_a_block_cannot_write_as_xlsxwriter_does_are_written_cell_by_cell(tmp_path):
    kinds = [c.kind for c in COLUMNS]
    formats = {kind: 0 for kind in [*kinds, "na"]}
    control = long_list(list_frame().with_columns(pl.Series("code", ["tab\x01", "b", "c", "d", "e"])))
    assert rows_xml(control, kinds, formats, 3) is None
    for text in ("line\r", "_x0041_ read back as A unless escaped"):
        assert rows_xml(list_frame().with_columns(pl.lit(text).alias("code")), kinds, formats, 3) is None, text
    assert rows_xml(list_frame().with_columns(pl.col("rate").fill_null(float("nan"))), kinds, formats, 3) is None
    assert rows_xml(list_frame().with_columns(pl.lit(True).alias("note")), kinds, formats, 3) is None
    assert rows_xml(list_frame(), kinds, formats, 3) is not None
    assert written(tmp_path / "block.xlsx", control) == written(tmp_path / "cells.xlsx", control.rows())
    escaped = long_list(list_frame().with_columns(pl.lit("_x0041_").alias("code")))
    assert "_x0041_" in [v for v, _, _ in written(tmp_path / "escaped.xlsx", escaped)]


def test_a_cell_written_below_a_block_of_rows_fails_the_workbook(tmp_path):
    book = new_workbook(tmp_path / "bad.xlsx")
    styles = Styles(book)
    sheet = book.add_worksheet("Danh sách")
    write_table(sheet, styles, 0, COLUMNS, long_list(list_frame()))
    sheet.write_string(3, 0, "inside the block")
    with pytest.raises(ValueError, match="rows 4"):
        book.close()
