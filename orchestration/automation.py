"""Automation: the nightly full refresh and the sensor on the landing folders."""

from __future__ import annotations

import hashlib

import dagster as dg

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


def sensor_cursor(changes) -> str:
    """A digest of the ledger's last batch and the paths it has not seen: a new one means something landed or
    changed since the last request (the run requested for it ingests, and the ledger moves on)."""
    text = f"{changes.last_batch}\n" + "\n".join(sorted(changes.paths))
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()[:16]


@dg.sensor(
    name="landing_sensor",
    job=full_refresh,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a full refresh when the landing folder holds a file the ingestion ledger has not seen as "
                "it is now (new, or changed in size or times): the question `tthc run` asks before it runs. The run "
                "it requests stops early if another run has ingested everything meanwhile.",
)
def landing_sensor(context: dg.SensorEvaluationContext):
    from orchestration.run_inputs import STOP_IF_NOTHING_NEW_TAG, landing_changes_now

    settings = Settings.from_env()
    changes = landing_changes_now(settings)
    if changes is None:
        return dg.SkipReason(f"{settings.warehouse} is held by a run: asked again at the next tick")
    if not changes.paths:
        return dg.SkipReason(f"nothing new under {settings.landing_dir}: the ingestion ledger has seen every file")
    cursor = sensor_cursor(changes)
    if cursor == context.cursor:
        return dg.SkipReason(f"the same {len(changes.paths)} new or changed files as at the last tick: their run "
                             "was requested")
    context.update_cursor(cursor)
    context.log.info(f"{len(changes.paths)} new or changed files, e.g. {', '.join(changes.paths[:3])}")
    return dg.RunRequest(run_key=f"landing-{cursor}", tags={"tthc/changed_files": str(len(changes.paths)),
                                                            STOP_IF_NOTHING_NEW_TAG: "true"})
