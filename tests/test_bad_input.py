"""Bad input at the landing (moved from the reliability grab-bag, issue #26 §5): whatever a file holds, ingestion
names it and carries on; implausible timestamps and fees are quarantined; links and special files are never
followed; nothing personal is kept in clear; text that looks like a formula stays text."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingestion import ingest as ingest_module
from ingestion.ingest import ingest_landing
from ingestion.pii import is_personal_header

from .conftest import PII_KEY
from .test_ingestion import GOOD, write_csv


def ingest(landing: Path, db: Path, now: datetime | None = None):
    with duckdb.connect(str(db)) as con:
        return ingest_landing(landing, con, PII_KEY, now=now)


def quarantined(db: Path) -> pl.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql("select file_path, source_row, raw_record, reasons from raw.quarantine "
                       "order by file_path, source_row").pl()


# --- 9. whatever a file holds, the run names it and carries on ------------------------------------------------

def test_a_semicolon_file_and_extreme_fees_together_do_not_panic(landing, tmp_path):
    """The delivery that made polars 2.1 panic (`assertion failed: i < self.len()`) in one chunk."""
    write_csv(landing / "dossiers" / "a_semicolon.csv", [GOOD] * 1 + [{**GOOD, "Mã hồ sơ": "B"}], sep=";")
    write_csv(landing / "dossiers" / "b_fees.csv", [{**GOOD, "Mã hồ sơ": "C", "Phí, lệ phí (đồng)": "-50000"},
                                                   {**GOOD, "Mã hồ sơ": "D", "Phí, lệ phí (đồng)": "9" * 20},
                                                   {**GOOD, "Mã hồ sơ": "E"}])
    report = ingest(landing, tmp_path / "w.duckdb")
    by_file = {o.file_path: o for o in report.outcomes}
    assert (by_file["dossiers/a_semicolon.csv"].rows_loaded, by_file["dossiers/b_fees.csv"].rows_loaded) == (2, 1)
    reasons = quarantined(tmp_path / "w.duckdb")["reasons"].to_list()
    assert reasons == [["Phí, lệ phí (đồng) is negative: -50000"],
                       [f"number does not parse: Phí, lệ phí (đồng) = '{'9' * 20}'"]]


def test_polars_panic_on_a_filtered_multi_chunk_frame_is_guarded():
    """The upstream bug, minimal: format a long string filtered out of a two-chunk frame. If polars fixes it,
    this test says so, and the rechunk in normalise._split can go."""
    from ingestion.normalise import _split

    frame = pl.concat([pl.read_csv(b"fee\n200000\n", infer_schema=False),
                       pl.read_csv(f"fee\n-50000\n{'9' * 20}\n50000\n".encode(), infer_schema=False)])
    frame = frame.with_columns(batch_id=pl.lit("b"), source_row=pl.int_range(4), file_path=pl.lit("f.csv"))
    rules = [(pl.col("fee").str.starts_with("-") | (pl.col("fee").str.len_chars() > 10),
              pl.format("bad: '{}'", pl.col("fee")))]
    loaded, bad = _split(frame, rules, {})
    assert loaded.height == 2 and bad["reasons"].to_list() == [["bad: '-50000'"], [f"bad: '{'9' * 20}'"]]


def test_a_file_the_rules_fail_on_is_rejected_by_name_and_the_others_load(landing, tmp_path, monkeypatch):
    real = ingest_module.DOSSIERS.normaliser

    class PanicException(BaseException):  # what pyo3 raises for a Rust panic
        pass

    def fragile(frame, *args):
        if frame["dossier_code"].str.contains("BOOM").any():
            raise PanicException("assertion failed: i < self.len()")
        return real(frame, *args)

    monkeypatch.setattr(ingest_module, "DOSSIERS", dataclasses.replace(ingest_module.DOSSIERS, normaliser=fragile))
    monkeypatch.setitem(ingest_module.KIND_FOLDERS, "dossiers", ingest_module.DOSSIERS)
    write_csv(landing / "dossiers" / "a.csv", [GOOD])
    write_csv(landing / "dossiers" / "b.csv", [{**GOOD, "Mã hồ sơ": "BOOM"}])
    write_csv(landing / "dossiers" / "c.csv", [{**GOOD, "Mã hồ sơ": "C"}])
    report = ingest(landing, tmp_path / "w.duckdb")
    by_file = {o.file_path: o for o in report.outcomes}
    assert by_file["dossiers/a.csv"].status == by_file["dossiers/c.csv"].status == "loaded"
    assert by_file["dossiers/b.csv"].status == "rejected"
    assert by_file["dossiers/b.csv"].error == ("dossiers/b.csv: the landing rules could not be applied "
                                               "(PanicException: assertion failed: i < self.len())")
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.ingestion_ledger where file_path = 'dossiers/b.csv' "
                           "and status = 'rejected'").fetchone()[0] == 1


# --- 10. implausible timestamps --------------------------------------------------------------------------------

def test_timestamps_before_2000_or_after_tomorrow_are_quarantined(landing, tmp_path):
    now = datetime(2024, 2, 3, 2, 0)
    write_csv(landing / "dossiers" / "dates.csv", [
        GOOD,
        {**GOOD, "Mã hồ sơ": "OLD", "Ngày tiếp nhận": "01/01/1900"},
        {**GOOD, "Mã hồ sơ": "FUTURE", "Thời điểm cập nhật": "15/01/2099"},
        {**GOOD, "Mã hồ sơ": "TOMORROW", "Thời điểm cập nhật": "04/02/2024 01:59:00"},  # within a day: fine
    ])
    report = ingest(landing, tmp_path / "w.duckdb", now=now)
    assert (report.outcomes[-1].rows_loaded, report.outcomes[-1].rows_quarantined) == (2, 2)
    reasons = [r for rs in quarantined(tmp_path / "w.duckdb")["reasons"].to_list() for r in rs]
    span = "(2000-01-01 to 2024-02-04 02:00)"
    assert f"Ngày tiếp nhận = '01/01/1900' is outside the plausible range {span}" in reasons
    assert f"Thời điểm cập nhật = '15/01/2099' is outside the plausible range {span}" in reasons


# --- 12, 13. symlinks, special files, repeated headers, absurd fees --------------------------------------------

def test_links_and_special_files_are_never_followed_and_get_a_rejected_ledger_row(landing, tmp_path):
    outside = tmp_path / "outside"
    write_csv(outside / "secret.csv", [{**GOOD, "Mã hồ sơ": "OUTSIDE"}])
    (landing / "dossiers" / "linked.csv").symlink_to(outside / "secret.csv")
    (landing / "dossiers" / "linked_folder").symlink_to(outside)
    os.mkfifo(landing / "dossiers" / "pipe.csv")
    write_csv(landing / "dossiers" / "real.csv", [GOOD])
    db = tmp_path / "w.duckdb"
    report = ingest(landing, db)
    by_file = {o.file_path: o for o in report.outcomes}
    assert by_file["dossiers/real.csv"].status == "loaded"
    for name in ("linked.csv", "linked_folder"):
        assert by_file[f"dossiers/{name}"].status == "rejected"
        assert f"symbolic link to {outside}" in by_file[f"dossiers/{name}"].error
    assert "not a regular file" in by_file["dossiers/pipe.csv"].error
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from raw.dossier_snapshots where dossier_code = 'OUTSIDE'").fetchone()[0] == 0
    again = ingest(landing, db)  # reported once, like any rejected file
    assert not again.of(status="rejected")


def test_a_reference_file_that_is_a_link_is_rejected(landing, tmp_path):
    units = landing / "reference" / "units.csv"
    units.rename(tmp_path / "units.csv")
    units.symlink_to(tmp_path / "units.csv")
    report = ingest(landing, tmp_path / "w.duckdb")
    assert [o.status for o in report.outcomes if o.file_path == "reference/units.csv"] == ["rejected"]


def test_a_repeated_header_rejects_the_file_naming_it(landing, tmp_path):
    path = landing / "dossiers" / "twice.csv"
    write_csv(path, [GOOD])
    text = path.read_text(encoding="utf-8").splitlines()
    path.write_text(f"{text[0]},MÃ ĐƠN VỊ \n{text[1]},000.00.02.H02\n", encoding="utf-8")
    outcome = ingest(landing, tmp_path / "w.duckdb").outcomes[-1]
    assert outcome.status == "rejected"
    assert outcome.error == "dossiers/twice.csv: header appears more than once: Mã đơn vị"


def test_fees_above_the_contract_bound_are_quarantined(landing, tmp_path):
    write_csv(landing / "dossiers" / "fees.csv", [{**GOOD, "Phí, lệ phí (đồng)": "9.000.000.000.000.000.000"},
                                                 {**GOOD, "Mã hồ sơ": "B", "Phí, lệ phí (đồng)": "100.000.000.000"}])
    outcome = ingest(landing, tmp_path / "w.duckdb").outcomes[-1]
    assert (outcome.rows_loaded, outcome.rows_quarantined) == (1, 1)
    assert quarantined(tmp_path / "w.duckdb")["reasons"].to_list() == [
        ["Phí, lệ phí (đồng) is above 100,000,000,000 đồng: 9000000000000000000"]]


# --- 14. nothing personal in clear in quarantined rows ----------------------------------------------------------

@pytest.mark.parametrize("header,known,personal", [
    ("Số giấy tờ chủ hồ sơ", True, True), ("Số giấy tờ chủ hồ sơ 2", False, True),
    ("SỐ GIẤY TỜ CHỦ HỒ SƠ (3)", False, True), ("Chủ hồ sơ", True, True), ("Họ tên người nộp", False, True),
    ("Cán bộ tiếp nhận", False, True), ("Tên TTHC", True, False), ("Ghi chú", False, False),
    ("Mã hồ sơ DVCQG", False, False), ("Địa chỉ thường trú", False, True), ("ĐỊA CHỈ", False, True),
    ("Ngày sinh", False, True), ("Năm sinh chủ hồ sơ", False, True), ("Date of birth", False, True),
    ("Ngày tiếp nhận hồ sơ gốc", False, False)])
def test_personal_headers(header, known, personal):
    assert is_personal_header(header, known=known) is personal


def test_quarantined_rows_keep_no_personal_data_in_clear(landing, tmp_path):
    second_id, staff, extra_name, stray_id = "027111222333", "Trần Thị Bích", "Lê Văn Cường", "031987654321"
    address, birth_date = "Số 12 ngõ 34 phố Ngô Gia Tự, phường Suối Hoa", "07/03/1985"
    row = {**GOOD, "Trạng thái": "99", "Số giấy tờ chủ hồ sơ 2": second_id, "Họ tên người nộp": extra_name,
           "Cán bộ tiếp nhận": staff, "Ghi chú": f"CCCD {stray_id} nộp thay", "Mã hồ sơ DVCQG": "G22.99",
           "Địa chỉ thường trú": address, "Ngày sinh": birth_date}
    write_csv(landing / "dossiers" / "bad.csv", [row])
    db = tmp_path / "w.duckdb"
    ingest(landing, db)
    record = json.loads(quarantined(db)["raw_record"][0])
    assert record["Số giấy tờ chủ hồ sơ 2"] == record["Họ tên người nộp"] == record["Cán bộ tiếp nhận"] == "***"
    assert record["Địa chỉ thường trú"] == record["Ngày sinh"] == "***"
    assert record["Ghi chú"] == "CCCD *** nộp thay" and record["Mã hồ sơ DVCQG"] == "G22.99"
    text = db.read_bytes()
    for secret in (GOOD["Số giấy tờ chủ hồ sơ"], second_id, stray_id, staff, extra_name, GOOD["Chủ hồ sơ"], address,
                   birth_date):
        assert secret.encode() not in text, secret


def test_ids_in_a_reason_are_masked(landing, tmp_path):
    write_csv(landing / "dossiers" / "bad.csv", [{**GOOD, "Ngày tiếp nhận": "027123456789"}])
    ingest(landing, tmp_path / "w.duckdb")
    assert quarantined(tmp_path / "w.duckdb")["reasons"].to_list() == [
        ["timestamp does not parse: Ngày tiếp nhận = '***'"]]


# --- 15. landing text that looks like a formula: text in DuckDB, never a formula in files for people ------------

@pytest.mark.parametrize("text,shown", [("=1+1", "'=1+1"), ("+84 912", "'+84 912"), ("-3", "'-3"),
                                        ("@SUM(A1)", "'@SUM(A1)"), ("Thủ tục = 1", "Thủ tục = 1"), (None, None)])
def test_neutralise(text, shown):
    from reporting.people_files import neutralise

    assert neutralise(text) == shown


def test_formula_like_text_stays_text_in_duckdb_and_in_the_quarantine_files(landing, tmp_path, monkeypatch):
    import openpyxl
    from click.testing import CliRunner

    from cli.commands import cli

    write_csv(landing / "dossiers" / "f.csv", [{**GOOD, "Tên TTHC": "=1+1"},
                                               {**GOOD, "Mã hồ sơ": "@SUM(A1)", "Tên TTHC": "-2+3", "Trạng thái": "99"}])
    db = tmp_path / "w.duckdb"
    report = ingest(landing, db)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select procedure_name from raw.dossier_snapshots").fetchall() == [("=1+1",)]
    monkeypatch.setenv("TTHC_WAREHOUSE", str(db))
    sha = report.outcomes[-1].sha256
    for name in ("bad.csv", "bad.xlsx"):
        done = CliRunner().invoke(cli, ["quarantine", sha[:10], "--out", str(tmp_path / name)])
        assert done.exit_code == 0, done.output
    rows = (tmp_path / "bad.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("Tệp,Dòng,Lý do,Mã hồ sơ") and "'@SUM(A1)" in rows[1] and "'-2+3" in rows[1]
    sheet = openpyxl.load_workbook(tmp_path / "bad.xlsx").active
    cells = {c.value: c.data_type for c in sheet[2]}
    assert cells["@SUM(A1)"] == cells["-2+3"] == "s" and cells[3] == "n"  # text as text, the row number a number
    assert "status is not a code 1-10 or its label: Trạng thái = '99'" in cells
