"""Automation: the nightly full refresh and the sensor on the landing folders."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg

from ingestion.ingest import KIND_FOLDERS, discover
from orchestration.jobs import full_refresh
from orchestration.settings import Settings

TIMEZONE = "Asia/Ho_Chi_Minh"


@dg.schedule(
    name="nightly_full_refresh",
    job=full_refresh,
    cron_schedule="0 2 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 02:00 Vietnam time: ingest what landed, rebuild, check, publish. When nothing "
                "changed since the last completed run, the tick is skipped (recorded in the check history) and "
                "the published file stays as it is.",
)
def nightly_full_refresh(context: dg.ScheduleEvaluationContext):
    import uuid

    from orchestration.run_inputs import stop_if_nothing_new

    settings = Settings.from_env()
    stopped = stop_if_nothing_new(settings, f"schedule-{uuid.uuid4()}")
    return dg.RunRequest() if stopped is None else dg.SkipReason(stopped[0].describe(settings))


def landed_files(landing: Path) -> dict[str, list[int]]:
    """Every landed export (or refused link) under the watched folders: relative path -> [size, mtime in ns]."""
    found = {}
    for entry in discover(landing):
        if entry.kind in KIND_FOLDERS.values():
            stat = entry.path.lstat()
            found[entry.path.relative_to(landing).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return found


def changed_files(seen: dict[str, list[int]], now: dict[str, list[int]]) -> list[str]:
    """Paths that are new, or whose size or modification time changed."""
    return sorted(p for p, signature in now.items() if seen.get(p) != signature)


@dg.sensor(
    name="landing_sensor",
    job=full_refresh,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a full refresh when dossier exports or unit reports land or change (path, size, mtime).",
)
def landing_sensor(context: dg.SensorEvaluationContext):
    landing = Settings.from_env().landing_dir
    seen = json.loads(context.cursor) if context.cursor else {}
    now = landed_files(landing)
    changed = changed_files(seen, now)
    if not changed:
        return dg.SkipReason(f"no new or changed file under {landing} ({len(now)} seen)")
    digest = hashlib.sha256("\n".join(f"{p}:{now[p]}" for p in changed).encode()).hexdigest()[:16]
    context.update_cursor(json.dumps(now, separators=(",", ":")))
    context.log.info(f"{len(changed)} new or changed files, e.g. {', '.join(changed[:3])}")
    return dg.RunRequest(run_key=f"landing-{digest}", tags={"tthc/changed_files": str(len(changed))})
