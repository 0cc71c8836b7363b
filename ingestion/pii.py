"""Personal data at ingestion: applicant names are dropped, applicant ids replaced by a keyed hash.

The hash is HMAC-SHA256 (RFC 2104) computed inside DuckDB, vectorised: sha256(K^opad || sha256(K^ipad || id)).
Clear ids never reach a table, the quarantine included (its raw text is masked).
"""

from __future__ import annotations

import hashlib

MASK = "***"
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
