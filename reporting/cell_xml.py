"""A table's rows as worksheet XML made by polars in one pass, for the long lists of the report pack.

XlsxWriter's Python runs for each cell twice (storing it, then writing its XML at close): at 10M dossiers the pack's
lists hold about 600k cells, and that was about a quarter of writing the unit workbooks (benchmarks/README.md).
Here a frame's rows become one block of `<row>` elements, written as `sheets.write_cell` writes each value (a text
as text, a date as Excel's serial number, a rate with no value as "–", the same cell formats), but with inline
strings rather than the shared string table (both are standard; XlsxWriter's own constant_memory mode writes inline
strings too). A frame with a value this cannot write as write_cell would (a control character or a text holding
Excel's `_xHHHH_` escape, a text longer than a cell holds, a time zone, a boolean, NaN) gets None, and the caller
writes it cell by cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from reporting.labels import NOT_APPLICABLE

EXCEL_EPOCH = datetime(1899, 12, 31)  # XlsxWriter's; Excel's day 60 is 29/02/1900, a day that never was
FIRST_SERIAL_DATE = datetime(1900, 3, 1)  # from here a serial is the days since 30/12/1899
# XlsxWriter writes a control character as _xHHHH_, and a text that already holds such an escape with its underscore
# escaped (_x005F_xHHHH_), so that Excel reads it back as written: either goes cell by cell
ESCAPED_BY_XLSXWRITER = r"[\x00-\x08\x0B-\x1F]|_x[0-9a-fA-F]{4}_"
MAX_TEXT = 32_767  # what an Excel cell holds (XlsxWriter refuses a longer string)
US_PER_DAY = 86_400_000_000

TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum)


class ListSheet(Worksheet):
    """A worksheet that takes the rows of its last table as one block of XML (`write_block`), written after the
    cells written one by one: the block's rows must be the sheet's last."""

    def __init__(self):
        super().__init__()
        self.block: tuple[int, str] | None = None

    def write_block(self, first_row: int, first_col: int, n_rows: int, n_cols: int, xml: str) -> None:
        if self.block is not None:
            raise ValueError(f"sheet {self.name!r} already has a block of rows")
        self._check_dimensions(first_row, first_col)
        self._check_dimensions(first_row + n_rows - 1, first_col + n_cols - 1)
        self.block = (first_row, xml)

    def _write_rows(self) -> None:
        if self.block is None:
            super()._write_rows()
            return
        first, xml = self.block
        below = [row for row, cells in self.table.items() if cells and row >= first]
        if below:
            raise ValueError(f"sheet {self.name!r}: cells written in rows {min(below) + 1}… of its block of rows")
        last = self.dim_rowmax
        self.dim_rowmax = first - 1  # XlsxWriter's rows, then the block
        try:
            super()._write_rows()
        finally:
            self.dim_rowmax = last
        self.fh.write(xml)


def rows_xml(frame: pl.DataFrame, kinds: Sequence[str], formats: dict, first_row: int, first_col: int = 0) -> str | None:
    """`frame`'s rows as `<row>` elements from sheet row `first_row` (0-based) and column `first_col`, column n
    written as a value of kind `kinds[n]` in the cell format `formats[kind]` (`formats["na"]`: the format of "–",
    a rate with no value); None when a value needs what only XlsxWriter's cell writer does."""
    if frame.height == 0 or not writable(frame, kinds):
        return None
    row = pl.int_range(first_row + 1, first_row + 1 + frame.height, dtype=pl.Int64).cast(pl.String).alias("row")
    cells = [cell(pl.col(name), frame.schema[name], kind, formats, xl_col_to_name(first_col + n))
             for n, (name, kind) in enumerate(zip(frame.columns, kinds, strict=True))]
    rows = frame.with_columns(row).select(pl.concat_str([pl.lit('<row r="'), pl.col("row"), pl.lit('">'), *cells,
                                                         pl.lit("</row>")]).str.join(""))
    return rows.item()


def writable(frame: pl.DataFrame, kinds: Sequence[str]) -> bool:
    """Whether every value of `frame` can be written here exactly as write_cell writes it (one pass)."""
    checks = []
    for name, kind in zip(frame.columns, kinds, strict=True):
        dtype, values = frame.schema[name], pl.col(name)
        if dtype == pl.Null:
            continue
        if isinstance(dtype, TEXT_TYPES):
            text = values.cast(pl.String)
            checks += [~text.str.contains(ESCAPED_BY_XLSXWRITER).any(), ~(text.str.len_chars() > MAX_TEXT).any()]
        elif kind == "text" and not dtype.is_integer():
            return False  # str() of anything else (a float, a date) is not polars' text of it
        elif dtype.is_float():
            checks.append((values.is_finite() | values.is_null()).all())
        elif dtype == pl.Date or (isinstance(dtype, pl.Datetime) and dtype.time_zone is None):
            checks.append((values.cast(pl.Datetime("us")) >= pl.lit(FIRST_SERIAL_DATE)).or_(values.is_null()).all())
        elif not (dtype.is_integer() or dtype.is_decimal()):
            return False
    return not checks or all(frame.select(pl.all_horizontal(checks)).row(0))


def cell(value: pl.Expr, dtype: pl.DataType, kind: str, formats: dict, letter: str) -> pl.Expr:
    ref = pl.concat_str([pl.lit(f'<c r="{letter}'), pl.col("row"), pl.lit('"')])
    if kind == "rate":
        empty = pl.concat_str([ref, pl.lit(f' s="{formats["na"]}" t="inlineStr"><is><t>{NOT_APPLICABLE}</t></is></c>')])
    else:
        empty = pl.concat_str([ref, pl.lit(f' s="{formats[kind]}"/>')])
    if isinstance(dtype, TEXT_TYPES) or kind == "text":
        text = (value.cast(pl.String).str.replace_all("&", "&amp;", literal=True)
                .str.replace_all("<", "&lt;", literal=True).str.replace_all(">", "&gt;", literal=True))
        written = pl.concat_str([ref, pl.lit(f' s="{formats["text"]}" t="inlineStr"><is><t xml:space="preserve">'),
                                 text, pl.lit("</t></is></c>")])
    elif dtype == pl.Null:
        written = empty
    else:
        number = value if dtype.is_integer() else \
            serial(value) if dtype == pl.Date or isinstance(dtype, pl.Datetime) else value.cast(pl.Float64)
        written = pl.concat_str([ref, pl.lit(f' s="{formats[kind]}"><v>'), number.cast(pl.String), pl.lit("</v></c>")])
    return pl.when(value.is_null()).then(empty).otherwise(written)


def serial(value: pl.Expr) -> pl.Expr:
    """Excel's serial number of a date or time, computed as XlsxWriter computes it (whole days, then the seconds
    and microseconds of the day as a fraction), so both write the same number."""
    us = (value.cast(pl.Datetime("us")) - pl.lit(EXCEL_EPOCH)).dt.total_microseconds()
    days = us // US_PER_DAY + 1  # + 1: Excel's 29/02/1900
    of_day = us % US_PER_DAY
    return days + ((of_day // 1_000_000).cast(pl.Float64) + (of_day % 1_000_000).cast(pl.Float64) / 1e6) / 86400
