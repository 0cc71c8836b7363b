"""Ingestion of landed files into the raw tables: quirks, quarantine, rejection, idempotency, accounting, PII."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import unicodedata
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter

from contracts.landed_tables import DOSSIER_COLUMNS
from ingestion import ingest as ingest_module
from ingestion.ingest import ingest_landing

from .conftest import PII_KEY

HEADERS = list(DOSSIER_COLUMNS)
CITIZEN_ID = "027123456789"
GOOD = {
    "Mã hồ sơ": "000.00.01.H02-230615-0001", "Mã TTHC": "1.003918", "Tên TTHC": "Thủ tục thành lập hội",
    "Mã đơn vị": "000.00.01.H02", "Kênh nộp": "2", "Ngày tiếp nhận": "15/06/2023 08:30:00",
    "Ngày hẹn trả": "20/06/2023 17:00:00", "Ngày kết thúc xử lý": "19/06/2023 10:00:00", "Trạng thái": "10",
    "Phí, lệ phí (đồng)": "1500000", "Thanh toán trực tuyến": "1", "Số biên lai điện tử": "BL2023-1",
    "Số hóa thành phần hồ sơ": "1", "Có kết quả điện tử": "0", "Chủ hồ sơ": "Nguyễn Văn An",
    "Số giấy tờ chủ hồ sơ": CITIZEN_ID, "Thời điểm cập nhật": "19/06/2023 10:00:00",
}
EXPECTED = {"dossier_code": "000.00.01.H02-230615-0001", "channel": 2, "status": 10, "fee_amount": 1_500_000,
            "paid_online": 1, "components_digitised": True, "e_result": False}


def write_csv(path: Path, rows: list[dict], sep=",", bom=False, crlf=False) -> Path:
    """A CSV with the first row's keys as headers (RFC 4180 quoting by the csv module)."""
    headers = list(rows[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    data = buffer.getvalue().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def run(landing: Path, db: Path):
    with duckdb.connect(str(db)) as con:
        return ingest_landing(landing, con, PII_KEY)


def loaded_rows(db: Path) -> pl.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql("select l.file_path, s.* from raw.dossier_snapshots s "
                       "join raw.ingestion_ledger l on l.sha256 = s.batch_id and l.status = 'loaded'").pl()


def quirk_variants() -> dict[str, tuple[list[dict], dict]]:
    def with_(**changes):
        return [{**GOOD, **changes}]

    nfd = {unicodedata.normalize("NFD", k): unicodedata.normalize("NFD", v) for k, v in GOOD.items()}
    upper = {k.upper(): v for k, v in GOOD.items()}
    shuffled = dict(reversed(list(GOOD.items())))
    return {
        "comma.csv": ([GOOD], {}),
        "semicolon.csv": ([GOOD], {"sep": ";"}),
        "bom_crlf.csv": ([GOOD], {"bom": True, "crlf": True}),
        "nfd.csv": ([nfd], {}),
        "upper_headers.csv": ([upper], {}),
        "shuffled_extra.csv": ([{**shuffled, "Ghi chú": "x", "Cán bộ": "y"}], {}),
        "labels.csv": (with_(**{"Kênh nộp": "Trực tuyến", "Trạng thái": "ĐÃ TRẢ KẾT QUẢ"}), {}),
        "label_qua_mang.csv": (with_(**{"Kênh nộp": "qua  mạng", "Trạng thái": "đã trả kết quả"}), {}),
        "fee_dots.csv": (with_(**{"Phí, lệ phí (đồng)": "1.500.000"}), {}),
        "fee_commas.csv": (with_(**{"Phí, lệ phí (đồng)": "1,500,000"}), {}),
        "bool_co_khong.csv": (with_(**{"Số hóa thành phần hồ sơ": "Có", "Có kết quả điện tử": "Không"}), {}),
        "bool_x_empty.csv": (with_(**{"Số hóa thành phần hồ sơ": "x", "Có kết quả điện tử": ""}), {}),
        "iso_t.csv": (with_(**{"Ngày tiếp nhận": "2023-06-15T08:30:00", "Ngày hẹn trả": "2023-06-20T17:00:00",
                               "Ngày kết thúc xử lý": "2023-06-19T10:00:00",
                               "Thời điểm cập nhật": "2023-06-19T10:00:00"}), {}),
        "iso_space.csv": (with_(**{"Ngày tiếp nhận": "2023-06-15 08:30:00", "Thời điểm cập nhật": "2023-06-19 10:00:00"}), {}),
        "minutes.csv": (with_(**{"Ngày tiếp nhận": "15/06/2023 08:30", "Thời điểm cập nhật": "19/06/2023 10:00"}), {}),
        "padded.csv": ([{k: f"  {v} " for k, v in GOOD.items()}], {}),
    }


def test_every_quirk_of_the_contract_loads_the_same_values(landing, tmp_path):
    for name, (rows, style) in quirk_variants().items():
        write_csv(landing / "dossiers" / "quirks" / name, rows, **style)
    report = run(landing, tmp_path / "w.duckdb")
    by_file = {o.file_path: o for o in report.outcomes}
    rows = loaded_rows(tmp_path / "w.duckdb")
    for name in quirk_variants():
        outcome = by_file[f"dossiers/quirks/{name}"]
        assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded", 1, 0), (name, outcome)
        row = rows.filter(pl.col("file_path") == f"dossiers/quirks/{name}").row(0, named=True)
        for column, value in EXPECTED.items():
            assert row[column] == value, (name, column, row[column])
        assert row["procedure_name"] == "Thủ tục thành lập hội"  # NFC whatever the file's form
    assert by_file["dossiers/quirks/shuffled_extra.csv"].unknown_columns == "Ghi chú, Cán bộ"
    assert rows.filter(pl.col("file_path") == "dossiers/quirks/iso_space.csv")["received_at"][0].minute == 30


def test_a_decomposed_file_reads_as_the_same_text_as_its_composed_twin(tmp_path):
    """A file with combining marks is normalised value by value (readers.read_csv), one without them whole: both
    give what NFC of the whole file gives, including a character that is not NFC without any combining mark."""
    from ingestion.readers import BOM, COMBINING_MARK_LEAD_BYTES, read_csv

    text = ('Mã hồ sơ;Tên thủ tục;Ghi chú\r\n'
            'H1;"Thủ tục ""thành lập""; hội";Ånh\r\n'
            'H2;Đăng ký kết hôn;"hai\r\ndòng: Nguyễn Thị Hà"\r\n')
    forms = {"composed": unicodedata.normalize("NFC", text), "decomposed": unicodedata.normalize("NFD", text),
             "mixed": "".join(unicodedata.normalize("NFD" if n % 2 else "NFC", line)
                              for n, line in enumerate(text.splitlines(keepends=True))),
             # a mark right after the delimiter, marks out of canonical order
             "loose_marks": text + "H3;\u0302a\u0323\u0303;x\u0301\r\n",
             "angstrom_sign": text.replace("Å", "\u212b")}
    for name, form in forms.items():
        expected = pl.read_csv(io.BytesIO(unicodedata.normalize("NFC", form).encode()), separator=";",
                               infer_schema=False)
        table = read_csv(tmp_path / f"{name}.csv", BOM + form.encode("utf-8"))
        assert table.headers == expected.columns, name
        assert table.frame.drop("__source_row").rows() == expected.rows(), name
        assert table.frame.get_column("__source_row").to_list() == list(range(2, expected.height + 2)), name
    # the forms take both paths: the decomposed ones hold combining marks, the Ångström sign alone does not
    assert [any(lead in form.encode() for lead in COMBINING_MARK_LEAD_BYTES) for form in forms.values()] == [
        False, True, True, True, False]


def test_first_occurrences_keeps_the_first_of_each_exact_duplicate_even_when_hashes_collide():
    from ingestion.ingest import first_occurrences

    frame = pl.DataFrame({"a": ["x", "x", None, None, "y", "x", "y", "z"],
                          "b": ["1", "1", None, None, "2", None, "2", "1"]})
    expected = [True, False, True, False, True, True, False, True]
    assert first_occurrences(frame, ["a", "b"]).to_list() == expected
    # every row with the same hash: the values alone decide
    assert first_occurrences(frame, ["a", "b"], lambda columns: pl.repeat(0, pl.len())).to_list() == expected
    assert first_occurrences(frame.clear(), ["a", "b"]).to_list() == []


def test_xlsx_with_title_rows_totals_row_and_date_cells(landing, tmp_path):
    from datetime import datetime

    path = landing / "dossiers" / "bao_cao.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    date_cell = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    sheet.write(0, 0, "DANH SÁCH HỒ SƠ")
    sheet.write(1, 0, "Từ ngày 15/06/2023")
    sheet.write_row(3, 0, HEADERS)
    for r in (4, 5):
        for c, header in enumerate(HEADERS):
            value = GOOD[header]
            if header.startswith(("Ngày", "Thời điểm")):
                sheet.write_datetime(r, c, datetime.strptime(value, "%d/%m/%Y %H:%M:%S"), date_cell)
            elif header in ("Phí, lệ phí (đồng)", "Trạng thái", "Kênh nộp"):
                sheet.write_number(r, c, int(value))
            else:
                sheet.write_string(r, c, value if r == 4 else value.replace("0001", "0002"))
    sheet.write(6, 0, "Tổng cộng: 2 hồ sơ")
    workbook.close()
    report = run(landing, tmp_path / "w.duckdb")
    outcome = report.outcomes[-1]
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded) == ("loaded", 2, 2)
    rows = loaded_rows(tmp_path / "w.duckdb").filter(pl.col("file_path") == "dossiers/bao_cao.xlsx").sort("source_row")
    assert rows["source_row"].to_list() == [5, 6]  # sheet rows, as a person sees them
    assert rows["fee_amount"].to_list() == [1_500_000, 1_500_000]
    assert rows["received_at"][0] == datetime(2023, 6, 15, 8, 30)


QUARANTINE_CASES = {
    "missing_required": ({"Mã đơn vị": ""}, "missing required value: Mã đơn vị"),
    "bad_timestamp": ({"Ngày tiếp nhận": "31/02/2023 08:00:00"}, "timestamp does not parse: Ngày tiếp nhận"),
    "bad_number": ({"Phí, lệ phí (đồng)": "1.5OO.OOO"}, "number does not parse: Phí, lệ phí (đồng)"),
    "bad_status": ({"Trạng thái": "11"}, "status is not a code 1-10"),
    "bad_channel": ({"Kênh nộp": "Fax"}, "channel is not 1/2/3"),
    "finished_before_received": ({"Ngày kết thúc xử lý": "14/06/2023 10:00:00"}, "Ngày kết thúc xử lý is before"),
    "due_before_received": ({"Ngày hẹn trả": "01/06/2023 17:00:00"}, "Ngày hẹn trả is before"),
    "negative_fee": ({"Phí, lệ phí (đồng)": "-50000"}, "Phí, lệ phí (đồng) is negative"),
    "unknown_unit": ({"Mã đơn vị": "000.00.99.H02"}, "unit code not in reference/units.csv"),
}


def test_each_quarantine_reason_keeps_the_row_whole_masked_with_its_row_number(landing, tmp_path):
    rows = [GOOD] + [{**GOOD, **change} for change, _ in QUARANTINE_CASES.values()]
    rows.append({**GOOD, "Kênh nộp": "Fax", "Trạng thái": "Chờ"})  # two reasons at once
    write_csv(landing / "dossiers" / "bad.csv", rows)
    report = run(landing, tmp_path / "w.duckdb")
    outcome = report.outcomes[-1]
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (11, 1, 10)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        quarantined = con.sql("select source_row, raw_record, reasons from raw.quarantine order by source_row").pl()
    assert quarantined["source_row"].to_list() == list(range(3, 13))  # header is row 1, the good row is row 2
    for (_, expected), reasons in zip(QUARANTINE_CASES.values(), quarantined["reasons"].to_list(), strict=False):
        assert len(reasons) == 1 and reasons[0].startswith(expected), reasons
    assert len(quarantined["reasons"][-1]) == 2
    record = json.loads(quarantined["raw_record"][0])
    assert record["Mã hồ sơ"] == GOOD["Mã hồ sơ"] and record["Số giấy tờ chủ hồ sơ"] == "***"
    assert record["Chủ hồ sơ"] == "***"


def test_unknown_procedure_codes_are_loaded_with_a_warning(landing, tmp_path):
    write_csv(landing / "dossiers" / "new_proc.csv", [{**GOOD, "Mã TTHC": "9.999999"}])
    outcome = run(landing, tmp_path / "w.duckdb").outcomes[-1]
    assert outcome.rows_loaded == 1 and "9.999999" in outcome.warnings


def test_rejected_files_name_the_file_and_the_reason_and_do_not_stop_the_run(landing, tmp_path):
    legacy = landing / "dossiers" / "legacy.csv"
    legacy.write_bytes(",".join(HEADERS).encode("cp1258", errors="replace") + b"\n" +
                       unicodedata.normalize("NFD", "Thủ tục").encode("cp1258", errors="replace") + b"\n")
    write_csv(landing / "dossiers" / "no_unit.csv", [{k: v for k, v in GOOD.items() if k != "Mã đơn vị"}])
    write_csv(landing / "dossiers" / "zgood.csv", [GOOD])
    report = run(landing, tmp_path / "w.duckdb")
    by_file = {o.file_path: o for o in report.outcomes}
    assert by_file["dossiers/legacy.csv"].status == "rejected"
    assert re.search(r"legacy\.csv: not valid UTF-8 \(byte 0x[0-9a-f]{2} at offset \d+\)", by_file["dossiers/legacy.csv"].error)
    assert by_file["dossiers/no_unit.csv"].status == "rejected"
    assert "no_unit.csv: required column missing: Mã đơn vị" in by_file["dossiers/no_unit.csv"].error
    assert by_file["dossiers/zgood.csv"].status == "loaded"


def test_exact_duplicates_within_a_batch_are_dropped_and_counted(landing, tmp_path):
    write_csv(landing / "dossiers" / "dups.csv", [GOOD, GOOD, {**GOOD, "Trạng thái": "9"}, GOOD])
    outcome = run(landing, tmp_path / "w.duckdb").outcomes[-1]
    assert (outcome.rows_read, outcome.rows_loaded, outcome.duplicates_dropped) == (4, 2, 2)


def test_same_bytes_are_never_counted_twice_and_new_bytes_are_a_new_batch(landing, tmp_path):
    db = tmp_path / "w.duckdb"
    write_csv(landing / "dossiers" / "a.csv", [GOOD])
    first = run(landing, db)
    assert [o.status for o in first.outcomes if o.kind == "dossiers"] == ["loaded"]
    assert run(landing, db).outcomes == []  # nothing new
    shutil.copy(landing / "dossiers" / "a.csv", landing / "dossiers" / "a_gui_lai.csv")
    again = run(landing, db)
    assert [(o.file_path, o.status) for o in again.outcomes] == [("dossiers/a_gui_lai.csv", "skipped_same_bytes")]
    write_csv(landing / "dossiers" / "a.csv", [{**GOOD, "Trạng thái": "9"}])  # known name, new bytes
    changed = run(landing, db)
    assert [(o.file_path, o.status) for o in changed.outcomes] == [("dossiers/a.csv", "loaded")]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from raw.dossier_snapshots").fetchone()[0] == 2
        seqs = con.execute("select batch_seq from raw.ingestion_ledger where file_path = 'dossiers/a.csv' "
                           "order by ingested_at, batch_seq").fetchall()
        assert seqs[0][0] < seqs[1][0]  # the later batch wins ties in the current state


def test_a_crash_mid_batch_leaves_no_half_batch_and_the_next_run_picks_it_up(landing, tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    write_csv(landing / "dossiers" / "a.csv", [GOOD, {**GOOD, "Trạng thái": "9"}])

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(ingest_module, "_write_ledger", crash)
    with pytest.raises(RuntimeError):
        run(landing, db)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from raw.dossier_snapshots").fetchone()[0] == 0
    monkeypatch.undo()
    report = run(landing, db)
    assert [o.file_path for o in report.of(status="loaded")][-1] == "dossiers/a.csv"


def test_dossiers_wait_for_the_units_reference(tmp_path):
    landing = tmp_path / "landing"
    write_csv(landing / "dossiers" / "a.csv", [GOOD])
    report = run(landing, tmp_path / "w.duckdb")
    assert report.outcomes == [] and "no reference/units.csv" in report.deferred[0]


def test_row_accounting_holds_for_every_batch_of_the_sample(small_generation, small_ingested):
    db, report = small_ingested
    with duckdb.connect(str(db), read_only=True) as con:
        ledger = con.sql("select * from raw.ingestion_ledger").pl()
        snapshots = con.execute("select count(*) from raw.dossier_snapshots").fetchone()[0]
        quarantined = con.execute("select count(*) from raw.quarantine where kind = 'dossiers'").fetchone()[0]
    assert (ledger["rows_read"] == ledger["rows_loaded"] + ledger["rows_quarantined"] + ledger["duplicates_dropped"]).all()
    assert snapshots == small_generation.snapshot_rows  # every good snapshot, once
    assert quarantined == sum(small_generation.bad_rows.values())
    assert ledger.filter(pl.col("kind") == "dossiers")["duplicates_dropped"].sum() == small_generation.duplicate_rows
    statuses = dict(ledger.group_by("status").len().iter_rows())
    assert statuses == {"loaded": ledger.height - 3, "rejected": 2, "skipped_same_bytes": 1}


def test_no_clear_citizen_id_or_name_lands_in_the_warehouse(small_landing, small_ingested):
    db, _ = small_ingested
    ids, names = set(), set()
    for path in (small_landing / "dossiers").rglob("*.csv"):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            continue
        ids |= set(re.findall(r"\b027\d{9}\b", text))
        names |= set(re.findall(r"Nguyễn Văn \w+", unicodedata.normalize("NFC", text)))
    assert len(ids) > 1000 and names
    with duckdb.connect(str(db), read_only=True) as con:
        columns = con.execute("select table_schema, table_name, column_name from information_schema.columns "
                              "where data_type in ('VARCHAR', 'VARCHAR[]')").fetchall()
        assert not [c for c in columns if "applicant_name" in c[2] or c[2] == "applicant_id"]
        for schema, table, column in columns:
            hits = con.execute(f'select count(*) from "{schema}"."{table}" '
                               f"where regexp_matches(cast(\"{column}\" as varchar), '\\b027\\d{{9}}\\b') "
                               f"or contains(cast(\"{column}\" as varchar), 'Nguyễn Văn')").fetchone()[0]
            assert hits == 0, (schema, table, column)
    raw = Path(db).read_bytes()
    assert not any(i.encode() in raw for i in list(ids)[:2000])


def test_the_raw_batch_suite_names_the_batch_that_breaks_it(small_ingested, tmp_path):
    from datetime import datetime

    import expectations.raw_batches as raw_batches

    db = tmp_path / "w.duckdb"
    shutil.copy(small_ingested[0], db)
    with duckdb.connect(str(db)) as con:
        ids = [r[0] for r in con.execute("select sha256 from raw.ingestion_ledger where kind = 'dossiers' "
                                         "and status = 'loaded' order by batch_seq").fetchall()]
        assert raw_batches.validate_batches(con, "dossier_snapshots", ids, datetime.now()).success
        con.execute("update raw.dossier_snapshots set fee_amount = -1 where batch_id = ? and source_row = 2", [ids[7]])
        outcome = raw_batches.validate_batches(con, "dossier_snapshots", ids, datetime.now())
        verdicts = dict(con.execute("select batch_id, success from raw.batch_validations "
                                    "where run_at = (select max(run_at) from raw.batch_validations)").fetchall())
    assert not outcome.success and outcome.failing_keys() == {(ids[7],)}
    assert [b for b, ok in verdicts.items() if not ok] == [ids[7]] and len(verdicts) == len(ids)


def test_an_unchanged_file_is_not_read_again_and_a_changed_one_is(landing, tmp_path, monkeypatch):
    import hashlib
    import os

    db = tmp_path / "w.duckdb"
    write_csv(landing / "dossiers" / "a.csv", [GOOD])
    write_csv(landing / "dossiers" / "b.csv", [{**GOOD, "Mã hồ sơ": "000.00.01.H02-230615-0002"}])
    run(landing, db)
    hashed = []
    real_digest = hashlib.file_digest
    monkeypatch.setattr(hashlib, "file_digest", lambda handle, name: hashed.append(handle.name) or real_digest(handle, name))
    assert run(landing, db).outcomes == [] and hashed == [], "path, size and time unchanged: not read again"
    stat = (landing / "dossiers" / "b.csv").stat()
    os.utime(landing / "dossiers" / "b.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched, same bytes
    assert run(landing, db).outcomes == [] and [Path(h).name for h in hashed] == ["b.csv"]
    assert run(landing, db).outcomes == [] and len(hashed) == 1, "its new time is remembered"
    write_csv(landing / "dossiers" / "a.csv", [{**GOOD, "Trạng thái": "9"}])  # new bytes
    changed = run(landing, db)
    assert [(o.file_path, o.status) for o in changed.outcomes] == [("dossiers/a.csv", "loaded")]


def test_the_sql_engine_finds_what_great_expectations_finds(small_ingested, tmp_path):
    """Every expectation of both raw suites broken in some batch: both engines give the same verdicts, counts and
    failing batches on the same rows."""
    from expectations.engine import frame_for_gx, run_suite
    from expectations.raw_batches import SUITES
    from expectations.sql_engine import run_suite_sql

    db = tmp_path / "w.duckdb"
    shutil.copy(small_ingested[0], db)
    breaks = {
        "dossier_snapshots": [
            "set dossier_code = null", "set status = 11", "set channel = 9", "set paid_online = 7",
            "set fee_amount = -5", "set finished_at = received_at - interval 1 day",
            "set due_at = received_at - interval 2 hour", "set applicant_id_hash = 'CMND 012345678'",
            "set unit_code = null, procedure_code = null"],
        "unit_reports": ["set period = '13/2023'", "set unit_code = null", "set submitted_at = null"],
    }
    with duckdb.connect(str(db)) as con:
        con.execute("create schema broken")
        for table, updates in breaks.items():
            con.execute(f"create table broken.{table} as select * from raw.{table}")  # without the NOT NULLs
            batches = [b for (b,) in con.execute(f"select distinct batch_id from raw.{table} order by batch_id").fetchall()]
            for batch, update in zip(batches, updates, strict=False):
                con.execute(f"update broken.{table} {update} where batch_id = ? and source_row % 3 = 0", [batch])
            name, suite = SUITES[table]
            by_gx = run_suite(name, suite(), frame_for_gx(con.sql(f"select * from broken.{table}")),
                              key_columns=("batch_id",))
            by_sql = run_suite_sql(con, name, suite(), f"broken.{table}", key_columns=("batch_id",))
            assert not by_gx.success and len(by_gx.failed) >= len(updates) - 1, by_gx.describe_failures()

            def verdicts(outcome):
                return sorted(((o.expectation, o.column or "", o.success, o.unexpected_count, o.failing_keys,
                                o.element_count, o.arguments) for o in outcome.outcomes), key=lambda v: v[:2])

            assert verdicts(by_sql) == verdicts(by_gx), table


def test_a_large_load_is_ingested_in_a_worker_and_a_small_one_in_the_run_with_the_same_verdicts(small_landing, tmp_path,
                                                                                                monkeypatch):
    """Where ingestion and the raw suites run (a worker process above its threshold; the run's process for a nightly
    export, without importing Great Expectations) changes neither the batches, the verdict per batch nor the
    outcome."""
    from datetime import datetime

    from orchestration import ingestion_worker
    from orchestration.settings import Settings

    run_at = datetime(2026, 11, 28, 3, 0)
    spawned = []
    real_worker = ingestion_worker.ingest_in_worker
    monkeypatch.setattr(ingestion_worker, "ingest_in_worker", lambda *a, **k: spawned.append(1) or real_worker(*a, **k))
    verdicts, outcomes, loaded = {}, {}, {}
    for where, threshold in (("worker", 0), ("run", 10**9)):
        settings = Settings.from_env().with_paths(landing_dir=small_landing, warehouse=tmp_path / where / "w.duckdb")
        settings.warehouse.parent.mkdir()
        result = ingestion_worker.ingest(settings, run_at, log=lambda line: None, warn=lambda line: None,
                                         worker_above_bytes=threshold)
        assert len(spawned) == 1, "the large load only went to a worker"
        with duckdb.connect(str(settings.warehouse)) as con:
            verdicts[where] = con.execute("select batch_id, kind, suite, success, evaluated_expectations, "
                                          "failed_expectations from raw.batch_validations order by all").fetchall()
            loaded[where] = con.execute("select kind, sha256, rows_loaded from raw.ingestion_ledger "
                                        "where status = 'loaded' order by all").fetchall()
        outcomes[where] = {t: o and (o.success, o.evaluated, o.failing_keys()) for t, o in result.validations.items()}
    counted = {sha for kind, sha, _ in loaded["run"] if kind in ("dossiers", "unit_reports")}
    assert {v[0] for v in verdicts["run"]} == counted and all(v[3] and v[4] > 0 for v in verdicts["run"])
    assert loaded["worker"] == loaded["run"]
    assert verdicts["worker"] == verdicts["run"] and outcomes["worker"] == outcomes["run"]
    assert outcomes["run"]["dossier_snapshots"][:2] == (True, 15) and outcomes["run"]["unit_reports"][0]


def test_a_nightly_load_is_validated_without_importing_great_expectations(small_landing, tmp_path):
    """In a fresh interpreter, as a run's process: ingestion and the raw suites of a small load import no GX."""
    import subprocess
    import sys

    script = (
        "import sys\nfrom datetime import datetime\nfrom pathlib import Path\n"
        "from orchestration.ingestion_worker import ingest\nfrom orchestration.settings import Settings\n"
        f"settings = Settings.from_env().with_paths(landing_dir=Path({str(small_landing)!r}), "
        f"warehouse=Path({str(tmp_path / 'w.duckdb')!r}))\n"
        "result = ingest(settings, datetime(2026, 11, 28, 3), log=lambda line: None, warn=print)\n"
        "assert all(o.success for o in result.validations.values()), result.validations\n"
        "print('great_expectations' in sys.modules, sorted(result.validations))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "False ['dossier_snapshots', 'unit_reports']"


def _parquet_differs_from_raw(con, folder: Path, table: str) -> int:
    """Rows in one but not the other, between a raw table and its Parquet partitions."""
    columns = ", ".join(r[0] for r in con.execute(f"describe raw.{table}").fetchall())
    read = f"read_parquet('{folder / table}/*/*.parquet', hive_partitioning = true)"
    return con.execute(f"select count(*) from ((select {columns} from raw.{table} except all "
                       f"select {columns} from {read}) union all (select {columns} from {read} "
                       f"except all select {columns} from raw.{table}))").fetchone()[0]


def test_ingestion_writes_each_batch_as_parquet_in_the_pass_that_loads_it(small_landing, tmp_path):
    """What the Spark engines read: every raw row, once, one partition per batch named by its batch, written while
    loading (the pass after it has nothing to write), the ledger and validations whole."""
    from ingestion.parquet_export import APPEND_ONLY, REWRITTEN, batch_file_name, complete_raw_parquet

    db, folder = tmp_path / "w.duckdb", tmp_path / "raw_parquet"
    with duckdb.connect(str(db)) as con:
        ingest_landing(small_landing, con, PII_KEY, parquet_dir=folder)
        partitions = {p.name for p in (folder / "dossier_snapshots").iterdir()}
        batches = con.execute("select distinct s.batch_seq, l.sha256 from raw.dossier_snapshots s "
                              "join raw.ingestion_ledger l using (batch_seq)").fetchall()
        assert len(batches) > 10 and partitions == {f"batch_seq={seq}" for seq, _ in batches}
        assert all([f.name for f in (folder / "dossier_snapshots" / f"batch_seq={seq}").iterdir()]
                   == [batch_file_name(sha)] for seq, sha in batches)
        assert not (folder / "ingestion_ledger").exists()  # whole tables: written by the pass after loading
        repaired = complete_raw_parquet(con, folder)
        assert repaired == dict.fromkeys(APPEND_ONLY, 0) | {t: 1 for t in APPEND_ONLY
                                                           if not con.execute(f"select count(*) from raw.{t}").fetchone()[0]}
        for table in APPEND_ONLY:
            assert _parquet_differs_from_raw(con, folder, table) == 0, table
        for table in REWRITTEN:
            assert con.execute(f"select count(*) from '{folder / table}/data.parquet'").fetchone()[0] == \
                con.execute(f"select count(*) from raw.{table}").fetchone()[0]


def test_a_table_without_any_batch_has_an_empty_partition_with_its_columns(small_ingested, tmp_path):
    from ingestion.parquet_export import complete_raw_parquet

    db, folder = tmp_path / "w.duckdb", tmp_path / "raw_parquet"
    shutil.copy(small_ingested[0], db)
    with duckdb.connect(str(db)) as con:
        con.execute("delete from raw.reference_programmes")  # programmes.csv is optional
        assert complete_raw_parquet(con, folder)["dossier_snapshots"] > 10  # a warehouse loaded without Parquet
        assert [p.name for p in (folder / "reference_programmes").iterdir()] == ["batch_seq=0"]
        empty = con.execute(f"select * from read_parquet('{folder}/reference_programmes/*/*.parquet', "
                            f"hive_partitioning = true)")
        assert empty.fetchall() == [] and sorted(d[0] for d in empty.description) == sorted(
            r[0] for r in con.execute("describe raw.reference_programmes").fetchall())
        assert complete_raw_parquet(con, folder)["dossier_snapshots"] == 0  # nothing missing: nothing written


def test_a_batch_rolled_back_leaves_no_partition_and_one_committed_without_its_partition_is_repaired(
        landing, tmp_path, monkeypatch):
    from ingestion import parquet_export
    from ingestion.parquet_export import complete_raw_parquet

    db, folder = tmp_path / "w.duckdb", tmp_path / "raw_parquet"
    with duckdb.connect(str(db)) as con:  # the references first
        ingest_landing(landing, con, PII_KEY, parquet_dir=folder)
    write_csv(landing / "dossiers" / "a.csv", [GOOD, {**GOOD, "Trạng thái": "9"}])

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(ingest_module, "_write_ledger", crash)  # the transaction fails after the batch was staged
    with pytest.raises(RuntimeError), duckdb.connect(str(db)) as con:
        ingest_landing(landing, con, PII_KEY, parquet_dir=folder)
    assert not (folder / "dossier_snapshots").exists() or not any((folder / "dossier_snapshots").iterdir())
    monkeypatch.undo()
    # committed, then the process dies before the rename: the staging folder stays, hidden from readers
    monkeypatch.setattr(parquet_export.BatchParquet, "publish", crash)
    with pytest.raises(RuntimeError), duckdb.connect(str(db)) as con:
        ingest_landing(landing, con, PII_KEY, parquet_dir=folder)
    monkeypatch.undo()
    with duckdb.connect(str(db)) as con:
        assert con.execute("select count(*) from raw.dossier_snapshots").fetchone()[0] == 2
        assert [p.name for p in (folder / "dossier_snapshots").iterdir() if not p.name.startswith(".")] == []
        assert complete_raw_parquet(con, folder)["dossier_snapshots"] == 1
        assert [p.name for p in (folder / "dossier_snapshots").iterdir()] == [
            f"batch_seq={con.execute('select max(batch_seq) from raw.dossier_snapshots').fetchone()[0]}"]
        assert _parquet_differs_from_raw(con, folder, "dossier_snapshots") == 0


def test_a_rebuilt_warehouse_replaces_the_partitions_its_batch_numbers_no_longer_match(landing, tmp_path):
    """The warehouse deleted and rebuilt from the landing numbers its batches again: a partition whose file names
    another batch is replaced, and one beyond the new numbering removed; nothing is read twice."""
    from ingestion.parquet_export import complete_raw_parquet

    folder = tmp_path / "raw_parquet"
    write_csv(landing / "dossiers" / "b.csv", [{**GOOD, "Mã hồ sơ": "000.00.01.H02-230615-0002"}])
    write_csv(landing / "dossiers" / "c.csv", [{**GOOD, "Mã hồ sơ": "000.00.01.H02-230615-0003"}])
    with duckdb.connect(str(tmp_path / "first.duckdb")) as con:
        ingest_landing(landing, con, PII_KEY, parquet_dir=folder)
        complete_raw_parquet(con, folder)
    (landing / "dossiers" / "b.csv").unlink()  # the rebuilt warehouse loads c.csv under b.csv's number
    with duckdb.connect(str(tmp_path / "rebuilt.duckdb")) as con:
        ingest_landing(landing, con, PII_KEY, parquet_dir=folder)
        complete_raw_parquet(con, folder)
        assert _parquet_differs_from_raw(con, folder, "dossier_snapshots") == 0
        assert con.execute(f"select count(*) from '{folder}/dossier_snapshots/*/*.parquet'").fetchone()[0] == 1


# --- hostile files, files still being written, corrected exports (issue #22) ------------------------------------

def test_each_hostile_file_gets_one_rejected_row_naming_it_and_the_file_beside_it_loads(landing, tmp_path):
    from .hostile_files import land_hostile_files

    expected = land_hostile_files(landing / "dossiers")
    write_csv(landing / "dossiers" / "good.csv", [GOOD])
    db = tmp_path / "w.duckdb"
    report = run(landing, db)
    rejected = {o.file_path.removeprefix("dossiers/"): o.error for o in report.of(status="rejected")}
    assert rejected.keys() == expected.keys()
    for name, reason in expected.items():
        assert rejected[name].startswith(f"dossiers/{name}: ") and reason in rejected[name], rejected[name]
    assert [o.file_path for o in report.of(table="dossier_snapshots", status="loaded")] == ["dossiers/good.csv"]
    with duckdb.connect(str(db), read_only=True) as con:
        ledger = con.execute("select file_path, status from raw.ingestion_ledger where kind = 'dossiers'").fetchall()
    assert sorted(ledger) == sorted([(f"dossiers/{n}", "rejected") for n in expected] + [("dossiers/good.csv", "loaded")])
    assert run(landing, db).outcomes == [], "each is reported once, not at every run"


def test_the_xlsx_reader_refuses_what_would_not_fit_in_memory_before_reading_it(tmp_path):
    """A far cell or a zip bomb is refused from the archive's own listing and a streamed scan: the process stays
    small (read whole, the fault session measured a 550 GB allocation and 4.9 GiB then a panic)."""
    import subprocess
    import sys

    from .hostile_files import far_cell_xlsx, long_narrow_xlsx, zip_bomb_xlsx

    files = [far_cell_xlsx(tmp_path / "far.xlsx"), zip_bomb_xlsx(tmp_path / "bomb.xlsx"),
             long_narrow_xlsx(tmp_path / "long.xlsx")]
    # the peak of this program (VmHWM): ru_maxrss would carry pytest's own peak over fork and exec
    code = ("import re, sys\nfrom pathlib import Path\nfrom ingestion.readers import RejectedFile, read_landed\n"
            "for name in sys.argv[1:]:\n    try:\n        read_landed(Path(name), b'', 'Mã hồ sơ')\n"
            "        print('READ', name)\n    except RejectedFile as exc:\n        print('REJECTED', exc)\n"
            "print('PEAK_KB', re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1))\n")
    done = subprocess.run([sys.executable, "-c", code, *map(str, files)], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["REJECTED", "REJECTED", "REJECTED"], lines
    assert int(lines[-1].split()[1]) < 700_000, "the reader stayed within a few hundred MB"


def _cut_last_row(path: Path, keep_suffix: str) -> bytes:
    """The file as a copy caught mid-write: its last row ends after `keep_suffix`, with no line end."""
    raw = path.read_bytes()
    cut = raw.rstrip(b"\r\n")
    end = cut.rfind(keep_suffix.encode()) + len(keep_suffix.encode())
    return cut[:end]


def test_a_last_row_without_its_line_end_is_quarantined_not_loaded(landing, tmp_path):
    from ingestion.normalise import CUT_SHORT_REASON

    rows = [{**GOOD, "Mã hồ sơ": f"000.00.01.H02-230615-{i:04d}"} for i in range(1, 31)]
    path = write_csv(landing / "dossiers" / "copying.csv", rows)
    path.write_bytes(_cut_last_row(path, "19/06/2023"))  # the last value still parses: a date without its time
    db = tmp_path / "w.duckdb"
    report = run(landing, db)
    [outcome] = report.of(table="dossier_snapshots")
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (30, 29, 1)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select source_row, reasons from raw.quarantine").fetchall() == [(31, [CUT_SHORT_REASON])]
        assert "000.00.01.H02-230615-0030" not in {r[0] for r in con.execute(
            "select dossier_code from raw.dossier_snapshots").fetchall()}


def test_a_file_still_being_written_is_read_once_it_has_settled(landing, tmp_path, monkeypatch):
    """A file that changes while ingestion waits for it to settle is left for a later run; once it stays
    unchanged, it is read whole."""
    import time

    path = write_csv(landing / "dossiers" / "growing.csv", [GOOD])
    row = path.read_bytes().split(b"\n")[1].split(b",", 1)[1]
    waits = []

    def wait_while_the_copy_goes_on(seconds):  # the export keeps growing during the settle time
        waits.append(seconds)
        with path.open("ab") as handle:
            handle.write(f"000.00.01.H02-230615-{len(waits) + 1:04d},".encode() + row + b"\n")

    monkeypatch.setattr(ingest_module.time, "sleep", wait_while_the_copy_goes_on)
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        first = ingest_landing(landing, con, PII_KEY, settle_seconds=30.0)
    assert len(waits) == 1 and 0 < waits[0] <= 30.0
    assert first.of(table="dossier_snapshots") == [] and first.deferred[0].startswith("dossiers/growing.csv: changed")
    monkeypatch.setattr(ingest_module.time, "sleep", lambda seconds: waits.append(seconds))  # the copy has ended
    with duckdb.connect(str(db)) as con:
        second = ingest_landing(landing, con, PII_KEY, settle_seconds=30.0)
    [outcome] = second.of(table="dossier_snapshots")
    assert len(waits) == 2 and outcome.status == "loaded" and outcome.rows_loaded == 2
    old = time.time() - 60  # a file older than the settle time is read at once, without waiting
    write_csv(landing / "dossiers" / "old.csv", [{**GOOD, "Mã hồ sơ": "000.00.01.H02-230615-0099"}])
    os.utime(landing / "dossiers" / "old.csv", (old, old))
    with duckdb.connect(str(db)) as con:
        [third] = ingest_landing(landing, con, PII_KEY, settle_seconds=30.0).of(table="dossier_snapshots")
    assert len(waits) == 2 and third.status == "loaded"


def test_a_corrected_export_with_the_old_size_and_time_is_read_and_logged_as_a_replacement(landing, tmp_path):
    import os

    path = write_csv(landing / "dossiers" / "hoso.csv", [GOOD])
    db = tmp_path / "w.duckdb"
    [first] = run(landing, db).of(table="dossier_snapshots")
    before = path.stat()
    path.write_bytes(path.read_bytes().replace(b"1500000", b"1600000"))  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the old time (cp -p, touch -r, a sync tool)
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    [second] = run(landing, db).of(table="dossier_snapshots")
    assert second.status == "loaded" and second.replaces == first.sha256
    with duckdb.connect(str(db), read_only=True) as con:
        warnings, fee = con.execute("select l.warnings, s.fee_amount from raw.ingestion_ledger l join "
                                    "raw.dossier_snapshots s on s.batch_id = l.sha256 where l.sha256 = ?",
                                    [second.sha256]).fetchall()[0]
    assert warnings.startswith(f"replaces batch {first.sha256[:16]}") and fee == 1_600_000


def test_rehash_reads_what_size_and_times_cannot_tell_apart(landing, tmp_path):
    """Where the file system keeps no ctime change (or the ledger's signature was taken as it is now), only the
    content can tell: `tthc run --force` hashes every landed file again."""
    path = write_csv(landing / "dossiers" / "hoso.csv", [GOOD])
    db = tmp_path / "w.duckdb"
    run(landing, db)
    path.write_bytes(path.read_bytes().replace(b"1500000", b"1600000"))
    st = path.stat()
    with duckdb.connect(str(db)) as con:  # the ledger saw the file exactly as it is now
        con.execute("update raw.ingestion_ledger set file_size = ?, file_mtime_ns = ?, file_ctime_ns = ? "
                    "where file_path = 'dossiers/hoso.csv'", [st.st_size, st.st_mtime_ns, st.st_ctime_ns])
        assert ingest_landing(landing, con, PII_KEY).outcomes == []
        [outcome] = ingest_landing(landing, con, PII_KEY, rehash=True).of(table="dossier_snapshots")
    assert outcome.status == "loaded" and outcome.replaces is not None


def test_batch_reviews_in_the_journal_are_applied_when_the_warehouse_is_rebuilt(landing, tmp_path):
    from ingestion.reviews import journal_path, read_journal, record_in_journal, review_batch

    rows = [{**GOOD, "Mã hồ sơ": f"000.00.01.H02-230615-{i:04d}"} for i in range(1, 11)]
    rows[0]["Trạng thái"] = "99"  # 1 row in 10 quarantined: held
    write_csv(landing / "dossiers" / "hoso.csv", rows)
    first = tmp_path / "first" / "tthc.duckdb"
    first.parent.mkdir()
    run(landing, first)
    with duckdb.connect(str(first)) as con:
        sha = con.execute("select sha256 from raw.ingestion_ledger where review = 'held'").fetchall()[0][0]
        batch = review_batch(con, sha, "accepted")
    record_in_journal(journal_path(first), batch)
    rebuilt = tmp_path / "rebuilt.duckdb"
    with duckdb.connect(str(rebuilt)) as con:
        ingest_landing(landing, con, PII_KEY, reviews=read_journal(journal_path(first)))
        assert con.execute("select review, reviewed_at from raw.ingestion_ledger where sha256 = ?",
                           [sha]).fetchall() == [("accepted", batch.reviewed_at)]


def test_batches_that_a_killed_run_left_unvalidated_are_validated_by_the_next(landing, tmp_path):
    """Ingestion committed its batches, then the run died before validating them: the next run, which loads
    nothing new, validates them."""
    from datetime import datetime

    from orchestration.ingestion_worker import validate_new_batches

    write_csv(landing / "dossiers" / "a.csv", [GOOD])
    write_csv(landing / "dossiers" / "b.csv", [{**GOOD, "Mã hồ sơ": "000.00.01.H02-230615-0002"}])
    db = tmp_path / "w.duckdb"
    run(landing, db)  # ... and killed here
    with duckdb.connect(str(db)) as con:
        assert ingest_landing(landing, con, PII_KEY).outcomes == []  # the next run finds no new file
        validations = validate_new_batches(con, datetime(2026, 12, 5), log=lambda line: None)
        assert validations["dossier_snapshots"].success and validations["dossier_snapshots"].evaluated > 0
        validated = con.execute("select batch_id from raw.batch_validations where kind = 'dossier_snapshots'").fetchall()
        loaded = con.execute("select sha256 from raw.ingestion_ledger where kind = 'dossiers'").fetchall()
        assert sorted(validated) == sorted(loaded) and len(loaded) == 2
        again = validate_new_batches(con, datetime(2026, 12, 5), log=lambda line: None)
    assert again == {"dossier_snapshots": None, "unit_reports": None}
