"""Personal data at ingestion: applicant names are dropped, applicant ids replaced by a keyed hash.

The hash is HMAC-SHA256 (RFC 2104) computed inside DuckDB, vectorised: sha256(K^opad || sha256(K^ipad || id)).
Clear ids never reach a table, the quarantine included (its raw text is masked).
"""

from __future__ import annotations

import hashlib
import re

import polars as pl

from ingestion.vocabulary import DOSSIER_COLUMNS, label_key

MASK = "***"
# An id in free text: a run of 9 or more digits (citizen ids have 12, tax codes 10 or 13; landing.md masks
# such runs in explanations too). Masked wherever landing text is kept: quarantined rows, reasons.
ID_RUN = r"\d{9,}"
# Headers whose column holds personal data: the contract's applicant columns (also numbered, as a second
# "Số giấy tờ chủ hồ sơ 2" or "(2)"), and any unknown column whose header says it holds a person's name.
PERSONAL_FIELDS = ("applicant_name", "applicant_id")
PERSONAL_HEADERS = tuple(label_key(h) for h, (fld, _) in DOSSIER_COLUMNS.items() if fld in PERSONAL_FIELDS)
NAME_HEADER_WORDS = ("tên", "họ tên", "cán bộ", "người", "chủ hồ sơ", "cccd", "cmnd", "giấy tờ", "điện thoại", "email")
_NUMBERING = re.compile(r"[\s._-]*(\(\d+\)|\d+)$")
# Column names that would carry personal data; none may reach the marts or the published file.
PERSONAL_DATA_COLUMNS = r"(?i)(applicant|chu_ho_so|giay_to|citizen|cccd|id_hash)"
BLOCK = 64


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer padded keys of HMAC-SHA256."""
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def hmac_sql(column: str, key: bytes) -> str:
    """A DuckDB expression: the lower-case hex HMAC-SHA256 of the text in `column` (NULL stays NULL)."""
    inner, outer = hmac_pads(key)
    return (f"case when {column} is null then null else sha256(unhex('{outer.hex()}') || "
            f"unhex(sha256(unhex('{inner.hex()}') || encode({column})))) end")


def mask_ids(text: pl.Expr) -> pl.Expr:
    """Every run of 9 or more digits in the text replaced by the mask."""
    return text.str.replace_all(ID_RUN, MASK)


def is_personal_header(header: str, known: bool) -> bool:
    """A column to mask whole in kept raw text: an applicant column of the contract (numbered duplicates too),
    or an unknown column whose header names a person (`Họ tên người nộp`, `Cán bộ tiếp nhận`)."""
    key = _NUMBERING.sub("", label_key(header))
    if key in PERSONAL_HEADERS:
        return True
    return not known and any(word in key for word in NAME_HEADER_WORDS)
