"""Runs whose process died (killed, out of memory, machine restarted) are marked failed.

Dagster's run monitoring cannot see a dead run worker with the default run launcher (it has no health check),
and an in-process `tthc run` is not launched by it at all. A run left STARTED holds the one run slot of the
queue (`max_concurrent_runs: 1`) for ever, so every scheduled and sensor run after it would wait. So each run
records the process that executes it (pid, its start time, the host) as run tags, and `dead_run_sensor` and
`tthc run` mark failed every STARTED run whose process is gone.
"""

from __future__ import annotations

import os
import socket

import dagster as dg

from storage.processes import process_stat

PID_TAG, STARTED_TAG, HOST_TAG = "tthc/pid", "tthc/pid_started", "tthc/host"
UNFINISHED = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def process_start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc), which tells a reused pid apart; None if gone."""
    stat = process_stat(pid)
    return stat[19] if stat else None  # field 22, counted after the command name


def tag_run_with_this_process(instance: dg.DagsterInstance, run_id: str) -> None:
    pid = os.getpid()
    instance.add_run_tags(run_id, {PID_TAG: str(pid), STARTED_TAG: process_start_ticks(pid) or "",
                                   HOST_TAG: socket.gethostname()})


def is_dead(run: dg.DagsterRun) -> bool:
    """The run's process is gone (only decidable on its own host, and for runs that recorded their process)."""
    tags = run.tags
    if PID_TAG not in tags or tags.get(HOST_TAG) != socket.gethostname():
        return False
    return process_start_ticks(int(tags[PID_TAG])) != tags.get(STARTED_TAG)


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every unfinished run whose process died; returns their run ids."""
    reaped = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=UNFINISHED)):
        run = record.dagster_run
        if is_dead(run):
            instance.report_run_failed(
                run, f"the process of this run (pid {run.tags[PID_TAG]} on {run.tags[HOST_TAG]}) is gone: it was "
                     f"killed or the machine restarted; marked failed so that the next run can start")
            reaped.append(run.run_id)
    return reaped


@dg.sensor(name="dead_run_sensor", minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Marks failed every started run whose process died, so it never blocks the run queue.")
def dead_run_sensor(context: dg.SensorEvaluationContext):
    reaped = reap_dead_runs(context.instance)
    for run_id in reaped:
        context.log.warning(f"run {run_id}: its process died; marked failed")
    return dg.SkipReason(f"marked {len(reaped)} dead runs failed" if reaped else "no dead run")
