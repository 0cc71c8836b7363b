"""Monthly self-reports of the units: mostly what their dossiers say, plus a handful that break each rule.

Every planted defect is returned with the report rows, so tests can check that the data-quality rules flag
exactly these and nothing else (values within the tolerance included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from contracts.landed_tables import UNIT_REPORT_COLUMNS, UNIT_REPORT_MEASURES
from sample_province.reference import Unit

UNKNOWN_UNIT = "000.00.98.H02"


@dataclass
class ReportManifest:
    files: list[Path] = field(default_factory=list)
    rows: int = 0
    planted: list[dict] = field(default_factory=list)  # {unit_code, period_month, rule, measure}


def _valid_in(unit: Unit, month: date) -> bool:
    month_end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return unit.valid_from <= month_end and (unit.valid_to is None or unit.valid_to >= month)


def _months(first: date, end_exclusive: date) -> list[date]:
    months, m = [], first.replace(day=1)
    while m < end_exclusive:
        months.append(m)
        m = (m.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def write_unit_reports(landing: Path, truth_unit_month: pl.DataFrame, units: list[Unit], first_month: date,
                       end_exclusive: date, rng: np.random.Generator) -> ReportManifest:
    manifest = ReportManifest()
    truth = {(r["unit_code"], r["period_month"]): r for r in truth_unit_month.iter_rows(named=True)}
    months = _months(first_month, end_exclusive)
    reports: list[dict] = []
    for month in months:
        for unit in units:
            if not _valid_in(unit, month):
                continue
            values = {m: int(truth.get((unit.code, month), {}).get(m, 0) or 0) for m in UNIT_REPORT_MEASURES}
            sent = datetime(month.year, month.month, 1) + timedelta(days=31 + int(rng.integers(4, 10)),
                                                                     hours=int(rng.integers(8, 17)))
            sent = sent.replace(day=min(sent.day, 28))
            reports.append({"unit_code": unit.code, "period_month": month, "submitted_at": sent, **values})
    # no complete month yet (a province that starts mid-month): no report is due, none is written
    frame_rows = _plant_defects(reports, units, months, rng, manifest) if months else []
    by_month: dict[tuple[date, str], list[dict]] = {}
    for row in frame_rows:
        by_month.setdefault((row["period_month"], row.pop("file")), []).append(row)
    for i, ((month, kind), rows) in enumerate(sorted(by_month.items(), key=lambda kv: (kv[0][0], kv[0][1]))):
        as_xlsx = kind == "monthly" and month.month % 6 == 0
        name = f"bao_cao_{'dieu_chinh_' if kind == 'correction' else ''}{month:%m_%Y}"
        path = landing / "unit_reports" / f"{month:%Y}" / f"{name}.{'xlsx' if as_xlsx else 'csv'}"
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, rows, as_xlsx, sep=";" if i % 4 == 1 else ",", bom=i % 3 == 0)
        manifest.files.append(path)
        manifest.rows += len(rows)
    return manifest


def _plant_defects(reports: list[dict], units: list[Unit], months: list[date], rng: np.random.Generator,
                   manifest: ReportManifest) -> list[dict]:
    """Turn a few clean reports into each defect of the contract; returns rows with their target file."""
    def plant(row, rule, measure=None):
        manifest.planted.append({"unit_code": row["unit_code"], "period_month": row["period_month"], "rule": rule,
                                 "measure": measure})

    out: list[dict] = []
    busy = [i for i, r in enumerate(reports) if r["received"] >= 20]
    chosen = rng.permutation(busy)
    take = iter(chosen)
    roles = {}
    for role, k in (("missing", max(3, len(reports) // 80)), ("within_tolerance", max(4, len(reports) // 25)),
                    ("mismatch", 6), ("part_exceeds_whole", 5), ("not_a_count", 6), ("superseded", 8)):
        for _ in range(k):
            i = next(take, None)
            if i is not None:
                roles[int(i)] = role
    not_a_count_forms = ["-3", "12.5", ""]
    for i, row in enumerate(reports):
        role = roles.get(i)
        row = {**row, "file": "monthly"}
        text = {m: str(row[m]) for m in UNIT_REPORT_MEASURES}
        if role == "missing":
            plant(row, "missing_report")
            continue
        if role == "within_tolerance":
            # off by less than max(5, 2% of the system value): must not be flagged
            k = int(rng.integers(1, 4))
            text["received"] = str(row["received"] + k)
        elif role == "mismatch":
            text["received"] = str(int(row["received"] * 1.3) + 8)
            plant(row, "mismatch_with_system", "received")
        elif role == "part_exceeds_whole":
            text["received_online"] = str(row["received"] + 2)
            plant(row, "part_exceeds_whole", "received_online")
            if row["received"] + 2 - row["received_online"] > max(5, 0.02 * row["received_online"]):
                plant(row, "mismatch_with_system", "received_online")
        elif role == "not_a_count":
            form = not_a_count_forms[len([p for p in manifest.planted if p["rule"] == "not_a_count"]) % 3]
            text["resolved"] = form
            plant(row, "not_a_count", "resolved")
        elif role == "superseded":
            wrong = dict(text, received=str(int(row["received"] * 0.7)))
            out.append({**row, **{f"text_{m}": v for m, v in wrong.items()}})
            plant(row, "superseded")
            corrected = {**row, "file": "correction",
                         "submitted_at": row["submitted_at"] + timedelta(days=12, hours=3)}
            out.append({**corrected, **{f"text_{m}": v for m, v in text.items()}})
            continue
        out.append({**row, **{f"text_{m}": v for m, v in text.items()}})
    # unknown units: a code that never existed, and a merged commune reporting after it was abolished
    last = months[-1]
    template = {"period_month": last, "submitted_at": datetime(last.year, last.month, 1) + timedelta(days=36),
                "file": "monthly", **{f"text_{m}": "10" for m in UNIT_REPORT_MEASURES}}
    for code in [UNKNOWN_UNIT] + [u.code for u in units if u.valid_to is not None and u.valid_to < last][:1]:
        row = {**template, "unit_code": code}
        out.append(row)
        plant(row, "unknown_unit")
    return out


def _write(path: Path, rows: list[dict], as_xlsx: bool, sep: str, bom: bool) -> None:
    headers = list(UNIT_REPORT_COLUMNS)
    fields = [UNIT_REPORT_COLUMNS[h][0] for h in headers]

    def cell(row, fld):
        if fld == "unit_code":
            return row["unit_code"]
        if fld == "period":
            return f"{row['period_month']:%m/%Y}"
        if fld == "submitted_at":
            return row["submitted_at"]
        return row[f"text_{fld}"]

    if as_xlsx:
        workbook = xlsxwriter.Workbook(str(path))
        workbook.set_properties({"created": datetime.combine(rows[0]["period_month"], datetime.min.time())})
        sheet = workbook.add_worksheet("Bao cao")
        fmt = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
        sheet.write(0, 0, "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH")
        sheet.write_row(2, 0, headers)
        for r, row in enumerate(rows, start=3):
            for c, fld in enumerate(fields):
                value = cell(row, fld)
                if isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, fmt)
                elif fld in UNIT_REPORT_MEASURES and value.lstrip("-").isdigit():
                    sheet.write_number(r, c, int(value))
                elif value != "":
                    sheet.write_string(r, c, value)
        totals = len(rows) + 3
        sheet.write(totals, 0, "Tổng cộng")
        workbook.close()
        return
    frame = pl.DataFrame({h: [cell(row, f) if f != "submitted_at" else f"{row['submitted_at']:%d/%m/%Y %H:%M:%S}"
                              for row in rows] for h, f in zip(headers, fields, strict=False)})
    frame = frame.with_columns(pl.col(pl.String).replace("", None))
    frame.write_csv(path, separator=sep, include_bom=bom, quote_style="necessary")
