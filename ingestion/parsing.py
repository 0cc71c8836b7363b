"""Parsers for landed values, as polars expressions: vectorised, pure, unit-tested (with hypothesis).

Each parser returns null where the text does not parse; the caller turns that null into a quarantine reason.
Input text is NFC (the readers normalise it: readers.read_csv) and trimmed (`clean_text`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import polars as pl

from contracts.vocabulary import boolean_lookup, channel_lookup, label_key, status_lookup

# The contract's timestamp forms (landing.md), tried in order; XLSX date cells arrive as ISO text.
TIMESTAMP_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")

_GROUPED_NUMBER = r"^-?\d{1,3}([.,]\d{3})+$"
_PLAIN_NUMBER = r"^-?\d+$"


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Trim; empty text becomes null. (The readers hand over NFC text: see readers.py.)"""
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def key_text(expr: pl.Expr) -> pl.Expr:
    """The comparison form of a label: inner whitespace folded, case-folded (as vocabulary.label_key)."""
    return expr.str.replace_all(r"\s+", " ").str.to_lowercase()


_TIMESTAMP_SHAPE = r"^(\d{2}/\d{2}/\d{4}( \d{2}:\d{2}(:\d{2})?)?|\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}:\d{2})?)$"


def _layout(fmt: str) -> tuple[int, bool, str | None]:
    """What tells a format's text apart from the others' once it has the accepted shape: its length, whether it
    starts with the day (`/` at index 2) and the character between date and time."""
    sample = datetime(2000, 1, 1).strftime(fmt)
    return len(sample), sample[2] == "/", sample[10] if len(sample) > 10 else None


def parse_timestamp(expr: pl.Expr) -> pl.Expr:
    """Any accepted timestamp form -> Datetime (local, naive); null where none matches.

    The shape is checked first: strptime alone would take `01/06/23` as the year 23. A text of the accepted shape
    fits one format only, told by its layout: each format parses only the texts of its layout (the others are null
    for it, which costs nothing), about 2x faster than trying every format on every text (benchmarks/README.md).
    """
    shaped = pl.when(expr.str.contains(_TIMESTAMP_SHAPE)).then(expr)
    length, day_first, time_separator = expr.str.len_bytes(), expr.str.slice(2, 1) == "/", expr.str.slice(10, 1)
    parsed = []
    for fmt in TIMESTAMP_FORMATS + DATE_FORMATS:
        size, starts_with_day, between = _layout(fmt)
        layout = (length == size) & (day_first if starts_with_day else ~day_first)
        if between is not None:
            layout &= time_separator == between
        text = pl.when(layout).then(shaped)
        parsed.append(text.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True) if fmt in TIMESTAMP_FORMATS
                      else text.str.strptime(pl.Date, fmt, strict=False, exact=True).cast(pl.Datetime("us")))
    return pl.coalesce(parsed)


def parse_date(expr: pl.Expr) -> pl.Expr:
    """A date (or a timestamp, whose date is taken) -> Date; null where it does not parse."""
    return parse_timestamp(expr).dt.date()


def parse_period(expr: pl.Expr) -> pl.Expr:
    """A reporting period `MM/yyyy` -> the first day of the month; null where it does not parse."""
    valid = expr.str.contains(r"^(0?[1-9]|1[0-2])/\d{4}$")
    return pl.when(valid).then(
        pl.concat_str([pl.lit("01/"), expr.str.zfill(7)]).str.strptime(pl.Date, "%d/%m/%Y", strict=False))


def per_distinct(expr: pl.Expr, parse: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType) -> pl.Expr:
    """`parse` applied once to each distinct text, its result mapped back to every row (null stays null).

    A coded column holds a few dozen distinct texts in a million rows: parsing those only is 4x faster than parsing
    every row (benchmarks/README.md). The distinct texts keep their order: the keys and what `parse` reads are
    the same list.
    """
    texts = expr.unique(maintain_order=True).drop_nulls()
    return expr.replace_strict(texts, parse(texts), default=None, return_dtype=dtype)


def _whole_vnd(expr: pl.Expr) -> pl.Expr:
    grouped = expr.str.contains(_GROUPED_NUMBER)
    plain = expr.str.contains(_PLAIN_NUMBER)
    digits = expr.str.replace_all(r"[.,]", "")
    return pl.when(grouped | plain).then(digits.cast(pl.Int64, strict=False))


def parse_whole_vnd(expr: pl.Expr) -> pl.Expr:
    """`1.500.000`, `1500000` and `1,500,000` -> 1500000; null where it is not a whole amount.

    Empty means 0 for fees: the caller decides (fill_null) since the parser cannot tell empty from bad.
    """
    return per_distinct(expr, _whole_vnd, pl.Int64)


def _lookup(expr: pl.Expr, table: dict, dtype: pl.DataType) -> pl.Expr:
    return per_distinct(expr, lambda texts: key_text(texts).replace_strict(table, default=None, return_dtype=dtype),
                        dtype)


def parse_status(expr: pl.Expr) -> pl.Expr:
    """A status code 1-10 or its label, in any case, spacing or Unicode form -> code; null otherwise."""
    return _lookup(expr, status_lookup(), pl.Int8)


def parse_channel(expr: pl.Expr) -> pl.Expr:
    """A channel code 1-3 or one of its labels -> code; null otherwise."""
    return _lookup(expr, channel_lookup(), pl.Int8)


def parse_yes_no(expr: pl.Expr) -> pl.Expr:
    """Có/Không, 1/0, x/empty -> bool (empty -> False); null for anything else."""
    return pl.when(expr.is_null()).then(False).otherwise(_lookup(expr, boolean_lookup(), pl.Boolean))


def parse_paid_online(expr: pl.Expr) -> pl.Expr:
    """`0`/empty -> 0, `1` national portal, `2` provincial gateway; null for anything else."""
    return pl.when(expr.is_null()).then(pl.lit(0, pl.Int8)).otherwise(
        expr.replace_strict({"0": 0, "1": 1, "2": 2}, default=None, return_dtype=pl.Int8))


def match_headers(headers: list[str], columns: dict[str, tuple[str, bool]]) -> tuple[dict[str, str], list[str], list[str]]:
    """Map file headers to contract fields after trim, case-fold and NFC.

    Returns (file header -> field, missing required headers (contract spelling), unknown extra headers).
    """
    wanted = {label_key(h): (h, fld) for h, (fld, _) in columns.items()}
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    for header in headers:
        hit = wanted.get(label_key(header))
        if hit is None or hit[1] in mapping.values():
            unknown.append(header)
        else:
            mapping[header] = hit[1]
    missing = [h for h, (fld, required) in columns.items() if required and fld not in mapping.values()]
    return mapping, missing, unknown


def repeated_headers(headers: list[str]) -> list[str]:
    """Headers that appear more than once after trim, case-fold and NFC (landing.md rejects the file); empty
    header cells (an XLSX sheet's unused columns) are not headers."""
    seen: dict[str, str] = {}
    repeated = []
    for header in headers:
        key = label_key(header)
        if key and key in seen and seen[key] not in repeated:
            repeated.append(seen[key])
        seen.setdefault(key, header)
    return repeated
