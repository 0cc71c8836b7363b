"""`tthc run`: the full-refresh job executed in-process, with progress per step and a summary at the end."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from cli.progress import innermost, root_cause
from orchestration.duckdb_files import corruption
from orchestration.settings import Settings

DEFAULT_DAGSTER_HOME = Path("data/dagster_home")
DAGSTER_YAML_MARK = "# Written by tthc"
DAGSTER_YAML = f"""\
{DAGSTER_YAML_MARK} (cli/runner.py): replaced when it changes; delete this line to keep your own.
telemetry:
  enabled: false
# One run writes the DuckDB warehouse at a time: further runs wait in the queue.
concurrency:
  runs:
    max_concurrent_runs: 1
# A run whose process died (killed, out of memory, machine restarted) is marked failed instead of holding the
# one run slot for ever, so the next scheduled or sensor run starts.
run_monitoring:
  enabled: true
  start_timeout_seconds: 300
  cancel_timeout_seconds: 300
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
"""
# What earlier versions wrote, without the mark: replaced like a marked file.
PREVIOUS_DAGSTER_YAMLS = ("""\
telemetry:
  enabled: false
# One run writes the DuckDB warehouse at a time: further runs wait in the queue.
concurrency:
  runs:
    max_concurrent_runs: 1
""",)
RUN_LOG_MAX_AGE_DAYS = 30
STEP_NOT_FINISHED = "did not run (an upstream step did not produce its assets)"


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
            return f"the run broke: {self.error}" + (
                f"; blocking checks failed: {', '.join(self.failed_checks)}" if self.failed_checks else "")
        return f"blocking checks failed: {', '.join(self.failed_checks)}; nothing was published"

    @property
    def broke(self) -> bool:
        """The run itself broke (a step failed or did not run), as opposed to a gate that held."""
        return self.error is not None


def prepare_dagster_home() -> Path:
    """A persistent DAGSTER_HOME ($DAGSTER_HOME, default data/dagster_home), telemetry off, one run at a time."""
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    current = config.read_text(encoding="utf-8") if config.exists() else None
    if current is None or current in PREVIOUS_DAGSTER_YAMLS or (
            current.startswith(DAGSTER_YAML_MARK) and current != DAGSTER_YAML):
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return home


def run_log_path(home: Path, run_id: str) -> Path:
    """One log per run, named by its run id, beside the older ones (pruned by age)."""
    return home / "logs" / f"tthc_run_{run_id}.log"


def prune_run_logs(folder: Path, max_age_days: float = RUN_LOG_MAX_AGE_DAYS, now: float | None = None) -> list[Path]:
    cutoff = (now or time.time()) - max_age_days * 86400
    old = [p for p in folder.glob("tthc_run_*.log") if p.stat().st_mtime < cutoff]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def run_pipeline(settings: Settings, console: Console, job, rehash: bool = False) -> RunOutcome:
    """Execute `job` (a Dagster job of the code location) in this process, printing one line per step and check.

    `rehash`: ingestion hashes every landed file again (`tthc run --force`)."""
    import dagster as dg

    from cli.progress import tthc_progress
    from orchestration.dead_runs import reap_dead_runs

    if not settings.landing_dir.exists():
        return RunOutcome(ok=False, error=f"landing folder {settings.landing_dir} does not exist: "
                                          f"run `tthc generate` or set TTHC_LANDING_DIR")
    home = prepare_dagster_home()
    instance = dg.DagsterInstance.from_config(str(home))
    for dead in reap_dead_runs(instance):
        console.print(f"[yellow]warning:[/] run {dead} had died (its process is gone): marked failed")
    job = job.with_logger_defs({"tthc_progress": tthc_progress})
    run_id = str(uuid.uuid4())
    run_log = run_log_path(home, run_id)
    run_log.parent.mkdir(parents=True, exist_ok=True)
    prune_run_logs(run_log.parent)
    with open(run_log, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log):  # dbt's line per node
        result = job.execute_in_process(instance=instance, raise_on_error=False, run_id=run_id,
                                        run_config={"loggers": {"tthc_progress": {}}, "ops": {"raw_tables": {
                                            "config": {"rehash_landed_files": rehash}}}})
    outcome = summarise(result)
    damaged = corruption(Exception(outcome.error or ""), settings.warehouse)
    if damaged is not None:  # found mid-run (dbt, a check): say which file and how to recover
        outcome.error = str(damaged)
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
    broken = [f"{e.step_key}: {root_cause(e.event_specific_data.error)}" for e in result.all_events
              if e.event_type_value == "STEP_FAILURE"
              and innermost(e.event_specific_data.error).cls_name != "DagsterAssetCheckFailedError"]
    if not failed:  # steps skipped without a failed blocking check: something upstream did not finish
        broken += [f"{e.step_key}: {STEP_NOT_FINISHED}" for e in result.all_events
                   if e.event_type_value == "STEP_SKIPPED"]
    if not result.success and not failed and not broken:
        broken.append("the run failed")
    return RunOutcome(ok=result.success and not failed and not broken, failed_checks=failed, warnings=warnings,
                      error="; ".join(broken) or None, published=published, metadata=metadata)


def _print_summary(outcome: RunOutcome, console: Console) -> None:
    ledger = outcome.metadata.get("raw/ingestion_ledger", {})
    console.print(
        f"[bold]summary[/]: files new {ledger.get('files_seen', 0)}, loaded {ledger.get('files_loaded', 0)}, "
        f"skipped {ledger.get('files_skipped', 0)}, rejected {ledger.get('files_rejected', 0)}; "
        f"rows loaded {ledger.get('rows_loaded', 0):,}, quarantined {ledger.get('rows_quarantined', 0):,}; "
        + (f"[red]the run broke[/]: {outcome.error}; " if outcome.broke else
           f"checks failed {len(outcome.failed_checks)}, warnings {len(outcome.warnings)}; ")
        + f"published: {'yes' if outcome.published else 'no'}")
