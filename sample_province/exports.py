"""Daily dossier export files, with every quirk the landing contract allows, in realistic proportions.

One file per export day holds each dossier's last state of that day. Styles (delimiter, BOM, line ends, header
spelling, timestamp form, codes or labels, fee and yes/no spellings, NFD text, XLSX with title and totals rows)
are drawn per file; a low rate of bad rows of every quarantine reason is added as corrupted copies of real
snapshots, so the ground truth stays what the good rows say.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from contracts.landed_tables import DOSSIER_COLUMNS
from contracts.vocabulary import CHANNEL_LABELS, HOLD_QUARANTINED_SHARE, STATUS_LABELS

TIMESTAMP_FORMS = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
TIMESTAMP_WEIGHTS = [0.45, 0.15, 0.05, 0.2, 0.15]
TIMESTAMP_FIELDS = ("received_at", "due_at", "finished_at", "updated_at")
EXTRA_COLUMNS = {"Ghi chú": "", "Cán bộ tiếp nhận": "Nguyễn Thị Hà", "Mã hồ sơ DVCQG": "G22.99"}
QUARANTINE_REASONS = ("missing_required", "bad_timestamp", "bad_number", "bad_status", "bad_channel",
                      "finished_before_received", "due_before_received", "negative_fee", "unknown_unit")
BAD_ROW_RATE = 0.0003  # per reason
DUPLICATE_ROW_RATE = 0.0005
XLSX_SHARE = 0.02

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý", "Đào", "Trịnh"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thu", "Ngọc", "Hữu", "Quang", "Thanh", "Hồng", "Xuân", "Bá"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Hương", "Khánh", "Lan", "Linh",
         "Long", "Mai", "Nam", "Nga", "Phương", "Quân", "Sơn", "Thảo", "Trang", "Tuấn", "Yến"]
BUSINESS = ["Công ty TNHH", "Công ty cổ phần", "Doanh nghiệp tư nhân"]


@dataclass
class ExportManifest:
    files: list[Path] = field(default_factory=list)
    rows_written: int = 0
    duplicate_rows: int = 0
    bad_rows: dict[str, int] = field(default_factory=dict)
    special_files: dict[str, Path] = field(default_factory=dict)


def _applicants(d: pl.DataFrame) -> pl.DataFrame:
    draw = pl.col("applicant_draw")
    person = pl.concat_str([
        pl.lit(FAMILY).list.get(draw % len(FAMILY)), pl.lit(" "),
        pl.lit(MIDDLE).list.get((draw // 100) % len(MIDDLE)), pl.lit(" "),
        pl.lit(GIVEN).list.get((draw // 10_000) % len(GIVEN))])
    company = pl.concat_str([pl.lit(BUSINESS).list.get(draw % len(BUSINESS)), pl.lit(" "),
                             pl.lit(GIVEN).list.get((draw // 10_000) % len(GIVEN)), pl.lit(" Bắc Ninh")])
    citizen_id = pl.lit("027") + (draw % 1_000_000_000).cast(pl.String).str.zfill(9)
    tax_code = pl.lit("2300") + (draw % 1_000_000).cast(pl.String).str.zfill(6)
    return d.with_columns(
        applicant_name=pl.when("is_business").then(company).otherwise(person),
        applicant_id=pl.when("is_business").then(tax_code).otherwise(citizen_id),
    )


def _file_styles(days: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    n = len(days)
    xlsx = rng.random(n) < XLSX_SHARE
    xlsx[rng.choice(n, size=min(3, n), replace=False)] = True  # at least three XLSX exports
    return pl.DataFrame({
        "export_day": days,
        "xlsx": xlsx,
        "sep": np.where(rng.random(n) < 0.7, ",", ";"),
        "bom": rng.random(n) < 0.4,
        "crlf": rng.random(n) < 0.5,
        "header_style": rng.choice(["canonical", "upper", "nfd", "loose"], n, p=[0.6, 0.15, 0.15, 0.1]),
        "shuffle": rng.random(n) < 0.2,
        "extra": rng.random(n) < 0.25,
        "ts_form": rng.choice(len(TIMESTAMP_FORMS), n, p=TIMESTAMP_WEIGHTS),
        "status_style": rng.choice(["code", "label", "mixed"], n, p=[0.5, 0.35, 0.15]),
        "channel_style": rng.choice(["code", "label", "mixed"], n, p=[0.5, 0.35, 0.15]),
        "fee_style": rng.choice(["plain", "dots", "commas"], n, p=[0.5, 0.3, 0.2]),
        "bool_style": rng.choice(["co_khong", "one_zero", "x_empty"], n, p=[0.4, 0.35, 0.25]),
        "nfd_values": rng.random(n) < 0.1,
        "upper_labels": rng.random(n) < 0.1,
        "seed": rng.integers(0, 2**31, n),
    })


def _fee_text(style: pl.Expr) -> pl.Expr:
    fee = pl.col("fee_amount")
    millions, thousands, units = fee // 1_000_000, (fee // 1000) % 1000, fee % 1000

    def grouped(sep: str) -> pl.Expr:
        return (pl.when(fee >= 1_000_000)
                .then(pl.format("{}" + sep + "{}" + sep + "{}", millions, thousands.cast(pl.String).str.zfill(3),
                                units.cast(pl.String).str.zfill(3)))
                .when(fee >= 1000).then(pl.format("{}" + sep + "{}", thousands, units.cast(pl.String).str.zfill(3)))
                .otherwise(fee.cast(pl.String)))

    text = (pl.when(style == "dots").then(grouped(".")).when(style == "commas").then(grouped(","))
            .otherwise(fee.cast(pl.String)))
    return pl.when(fee == 0).then(pl.lit("")).otherwise(text)


def _bool_text(flag: str, style: pl.Expr) -> pl.Expr:
    col = pl.col(flag)
    return (pl.when(style == "co_khong").then(pl.when(col).then(pl.lit("Có")).otherwise(pl.lit("Không")))
            .when(style == "one_zero").then(pl.when(col).then(pl.lit("1")).otherwise(pl.lit("0")))
            .otherwise(pl.when(col).then(pl.lit("x")).otherwise(pl.lit(""))))


def _coded_text(code_col: str, labels: dict[int, str], style: pl.Expr, pick: pl.Expr) -> pl.Expr:
    code = pl.col(code_col)
    label = code.replace_strict({k: v for k, v in labels.items()}, return_dtype=pl.String)
    as_label = (style == "label") | ((style == "mixed") & pick)
    return pl.when(as_label).then(label).otherwise(code.cast(pl.String))


def _format_values(rows: pl.DataFrame) -> pl.DataFrame:
    """Every field as the text a file of its style shows (timestamps stay typed for XLSX)."""
    pick = (pl.col("dossier_id") % 2) == 0
    channel_labels = {code: labels[0] for code, labels in CHANNEL_LABELS.items()}
    channel_alt = {code: labels[1] for code, labels in CHANNEL_LABELS.items() if len(labels) > 1}
    out = rows.with_columns(
        status_text=_coded_text("status", STATUS_LABELS, pl.col("status_style"), pick),
        channel_text=pl.when(pl.col("channel").is_in([2, 3]) & (pl.col("dossier_id") % 3 == 0)
                             & (pl.col("channel_style") != "code"))
        .then(pl.col("channel").replace_strict(channel_alt, default=None, return_dtype=pl.String))
        .otherwise(_coded_text("channel", channel_labels, pl.col("channel_style"), pick)),
        fee_text=_fee_text(pl.col("fee_style")),
        paid_text=pl.when(pl.col("paid_online") > 0).then(pl.col("paid_online").cast(pl.String))
        .otherwise(pl.when(pick).then(pl.lit("0")).otherwise(pl.lit(""))),
        receipt_text=pl.when((pl.col("paid_online") > 0) & pl.col("e_receipt_unit"))
        .then(pl.format("BL{}-{}", pl.col("received_at").dt.year(), pl.col("dossier_id").cast(pl.String).str.zfill(7)))
        .otherwise(pl.lit("")),
        digitised_text=_bool_text("components_digitised", pl.col("bool_style")),
        e_result_text=_bool_text("e_result", pl.col("bool_style")),
        due_at=pl.when("has_due").then("due_at"),
    )
    upper = pl.col("upper_labels")
    return out.with_columns(
        status_text=pl.when(upper).then(pl.col("status_text").str.to_uppercase()).otherwise("status_text"),
        channel_text=pl.when(upper).then(pl.col("channel_text").str.to_uppercase()).otherwise("channel_text"),
    )


def _timestamps_as_text(frame: pl.DataFrame, form: int) -> pl.DataFrame:
    fmt = TIMESTAMP_FORMS[form]
    return frame.with_columns([pl.col(c).dt.strftime(fmt).fill_null("").alias(c) for c in TIMESTAMP_FIELDS])


def _field_exprs() -> dict[str, pl.Expr]:
    return {
        "dossier_code": pl.col("dossier_code"), "procedure_code": pl.col("procedure_code"),
        "procedure_name": pl.col("procedure_name"),
        "unit_code": pl.coalesce("snapshot_unit_code", "unit_code"),  # a dossier handed to another unit shows it
        "channel": pl.col("channel_text"), "received_at": pl.col("received_at"), "due_at": pl.col("due_at"),
        "finished_at": pl.col("finished_at"), "status": pl.col("status_text"), "fee_amount": pl.col("fee_text"),
        "paid_online": pl.col("paid_text"), "e_receipt_no": pl.col("receipt_text"),
        "components_digitised": pl.col("digitised_text"), "e_result": pl.col("e_result_text"),
        "applicant_name": pl.col("applicant_name"), "applicant_id": pl.col("applicant_id"),
        "updated_at": pl.col("updated_at"),
    }


def _header(name: str, style: str) -> str:
    if style == "upper":
        return name.upper()
    if style == "nfd":
        return unicodedata.normalize("NFD", name)
    if style == "loose":
        return f"  {name.lower()} "
    return name


def _corrupt(rows: pl.DataFrame, rng: np.random.Generator, known_units: set[str]) -> tuple[pl.DataFrame, dict]:
    """Corrupted copies of a few snapshots, one quarantine reason each (values already text); never so many that the
    file would be held for review (HOLD_QUARANTINED_SHARE of its rows: the sample is an ordinary landing)."""
    n = rows.height
    copies, counts = [], {}
    budget = int(n * HOLD_QUARANTINED_SHARE * 0.8)
    for reason in QUARANTINE_REASONS:
        k = min(int(rng.binomial(n, BAD_ROW_RATE)) if n else 0, budget)
        budget -= k
        if k == 0:
            continue
        sample = rows[rng.choice(n, size=k, replace=False)]
        sample = sample.with_columns(bad_reason=pl.lit(reason))
        if reason == "missing_required":
            fld = ["dossier_code", "procedure_code", "unit_code", "status", "updated_at"][int(rng.integers(5))]
            sample = sample.with_columns(pl.lit("").alias(fld))
        elif reason == "bad_timestamp":
            sample = sample.with_columns(received_at=pl.lit("31/02/2023 25:61:00"))
        elif reason == "bad_number":
            sample = sample.with_columns(fee_amount=pl.lit("1.5OO.OOO"))
        elif reason == "bad_status":
            sample = sample.with_columns(status=pl.lit("Chờ phê duyệt"))
        elif reason == "bad_channel":
            sample = sample.with_columns(channel=pl.lit("Fax"))
        elif reason == "finished_before_received":
            sample = sample.with_columns(received_at=pl.lit("15/03/2031 08:00:00"),
                                         finished_at=pl.lit("14/03/2031 08:00:00"),
                                         updated_at=pl.lit("15/03/2031 08:00:00"), due_at=pl.lit(""))
        elif reason == "due_before_received":
            sample = sample.with_columns(received_at=pl.lit("20/03/2031 08:00:00"), due_at=pl.lit("01/03/2031 17:00:00"))
        elif reason == "negative_fee":
            sample = sample.with_columns(fee_amount=pl.lit("-50000"))
        elif reason == "unknown_unit":
            bogus = "000.00.99.H02"
            assert bogus not in known_units
            sample = sample.with_columns(unit_code=pl.lit(bogus))
        copies.append(sample)
        counts[reason] = k
    if not copies:
        return rows.with_columns(bad_reason=pl.lit(None, pl.String)), counts
    return pl.concat([rows.with_columns(bad_reason=pl.lit(None, pl.String)), *copies]), counts


def _write_xlsx(path: Path, headers: list[str], frame: pl.DataFrame, day: str, ts_cols: set[int]) -> None:
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    workbook.set_properties({"created": datetime.strptime(day, "%d/%m/%Y")})  # same seed, same bytes
    sheet = workbook.add_worksheet("Danh sach ho so")
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
    sheet.write_row(0, 0, ["DANH SÁCH HỒ SƠ"])
    sheet.write_row(1, 0, [f"Ngày xuất: {day}"])
    sheet.write_row(3, 0, headers)
    r = 4
    for row in frame.iter_rows():
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if c in ts_cols and isinstance(value, datetime):
                sheet.write_datetime(r, c, value, date_format)
            else:
                sheet.write(r, c, value)
        r += 1
    sheet.write_row(r, 0, [f"Tổng cộng: {frame.height} hồ sơ"])
    workbook.close()


def write_dossier_exports(landing: Path, dossiers: pl.DataFrame, snapshots: pl.DataFrame,
                          procedure_names: dict[str, str], known_units: set[str], rng: np.random.Generator,
                          progress=None) -> ExportManifest:
    """Write one export per day. Formatted a month of exports at a time, so memory stays bounded at any scale."""
    manifest = ExportManifest()
    snapshots = snapshots.with_columns(export_day=pl.col("updated_at").dt.date())
    if "snapshot_unit_code" not in snapshots.columns:
        snapshots = snapshots.with_columns(snapshot_unit_code=pl.lit(None, pl.String))
    days = snapshots.get_column("export_day").unique().sort().to_numpy()
    styles = _file_styles(days, rng)
    people = _applicants(dossiers).with_columns(
        procedure_name=pl.col("procedure_code").replace_strict(procedure_names, default=""))
    field_exprs = _field_exprs()
    header_of = {fld: header for header, (fld, _) in DOSSIER_COLUMNS.items()}
    months = snapshots.get_column("export_day").dt.truncate("1mo").unique().sort().to_list()
    for month in months:
        in_month = snapshots.filter(pl.col("export_day").dt.truncate("1mo") == month)
        rows = _format_values(in_month.join(people, on="dossier_id").join(styles, on="export_day"))
        for (form,), part in rows.partition_by("ts_form", as_dict=True).items():
            text = _timestamps_as_text(part.filter(~pl.col("xlsx")), int(form))
            typed = part.filter(pl.col("xlsx")).with_columns(fee_text=pl.col("fee_amount").replace(0, None))
            _write_days(landing, text, typed, field_exprs, header_of, known_units, manifest, progress)
    return manifest


def _with_defects(out: pl.DataFrame, rng: np.random.Generator, known_units: set[str],
                  manifest: ExportManifest) -> pl.DataFrame:
    """Add bad rows (one quarantine reason each) and exact duplicates next to the rows they copy."""
    good_rows = out.height
    out, bad = _corrupt(out, rng, known_units)
    for reason, k in bad.items():
        manifest.bad_rows[reason] = manifest.bad_rows.get(reason, 0) + k
    duplicates = int(rng.binomial(out.height, DUPLICATE_ROW_RATE))
    if duplicates:
        copies = out.filter(pl.col("bad_reason").is_null())[rng.choice(good_rows, duplicates, replace=False)]
        out = pl.concat([out, copies])
        manifest.duplicate_rows += duplicates
    return out.sort("dossier_id", maintain_order=True).drop("dossier_id", "bad_reason")


def _write_days(landing: Path, text: pl.DataFrame, typed: pl.DataFrame, field_exprs: dict[str, pl.Expr],
                header_of: dict[str, str], known_units: set[str], manifest: ExportManifest, progress) -> None:
    """One export file per day: CSV in the day's style, or XLSX with title rows, date cells and a totals row."""
    for frame, is_xlsx in ((text, False), (typed, True)):
        for (day,), batch in frame.partition_by("export_day", as_dict=True).items():
            style = batch.row(0, named=True)
            rng = np.random.default_rng(style["seed"])
            batch = batch.sort("updated_at", "dossier_id") if is_xlsx else batch.sort("dossier_id")
            fields = list(header_of)
            if style["shuffle"]:
                fields = list(rng.permutation(fields))
            # a column of the spec the sample has no values for is exported empty, as the systems leave one unused
            out = batch.select(**{f: field_exprs.get(f, pl.lit(None, pl.String)) for f in fields},
                               dossier_id=pl.col("dossier_id"))
            out = _with_defects(out, rng, known_units, manifest) if not is_xlsx else out.drop("dossier_id")
            headers = [_header(header_of[f], style["header_style"]) for f in fields]
            if style["extra"]:
                for name, value in EXTRA_COLUMNS.items():
                    out = out.with_columns(pl.lit(value).alias(name))
                headers += list(EXTRA_COLUMNS)
            if style["nfd_values"]:
                out = out.with_columns(pl.col(pl.String).str.normalize("NFD"))
            out.columns = headers
            path = landing / "dossiers" / f"{day:%Y}" / f"{day:%m}" / f"hoso_{day:%Y%m%d}.{'xlsx' if is_xlsx else 'csv'}"
            path.parent.mkdir(parents=True, exist_ok=True)
            if is_xlsx:
                ts_cols = {i for i, f in enumerate(fields) if f in TIMESTAMP_FIELDS}
                _write_xlsx(path, headers, out, f"{day:%d/%m/%Y}", ts_cols)
            else:
                out = out.with_columns(pl.col(pl.String).replace("", None))
                out.write_csv(path, separator=style["sep"], include_bom=style["bom"],
                              line_terminator="\r\n" if style["crlf"] else "\n", quote_style="necessary")
            manifest.files.append(path)
            manifest.rows_written += out.height
            if progress:
                progress()
