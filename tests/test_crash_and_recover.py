"""Crash and recover (issue #22): after each fault (hostile files, a kill between writing and validating batches, a
full disk, a damaged warehouse, a file copied in while it was being written), the run says what happened, naming
the file, and the next run publishes exactly what a clean run on the same landing publishes (every table, every
row; the ledger and the check history say when and by which run)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from cli.runner import run_pipeline
from orchestration.definitions import defs
from orchestration.settings import Settings
from sample_province.generate import generate

from .conftest import assert_same_tables, published_tables, run_whole_job
from .hostile_files import land_hostile_files

KEY = "crash-test-key"
SCALE = 0.01  # about 7,000 dossiers: every kind of file, no batch held, a quick run


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    """A clean run on a small landing: the figures every recovery must publish."""
    root = tmp_path_factory.mktemp("clean")
    generate(root / "landing", seed=11, scale=SCALE)
    run_whole_job(root, KEY)
    return root


def _copy(clean: Path, root: Path) -> Path:
    shutil.copytree(clean / "landing", root / "landing")
    return root


def _env(root: Path) -> dict[str, str]:
    return {"TTHC_LANDING_DIR": str(root / "landing"), "TTHC_WAREHOUSE": str(root / "warehouse" / "tthc.duckdb"),
            "TTHC_PUBLISHED": str(root / "published" / "tthc_marts.duckdb"), "DAGSTER_HOME": str(root / "dagster"),
            "TTHC_PII_KEY": KEY}


def _run(root: Path):
    """The whole job as `tthc run` does it, whatever its outcome."""
    from rich.console import Console

    with pytest.MonkeyPatch.context() as patch:
        for k, v in _env(root).items():
            patch.setenv(k, v)
        return run_pipeline(Settings.from_env(), Console(file=open(root / "console.txt", "a"), width=200),
                            defs.resolve_job_def("full_refresh"))


def _publishes_what_the_clean_run_publishes(root: Path, clean: Path) -> None:
    outcome = run_whole_job(root, KEY)
    assert outcome.ok and outcome.published
    assert_same_tables(published_tables(root / "published" / "tthc_marts.duckdb"),
                       published_tables(clean / "published" / "tthc_marts.duckdb"))


@contextlib.contextmanager
def small_disk(folder: Path, size: str):
    """`folder` on a tmpfs of `size` (root only; `make test` and CI run as root); remount it larger to free space."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs to fill a disk: {mounted.stderr}")
        pytest.skip(f"cannot mount a tmpfs to fill a disk (root only): {mounted.stderr.strip()}")
    try:
        yield lambda new_size: subprocess.run(["mount", "-o", f"remount,size={new_size}", str(folder)], check=True)
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_hostile_files_are_rejected_by_name_and_the_exports_beside_them_publish(clean, tmp_path):
    root = _copy(clean, tmp_path)
    expected = land_hostile_files(root / "landing" / "dossiers" / "2023")
    _publishes_what_the_clean_run_publishes(root, clean)
    with duckdb.connect(str(root / "published" / "tthc_marts.duckdb"), read_only=True) as con:
        rejected = dict(con.execute("select file_path, error from marts.ingestion_ledger "
                                    "where status = 'rejected' and file_path like 'dossiers/2023/%'").fetchall())
    assert {path.removeprefix("dossiers/2023/") for path in rejected} == set(expected)


def test_batches_written_by_a_run_killed_before_validating_them_are_validated_by_the_next(clean, tmp_path):
    from ingestion.ingest import ingest_landing

    root = _copy(clean, tmp_path)
    (root / "warehouse").mkdir()
    with duckdb.connect(str(root / "warehouse" / "tthc.duckdb")) as con:  # the batches committed, then the kill
        ingest_landing(root / "landing", con, KEY.encode())
    _publishes_what_the_clean_run_publishes(root, clean)
    with duckdb.connect(str(root / "warehouse" / "tthc.duckdb"), read_only=True) as con:
        unvalidated = con.execute(
            "select count(*) from raw.ingestion_ledger l where l.status = 'loaded' "
            "and l.kind in ('dossiers', 'unit_reports') and not exists (select 1 from raw.batch_validations v "
            "where v.batch_id = l.sha256)").fetchall()[0][0]
    assert unvalidated == 0


@pytest.mark.parametrize("folder,size", [("warehouse", "3m"), ("published", "256k")],
                         ids=["during ingestion", "during publication"])
