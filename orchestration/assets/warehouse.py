"""The dbt project as Dagster assets (@dbt_assets): models keyed [schema, model] so the keys match the tables,
sources keyed [raw, table] so they join the ingestion assets, dbt tests as asset checks (error severity ->
blocking), all run by one `dbt build` in the run's process.

`@dbt_assets` rather than the dbt component: the graph also holds Python assets (ingestion, quality,
publication) defined in code, and one Definitions object in Python keeps the whole graph in one place.
"""

import functools
import importlib.metadata
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from packaging.version import Version

from orchestration import warm_dbt
from orchestration.build_selection import BuildPlan, plan_build, record_digests, relation
from orchestration.check_descriptions import describe_test
from orchestration.dagster_dbt_import import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from orchestration.gate import BLOCKING_CHECKS, check_key, is_blocking
from orchestration.history import recorded
from orchestration.model_definition import definition_digest, rebuild_if_changed, record_definition
from orchestration.resources import WarehouseResource
from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.spark_marts import copied_relations, copy_spark_tables

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """$TTHC_DBT_EXECUTABLE, else dbt beside the running interpreter (so `.venv/bin/tthc` works without an
    activated venv), else `dbt` on PATH."""
    if os.environ.get("TTHC_DBT_EXECUTABLE"):
        return os.environ["TTHC_DBT_EXECUTABLE"]
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


class ProjectDbtCli(DbtCliResource):
    """dagster-dbt's resource, told the dbt version instead of asking: dagster-dbt runs `dbt --version` in a
    subprocess before every command (1.9 s a run). The dbt beside the interpreter is the dbt-core installed here;
    an executable set in $TTHC_DBT_EXECUTABLE is still asked. And without a dbt adapter in the run's process."""

    @functools.cached_property
    def _cli_version(self) -> Version:
        if os.environ.get("TTHC_DBT_EXECUTABLE"):
            return super()._cli_version
        return Version(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        """No dbt adapter in the run's process: dagster-dbt loads the profile and project and registers one before
        every command (1.3 s of a nightly run) for `fetch_row_counts` and `fetch_column_metadata`, which the
        warehouse step does not call; dbt itself runs in its own process, with its own adapter."""
        return None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """A run that will build starts its dbt process now (orchestration/warm_dbt.py): dbt imports and parses the
        project while the run ingests. The command line has started it sooner."""
        super().setup_for_execution(context)
        warm_dbt.start(Path(self.project_dir), warm_dbt.parse_args(Settings.from_env()))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        warm_dbt.stop()  # a run that ended before its build


def dbt_resource() -> DbtCliResource:
    return ProjectDbtCli(project_dir=dbt_project, dbt_executable=dbt_executable())


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """Parse the dbt project when its manifest is missing or older than any model, macro or test."""
    manifest = project.manifest_path
    sources = [p for folder in ("models", "macros", "tests") for p in (project.project_dir / folder).rglob("*")
               if p.is_file()] + [project.project_dir / "dbt_project.yml"]
    if not manifest.exists() or manifest.stat().st_mtime < max(p.stat().st_mtime for p in sources):
        # dagster-dbt's own preparer looks for `dbt` on PATH only: parse with the resolved executable instead, and
        # with the settings (the profile has no defaults of its own)
        dbt_resource().cli(["parse", "--quiet", *Settings.from_env().dbt_args()], target_path=project.target_path).wait()
    return manifest


def incremental_relations(project: DbtProject = dbt_project, manifest: Mapping[str, Any] | None = None) -> list[str]:
    """The incremental models as `schema.table`: a batch review changes which rows count in the past, so these
    are dropped and the next `dbt build` rebuilds them whole (their watermark only looks forward)."""
    manifest = manifest or json.loads(ensure_manifest(project).read_text())
    return sorted(relation(node) for node in manifest["nodes"].values()
                  if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental")


class WarehouseTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        """A dbt test blocks publication when the gate lists it (dbt runs every test at severity warn), and says in
        one line what makes it fail (check_descriptions.describe_test), after why it blocks."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        blocking = is_blocking(spec.asset_key, spec.name)
        description = describe_test(manifest["nodes"].get(unique_id, {}))[1]
        if blocking:
            description = f"Blocks publication: {BLOCKING_CHECKS[check_key(spec.asset_key, spec.name)]}. {description}"
        return spec._replace(blocking=blocking, description=description)

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """The model's or source's description from the dbt YAML, without dagster-dbt's appended raw SQL (the
        catalog showed "#### Raw SQL" under every model; the SQL is in the data dictionary)."""
        return (dbt_resource_props.get("description") or "").strip() or \
            f"dbt {dbt_resource_props['resource_type']} {dbt_resource_props['name']}"

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """The layer: the model's folder (staging, intermediate, facts, marts, quality)."""
        fqn = dbt_resource_props["fqn"]
        return fqn[1] if len(fqn) > 2 else "warehouse"


translator = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=ensure_manifest(), dagster_dbt_translator=translator, name="warehouse_models",
            project=dbt_project)
