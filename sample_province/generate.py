"""`tthc generate`: write a landing folder for the sample province that follows landing.md to the letter.

Deterministic for a seed: the same seed, scale and period give the same bytes.
"""

from __future__ import annotations

import shutil
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from contracts.vocabulary import label_key
from sample_province import dossiers as dossier_simulation
from sample_province import explanations as late_explanations
from sample_province import exports, province_2026, reference, truth, unit_reports

PROFILES = {
    # Bắc Ninh before the 2025 merger; January 2024 is the last complete month, as in the February 2024 report.
    "bac_ninh_2023": {"start": date(2022, 6, 1), "end": date(2024, 2, 3)},
    # the province through its 2025 reorganisations, to October 2026 (sample_province/province_2026.py)
    "bac_ninh_2026": {"start": province_2026.START, "end": province_2026.END},
}


@dataclass
class GenerationResult:
    landing: Path
    seed: int
    scale: float
    period: dossier_simulation.Period
    dossiers: int
    snapshot_rows: int
    dossier_files: int
    unit_report_files: int
    seconds: float
    bad_rows: dict[str, int]
    duplicate_rows: int
    special_files: dict[str, Path]
    planted_report_defects: list[dict]
    truth_unit_month: pl.DataFrame = field(repr=False)
    truth_level_rates: pl.DataFrame = field(repr=False)
    truth_unit_window: pl.DataFrame = field(repr=False)
    truth_overdue: pl.DataFrame = field(repr=False)
    units: list = field(default_factory=list, repr=False)  # reference.Unit, as written to units.csv
    programmes: list = field(default_factory=list, repr=False)  # (code, name, effective_date, baseline_months, end)
    as_of: object = None  # the latest updated_at of the exports
    dossier_frame: pl.DataFrame | None = field(default=None, repr=False)
    snapshot_frame: pl.DataFrame | None = field(default=None, repr=False)
    paper_result_codes: set = field(default_factory=set, repr=False)
    explanations: late_explanations.ExplanationTruth | None = field(default=None, repr=False)

    def truth_unit_month_as_ingested(self, ingested_at) -> pl.DataFrame:
        """The ground truth as a pipeline that ingested the exports at `ingested_at` sees it: recent exports show
        due dates in the future, and the contract quarantines a timestamp later than a day after ingestion."""
        kept = truth.as_ingested(self.dossier_frame, self.snapshot_frame, ingested_at)
        return truth.unit_month(truth.final_states(self.dossier_frame, kept), self.paper_result_codes)


def _write_plain_csv(frame: pl.DataFrame, path: Path) -> None:
    frame.with_columns(pl.col(pl.String).replace("", None)).write_csv(path)


def write_reference(landing: Path, units: list[reference.Unit], profile: str = "bac_ninh_2023") -> None:
    folder = landing / "reference"
    folder.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({
        "unit_code": [u.code for u in units],
        "unit_name": [u.name for u in units],
        "level": [u.level for u in units],
        "parent_code": [u.parent_code for u in units],
        "valid_from": [u.valid_from.isoformat() for u in units],
        "valid_to": [u.valid_to.isoformat() if u.valid_to else "" for u in units],
        "successor_code": [u.successor_code for u in units],
    }).pipe(_write_plain_csv, folder / "units.csv")
    procs = reference.catalogued_procedures()
    pl.DataFrame({
        "procedure_code": [p.code for p in procs],
        "procedure_name": [p.name for p in procs],
        "field": [p.field for p in procs],
        "online_service_level": [p.online_service_level for p in procs],
        "paper_result": ["true" if p.paper_result else "false" for p in procs],
        "has_fee": ["true" if p.fee > 0 else "false" for p in procs],
    }).pipe(_write_plain_csv, folder / "procedures.csv")
    targets = reference.TARGETS
    frame = pl.DataFrame({
        "indicator": [k[0] for k in targets],
        "level": [k[1] for k in targets],
        "target": [f"{v:.2f}" for v in targets.values()],
        "valid_from": [reference.DIRECTIVE_EFFECTIVE.isoformat()] * len(targets),
        "valid_to": [""] * len(targets),
    })
    if profile == "bac_ninh_2026":  # Directive 10's rows (no programme_code) and the 2026 plan's
        plan = province_2026.TARGETS_2026
        programme = province_2026.PROGRAMMES[1]
        frame = pl.concat([frame.with_columns(programme_code=pl.lit("")), pl.DataFrame({
            "indicator": [k[0] for k in plan], "level": [k[1] for k in plan],
            "target": [f"{v:.2f}" for v in plan.values()], "valid_from": [programme[2].isoformat()] * len(plan),
            "valid_to": [""] * len(plan), "programme_code": [programme[0]] * len(plan)})])
        pl.DataFrame({
            "programme_code": [p[0] for p in province_2026.PROGRAMMES],
            "programme_name": [p[1] for p in province_2026.PROGRAMMES],
            "effective_date": [p[2].isoformat() for p in province_2026.PROGRAMMES],
            "baseline_months": [str(p[3]) for p in province_2026.PROGRAMMES],
            "end_date": [p[4].isoformat() if p[4] else "" for p in province_2026.PROGRAMMES],
        }).pipe(_write_plain_csv, folder / "programmes.csv")
    frame.pipe(_write_plain_csv, folder / "targets.csv")


