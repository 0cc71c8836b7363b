"""An engineer's decision on a held batch (landing.md): accept it (its good rows count) or exclude it (none of its
rows count). The decision is kept in the ledger (`review`, `reviewed_at`) for every row of that batch, and in a
journal beside the warehouse (`<warehouse name>_batch_reviews.csv`), from which ingestion applies it again when the
warehouse is rebuilt from the landing folder (a corrupted or lost warehouse keeps its reviews)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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
    reviewed_at: datetime


JOURNAL_COLUMNS = ("sha256", "decision", "reviewed_at", "file_paths")


def journal_path(warehouse: Path) -> Path:
    """The review journal of a warehouse: beside it, kept when the warehouse file is rebuilt."""
    return warehouse.with_name(f"{warehouse.stem}_batch_reviews.csv")


def record_in_journal(journal: Path, batch: ReviewedBatch) -> None:
    """Append the decision to the journal (its latest line for a batch is the one in force)."""
    new = not journal.exists()
    journal.parent.mkdir(parents=True, exist_ok=True)
    with journal.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(JOURNAL_COLUMNS)
        writer.writerow([batch.sha256, batch.decision, batch.reviewed_at.isoformat(), "; ".join(batch.file_paths)])


def read_journal(journal: Path) -> dict[str, tuple[str, datetime]]:
    """sha256 -> (decision, reviewed_at) of the latest decision per batch in the journal (empty if none)."""
    if not journal.exists():
        return {}
    with journal.open(encoding="utf-8", newline="") as handle:
        return {row["sha256"]: (row["decision"], datetime.fromisoformat(row["reviewed_at"]))
                for row in csv.DictReader(handle) if row.get("decision") in DECISIONS}


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
    reviewed_at = now or datetime.now().replace(microsecond=0)
    con.execute("update raw.ingestion_ledger set review = ?, reviewed_at = ? where sha256 = ?",
                [decision, reviewed_at, shas[0]])
    return ReviewedBatch(shas[0], [path for _, path, _ in rows], previous, decision, reviewed_at)
