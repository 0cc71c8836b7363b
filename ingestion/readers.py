"""Read one landed file (CSV or XLSX) into an all-text polars frame, as the file shows it.

What comes back is NFC-normalised text and keeps the file's own headers, every data row (blank rows included, so nothing is lost) and its
`source_row`: the row number a person sees when opening the file (the header is row 1 of a CSV; XLSX rows are
the sheet's). CSV rows are records: a quoted value spanning lines is one row, and a blank line is an empty row
(quarantined for its missing values, never silently dropped). A file that cannot be read as the contract says raises RejectedFile with a reason that names it.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

from contracts.vocabulary import label_key

BOM = b"\xef\xbb\xbf"
SOURCE_ROW = "__source_row"


class RejectedFile(Exception):
    """The whole file is rejected (not UTF-8, no header, a required column missing, unreadable)."""


@dataclass
class LandedTable:
    frame: pl.DataFrame  # all String columns with the file's headers, plus SOURCE_ROW (UInt32)
    headers: list[str]
    delimiter: str | None  # None for XLSX


def detect_delimiter(header_line: str) -> str:
    """`,` or `;`: the one that splits the header line (quotes respected) into more fields."""
    def fields(sep: str) -> int:
        return len(next(csv.reader([header_line], delimiter=sep), []))

    return ";" if fields(";") > fields(",") else ","


def read_csv(path: Path, raw: bytes, shown_as: str | None = None) -> LandedTable:
    name = shown_as or str(path)
    body = raw[len(BOM):] if raw.startswith(BOM) else raw
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RejectedFile(f"{name}: not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset "
                           f"{exc.start + (len(raw) - len(body))}); re-export the file in UTF-8") from None
    text = unicodedata.normalize("NFC", text)  # exports mix NFC and NFD; one pass over the whole file
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if not first_line.strip():
        raise RejectedFile(f"{name}: empty file or no header row")
    sep = detect_delimiter(first_line)
    try:
        frame = pl.read_csv(io.BytesIO(text.encode("utf-8")), separator=sep, infer_schema=False, has_header=True,
                            quote_char='"', raise_if_empty=False)
    except pl.exceptions.PolarsError as exc:
        raise RejectedFile(f"{name}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    headers = list(next(csv.reader([first_line], delimiter=sep)))
    if len(headers) != frame.width:
        raise RejectedFile(f"{name}: header has {len(headers)} fields but polars read {frame.width}")
    frame.columns = [f"{i}:{h}" for i, h in enumerate(headers)]  # positional names: duplicate headers stay apart
    frame = frame.with_row_index(SOURCE_ROW, offset=2)
    return LandedTable(frame=frame, headers=headers, delimiter=sep)


def read_xlsx(path: Path, first_required_header: str, shown_as: str | None = None) -> LandedTable:
    name = shown_as or str(path)
    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string").to_polars()
    except Exception as exc:  # noqa: BLE001 - fastexcel raises its own error types
        raise RejectedFile(f"{name}: not a readable XLSX workbook ({str(exc).splitlines()[0]})") from None
    wanted = label_key(first_required_header)
    header_at = None
    for i, row in enumerate(sheet.iter_rows()):
        if any(cell is not None and label_key(str(cell)) == wanted for cell in row):
            header_at = i
            break
    if header_at is None:
        raise RejectedFile(f"{name}: no header row with '{first_required_header}' in the first sheet")
    headers = ["" if c is None else str(c) for c in sheet.row(header_at)]
    data = sheet.slice(header_at + 1).with_row_index(SOURCE_ROW, offset=header_at + 2)
    data.columns = [SOURCE_ROW] + [f"{i}:{h}" for i, h in enumerate(headers)]
    # trailing empty rows, then a trailing totals row whose first cell starts with "Tổng"
    cells = [c for c in data.columns if c != SOURCE_ROW]
    non_empty = data.select(pl.any_horizontal([pl.col(c).is_not_null() for c in cells])).to_series()
    data = data.slice(0, int(non_empty.arg_true().max()) + 1 if non_empty.any() else 0)
    if data.height:
        first_cell = data.get_column(cells[0])[-1]
        if first_cell is not None and label_key(str(first_cell)).startswith(label_key("Tổng")):
            data = data.slice(0, data.height - 1)
    data = data.with_columns(pl.col(cells).str.normalize("NFC"))
    return LandedTable(frame=data.select(cells + [SOURCE_ROW]),
                       headers=[unicodedata.normalize("NFC", h) for h in headers], delimiter=None)


def read_landed(path: Path, raw: bytes, first_required_header: str, shown_as: str | None = None) -> LandedTable:
    """Read a landed file; errors name it as `shown_as` (its path in the landing folder)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, raw, shown_as)
    if suffix == ".xlsx":
        return read_xlsx(path, first_required_header, shown_as)
    raise RejectedFile(f"{shown_as or path}: not a .csv or .xlsx file")
