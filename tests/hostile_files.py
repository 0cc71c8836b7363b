"""Landed files that once broke every run (issue #22): each must become one `rejected` ledger row naming the file
and the reason, while the files beside it load."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import xlsxwriter

from .test_ingestion import GOOD, write_csv


def cr_only_csv(path: Path) -> Path:
    """Excel's "CSV (Macintosh)": every line ends in CR alone."""
    written = write_csv(path, [GOOD])
    written.write_bytes(written.read_bytes().replace(b"\n", b"\r"))
    return written


def line_without_end(path: Path, size: int = 300_000) -> Path:
    """One line longer than any header (the fault session used 200 MB), no line end."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"a" * size)
    return path


def _headers_and_one_cell(path: Path, row: int, col: int) -> Path:
    """An XLSX with the export's headers on row 1 and one more cell at (row, col), 0-based."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for n, header in enumerate(GOOD):
        sheet.write_string(0, n, header)
    sheet.write_string(row, col, "x")
    book.close()
    return path


def far_cell_xlsx(path: Path) -> Path:
    """A few KB whose one cell at XFD1048576 asks the reader for a dense range of 17 billion cells."""
    return _headers_and_one_cell(path, 1048575, 16383)


def long_narrow_xlsx(path: Path) -> Path:
    """No column beyond Z, but one cell on row 999,999: 26 columns by 999,999 rows are more cells than allowed, found
    by the exact scan that a six-digit row reference sends the reader to."""
    return _headers_and_one_cell(path, 999_998, 25)


def zip_bomb_xlsx(path: Path, expanded_mb: int = 150) -> Path:
    """A small XLSX whose sheet XML expands a thousandfold (the fault session's: 2.5 MB to 2.4 GB)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                                                'package/2006/content-types"/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<?xml version="1.0"?><worksheet><sheetData>')
            block = b" " * 2**20
            for _ in range(expanded_mb):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    return path


def name_not_utf8(folder: Path) -> Path:
    """A file whose name is in a legacy code page (bytes that are not UTF-8)."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = os.fsencode(folder) + b"/h\xf4 s\xf5_2024.csv"
    with open(raw, "wb") as handle:
        handle.write(write_csv(folder / "template.csv", [GOOD]).read_bytes())
    (folder / "template.csv").unlink()
    return Path(os.fsdecode(raw))


HOSTILE = {  # name in the landing folder -> (maker, what the ledger's error says)
    "mac.csv": (cr_only_csv, "CR only"),
    "no_line_end.csv": (line_without_end, "with no line end"),
    "far_cell.xlsx": (far_cell_xlsx, "1,048,576 rows by 16,384 columns"),
    "long_narrow.xlsx": (long_narrow_xlsx, "999,999 rows by 26 columns"),
    "bomb.xlsx": (zip_bomb_xlsx, "too large to read in memory"),
}


def land_hostile_files(folder: Path) -> dict[str, str]:
    """Every hostile file in `folder`: ledger path (relative to the landing folder's kind folder) -> expected reason."""
    expected = {name: reason for name, (maker, reason) in HOSTILE.items() if maker(folder / name)}
    name_not_utf8(folder)
    expected["h\\xf4 s\\xf5_2024.csv"] = "not valid UTF-8"
    return expected
