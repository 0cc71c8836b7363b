"""`tthc run`: the full-refresh job executed in-process, with progress per step and a summary at the end."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from orchestration.settings import Settings

DEFAULT_DAGSTER_HOME = Path("data/dagster_home")
DAGSTER_YAML = """\
telemetry:
  enabled: false
# One run writes the DuckDB warehouse at a time: further runs wait in the queue.
concurrency:
  runs:
    max_concurrent_runs: 1
"""


@dataclass
class RunOutcome:
    ok: bool
    failed_checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    published: bool = False
    metadata: dict = field(default_factory=dict)

    def failure_line(self) -> str:
        if self.error:
            return self.error
        return f"blocking checks failed: {', '.join(self.failed_checks)}; nothing was published"


def prepare_dagster_home() -> Path:
    """A persistent DAGSTER_HOME ($DAGSTER_HOME, default data/dagster_home), telemetry off, one run at a time."""
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return home


def run_pipeline(settings: Settings, console: Console) -> RunOutcome:
    import dagster as dg

    from orchestration.definitions import defs

    if not settings.landing_dir.exists():
        return RunOutcome(ok=False, error=f"landing folder {settings.landing_dir} does not exist: "
                                          f"run `tthc generate` or set TTHC_LANDING_DIR")
    home = prepare_dagster_home()
    instance = dg.DagsterInstance.from_config(str(home))
    job = defs.resolve_job_def("full_refresh")
    run_log = home / "logs" / "tthc_run.log"
    run_log.parent.mkdir(parents=True, exist_ok=True)
    with open(run_log, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log):  # dbt's line per node
        result = job.execute_in_process(instance=instance, raise_on_error=False,
                                        run_config={"loggers": {"tthc_progress": {}}})
    outcome = summarise(result)
    _print_summary(outcome, console)
    console.print(f"run {result.run_id}: the full dbt log is in {run_log}; `tthc ui` shows the run")
    return outcome


def summarise(result) -> RunOutcome:
    failed, warnings = [], []
    for evaluation in result.get_asset_check_evaluations():
        name = f"{'/'.join(evaluation.asset_key.path)}:{evaluation.check_name}"
        if not evaluation.passed:
            (failed if evaluation.severity.value == "ERROR" else warnings).append(name)
    metadata = {}
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        metadata["/".join(materialization.asset_key.path)] = {k: v.value for k, v in materialization.metadata.items()}
    published = "published_marts" in metadata
    error = None
    if not result.success and not failed:
        failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        error = "; ".join(f"{e.step_key}: {root_cause(e.event_specific_data.error)}" for e in failures) \
            or "the run failed"
    return RunOutcome(ok=result.success and not failed, failed_checks=failed, warnings=warnings, error=error,
                      published=published, metadata=metadata)


def root_cause(error) -> str:
    """The innermost error of a Dagster step failure, as one line."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[0] if error.message else error.cls_name


def _print_summary(outcome: RunOutcome, console: Console) -> None:
    ledger = outcome.metadata.get("raw/ingestion_ledger", {})
    console.print(
        f"[bold]summary[/]: files new {ledger.get('files_seen', 0)}, loaded {ledger.get('files_loaded', 0)}, "
        f"skipped {ledger.get('files_skipped', 0)}, rejected {ledger.get('files_rejected', 0)}; "
        f"rows loaded {ledger.get('rows_loaded', 0):,}, quarantined {ledger.get('rows_quarantined', 0):,}; "
        f"checks failed {len(outcome.failed_checks)}, warnings {len(outcome.warnings)}; "
        f"published: {'yes' if outcome.published else 'no'}")
