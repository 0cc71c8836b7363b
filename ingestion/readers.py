"""Read one landed file (CSV or XLSX) into an all-text polars frame, as the file shows it.

What comes back is NFC-normalised text and keeps the file's own headers, every data row (blank rows included, so nothing is lost) and its
`source_row`: the row number a person sees when opening the file (the header is row 1 of a CSV; XLSX rows are
the sheet's). CSV rows are records: a quoted value spanning lines is one row, and a blank line is an empty row
(quarantined for its missing values, never silently dropped). A file that cannot be read as the contract says raises RejectedFile with a reason that names it.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

from contracts.vocabulary import label_key

BOM = b"\xef\xbb\xbf"
# UTF-8's first bytes of U+0300-U+036F, the combining diacritical marks of decomposed (NFD) Vietnamese; never a
# continuation byte, so either is found only where such a character starts
COMBINING_MARK_LEAD_BYTES = (b"\xcc", b"\xcd")
SOURCE_ROW = "__source_row"
# A header line longer than this is no export's header (a file with no line end, a binary file named .csv).
MAX_HEADER_LINE_CHARS = 64 * 1024
# An XLSX is read whole into memory: a first sheet beyond these bounds is rejected before it is opened, so that a
# file of a few KB cannot claim a dense range to XFD1048576 or expand to gigabytes of XML (a zip bomb).
# 20M cells is about 1.2M rows of the dossier export; 1 GiB of sheet XML about as many.
MAX_XLSX_CELLS = 20_000_000
MAX_XLSX_SHEET_XML_BYTES = 2**30
MAX_XLSX_COMPRESSION_RATIO = 100  # real exports compress 5-30x; a zip bomb 1000x


class RejectedFile(Exception):
    """The whole file is rejected (not UTF-8, no header, a required column missing, unreadable)."""


@dataclass
class LandedTable:
    frame: pl.DataFrame  # all String columns with the file's headers, plus SOURCE_ROW (UInt32)
    headers: list[str]
    delimiter: str | None  # None for XLSX
    cut_short_row: int | None = None  # the last row's SOURCE_ROW when it has no line end (a file still being written)


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
    # Exports mix NFC and NFD (a legacy tool decomposes whole files: about one file in four). A file whose bytes
    # hold no combining mark (U+0300-U+036F) is normalised whole, which costs little when it is NFC already; one
    # that does is parsed as it is and normalised value by value in polars, 2x faster than Python's whole-file NFC
    # (benchmarks/README.md), and the same text: no delimiter, quote or line end composes with a mark.
    decomposed = any(lead in body for lead in COMBINING_MARK_LEAD_BYTES)  # memchr: 3 ms for 16 MB
    normalised = text if decomposed else unicodedata.normalize("NFC", text)  # the same object when NFC already
    # what polars parses: the file's own bytes unless normalising the whole file changed them
    data = body if normalised is text else normalised.encode("utf-8")
    if "\r" in text and "\n" not in text:
        raise RejectedFile(f"{name}: its lines end in CR only (Excel's \"CSV (Macintosh)\"); the contract reads CRLF "
                           "or LF: save it again as \"CSV UTF-8\"")
    line_end = text.find("\n")
    first_line = unicodedata.normalize("NFC", (text if line_end < 0 else text[:line_end]).rstrip("\r"))
    if len(first_line) > MAX_HEADER_LINE_CHARS:
        ending = "" if "\n" in text else " with no line end"
        raise RejectedFile(f"{name}: its first line is {len(first_line):,} characters long{ending}: "
                           "not the header row of an export")
    if not first_line.strip():
        raise RejectedFile(f"{name}: empty file or no header row")
    try:
        sep = detect_delimiter(first_line)
        headers = list(next(csv.reader([first_line], delimiter=sep)))
    except csv.Error as exc:
        raise RejectedFile(f"{name}: the header row is not CSV ({exc})") from None
    try:
        frame = pl.read_csv(io.BytesIO(data), separator=sep, infer_schema=False, has_header=True, quote_char='"',
                            raise_if_empty=False)
    except pl.exceptions.PolarsError as exc:
        raise RejectedFile(f"{name}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    if len(headers) != frame.width:
        raise RejectedFile(f"{name}: header has {len(headers)} fields but polars read {frame.width}")
    frame.columns = [f"{i}:{h}" for i, h in enumerate(headers)]  # positional names: duplicate headers stay apart
    if decomposed:
        frame = frame.with_columns(pl.all().str.normalize("NFC"))
    frame = frame.with_row_index(SOURCE_ROW, offset=2)
    # every export ends its last row with a line end: one without it was cut short (copied while being written)
    cut_short = frame.height > 0 and not body.endswith(b"\n")
    return LandedTable(frame=frame, headers=headers, delimiter=sep,
                       cut_short_row=int(frame.get_column(SOURCE_ROW)[-1]) if cut_short else None)


_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr="([A-Z]{1,3})([0-9]{1,7})"')
_ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="([0-9]{1,7})"')


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - ord("A") + 1
    return number


# A reference to a column beyond Z or to a row beyond 99,999. A sheet without one spans at most 26 x 99,999 cells,
# fewer than MAX_XLSX_CELLS: it is not scanned cell by cell (one search, 4x faster than reading every reference).
_FAR_REF = re.compile(rb'\sr="(?:[A-Z]{2}|[A-Z]{0,3}[0-9]{6})')
assert 26 * 99_999 <= MAX_XLSX_CELLS


class _TooLarge(Exception):
    """The sheet's XML expands beyond its limit (the message says how)."""


