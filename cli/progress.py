"""A Dagster logger for the terminal: one line per step and per check result, warnings, nothing else.

`tthc run` selects it (run config `loggers: {tthc_progress: {}}`) instead of Dagster's verbose console logger.
"""

from __future__ import annotations

import logging
import re

import dagster as dg
from rich.console import Console

console = Console(stderr=True, soft_wrap=True)


def innermost(error):
    while error.cause is not None:
        error = error.cause
    return error


def root_cause(error) -> str:
    """The innermost error of a Dagster step failure, as one line."""
    error = innermost(error)
    if not error.message:
        return error.cls_name
    line = error.message.strip().splitlines()[0]
    qualified = re.match(rf"^[\w.]*{re.escape(error.cls_name)}: ", line)  # "dagster...Failure: what happened"
    return line[qualified.end():] if qualified else line



def step_duration(data) -> str:
    """ " in 2.4 s": how long a finished step took (Dagster's StepSuccessData.duration_ms), or nothing."""
    duration_ms = getattr(data, "duration_ms", None)
    return f" in {duration_ms / 1000:.1f} s" if duration_ms is not None else ""


QUIET_STEPS = ("warehouse_models",)  # dbt prints a line per node: show only its summary lines


class StepPrinter(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.passed: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            message = meta.get("orig_message", record.getMessage())
            if record.levelno >= logging.WARNING:
                console.print(f"  [yellow]warning:[/] {message}")
            elif record.levelno >= logging.INFO and message and (
                    meta.get("step_key") not in QUIET_STEPS or message.startswith(("Done.", "Finished running", "dbt build:"))):
                console.print(f"  {message.strip()}", style="dim")
            return
        kind = event.event_type_value
        step = event.step_key or ""
        if kind == "STEP_START":
            console.print(f"[bold]▶ {step}[/]")
        elif kind == "STEP_SUCCESS":
            passed = self.passed.pop(step, 0)
            console.print(f"  [green]✓ {step}[/]" + (f" ({passed} checks passed)" if passed else "")
                          + step_duration(event.event_specific_data))
        elif kind == "STEP_FAILURE":
            console.print(f"  [red]✗ {step}: {root_cause(event.event_specific_data.error)}[/]")
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.passed:
                self.passed[step] = self.passed.get(step, 0) + 1
                return
            mark = "[yellow]warn[/]" if evaluation.severity == dg.AssetCheckSeverity.WARN else "[red]FAIL[/]"
            detail = (evaluation.description or "")[:200]
            console.print(f"  check {'/'.join(evaluation.asset_key.path)}:{evaluation.check_name} {mark} — {detail}")


@dg.logger(description="Terse progress for the tthc command line.")
def tthc_progress(init_context) -> logging.Logger:
    logger = logging.Logger("tthc_progress", level=logging.DEBUG)  # step events are DEBUG records
    logger.addHandler(StepPrinter())
    return logger
