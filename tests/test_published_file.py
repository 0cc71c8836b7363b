"""The published file opens in the clients analysts already have: DuckDB 1.x readers, and Parquet for tools that
read no DuckDB at all (issue: what analysts send every month, section 4)."""

from __future__ import annotations

import json
import subprocess
import textwrap

import duckdb
import polars as pl

from orchestration.assets.publication import PARQUET_BY_MONTH, PUBLISHED_TABLES, parquet_folder, parquet_paths, publish


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
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        t if t in PARQUET_BY_MONTH else f"{t}.parquet" for t in PUBLISHED_TABLES)
    with duckdb.connect(str(published), read_only=True) as con:
        for table in PUBLISHED_TABLES:
            frame = pl.read_parquet(parquet_paths(published, table))
            assert frame.height == counts[table]
            expected = con.sql(f"select * from marts.{table}").pl()
            assert frame.columns == expected.columns
        for table in PARQUET_BY_MONTH:  # a file per month the table holds, named by it
            months = {f"{m:%Y-%m}" for (m,) in con.execute(f"select distinct period_month from marts.{table}").fetchall()}
            assert {p.stem for p in parquet_paths(published, table)} == months and len(months) > 1
    unit_month = pl.read_parquet(folder / "kpi_unit_month.parquet")
    assert unit_month["online_rate"].dtype == pl.Float64 and unit_month["period_month"].dtype == pl.Date


def _published_equals_the_warehouse(warehouse, published) -> None:
    from orchestration.assets.publication import published_columns

    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"attach '{published}' as published (read_only)")
        for table, relation in PUBLISHED_TABLES.items():
            columns = published_columns(con, relation)
            differ = con.execute(f"select count(*) from ((select {columns} from {relation} except all "
                                 f"select * from published.marts.{table}) union all (select * from "
                                 f"published.marts.{table} except all select {columns} from {relation}))").fetchone()[0]
            assert differ == 0, table
            assert pl.read_parquet(parquet_paths(published, table)).height == \
                con.execute(f"select count(*) from {relation}").fetchone()[0], table


def test_a_publication_writes_again_only_what_changed_and_equals_the_warehouse(small_built, tmp_path):
    """issue #28: the file the last publication wrote is the start of the next; unchanged tables are kept, a
    month-incremental mart gets the months rebuilt since (a month a build emptied goes too), the late dossiers the
    dossiers rewritten since (a dossier no longer listed goes too), others are written whole; the result is the
    warehouse's tables, row for row, and so are the Parquet copies."""
    import shutil

    warehouse, published = tmp_path / "w.duckdb", tmp_path / "published" / "tthc_marts.duckdb"
    shutil.copy(small_built, warehouse)
    said = []
    publish(warehouse, published, say=said.append)
    assert said[-1] == f"wrote all {len(PUBLISHED_TABLES)} tables"
    publish(warehouse, published, say=said.append)
    assert said[-1] == f"{len(PUBLISHED_TABLES)} tables kept as they were"
    kept_parquet = (parquet_folder(published) / "targets.parquet").stat().st_mtime_ns
    losses = {p.stem: p.stat().st_mtime_ns for p in parquet_paths(published, "index766_dossier_losses")}

    with duckdb.connect(str(warehouse)) as con:  # what a nightly build does: some months rebuilt, one emptied
        latest, first, last = con.execute("select max(processed_through_batch_seq), min(period_month), "
                                           "max(period_month) from marts.kpi_unit_month").fetchone()
        con.execute("update marts.kpi_unit_month set received = received + 1, processed_through_batch_seq = ? "
                    "where period_month = ?", [latest + 1, last])
        con.execute("update marts.index766_dossier_losses set points_if_passed = points_if_passed / 2, "
                    "processed_through_batch_seq = ? where period_month = ?", [latest + 1, last])
        con.execute("delete from marts.index766_dossier_losses where period_month = ?", [first])
        con.execute("update marts.overdue_dossiers set unit_name = unit_name || ' (sửa)' where rowid = 0")
        # and a dossier-incremental list: one dossier rewritten, one no longer late
        con.execute("update marts.late_dossiers set days_late = days_late + 1, processed_through_batch_seq = ? "
                    "where rowid = 1", [latest + 1])
        con.execute("delete from marts.late_dossiers where rowid = 2")
    publish(warehouse, published, say=said.append)
    assert said[-1] == ("1 table written whole (overdue_dossiers); the rebuilt months of kpi_unit_month (1) and "
                        "index766_dossier_losses (1); the rewritten dossiers of late_dossiers; "
                        f"{len(PUBLISHED_TABLES) - 4} tables kept as they were")
    _published_equals_the_warehouse(warehouse, published)
    assert (parquet_folder(published) / "targets.parquet").stat().st_mtime_ns == kept_parquet
    after = {p.stem: p.stat().st_mtime_ns for p in parquet_paths(published, "index766_dossier_losses")}
    # the emptied month's file is gone, the rebuilt month's rewritten, the others kept
    assert set(after) == set(losses) - {f"{first:%Y-%m}"}
    assert [m for m in after if after[m] != losses[m]] == [f"{last:%Y-%m}"]

    # a description changed in the dbt YAML: that table is written again, its COMMENTs and Parquet metadata with it
    from orchestration.assets.warehouse import ensure_manifest

    manifest = json.loads(ensure_manifest().read_text())
    node = next(n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == "targets")
    node["description"] = "Chỉ tiêu — the targets, described anew."
    changed = tmp_path / "manifest.json"
    changed.write_text(json.dumps(manifest))
    publish(warehouse, published, manifest=changed, say=said.append)
    assert said[-1] == f"1 table written whole (targets); {len(PUBLISHED_TABLES) - 1} tables kept as they were"
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select comment from duckdb_tables() where table_name = 'targets'").fetchone()[0] == \
            node["description"]

    published.unlink()  # a published file removed by hand: written whole again
    publish(warehouse, published, say=said.append)
    assert said[-1] == f"wrote all {len(PUBLISHED_TABLES)} tables"
    _published_equals_the_warehouse(warehouse, published)