def write_special_files(landing: Path, dossier_files: list[Path]) -> dict[str, Path]:
    """A re-delivered file, a legacy 8-bit re-export and a re-export missing a required column.

    Each copies the rows of a good export, so rejecting or skipping it loses nothing of the ground truth.
    """
    csvs = sorted(p for p in dossier_files if p.suffix == ".csv")
    source = csvs[len(csvs) // 2]
    special = {}
    redelivered = landing / "dossiers" / "gui_lai" / f"{source.stem}_gui_lai.csv"
    redelivered.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, redelivered)
    special["redelivered"] = redelivered

    text = csvs[len(csvs) // 3].read_bytes().decode("utf-8-sig")
    legacy = landing / "dossiers" / "he_thong_cu" / f"{csvs[len(csvs) // 3].stem}_cp1258.csv"
    legacy.parent.mkdir(parents=True, exist_ok=True)
    raw = unicodedata.normalize("NFD", text).encode("cp1258", errors="replace")
    try:
        raw.decode("utf-8")
        raise AssertionError("the legacy file must not be valid UTF-8")
    except UnicodeDecodeError:
        pass
    legacy.write_bytes(raw)
    special["legacy_encoding"] = legacy

    base = csvs[(2 * len(csvs)) // 3]
    head = base.read_bytes()[:4096].decode("utf-8-sig", errors="ignore").splitlines()[0]
    sep = ";" if head.count(";") > head.count(",") else ","
    frame = pl.read_csv(base, separator=sep, infer_schema=False, encoding="utf8-lossy")
    frame = frame.drop([c for c in frame.columns if label_key(c) == label_key("Mã TTHC")])
    missing = landing / "dossiers" / "loi" / f"{base.stem}_thieu_cot.csv"
    missing.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(missing, separator=sep)
    special["missing_column"] = missing
    return special


def generate(landing: Path, seed: int = 20230601, scale: float = 1.0, profile: str = "bac_ninh_2023",
             start: date | None = None, end: date | None = None,
             progress: Callable[[str, int, int], None] | None = None) -> GenerationResult:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    if scale <= 0:
        raise ValueError(f"--scale must be positive, got {scale}")
    started = time.perf_counter()
    period = dossier_simulation.Period(start or PROFILES[profile]["start"], end or PROFILES[profile]["end"],
                         reference.DIRECTIVE_EFFECTIVE)
    if period.end < period.start:
        raise ValueError(f"end {period.end} is before start {period.start}")
    report_progress = progress or (lambda step, done, total: None)
    rng = np.random.default_rng(seed)
    landing = Path(landing)
    for sub in ("dossiers", "unit_reports", "reference", "explanations"):
        if (landing / sub).exists():
            shutil.rmtree(landing / sub)
    reorganised = profile == "bac_ninh_2026"
    units = province_2026.build_units() if reorganised else reference.build_units()
    procedures = reference.all_procedures()
    report_progress("reference", 0, 1)
    write_reference(landing, units, profile)
    report_progress("simulating dossiers", 0, 1)
    dossier_frame, snapshots = dossier_simulation.simulate(
        units, procedures, period, scale, rng, rates=province_2026.rates(units, rng) if reorganised else None)
    if reorganised:
        snapshots = province_2026.handed_over(dossier_frame, snapshots, units)
    final = truth.final_states(dossier_frame, snapshots)
    paper = {p.code for p in reference.catalogued_procedures() if p.paper_result}
    per_unit_month = truth.unit_month(final, paper)
    n_days = (period.end - period.start).days + 1
    counter = {"done": 0}

    def file_written():
        counter["done"] += 1
        report_progress("writing dossier exports", counter["done"], n_days)

    manifest = exports.write_dossier_exports(
        landing, dossier_frame, snapshots, {p.code: p.name for p in reference.catalogued_procedures()},
        {u.code for u in units}, rng, progress=file_written)
    special = write_special_files(landing, manifest.files)
    report_progress("writing unit reports", 0, 1)
    reports = unit_reports.write_unit_reports(landing, per_unit_month, units, period.start,
                                              period.window_end_exclusive, rng)
    report_progress("writing explanations", 0, 1)
    explained = late_explanations.write_explanations(landing, final, snapshots["updated_at"].max(), seed)
    levels = {u.code: u.level for u in units}
    return GenerationResult(
        landing=landing, seed=seed, scale=scale, period=period, dossiers=dossier_frame.height,
        snapshot_rows=snapshots.height, dossier_files=len(manifest.files), unit_report_files=len(reports.files),
        seconds=time.perf_counter() - started, bad_rows=manifest.bad_rows, duplicate_rows=manifest.duplicate_rows,
        special_files=special, planted_report_defects=reports.planted, truth_unit_month=per_unit_month,
        truth_level_rates=truth.level_phase_rates(per_unit_month, levels, period),
        truth_unit_window=truth.unit_window_rates(per_unit_month, period).with_columns(
            level=pl.col("unit_code").replace_strict(levels)),
        truth_overdue=truth.overdue_dossiers(final, snapshots),
        units=units, programmes=province_2026.PROGRAMMES if reorganised else [],
        as_of=snapshots["updated_at"].max(), dossier_frame=dossier_frame, snapshot_frame=snapshots,
        paper_result_codes=paper, explanations=explained,
    )
