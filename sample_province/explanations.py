"""Explanations of late dossiers sent by the units (landing.md, explanations/), and the marts they must give.

Most units explain most of their late dossiers, a few lag badly; some explanations come with an apology letter,
some are corrected by a later one, and a few are wrong: for a dossier that was not late, for a code no dossier
has, or sent by another unit. A few corrupted copies are planted for quarantine. Drawn from a generator of their
own, so the other files of a profile keep their bytes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from contracts.landed_tables import EXPLANATION_COLUMNS
from contracts.rules import rules

P_EXPLAINED, P_EXPLAINED_LAGGING = 0.9, 0.25
LAGGING_UNITS = 3
P_APOLOGY, P_CORRECTED = 0.6, 0.05
WRONG = {"not_late": 6, "unknown_dossier": 3, "other_unit": 4}
REASONS = ["Chờ kết quả xác minh của cơ quan liên quan", "Hồ sơ phức tạp, cần thêm thời gian thẩm định",
           "Cán bộ thụ lý nghỉ ốm", "Hệ thống một cửa điện tử gặp sự cố", "Chờ ý kiến của Sở chuyên ngành"]
CITIZEN_ID_REASON = "Chờ xác minh giấy tờ số {} của chủ hồ sơ"


@dataclass
class ExplanationTruth:
    late: pl.DataFrame  # dossier_code, unit_code, period_month, explained, apology_letter_no
    unit_month: pl.DataFrame  # unit_code, period_month, late, late_explained, with_apology
    issues: pl.DataFrame  # dossier_code, unit_code, issue
    files: list[Path] = field(default_factory=list)
    quarantined_rows: int = 0


def late_dossiers(final: pl.DataFrame, as_of) -> pl.DataFrame:
    """kpis.md: resolved after the due date, or open past it on as_of; under the unit of the current state."""
    statuses = rules().statuses
    resolved = pl.col("status").is_in(statuses["resolved"])
    is_open = pl.col("status").is_in(statuses["open"])
    return (final.filter(pl.col("has_due") & ((resolved & (pl.col("finished_at") > pl.col("due_at")))
                                              | (is_open & (pl.col("due_at") < as_of))))
            .select("dossier_code", unit_code="current_unit_code", due_at="due_at",
                    finished_at=pl.when(resolved).then("finished_at"),
                    period_month=pl.coalesce(pl.when(resolved).then("finished_at"), "due_at")
                    .dt.truncate("1mo").dt.date()))


def write_explanations(landing: Path, final: pl.DataFrame, as_of, seed: int) -> ExplanationTruth:
    rng = np.random.default_rng([seed, 13])
    late = late_dossiers(final, as_of).sort("dossier_code")
    units = sorted(set(late["unit_code"]))
    lagging = set(rng.choice(units, size=min(LAGGING_UNITS, len(units)), replace=False)) if units else set()
    n = late.height
    p = np.where(late["unit_code"].is_in(list(lagging)).to_numpy(), P_EXPLAINED_LAGGING, P_EXPLAINED)
    explained = rng.random(n) < p
    start = pl.coalesce("finished_at", "due_at")
    rows = late.with_columns(explained=pl.Series(explained),
                             delay=pl.Series(rng.integers(1, 20 * 24, n)) * 3600,
                             apology=pl.Series(rng.random(n) < P_APOLOGY),
                             corrected=pl.Series(rng.random(n) < P_CORRECTED),
                             reason_pick=pl.Series(rng.integers(0, len(REASONS) + 1, n)),
                             id_draw=pl.Series(rng.integers(10**11, 10**12, n)))
    rows = rows.with_columns(explained_at=pl.min_horizontal(start + pl.duration(seconds="delay"), pl.lit(as_of)))
    own = rows.filter("explained")
    # an explanation reason names an id now and then: it must reach no table unmasked
    reason = (pl.when(pl.col("reason_pick") == len(REASONS))
              .then(pl.format(CITIZEN_ID_REASON, pl.format("0{}", pl.col("id_draw"))))
              .otherwise(pl.lit(REASONS).list.get(pl.col("reason_pick") % len(REASONS))))
    apology_no = pl.when("apology").then(pl.format("{}/XL-{}", pl.col("id_draw") % 900 + 1, pl.col("unit_code")))
    sent = own.select("dossier_code", "unit_code", "explained_at", reason=reason, apology_letter_no=apology_no)
    first_of_corrected = own.filter("corrected").select(
        "dossier_code", "unit_code", explained_at=pl.col("explained_at") - pl.duration(hours=30),
        reason=pl.lit("Giải trình lần đầu (đã đính chính)"), apology_letter_no=pl.lit(None, pl.String))
    wrong, issues = _wrong_explanations(final, late.filter(~pl.Series(explained)), as_of, rng)
    every = pl.concat([sent, first_of_corrected, wrong], how="vertical_relaxed")
    files, quarantined = _write_files(landing, every, rng)
    truth_late = late.join(own.select("dossier_code", apology_letter_no=apology_no), on="dossier_code", how="left").with_columns(
        explained=pl.col("dossier_code").is_in(own["dossier_code"].implode()))
    unit_month = (truth_late.group_by("unit_code", "period_month")
                  .agg(late=pl.len(), late_explained=pl.col("explained").sum(),
                       with_apology=(pl.col("explained") & pl.col("apology_letter_no").is_not_null()).sum())
                  .sort("unit_code", "period_month"))
    issues = pl.concat([issues, first_of_corrected.select("dossier_code", "unit_code", issue=pl.lit("superseded"))])
    return ExplanationTruth(truth_late.select("dossier_code", "unit_code", "period_month", "explained",
                                              "apology_letter_no"), unit_month, issues.sort("dossier_code", "issue"),
                            files, quarantined)


def _wrong_explanations(final: pl.DataFrame, unexplained: pl.DataFrame, as_of, rng: np.random.Generator):
    """Explanations that are listed, not counted: for dossiers resolved on time, for codes no dossier has, and for
    unexplained late dossiers sent by another unit."""
    statuses = rules().statuses
    on_time = final.filter(pl.col("status").is_in(statuses["resolved"]) & pl.col("has_due")
                           & (pl.col("finished_at") <= pl.col("due_at"))).sort("dossier_code")
    picks = on_time[rng.choice(on_time.height, size=min(WRONG["not_late"], on_time.height), replace=False)]
    not_late = picks.select("dossier_code", unit_code="current_unit_code", explained_at=pl.col("finished_at")
                            + pl.duration(days=1))
    units = sorted(set(final["current_unit_code"]))
    unknown = pl.DataFrame({"dossier_code": [f"{units[i % len(units)]}-990101-{i:04d}" for i in range(WRONG["unknown_dossier"])],
                            "unit_code": [units[i % len(units)] for i in range(WRONG["unknown_dossier"])],
                            "explained_at": [as_of - timedelta(days=i + 1) for i in range(WRONG["unknown_dossier"])]})
    others = unexplained.sort("dossier_code").head(WRONG["other_unit"])
    other_unit = others.select("dossier_code", explained_at=pl.min_horizontal(
        pl.coalesce("finished_at", "due_at") + pl.duration(days=2), pl.lit(as_of)),
        unit_code=pl.col("unit_code").replace_strict({u: units[(i + 1) % len(units)] for i, u in enumerate(units)}))
    wrong = pl.concat([frame.with_columns(pl.col("explained_at").cast(pl.Datetime("us")))
                       .select("dossier_code", "unit_code", "explained_at")
                       for frame in (not_late, unknown, other_unit)]).with_columns(
        reason=pl.lit(REASONS[0]), apology_letter_no=pl.lit(None, pl.String))
    issues = pl.concat([not_late.select("dossier_code", "unit_code", issue=pl.lit("not_late")),
                        unknown.select("dossier_code", "unit_code", issue=pl.lit("unknown_dossier")),
                        other_unit.select("dossier_code", "unit_code", issue=pl.lit("other_unit"))])
    return wrong, issues


def _write_files(landing: Path, rows: pl.DataFrame, rng: np.random.Generator) -> tuple[list[Path], int]:
    """One file a month, in the styles the units use: comma or semicolon, BOM or not, NFD headers, and one XLSX
    with title rows; two corrupted copies (a missing reason, a date that does not parse) for quarantine."""
    header = {fld: h for h, (fld, _) in EXPLANATION_COLUMNS.items()}
    rows = rows.with_columns(month=pl.col("explained_at").dt.strftime("%Y%m"),
                             explained_at=pl.col("explained_at").dt.strftime("%d/%m/%Y %H:%M:%S"))
    files, quarantined = [], 0
    months = sorted(set(rows["month"]))
    xlsx_month = months[len(months) // 2] if months else None
    sizes = dict(rows.group_by("month").len().iter_rows())
    # the corrupted copies go to the largest file, and only where they stay under the 5% that would hold it
    bad_month = max(months, key=lambda m: sizes[m]) if months and max(sizes.values()) >= 60 else None
    for month in months:
        part = rows.filter(pl.col("month") == month).sort("dossier_code").select(*header)
        if month == bad_month:  # corrupted copies: quarantined, and the truth is what the good rows say
            bad = pl.concat([part.head(1).with_columns(reason=pl.lit(None, pl.String)),
                             part.head(1).with_columns(explained_at=pl.lit("31/02/2024 25:00"))])
            part, quarantined = pl.concat([part, bad]), 2
        nfd = rng.random() < 0.3
        part.columns = [unicodedata.normalize("NFD", header[c]) if nfd else header[c] for c in part.columns]
        folder = landing / "explanations" / month[:4]
        folder.mkdir(parents=True, exist_ok=True)
        if month == xlsx_month:
            path = folder / f"giai_trinh_{month}.xlsx"
            with xlsxwriter.Workbook(str(path)) as book:
                book.set_properties({"created": datetime(int(month[:4]), int(month[4:]), 1)})  # same seed, same bytes
                sheet = book.add_worksheet("Giai trinh")
                sheet.write_row(0, 0, [f"BÁO CÁO GIẢI TRÌNH HỒ SƠ TRỄ HẠN THÁNG {month[4:]}/{month[:4]}"])
                sheet.write_row(2, 0, part.columns)
                for r, values in enumerate(part.iter_rows(), start=3):
                    for c, value in enumerate(values):
                        if value is not None:
                            sheet.write_string(r, c, str(value))
        else:
            path = folder / f"giai_trinh_{month}.csv"
            sep = ";" if rng.random() < 0.4 else ","
            text = part.write_csv(separator=sep)
            path.write_bytes((b"\xef\xbb\xbf" if rng.random() < 0.5 else b"") + text.encode("utf-8"))
        files.append(path)
    return files, quarantined
