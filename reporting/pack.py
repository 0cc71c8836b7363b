"""The monthly report pack: `<reports>/<YYYY-MM>/` with the province workbook, one workbook per unit and the
dashboard, written into a staging folder beside it and swapped into place, so a reader never sees half a pack."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import re
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import polars as pl

from reporting.dashboard import write_dashboard
from reporting.labels import PROVISIONAL_SUFFIX
from reporting.published import PublishedMarts, read_published
from reporting.workbooks import write_province_workbook, write_unit_workbook
from storage.duckdb_connection import DuckDBLimits
from storage.processes import process_alive

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ReportPack:
    folder: Path
    month: date
    province_workbook: Path
    unit_workbooks: tuple[Path, ...]
    dashboard: Path
    seconds: float
    provisional: bool = False  # the month is not complete: marked so on every sheet and page, and in its names

    @property
    def files(self) -> list[Path]:
        return [self.province_workbook, self.dashboard, *self.unit_workbooks]


def reports_folder(published: Path) -> Path:
    """Where packs go by default: `reports/` beside the published file."""
    return published.parent / "reports"


def pack_folder(reports: Path, month: date, provisional: bool = False) -> Path:
    return reports / f"{month:%Y-%m}{PROVISIONAL_SUFFIX if provisional else ''}"


def province_workbook_name(month: date, provisional: bool = False) -> str:
    return f"tong_hop_{month:%Y-%m}{PROVISIONAL_SUFFIX if provisional else ''}.xlsx"


def unit_workbook_name(unit_code: str) -> str:
    """`<unit_code>.xlsx`; a code is the landing's, so anything that could leave the folder is replaced."""
    safe = "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in unit_code).lstrip(".")
    return f"{safe or '_'}.xlsx"


def build_pack(published: Path, month: date | None = None, reports: Path | None = None,
               progress: Progress | None = None, provisional: bool = False,
               programme: str | None = None, limits: DuckDBLimits | None = None) -> ReportPack:
    """Read the published marts once and write the whole pack for `month` (default: latest complete month).

    `provisional`: a month that is not complete is allowed (with no month given and none complete, the latest),
    and its pack is marked provisional (read_published). `programme`: the programme to score (default: the one in
    force in the month). `limits`: what bounds its DuckDB connections (the settings')."""
    # The workbooks allocate millions of short-lived objects, and each collection of the oldest generation would
    # walk the caller's whole heap too (a Dagster run's: half a million objects): frozen, it is left out.
    gc.freeze()
    try:
        return _build_pack(published, month, reports, progress, provisional, programme, limits)
    finally:
        gc.unfreeze()


