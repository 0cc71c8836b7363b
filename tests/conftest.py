from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.sample.generate import GenerationResult, generate

SMALL_SCALE = 0.02  # ~14,000 dossiers over the default period: every quirk, fast


@pytest.fixture(scope="session")
def small_generation(tmp_path_factory) -> GenerationResult:
    """The default profile at a small scale: the fixture landing most suites read."""
    landing = tmp_path_factory.mktemp("small") / "landing"
    return generate(landing, seed=7, scale=SMALL_SCALE)


@pytest.fixture(scope="session")
def small_landing(small_generation) -> Path:
    return small_generation.landing


PII_KEY = b"test-key"


@pytest.fixture(scope="session")
def small_ingested(small_generation, tmp_path_factory):
    """The small landing ingested once into a DuckDB file: (path, IngestReport). Treat as read-only."""
    import duckdb

    from ingestion.ingest import ingest_landing

    path = tmp_path_factory.mktemp("small_wh") / "tthc.duckdb"
    with duckdb.connect(str(path)) as con:
        report = ingest_landing(small_generation.landing, con, PII_KEY)
    return path, report
