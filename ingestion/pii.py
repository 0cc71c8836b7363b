"""Personal data at ingestion: applicant names are dropped, applicant ids replaced by a keyed hash.

The hash is HMAC-SHA256 (RFC 2104) computed inside DuckDB, vectorised: sha256(K^opad || sha256(K^ipad || id)).
Clear ids never reach a table, the quarantine included (its raw text is masked).
"""

from __future__ import annotations

import hashlib
import re

import polars as pl

from contracts.personal_data import ID_RUN, MASK, PERSONAL_HEADER_WORDS, PERSONAL_HEADERS
from contracts.vocabulary import label_key

_NUMBERING = re.compile(r"[\s._-]*(\(\d+\)|\d+)$")  # "Số giấy tờ chủ hồ sơ 2", "... (2)"
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
    or an unknown column whose header names a person (`Họ tên người nộp`, `Cán bộ tiếp nhận`), where they live or
    when they were born (`Địa chỉ thường trú`, `Ngày sinh`)."""
    key = _NUMBERING.sub("", label_key(header))
    if key in PERSONAL_HEADERS:
        return True
    return not known and any(word in key for word in PERSONAL_HEADER_WORDS)