def test_a_full_disk_says_so_leaves_no_staging_file_and_the_run_after_space_is_freed_publishes(clean, tmp_path,
                                                                                             folder, size):
    root = _copy(clean, tmp_path)
    with small_disk(root / folder, size) as resize:
        outcome = _run(root)
        assert not outcome.ok and not outcome.published
        assert "no space left on device writing" in outcome.error and str(root / folder) in outcome.error
        assert [p.name for p in (root / folder).iterdir() if p.name.startswith(".")] == [], "no .tmp, .tmp.wal"
        resize("500m")
        _publishes_what_the_clean_run_publishes(root, clean)


def test_a_damaged_warehouse_is_named_and_a_rebuild_from_the_landing_keeps_the_batch_reviews(clean, tmp_path):
    from click.testing import CliRunner

    from cli.commands import cli

    root = _copy(clean, tmp_path)
    run_whole_job(root, KEY)
    warehouse = root / "warehouse" / "tthc.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        excluded = con.execute("select sha256 from raw.ingestion_ledger where status = 'loaded' and kind = 'dossiers' "
                               "order by rows_loaded desc limit 1").fetchall()[0][0]
    with pytest.MonkeyPatch.context() as patch:
        for k, v in _env(root).items():
            patch.setenv(k, v)
        done = CliRunner().invoke(cli, ["exclude-batch", excluded])
    assert done.exit_code == 0, done.output
    run_whole_job(root, KEY)
    reviewed = published_tables(root / "published" / "tthc_marts.duckdb")
    with warehouse.open("r+b") as handle:  # a damaged header: what a failing disk or a half-copied file leaves
        handle.seek(8)
        handle.write(b"\xff" * 4096)
    outcome = _run(root)
    assert not outcome.ok and not outcome.published
    assert f"{warehouse} is damaged" in outcome.error and "tthc_batch_reviews.csv" in outcome.error, outcome.error
    shutil.move(warehouse, tmp_path / "damaged.duckdb")  # what the message says to do
    with contextlib.suppress(FileNotFoundError):
        shutil.move(warehouse.with_name(warehouse.name + ".wal"), tmp_path / "damaged.duckdb.wal")
    outcome = run_whole_job(root, KEY)
    assert_same_tables(published_tables(root / "published" / "tthc_marts.duckdb"), reviewed)
    with duckdb.connect(str(root / "published" / "tthc_marts.duckdb"), read_only=True) as con:
        assert con.execute("select distinct review from marts.ingestion_ledger where sha256 = ?",
                           [excluded]).fetchall() == [("excluded",)]


