"""The published file opens in the clients analysts already have: DuckDB 1.x readers, and Parquet for tools that
read no DuckDB at all (issue: what analysts send every month, section 4)."""

from __future__ import annotations

import json
import subprocess
import textwrap

import duckdb
import polars as pl

from orchestration.assets.publication import PUBLISHED_TABLES, parquet_folder, publish


def test_a_duckdb_1_client_opens_the_published_file_and_reads_every_table(small_built, tmp_path, duckdb1_python):
    published = tmp_path / "published" / "tthc_marts.duckdb"
    counts = publish(small_built, published)
    script = textwrap.dedent(f"""
        import duckdb, json
        con = duckdb.connect({str(published)!r}, read_only=True)
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()]
        print(json.dumps({{"version": duckdb.__version__,
                          "counts": {{t: con.execute(f"select count(*) from marts.{{t}}").fetchone()[0] for t in tables}},
                          "sample": str(con.execute("select * from marts.directive10_scorecard limit 1").fetchall())}}))
    """)
    done = subprocess.run([str(duckdb1_python), "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    assert seen["version"].startswith("1.")
    assert seen["counts"] == counts and set(counts) == set(PUBLISHED_TABLES)
    assert "online_rate" in seen["sample"] or "rate" in seen["sample"]


def test_every_published_table_is_also_parquet(small_built, tmp_path):
    published = tmp_path / "published" / "tthc_marts.duckdb"
    counts = publish(small_built, published)
    folder = parquet_folder(published)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.parquet" for t in PUBLISHED_TABLES)
    with duckdb.connect(str(published), read_only=True) as con:
        for table in PUBLISHED_TABLES:
            frame = pl.read_parquet(folder / f"{table}.parquet")
            assert frame.height == counts[table]
            expected = con.sql(f"select * from marts.{table}").pl()
            assert frame.columns == expected.columns
    unit_month = pl.read_parquet(folder / "kpi_unit_month.parquet")
    assert unit_month["online_rate"].dtype == pl.Float64 and unit_month["period_month"].dtype == pl.Date