@recorded
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """`dbt build`: staging views, incremental current state and facts, marts, and their dbt tests; the models that
    read no raw table whose batches changed since the last build are kept as they are (build_selection.py).

    dbt tests run at severity warn; as asset checks, the gate grades them (orchestration/gate.py). dbt itself failing (killed, crashed, or a model in
    error) fails this step, naming the cause and dbt's log, so the run can never pass for a clean one.
    """
    settings = warehouse.settings()
    definition = definition_digest(DBT_PROJECT_DIR)
    manifest = json.loads(ensure_manifest().read_text())
    # a reader holding the file: wait for it here (with a message) rather than fail inside dbt
    with warehouse.connect(log=context.log.warning) as con:
        rebuilt = rebuild_if_changed(con, definition, incremental_relations(manifest=manifest)) \
            if settings.engine == "duckdb" else []
        plan = plan_build(con, manifest, whole=bool(rebuilt), tests=definition_digest(DBT_PROJECT_DIR, ("tests",))) \
            if settings.engine == "duckdb" else BuildPlan.everything()
    if rebuilt:
        context.log.info(f"the dbt models or rules changed since the last build: {', '.join(rebuilt)} are built whole")
    context.log.info(plan.describe())
    yield from kept_outputs(context, manifest, plan)  # first: Dagster wants a model's inputs before it
    # unit tests check the models' code, not the data: they run in the test suite (tests/test_warehouse.py), as
    # dbt advises for production builds, and not in each run
    with warm_dbt.serving():  # in the dbt process started with the run, if one waits (warm_dbt.py)
        invocation = dbt.cli(["build", "--exclude-resource-type", "unit_test", *plan.dbt_args(manifest),
                              "--target", settings.dbt_target, *settings.dbt_args()],
                             context=context, raise_on_error=False)
    yield from with_progress(invocation.stream(), build_size(manifest, plan), context.log.info)
    exit_code = invocation.process.wait()
    target = Path(invocation.target_path)
    warm = warm_dbt.describe(warm_dbt.record(target))
    if warm:
        context.log.info(warm)
    keep_partial_parse(target)
    prune_invocation_targets(target.parent)
    cause = dbt_failure(exit_code, target)
    if cause:
        raise dg.Failure(description=cause, metadata={"dbt_log": str(target / "dbt.log")})
    if settings.engine == "duckdb":
        with warehouse.connect(log=context.log.warning) as con:
            record_definition(con, definition)
            record_digests(con, plan.digests)
    if settings.on_spark:  # the checks and the publication read the marts in the DuckDB warehouse
        with warehouse.connect(log=context.log.warning) as con:
            copied = copy_spark_tables(con, settings.spark_dir,
                                       copied_relations(target / "manifest.json"))
        context.log.info(f"copied {len(copied)} tables from Spark into the warehouse: "
                         f"{sum(copied.values()):,} rows")


BUILT_RESOURCES = ("model", "test", "seed", "snapshot")  # what `dbt build` runs here (unit tests excluded)
PROGRESS_STEPS = 10  # a line at every tenth of the build