def test_an_export_copied_in_while_it_was_written_loses_its_cut_row_and_its_complete_copy_replaces_it(clean, tmp_path):
    from ingestion.normalise import CUT_SHORT_REASON

    root = _copy(clean, tmp_path)
    exports = sorted((root / "landing" / "dossiers").rglob("hoso_*.csv"), key=lambda p: p.stat().st_size)
    export = exports[-1]  # the largest: its one cut row stays under the 5% that would hold the batch
    complete = export.read_bytes()
    body = complete.rstrip(b"\r\n")
    export.write_bytes(body[:body.rfind(b"\n") + 1 + (len(body) - body.rfind(b"\n")) // 2])  # half its last row
    outcome = run_whole_job(root, KEY)
    with duckdb.connect(str(root / "warehouse" / "tthc.duckdb"), read_only=True) as con:
        reasons = con.execute("select reasons from raw.quarantine where file_path = ?",
                              [export.relative_to(root / "landing").as_posix()]).fetchall()
    assert [CUT_SHORT_REASON] in [r[0] for r in reasons] or any(CUT_SHORT_REASON in r[0] for r in reasons)
    export.write_bytes(complete)  # the export, once its copy has finished
    _publishes_what_the_clean_run_publishes(root, clean)
    with duckdb.connect(str(root / "published" / "tthc_marts.duckdb"), read_only=True) as con:
        replaced = con.execute("select warnings from marts.ingestion_ledger where file_path = ? "
                               "order by ingested_at desc limit 1",
                               [export.relative_to(root / "landing").as_posix()]).fetchall()[0][0]
    assert replaced.startswith("replaces batch") and outcome.ok


def test_a_sudden_drop_in_received_dossiers_stops_publication_until_a_batch_review_explains_it(clean, tmp_path):
    """An export that turns 3% of a complete month's dossiers into "not received" (a faulty system export): the
    run names the month and publishes nothing; excluded, the batch explains it and the run publishes."""
    import csv

    from click.testing import CliRunner

    from cli.commands import cli

    root = _copy(clean, tmp_path)
    shutil.copytree(clean / "warehouse", root / "warehouse")
    shutil.copytree(clean / "published", root / "published")
    with duckdb.connect(str(root / "warehouse" / "tthc.duckdb"), read_only=True) as con:
        month = con.execute("select period_month from marts.kpi_level_month where level = 'toan_tinh' "
                            "and is_complete_month order by received desc limit 1").fetchall()[0][0]
        dossiers = con.execute(
            "select dossier_code, procedure_code, received_unit_code, channel, received_at, updated_at "
            "from facts.fct_dossiers where is_received and date_trunc('month', received_at) = ? "
            "order by dossier_code", [month]).fetchall()
    flipped = dossiers[: max(1, len(dossiers) * 3 // 100)]
    export = root / "landing" / "dossiers" / "sua_loi" / "hoso_dieu_chinh.csv"
    export.parent.mkdir()
    with export.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Mã hồ sơ", "Mã TTHC", "Mã đơn vị", "Kênh nộp", "Ngày tiếp nhận", "Trạng thái",
                         "Thời điểm cập nhật"])
        for code, procedure, unit, channel, received, updated in flipped:
            writer.writerow([code, procedure, unit, channel, f"{received:%Y-%m-%d %H:%M:%S}", "3",
                             f"{updated.replace(microsecond=0):%Y-%m-%d %H:%M:%S}"[:-2] + "59"])
    before = (root / "published" / "tthc_marts.duckdb").read_bytes()
    outcome = _run(root)
    assert not outcome.ok and outcome.failed_checks == ["marts/kpi_unit_month:received_not_dropped"]
    assert (root / "published" / "tthc_marts.duckdb").read_bytes() == before, "the previous file is left as it was"
    with duckdb.connect(str(root / "warehouse" / "tthc.duckdb"), read_only=True) as con:
        said = con.execute("select detail from quality.check_runs where check_name = 'received_not_dropped' "
                           "and not passed").fetchall()[0][0]
        sha = con.execute("select sha256 from raw.ingestion_ledger where file_path like 'dossiers/sua_loi/%'"
                          ).fetchall()[0][0]
    assert f"toàn tỉnh {month:%m/%Y}:" in said and "tthc exclude-batch" in said, said
    with pytest.MonkeyPatch.context() as patch:
        for k, v in _env(root).items():
            patch.setenv(k, v)
        assert CliRunner().invoke(cli, ["exclude-batch", sha]).exit_code == 0
    _publishes_what_the_clean_run_publishes(root, clean)


def test_a_drop_that_an_excluded_batch_explains_does_not_stop_publication(clean, tmp_path):
    from click.testing import CliRunner

    from cli.commands import cli

    root = _copy(clean, tmp_path)
    shutil.copytree(clean / "warehouse", root / "warehouse")
    shutil.copytree(clean / "published", root / "published")
    with duckdb.connect(str(root / "warehouse" / "tthc.duckdb"), read_only=True) as con:
        # the exports whose exclusion takes with them over 2% of a complete month's dossiers: those they alone hold
        alone = con.execute("""
            with alone as (select dossier_code from raw.dossier_snapshots group by 1 having count(distinct batch_id) = 1)
            select date_trunc('month', s.received_at)::date as month, s.batch_id, count(*) as dossiers
            from raw.dossier_snapshots s join alone using (dossier_code)
            group by all order by dossiers desc, s.batch_id""").fetchall()
        month = max({m for m, _, _ in alone}, key=lambda m: sum(n for mm, _, n in alone if mm == m))
        received = con.execute("select received from marts.kpi_level_month where level = 'toan_tinh' "
                               "and period_month = ? and is_complete_month", [month]).fetchall()[0][0]
    excluded, taken = [], 0
    for m, sha, n in alone:
        if m == month and taken < received * 0.02:
            excluded.append(sha)
            taken += n

    def published_received() -> int:
        with duckdb.connect(str(root / "published" / "tthc_marts.duckdb"), read_only=True) as con:
            return con.execute("select received from marts.kpi_level_month where level = 'toan_tinh' "
                               "and period_month = ?", [month]).fetchall()[0][0]

    before = published_received()
    with pytest.MonkeyPatch.context() as patch:
        for k, v in _env(root).items():
            patch.setenv(k, v)
        for sha in excluded:
            assert CliRunner().invoke(cli, ["exclude-batch", sha]).exit_code == 0
    outcome = run_whole_job(root, KEY)
    assert outcome.published and published_received() < before * 0.99, (before, published_received())
