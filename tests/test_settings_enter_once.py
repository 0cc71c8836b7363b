"""Settings enter once (issue #26 §3): one Settings built from the environment at the edge and passed down, one
connect() that every DuckDB connection goes through, one default per setting."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.settings import Settings, parse_bytes
from reporting.published import open_published
from storage.duckdb_connection import DuckDBLimits, connect, default_memory_limit

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("storage", "contracts", "ingestion", "expectations", "reporting", "orchestration", "cli",
            "sample_province", "benchmarks")
CONNECT = ROOT / "storage" / "duckdb_connection.py"


def _python_files():
    for package in PACKAGES:
        yield from (ROOT / package).rglob("*.py")


def test_no_duckdb_connection_is_opened_but_through_storage_connect():
    opened_elsewhere = [f"{path.relative_to(ROOT)}:{n}" for path in _python_files() if path != CONNECT
                        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                        if re.search(r"\bduckdb\.connect\(|from duckdb import .*\bconnect\b", line)]
    assert opened_elsewhere == [], "open DuckDB with storage.duckdb_connection.connect"


def test_each_setting_has_one_default():
    # the memory bound: storage's default_memory_limit, read by Settings; the dbt profile has none of its own
    assert Settings.__dataclass_fields__["memory_limit"].default_factory is default_memory_limit
    profile = (ROOT / "dbt_project" / "profiles.yml").read_text(encoding="utf-8")
    macros = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "dbt_project" / "macros").glob("*.sql"))
    for setting in Settings.from_env().dbt_vars():
        variable = setting.upper()
        assert not re.search(rf"env_var\('{variable}',", profile + macros), f"{variable} has a second default"
    sources = "".join(p.read_text(encoding="utf-8") for p in _python_files())
    assert len(re.findall(r"def default_memory_limit|DEFAULT_MEMORY_SHARE =", sources)) == 2  # both in storage
    assert not re.search(r"memory_limit\s*[=:]?\s*'?\s*=?\s*['\"]\d", sources)  # no size written out as a default


def test_a_connection_gets_the_limits_it_is_given_or_the_one_default(tmp_path):
    with connect(tmp_path / "a.duckdb", DuckDBLimits("700MB", tmp_path / "spill")) as con:
        limit, temp = con.execute("select current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
    assert parse_bytes(limit.replace(" ", "")) == pytest.approx(parse_bytes("700MB"), rel=0.01)  # shown rounded
    assert temp == str(tmp_path / "spill") and (tmp_path / "spill").is_dir()
    with connect() as con:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert parse_bytes(limit.replace(" ", "")) == pytest.approx(parse_bytes(default_memory_limit()), rel=0.02)


def test_the_published_file_is_read_with_the_settings_limits(pack_run, tmp_path, monkeypatch):
    monkeypatch.setenv("TTHC_DUCKDB_MEMORY_LIMIT", "700MB")
    settings = Settings.from_env().with_paths(warehouse=tmp_path / "w.duckdb")
    with open_published(pack_run[0], settings.duckdb_limits()) as con:
        limit, temp = con.execute("select current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
        assert con.execute("select count(*) from kpi_level_month").fetchone()[0] > 0
    assert "667.5 MiB" in limit or "700.0 MB" in limit
    assert temp == str(settings.spill_dir)


def test_tthc_dbt_runs_dbt_by_hand_with_the_runs_settings(small_ingested, tmp_path):
    """dbt run by hand through `tthc dbt` opens the settings' warehouse with the settings' memory bound; the profile
    has no defaults of its own, so dbt without the settings stops naming the variable it lacks."""
    db = tmp_path / "tthc.duckdb"
    db.write_bytes(small_ingested[0].read_bytes())
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root"), "TTHC_WAREHOUSE": str(db),
           "TTHC_DUCKDB_MEMORY_LIMIT": "700MB"}
    done = subprocess.run([str(Path(sys.executable).with_name("tthc")), "dbt", "show", "--inline",
                           "select current_setting('memory_limit') as m, count(*) as n from raw.dossier_snapshots",
                           "--output", "json"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "667.5 MiB" in done.stdout or "700.0 MB" in done.stdout, done.stdout[-1000:]
    bare = subprocess.run([str(Path(sys.executable).with_name("dbt")), "parse", "--profiles-dir", ".",
                           "--target-path", str(tmp_path / "target")],
                          env={k: v for k, v in env.items() if not k.startswith("TTHC_")},
                          cwd=ROOT / "dbt_project", capture_output=True, text=True, timeout=300)
    assert bare.returncode != 0 and "TTHC_WAREHOUSE" in bare.stdout + bare.stderr
