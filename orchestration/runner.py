"""`tthc run`: the whole pipeline in-process, with progress per step and a summary at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from orchestration.settings import Settings

DAGSTER_HOME = Path("data/dagster_home")


@dataclass
class RunOutcome:
    ok: bool
    failed_checks: list[str] = field(default_factory=list)
    error: str | None = None

    def failure_line(self) -> str:
        if self.error:
            return self.error
        return f"blocking checks failed: {', '.join(self.failed_checks)}; nothing was published"


def prepare_dagster_home() -> Path:
    """A persistent DAGSTER_HOME under data/, telemetry off."""
    home = DAGSTER_HOME.resolve()
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return home


def run_pipeline(settings: Settings, console: Console) -> RunOutcome:
    if not settings.landing_dir.exists():
        return RunOutcome(ok=False, error=f"landing folder {settings.landing_dir} does not exist: "
                                          f"run `tthc generate` or set TTHC_LANDING_DIR")
    console.print("not built yet: ingestion (#3), warehouse (#4), quality gate and publication (#5); "
                  "nothing to run beyond checking the landing folder")
    return RunOutcome(ok=True)
