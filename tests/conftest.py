from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import polars as pl
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

    from orchestration.settings import Settings

    settings = Settings.from_env().with_paths(warehouse=Path(warehouse))
    dbt = Path(sys.executable).with_name("dbt")
    done = subprocess.run([str(dbt), *args, *settings.dbt_args(), "--project-dir", str(DBT_PROJECT),
                           "--profiles-dir", str(DBT_PROJECT)],
                          cwd=DBT_PROJECT, env=os.environ, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@pytest.fixture(scope="session")
def small_built(small_ingested, tmp_path_factory) -> Path:
    """A copy of the small ingested warehouse after a full `dbt build`. Treat as read-only."""
    import shutil

    db = tmp_path_factory.mktemp("small_built") / "tthc.duckdb"
    shutil.copy(small_ingested[0], db)
    run_dbt(db, "build", "--quiet")
    return db


# landing text that a spreadsheet would run as a formula if it were written as one
FORMULA_NAMES = {"000.00.02.H02": "=1+1", "000.00.05.H02": "@SUM(A1)", "000.00.26.H02": "-2+3"}
# landing text that would end a page's <script> element, or put the HTML parser in its escaped states
SCRIPT_NAMES = {"000.00.03.H02": "<!--<script>"}


@pytest.fixture(scope="session")
def pack_run(small_landing, tmp_path_factory):
    """The whole job (as `tthc run` does) on the small landing whose units.csv names three units like formulas and
    one like the start of a script: (published file, the pack folder of the latest complete month)."""
    import csv
    import io
    import shutil

    root = tmp_path_factory.mktemp("reports")
    shutil.copytree(small_landing, root / "landing")
    units_csv = root / "landing" / "reference" / "units.csv"
    rows = list(csv.DictReader(io.StringIO(units_csv.read_text(encoding="utf-8"))))
    for row in rows:
        row["unit_name"] = {**FORMULA_NAMES, **SCRIPT_NAMES}.get(row["unit_code"], row["unit_name"])
    with units_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    run_whole_job(root, "reports-test-key")
    published = root / "published" / "tthc_marts.duckdb"
    folders = sorted((published.parent / "reports").iterdir())
    assert len(folders) == 1, folders
    return published, folders[0]


def run_whole_job(root: Path, pii_key: str, **env: str):
    """The whole job, as `tthc run` does it, on `root/landing` into `root/warehouse`, `root/published` and
    `root/dagster` (with any other variables in `env`); fails the test with the run's console unless it published."""
    from rich.console import Console

    from cli.runner import run_pipeline
    from orchestration.definitions import defs
    from orchestration.settings import Settings

    env = {**env, "TTHC_LANDING_DIR": str(root / "landing"), "TTHC_WAREHOUSE": str(root / "warehouse" / "tthc.duckdb"),
           "TTHC_PUBLISHED": str(root / "published" / "tthc_marts.duckdb"), "DAGSTER_HOME": str(root / "dagster"),
           "TTHC_PII_KEY": pii_key}
    with pytest.MonkeyPatch.context() as patch:
        for k, v in env.items():
            patch.setenv(k, v)
        outcome = run_pipeline(Settings.from_env(), Console(file=open(root / "console.txt", "w"), width=200),
                               defs.resolve_job_def("full_refresh"))
    assert outcome.ok and outcome.published, (root / "console.txt").read_text()
    return outcome


# published tables whose rows say when and by which run they were made, not what the data is
RUN_TABLES = {"data_quality_runs", "ingestion_ledger"}


def published_tables(path: Path) -> dict[str, pl.DataFrame]:
    """Every published table but RUN_TABLES, as frames."""
    import duckdb

    from orchestration.assets.publication import PUBLISHED_TABLES

    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.sql(f"select * from marts.{t}").pl() for t in PUBLISHED_TABLES if t not in RUN_TABLES}


def assert_same_tables(ours: dict, theirs: dict) -> None:
    """The same tables with the same rows (in any order)."""
    assert ours.keys() == theirs.keys()
    for table, frame in theirs.items():
        assert ours[table].sort(pl.all(), nulls_last=True).equals(frame.sort(pl.all(), nulls_last=True)), table


INSTALL_HINT = "install it with `apt-get install -y chromium` (make test does, as root)"


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright, with the network off for every page."""
    import os
    import shutil

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        if os.environ.get("CI"):
            pytest.fail(f"chromium is missing: {INSTALL_HINT}")
        pytest.skip(f"chromium is missing: {INSTALL_HINT}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # the network is off for the page: no proxy, every host unresolvable, and every request not to a file refused
        browser = playwright.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND"])
        yield browser
        browser.close()


DUCKDB_1 = "duckdb>=1.5,<2"


def _uv() -> list[str] | None:
    if shutil.which("uv"):
        return [shutil.which("uv")]
    probe = subprocess.run(["python3", "-m", "uv", "--version"], capture_output=True)
    return ["python3", "-m", "uv"] if probe.returncode == 0 else None


@pytest.fixture(scope="session")
def duckdb1_python(tmp_path_factory) -> Path:
    """A small venv with a DuckDB 1.x client, as an analyst's notebook or SQL client bundles it."""
    uv = _uv()
    venv = tmp_path_factory.mktemp("duckdb1") / "venv"
    done = None
    if uv:
        done = subprocess.run([*uv, "venv", "-q", str(venv)], capture_output=True, text=True)
        if done.returncode == 0:
            done = subprocess.run([*uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), DUCKDB_1],
                                  capture_output=True, text=True, timeout=600)
    if done is None or done.returncode != 0:
        reason = f"cannot set up a DuckDB 1.x client ({DUCKDB_1}) with uv: {done.stderr[-500:] if done else 'no uv'}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason + "; `make setup` installs uv")
    return venv / "bin" / "python"
