"""The monthly report pack: `<reports>/<YYYY-MM>/` with the province workbook, one workbook per unit and the
dashboard, written into a staging folder beside it and swapped into place, so a reader never sees half a pack."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from reporting.dashboard import write_dashboard
from reporting.published import PublishedMarts, read_published
from reporting.workbooks import write_province_workbook, write_unit_workbook

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ReportPack:
    folder: Path
    month: date
    province_workbook: Path
    unit_workbooks: tuple[Path, ...]
    dashboard: Path
    seconds: float

    @property
    def files(self) -> list[Path]:
        return [self.province_workbook, self.dashboard, *self.unit_workbooks]


def reports_folder(published: Path) -> Path:
    """Where packs go by default: `reports/` beside the published file."""
    return published.parent / "reports"


def pack_folder(reports: Path, month: date) -> Path:
    return reports / f"{month:%Y-%m}"


def province_workbook_name(month: date) -> str:
    return f"tong_hop_{month:%Y-%m}.xlsx"


def unit_workbook_name(unit_code: str) -> str:
    """`<unit_code>.xlsx`; a code is the landing's, so anything that could leave the folder is replaced."""
    safe = "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in unit_code).lstrip(".")
    return f"{safe or '_'}.xlsx"


def build_pack(published: Path, month: date | None = None, reports: Path | None = None,
               progress: Progress | None = None) -> ReportPack:
    """Read the published marts once and write the whole pack for `month` (default: latest complete month)."""
    # The workbooks allocate millions of short-lived objects, and each collection of the oldest generation would
    # walk the caller's whole heap too (a Dagster run's: half a million objects): frozen, it is left out
    # (measured at 10M dossiers in a run's process: 7.7 s -> 5.9 s).
    gc.freeze()
    try:
        return _build_pack(published, month, reports, progress)
    finally:
        gc.unfreeze()


def _build_pack(published: Path, month: date | None, reports: Path | None, progress: Progress | None) -> ReportPack:
    started = time.perf_counter()
    marts = read_published(published, month)
    reports = reports or reports_folder(published)
    target = pack_folder(reports, marts.month)
    reports.mkdir(parents=True, exist_ok=True)
    remove_abandoned(reports)
    staging = reports / f".{target.name}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        unit_codes = marts.units.get_column("unit_code").to_list()
        workers = unit_workers(marts)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) if workers > 1 \
                else contextlib.nullcontext() as pool:
            # the unit workbooks in `workers` processes, each reading the published file itself, while this one
            # writes the province workbook and the dashboard
            shares = [pool.submit(write_unit_workbooks, published, marts.month, staging, unit_codes[n::workers])
                      for n in range(workers)] if pool else []
            province = write_province_workbook(marts, staging / province_workbook_name(marts.month))
            dashboard = write_dashboard(marts, staging / "dashboard.html")
            if pool:
                done = 0
                for share in as_completed(shares):
                    done += len(share.result())
                    if progress:
                        progress("unit workbooks", done, len(unit_codes))
            else:
                _write_unit_workbooks(marts, staging, unit_codes, progress)
        written = [staging / "don_vi" / unit_workbook_name(code) for code in unit_codes]
        swap_into_place(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ReportPack(folder=target, month=marts.month, province_workbook=target / province.name,
                      unit_workbooks=tuple(target / "don_vi" / p.name for p in written),
                      dashboard=target / dashboard.name, seconds=time.perf_counter() - started)


# Above this many listed rows (overdue, unexplained, discrepancies: most of a pack's cells), the unit workbooks are
# written by two processes (measured at 10M dossiers, 145 units and 59k listed rows, in a run's process: 5.9 s ->
# 3.6 s for the pack); below it (1M dossiers: 6k rows) the processes' start-up costs about what they save.
PARALLEL_ABOVE_ROWS = 20_000


def unit_workers(marts: PublishedMarts) -> int:
    rows = marts.overdue.height + marts.unexplained.height + marts.discrepancies.height
    return min(2, os.cpu_count() or 1) if rows > PARALLEL_ABOVE_ROWS else 1


def write_unit_workbooks(published: Path, month: date, folder: Path, unit_codes: list[str]) -> list[Path]:
    """In a worker process: the workbooks of `unit_codes`, from the published file read again."""
    marts = read_published(published, month)
    return _write_unit_workbooks(marts, folder, unit_codes)


def _write_unit_workbooks(marts: PublishedMarts, folder: Path, unit_codes: list[str],
                          progress: Progress | None = None) -> list[Path]:
    units = marts.units.filter(pl.col("unit_code").is_in(unit_codes)).to_dicts()
    unit_month = marts.unit_month.partition_by("unit_code", as_dict=True)
    overdue = marts.overdue.partition_by("unit_code", as_dict=True)
    unexplained = marts.unexplained.partition_by("unit_code", as_dict=True)
    discrepancies = marts.discrepancies.filter(pl.col("period_month") <= marts.month).partition_by(
        "unit_code", as_dict=True)
    written = []
    for n, unit in enumerate(units, start=1):
        key = (unit["unit_code"],)
        written.append(write_unit_workbook(
            marts, unit, folder / "don_vi" / unit_workbook_name(unit["unit_code"]),
            unit_month.get(key, marts.unit_month.clear()), overdue.get(key, marts.overdue.clear()),
            discrepancies.get(key, marts.discrepancies.clear()), unexplained.get(key, marts.unexplained.clear())))
        if progress:
            progress("unit workbooks", n, len(units))
    return written


def swap_into_place(staging: Path, target: Path) -> None:
    """Two renames: the old pack aside, the new one in; then the old one is removed."""
    old = target.with_name(f".{target.name}.{os.getpid()}.old")
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def remove_abandoned(reports: Path) -> None:
    """Staging (and set-aside) folders of packs whose process died mid-write."""
    for path in [*reports.glob(".*.*.tmp"), *reports.glob(".*.*.old")]:
        pid = path.suffixes[-2].lstrip(".") if len(path.suffixes) >= 2 else ""
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