def _sheet_texts(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> Iterator[bytes]:
    """The sheet's XML in pieces of about 1 MB, each starting with the end of the previous one (a reference cut at a
    piece's end is found whole in the next); _TooLarge once more than `limit` bytes came out."""
    expanded, tail = 0, b""
    with archive.open(info) as stream:
        while chunk := stream.read(1 << 20):
            expanded += len(chunk)
            if expanded > limit:  # the declared size was wrong
                raise _TooLarge(f"its sheet {info.filename} expands beyond {limit:,} bytes: too large to read in "
                                "memory, export it as CSV")
            text = tail + chunk
            yield text
            tail = text[-256:]


def xlsx_refusal(path: Path) -> str | None:
    """Why an XLSX must not be opened (it would not fit in memory), or None; reads its sheets as a stream.

    Every worksheet is scanned (the first sheet is one of them): its XML may not expand beyond
    MAX_XLSX_SHEET_XML_BYTES nor MAX_XLSX_COMPRESSION_RATIO times its compressed size, and the range its cells
    span may not exceed MAX_XLSX_CELLS.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return f"not a readable XLSX workbook ({exc})"
    with archive:
        for info in archive.infolist():
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            limit = min(MAX_XLSX_SHEET_XML_BYTES, max(info.compress_size, 1 << 20) * MAX_XLSX_COMPRESSION_RATIO)
            if info.file_size > limit:
                return (f"its sheet {info.filename} expands from {info.compress_size:,} to {info.file_size:,} bytes "
                        f"(more than {limit:,}): too large to read in memory, export it as CSV")
            max_row = max_column = 0
            try:
                if not any(_FAR_REF.search(text) for text in _sheet_texts(archive, info, limit)):
                    continue
                for text in _sheet_texts(archive, info, limit):
                    for letters, row in _CELL_REF.findall(text):
                        max_column = max(max_column, _column_number(letters))
                        max_row = max(max_row, int(row))
                    for row in _ROW_REF.findall(text):
                        max_row = max(max_row, int(row))
            except _TooLarge as exc:
                return str(exc)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
                return f"not a readable XLSX workbook ({exc})"
            if max_row * max(max_column, 1) > MAX_XLSX_CELLS:
                return (f"its sheet {info.filename} spans {max_row:,} rows by {max_column:,} columns (a cell far "
                        f"from the data?): more than {MAX_XLSX_CELLS:,} cells to read in memory")
    return None


def read_xlsx(path: Path, first_required_header: str, shown_as: str | None = None) -> LandedTable:
    name = shown_as or str(path)
    refusal = xlsx_refusal(path)
    if refusal is not None:
        raise RejectedFile(f"{name}: {refusal}")
    try:
        sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string").to_polars()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - fastexcel's own errors, and a Rust panic (a BaseException)
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RejectedFile(f"{name}: not a readable XLSX workbook ({cause})") from None
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