def _build_pack(published: Path, month: date | None, reports: Path | None, progress: Progress | None,
                provisional: bool, programme: str | None, limits: DuckDBLimits | None) -> ReportPack:
    started = time.perf_counter()
    marts = read_published(published, month, provisional, programme, limits)
    reports = reports or reports_folder(published)
    target = pack_folder(reports, marts.month, marts.provisional)
    reports.mkdir(parents=True, exist_ok=True)
    remove_abandoned(reports)
    staging = reports / f".{target.name}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        unit_codes = marts.units.get_column("unit_code").to_list()
        workers = unit_workers(marts)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) if workers > 1 \
                else contextlib.nullcontext() as pool:
            # the unit workbooks in `workers` processes, each given its units' share of the marts as this one read
            # them (pickled: a tenth of the time reading the published file again takes), while this one writes the
            # province workbook and the dashboard
            shares = [pool.submit(write_unit_workbooks, share_of(marts, unit_codes[n::workers]), staging,
                                  unit_codes[n::workers]) for n in range(workers)] if pool else []
            province = write_province_workbook(marts, staging / province_workbook_name(marts.month, marts.provisional))
            dashboard = write_dashboard(marts, staging / "dashboard.html")
            if pool:
                done = 0
                for share in as_completed(shares):
                    done += len(share.result())
                    if progress:
                        progress("unit workbooks", done, len(unit_codes))
            else:
                write_unit_workbooks(marts, staging, unit_codes, progress)
        written = [staging / "don_vi" / unit_workbook_name(code) for code in unit_codes]
        write_manifest(staging, [province, dashboard, *written])
        keep_what_the_pack_did_not_write(target, staging)
        swap_into_place(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ReportPack(folder=target, month=marts.month, province_workbook=target / province.name,
                      unit_workbooks=tuple(target / "don_vi" / p.name for p in written),
                      dashboard=target / dashboard.name, seconds=time.perf_counter() - started,
                      provisional=marts.provisional)


# Above this many listed rows (overdue, unexplained, discrepancies, the dossiers that cost 766 points: most of a
# pack's cells), the unit workbooks are written by two processes; below it the processes' start-up costs about what
# they save (benchmarks/README.md).
PARALLEL_ABOVE_ROWS = 20_000


def unit_workers(marts: PublishedMarts) -> int:
    rows = marts.overdue.height + marts.unexplained.height + marts.discrepancies.height
    rows += marts.index766_losses.height if marts.index766_losses is not None else 0
    return min(2, os.cpu_count() or 1) if rows > PARALLEL_ABOVE_ROWS else 1


# The frames with a row per unit (or per unit and month, dossier) that only that unit's workbook reads.
UNIT_FRAMES = ("units", "unit_month", "unit_scorecard", "overdue", "unexplained", "discrepancies", "index766_losses")


def share_of(marts: PublishedMarts, unit_codes: list[str]) -> PublishedMarts:
    """What the workbooks of `unit_codes` read of the marts: the per-unit frames cut to those units (the 766
    estimate to their own rows), the levels' and the province's frames as they are. A worker process is sent its
    share, pickled, not the whole."""
    mine = pl.col("unit_code").is_in(unit_codes)
    cut = {name: getattr(marts, name).filter(mine) for name in UNIT_FRAMES if getattr(marts, name) is not None}
    if marts.index766 is not None:
        cut["index766"] = marts.index766.filter((pl.col("scope") == "current_unit") & mine)
    return replace(marts, **cut)


def write_unit_workbooks(marts: PublishedMarts, folder: Path, unit_codes: list[str],
                         progress: Progress | None = None) -> list[Path]:
    """The workbooks of `unit_codes` (in a worker process, given its share_of the marts, or in the pack's own): each
    written from its unit's own rows, the per-unit frames split by unit once rather than searched for each unit."""
    by_unit = {name: getattr(marts, name).partition_by("unit_code", as_dict=True)
               for name in (*UNIT_FRAMES, "index766") if getattr(marts, name) is not None}
    units, written = marts.units.filter(pl.col("unit_code").is_in(unit_codes)).to_dicts(), []
    for n, unit in enumerate(units, start=1):
        key = (unit["unit_code"],)
        own = replace(marts, **{name: parts.get(key, getattr(marts, name).clear()) for name, parts in by_unit.items()})
        written.append(write_unit_workbook(own, unit, folder / "don_vi" / unit_workbook_name(unit["unit_code"])))
        if progress:
            progress("unit workbooks", n, len(units))
    return written


MANIFEST = ".tthc_pack"  # the pack's own files, one relative path a line: the only files a new pack replaces


def write_manifest(folder: Path, files: list[Path]) -> None:
    (folder / MANIFEST).write_text("".join(f"{f.relative_to(folder).as_posix()}\n" for f in files), encoding="utf-8")


def pack_files(folder: Path) -> set[str]:
    """What a pack wrote in `folder`: its manifest, or for a pack written before manifests, the names a pack
    writes (tong_hop_*.xlsx, dashboard.html, don_vi/*.xlsx)."""
    manifest = folder / MANIFEST
    if manifest.is_file():
        return {line for line in manifest.read_text(encoding="utf-8").splitlines() if line}
    return {p.relative_to(folder).as_posix() for pattern in ("tong_hop_*.xlsx", "dashboard.html", "don_vi/*.xlsx")
            for p in folder.glob(pattern)}


def keep_what_the_pack_did_not_write(target: Path, staging: Path) -> list[str]:
    """Everything in the old pack folder that no pack wrote (a user's notes, a hidden backup) appears in the new one
    too: hard-linked, so it is never copied nor, when the old folder is removed, lost."""
    if not target.is_dir():
        return []
    owned = pack_files(target) | {MANIFEST}
    kept = []
    for folder, dirs, files in os.walk(target):
        base = Path(folder)
        for name in files + [d for d in dirs if (base / d).is_symlink()]:
            source = base / name
            rel = source.relative_to(target).as_posix()
            if rel in owned:
                continue
            destination = staging / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            if source.is_symlink():
                os.symlink(os.readlink(source), destination)
            else:
                try:
                    os.link(source, destination)
                except OSError:
                    shutil.copy2(source, destination)
            kept.append(rel)
        for name in dirs:
            (staging / (base / name).relative_to(target)).mkdir(parents=True, exist_ok=True)
        dirs[:] = [d for d in dirs if not (base / d).is_symlink()]
    return kept


def swap_into_place(staging: Path, target: Path) -> None:
    """Two renames: the old pack aside, the new one in; then the old one is removed."""
    old = target.with_name(f".{target.name}.{os.getpid()}.old")
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


ABANDONED = re.compile(r"^\.(\d{4}-\d{2}(?:" + re.escape(PROVISIONAL_SUFFIX) + r")?)\.(\d+)\.(?:tmp|old)$")


def remove_abandoned(reports: Path) -> None:
    """Staging (and set-aside) folders of packs whose process died mid-write: only the names a pack gives them
    (`.<YYYY-MM>.<pid>.tmp`, `.old`), never another hidden file of the folder."""
    for path in reports.iterdir():
        found = ABANDONED.match(path.name)
        if found and path.is_dir() and not path.is_symlink() and not process_alive(int(found.group(2))):
            shutil.rmtree(path, ignore_errors=True)
