"""An engineer's decision on a held batch (landing.md): accept it (its good rows count) or exclude it (none of its
rows count). The decision is kept in the ledger (`review`, `reviewed_at`) for every row of that batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from ingestion.raw_schema import ensure_raw_schema

DECISIONS = ("accepted", "excluded")
MIN_PREFIX = 8


class ReviewError(Exception):
    """The batch cannot be reviewed as asked (unknown, ambiguous, not loaded, not held)."""


@dataclass(frozen=True)
class ReviewedBatch:
    sha256: str
    file_paths: list[str]
    previous: str | None
    decision: str


def review_batch(con: duckdb.DuckDBPyConnection, sha256: str, decision: str,
                 now: datetime | None = None) -> ReviewedBatch:
    """Record `decision` for the loaded batch whose sha256 is (or starts with, 8 characters at least) `sha256`.

    Accepting needs a held (or excluded) batch; any loaded batch can be excluded.
    """
    if decision not in DECISIONS:
        raise ReviewError(f"a decision is one of {', '.join(DECISIONS)}, not {decision!r}")
    wanted = sha256.strip().lower()
    if len(wanted) < MIN_PREFIX:
        raise ReviewError(f"give the batch's sha256 (at least its first {MIN_PREFIX} characters), not {sha256!r}")
    ensure_raw_schema(con)
    rows = con.execute("select sha256, file_path, review from raw.ingestion_ledger "
                       "where status = 'loaded' and starts_with(sha256, ?) order by ingested_at", [wanted]).fetchall()
    shas = sorted({sha for sha, _, _ in rows})
    if not shas:
        raise ReviewError(f"no loaded batch has a sha256 starting with {wanted} (see marts.ingestion_ledger)")
    if len(shas) > 1:
        raise ReviewError(f"{wanted} matches {len(shas)} batches ({', '.join(s[:16] for s in shas)}): give more of it")
    previous = rows[-1][2]
    if decision == "accepted" and previous not in ("held", "excluded"):
        raise ReviewError(f"batch {shas[0][:16]} ({rows[-1][1]}) is not held: there is nothing to accept")
    con.execute("update raw.ingestion_ledger set review = ?, reviewed_at = ? where sha256 = ?",
                [decision, now or datetime.now().replace(microsecond=0), shas[0]])
    return ReviewedBatch(shas[0], [path for _, path, _ in rows], previous, decision)
