from __future__ import annotations

from pathlib import Path

import pytest

from sample_province.generate import GenerationResult, generate

SMALL_SCALE = 0.02  # ~14,000 dossiers over the default period: every quirk, fast


@pytest.fixture(scope="session")
def small_generation(tmp_path_factory) -> GenerationResult:
    """The default profile at a small scale: the fixture landing most suites read."""
    landing = tmp_path_factory.mktemp("small") / "landing"
    return generate(landing, seed=7, scale=SMALL_SCALE)


@pytest.fixture(scope="session")
def small_landing(small_generation) -> Path:
    return small_generation.landing


@pytest.fixture
def landing(tmp_path, small_landing) -> Path:
    """A landing folder with the small sample's reference files and an empty dossiers/ folder."""
    import shutil

    root = tmp_path / "landing"
    shutil.copytree(small_landing / "reference", root / "reference")
    (root / "dossiers").mkdir()
    return root


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


DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


def run_dbt(warehouse: Path, *args: str) -> None:
    """Run the dbt CLI on a warehouse file, as orchestration does; fails the test with dbt's output."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TTHC_WAREHOUSE": str(Path(warehouse).resolve()),
           "TTHC_DUCKDB_TEMP_DIR": str(Path(warehouse).resolve().parent / "duckdb_tmp")}
    dbt = Path(sys.executable).with_name("dbt")
    done = subprocess.run([str(dbt), *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT)],
                          cwd=DBT_PROJECT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@pytest.fixture(scope="session")
def small_built(small_ingested, tmp_path_factory) -> Path:
    """A copy of the small ingested warehouse after a full `dbt build`. Treat as read-only."""
    import shutil

    db = tmp_path_factory.mktemp("small_built") / "tthc.duckdb"
    shutil.copy(small_ingested[0], db)
    run_dbt(db, "build", "--quiet")
    return db
