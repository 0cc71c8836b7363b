"""Files the project writes for people (CSV, XLSX): landing text in them never becomes a formula.

DuckDB keeps a value such as `=1+1` or `@SUM(A1)` as the text it is, which is right for SQL readers. A
spreadsheet program opening a CSV would evaluate it (formula injection), so CSV cells that begin with `=`, `+`,
`-` or `@` (or a tab or carriage return) get a leading apostrophe, as OWASP recommends; XLSX cells are written as
strings, which Excel never evaluates. Numbers stay numbers in both.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str | None) -> str | None:
    """The text as a spreadsheet shows it, never as a formula."""
    return "'" + text if text and text.startswith(FORMULA_STARTS) else text


def neutralise_expr(column: pl.Expr) -> pl.Expr:
    starts = column.str.contains(r"^[=+\-@\t\r]")
    return pl.when(starts).then(pl.lit("'") + column).otherwise(column)


def write_csv(frame: pl.DataFrame, path: Path) -> Path:
    """UTF-8 with BOM (Excel reads Vietnamese right only so), text cells neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text_columns = [c for c, t in frame.schema.items() if t == pl.String]
    safe = frame.with_columns(neutralise_expr(pl.col(c)).alias(c) for c in text_columns)
    path.write_bytes(b"\xef\xbb\xbf" + safe.write_csv().encode("utf-8"))
    return path


def write_xlsx(frame: pl.DataFrame, path: Path, sheet: str) -> Path:
    """One sheet, header frozen, text written as strings (never formulas), numbers as numbers."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False,
                                         "strings_to_urls": False}) as book:
        page = book.add_worksheet(sheet[:31])
        bold = book.add_format({"bold": True})
        for col, name in enumerate(frame.columns):
            page.write_string(0, col, name, bold)
            width = max([len(name)] + [len(str(v)) for v in frame.get_column(name).head(200).to_list()])
            page.set_column(col, col, min(60, width + 2))
        for row, values in enumerate(frame.iter_rows(), start=1):
            for col, value in enumerate(values):
                if value is None:
                    continue
                if isinstance(value, str):
                    page.write_string(row, col, value)
                else:
                    page.write(row, col, value)
        page.freeze_panes(1, 0)
        page.autofilter(0, 0, max(1, frame.height), max(0, frame.width - 1))
    return path