def build_size(manifest: Mapping[str, Any], plan: BuildPlan | None = None) -> int:
    """How many models and tests a `dbt build` runs: every one, less the models the plan keeps and the tests that
    read only kept models."""
    kept = set(plan.kept) if plan else set()
    nodes = manifest["nodes"]
    return sum(1 for uid, node in nodes.items() if node["resource_type"] in BUILT_RESOURCES and uid not in kept
               and not (node["resource_type"] == "test" and kept and set(manifest["parent_map"][uid]) <= kept))


def kept_outputs(context: dg.AssetExecutionContext, manifest: Mapping[str, Any], plan: BuildPlan) -> Iterator[dg.Output]:
    """An output for each selected model the build keeps, saying so: the steps downstream (the publication, the
    checks that read a reference table) run on the table as the last build left it (Dagster skips a step whose
    upstream output is missing). The models a build keeps read only kept models, so these come before any other."""
    for uid in plan.kept:
        key = translator.get_asset_key(manifest["nodes"][uid])
        if key in context.selected_asset_keys:
            yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_key(key), metadata={
                "rebuilt": False,
                "kept_because": "no new, rejected or reviewed batch of the raw tables it reads since the last build",
            })


def with_progress(events, total: int, say) -> Iterator:
    """The build's events, saying "dbt build: k/n models and tests done" at every tenth (dbt's longest step
    otherwise shows nothing until it ends): each model or test finished yields one event."""
    done, next_line = 0, 1
    for event in events:
        done += 1
        if total and done * PROGRESS_STEPS >= next_line * total:
            say(f"dbt build: {min(done, total)}/{total} models and tests done")
            next_line = done * PROGRESS_STEPS // total + 1
        yield event


def keep_partial_parse(invocation_target: Path, project: DbtProject = dbt_project) -> None:
    """Keep this build's parse for the next: dagster-dbt seeds each invocation's target folder from the project's
    `partial_parse.msgpack`, which `dbt parse` wrote with another profile (paths, memory bound), so every build
    parsed the project whole again."""
    parsed = invocation_target / "partial_parse.msgpack"
    if parsed.exists():
        kept = project.project_dir / project.target_path / "partial_parse.msgpack"
        staging = kept.with_name(f".{kept.name}.{os.getpid()}.tmp")
        shutil.copyfile(parsed, staging)
        os.replace(staging, kept)


INVOCATION_TARGET_MAX_AGE_DAYS = 30  # as the run logs (cli/runner.py)


def prune_invocation_targets(target_root: Path, max_age_days: float = INVOCATION_TARGET_MAX_AGE_DAYS,
                             now: float | None = None) -> list[Path]:
    """dagster-dbt gives each build a target folder of its own (`warehouse_models-<run>-<id>`: manifest, compiled
    SQL, log; 8 MB): those older than `max_age_days` are removed, or a nightly schedule keeps 3 GB a year."""
    cutoff = (now or time.time()) - max_age_days * 86400
    old = [p for p in target_root.glob("warehouse_models-*") if p.is_dir() and p.stat().st_mtime < cutoff]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    return old


def dbt_failure(exit_code: int, target_path: Path) -> str | None:
    """Why a `dbt build` did not finish as a build whose only failures are tests, or None when it did.

    dbt exits 1 when a test failed (a check: the gate decides) and also when a model failed (the models after it
    are skipped: the run broke); 2 when dbt itself crashed; a negative code when a signal killed it.
    """
    log = target_path / "dbt.log"
    results_path = target_path / "run_results.json"
    results = json.loads(results_path.read_text())["results"] if results_path.exists() else []
    done = f"{len(results)} dbt nodes finished"
    if exit_code < 0:
        name = signal.Signals(-exit_code).name
        hint = " (most often the kernel's out-of-memory killer: see TTHC_DUCKDB_MEMORY_LIMIT)" \
            if name == "SIGKILL" else ""
        return f"dbt was killed by {name}{hint}; {done}; log: {log}"
    if exit_code == 0:
        return None
    broken = [r["unique_id"] for r in results
              if r["status"] == "error" and not r["unique_id"].startswith(("test.", "unit_test."))]
    if exit_code == 1 and results and not broken:
        return None  # only tests failed: their checks say so
    what = f"models in error: {', '.join(broken[:10])}" if broken else f"dbt exited with code {exit_code}"
    return f"{what}; {done}; log: {log}"
