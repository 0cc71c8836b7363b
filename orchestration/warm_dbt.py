"""The build's dbt process, started when the run starts, so that dbt's imports and its parse of the project (about
3 s of every build) happen while the run starts and ingests, not when the build is due.

`start()` launches `python -m orchestration.warm_dbt` (the command line does it before it loads the Dagster
definitions, the dbt resource when a run's resources are set up): it imports dbt, parses the project (from the kept
partial parse, into a folder of its own, its log lines kept out of its output), then waits on its standard input for
one dbt command: the arguments, environment and working folder with which dagster-dbt would have started `dbt`. It
runs that command with dbt's programmatic runner on the manifest it parsed, when the command's target and vars and
the TTHC_ settings are those it parsed with (otherwise dbt parses again), writes dbt's JSON log lines to its output
as `dbt` does, and exits with dbt's exit code: 0, 1 when a node failed, 2 when dbt itself failed.

`serving()` hands dagster-dbt that waiting process in place of the `dbt` process it starts, so the warehouse step
streams, interrupts and waits for it as for any dbt command. Without a waiting process (a test's build, a second
build in one run, $TTHC_DBT_EXECUTABLE set) dagster-dbt starts `dbt` as before. `stop()` ends a process that no
build took.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

PARSE_FLAGS = ("--target", "--vars")  # what the parse depends on among a build's arguments
PARSE_ENV_PREFIX = "TTHC_"  # the settings dbt's profile and macros read from the environment
PARTIAL_PARSE = "partial_parse.msgpack"
RECORD = "warm_dbt.json"  # in the build's target folder: whether the build ran on the parse made while it waited
STOP_WAIT_SECONDS = 10
OWN_EXECUTABLE = "TTHC_DBT_EXECUTABLE"  # a dbt of one's own runs as it is, started when the build is due

_waiting: subprocess.Popen | None = None


# --- the run's side ----------------------------------------------------------------------------------------------

def parse_args(settings) -> list[str]:
    """What a build's parse depends on among its arguments, for the settings `settings`."""
    return ["--target", settings.dbt_target, *settings.dbt_args()]


def start(project_dir: Path, parse_args: Sequence[str]) -> None:
    """Start the dbt process for this run's build, parsing `project_dir` with `parse_args` (`--target`, `--vars`);
    one already waiting is kept (the command line starts it before the run, the dbt resource when the run starts).
    None with $TTHC_DBT_EXECUTABLE set."""
    global _waiting
    if os.environ.get(OWN_EXECUTABLE) or (_waiting is not None and _waiting.poll() is None):
        return
    stop()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DBT_LOG_FORMAT": "json", "DBT_PROFILES_DIR": str(project_dir), "DBT_PROJECT_DIR": str(project_dir)}
    _waiting = subprocess.Popen([sys.executable, "-m", "orchestration.warm_dbt", json.dumps(list(parse_args))],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=env, cwd=project_dir)


def stop() -> None:
    """End the waiting process when no build took it (a run that failed before its build)."""
    global _waiting
    process, _waiting = _waiting, None
    if process is not None:
        _end(process)


def _end(process: subprocess.Popen, wait: float = STOP_WAIT_SECONDS) -> None:
    """Let `process` exit (its input closed: no request), killed after `wait` seconds; its output closed."""
    with contextlib.suppress(OSError):
        process.stdin.close()
    try:
        process.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()


def take(args: Sequence[str], env: dict[str, str], cwd: str | Path) -> subprocess.Popen | None:
    """The waiting process, given the dbt command `args` (the executable first) to run with `env` in `cwd`; None
    when there is none, or it has died (dbt is then started as usual)."""
    global _waiting
    process, _waiting = _waiting, None
    if process is None:
        return None
    if process.poll() is not None:
        _end(process)
        return None
    request = json.dumps({"args": list(args[1:]), "env": env, "cwd": str(cwd)})
    try:
        process.stdin.write(request.encode() + b"\n")
        process.stdin.close()
    except OSError:  # it died meanwhile
        _end(process, wait=0)
        return None
    process.args = list(args)  # what dagster-dbt logs as the dbt command
    return process


class _Subprocess:
    """dagster-dbt's `subprocess`, whose `Popen` takes the waiting process once."""

    PIPE, STDOUT = subprocess.PIPE, subprocess.STDOUT

    @staticmethod
    def Popen(args, **kwargs):  # noqa: N802 (subprocess's name)
        return take(args, kwargs["env"], kwargs["cwd"]) or subprocess.Popen(args, **kwargs)


@contextlib.contextmanager
def serving() -> Iterator[None]:
    """Within: the dbt command dagster-dbt starts is given to the waiting process, if there is one."""
    from dagster_dbt.core import dbt_cli_invocation

    if _waiting is None:
        yield
        return
    dbt_cli_invocation.subprocess = _Subprocess
    try:
        yield
    finally:
        dbt_cli_invocation.subprocess = subprocess


def record(target_path: Path) -> dict | None:
    """What the dbt process that ran the build in `target_path` says of it (`RECORD`), None when `dbt` ran."""
    path = target_path / RECORD
    return json.loads(path.read_text()) if path.exists() else None


def describe(record: dict | None) -> str | None:
    """One line for the run's log."""
    if record is None:
        return None
    if not record["manifest_reused"]:
        return f"dbt build: in the dbt process started with the run; it parsed the project again ({record['reason']})"
    return (f"dbt build: in the dbt process started with the run, which had imported dbt and parsed the project in "
            f"{record['ready_seconds']} s and then waited {record['waited_seconds']} s for the build")


# --- the dbt process ---------------------------------------------------------------------------------------------

def flag_values(args: Sequence[str], flags: Sequence[str] = PARSE_FLAGS) -> dict[str, str | None]:
    """The value of each of `flags` in dbt's `args` (the last one given), None when absent."""
    values: dict[str, str | None] = dict.fromkeys(flags)
    for i, arg in enumerate(args):
        name, eq, value = arg.partition("=")
        if name in values:
            values[name] = value if eq else (args[i + 1] if i + 1 < len(args) else None)
    return values


def parse_env(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(PARSE_ENV_PREFIX)}


def parsed_alike(parse_args: Sequence[str], parse_environ: dict[str, str], args: Sequence[str],
                 env: dict[str, str]) -> bool:
    """Whether a manifest parsed with `parse_args` in `parse_environ` is the one dbt would parse for `args` in
    `env`."""
    return flag_values(parse_args) == flag_values(args) and parse_env(parse_environ) == parse_env(env)


def exit_code(result) -> int:
    """dbt's exit code for a dbtRunnerResult, as its command line gives it."""
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


@contextlib.contextmanager
def output_to(path: Path) -> Iterator[None]:
    """Standard output and error (the file descriptors, so dbt's handlers too) written to `path` within."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def parse(project_dir: Path, parse_args: Sequence[str], folder: Path):
    """dbt's manifest of the project, parsed from its kept partial parse into `folder`; None when the parse
    failed (the build then parses, and reports why)."""
    from dbt.adapters.factory import reset_adapters
    from dbt.cli.main import dbtRunner

    folder.mkdir(parents=True, exist_ok=True)
    kept = project_dir / "target" / PARTIAL_PARSE
    if kept.exists():
        shutil.copyfile(kept, folder / PARTIAL_PARSE)
    os.environ.update({"DBT_TARGET_PATH": str(folder), "DBT_LOG_PATH": str(folder)})
    with output_to(folder / "parse.out"):
        result = dbtRunner().invoke(["parse", "--no-write-json", *parse_args])
    reset_adapters()  # the build registers its own, with its own target folder
    return result.result if result.success else None


def serve(project_dir: Path, parse_args: Sequence[str]) -> int:
    """Parse, wait for the build's request on standard input, run it; dbt's exit code (0 for no request)."""
    started = time.monotonic()
    from dbt.cli.main import dbtRunner

    folder = project_dir / "target" / f"warm-parse-{os.getpid()}"
    parse_environ = dict(os.environ)
    try:
        manifest = parse(project_dir, parse_args, folder)
        reason = None if manifest is not None else "its own parse failed"
        parsed = time.monotonic()
        line = sys.stdin.readline()
        if not line.strip():
            return 0
        request = json.loads(line)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        if manifest is not None and not parsed_alike(parse_args, parse_environ, request["args"], request["env"]):
            manifest, reason = None, "the build's target, vars or TTHC_ settings are not those it parsed with"
        target = Path(request["env"].get("DBT_TARGET_PATH", "target"))
        target.mkdir(parents=True, exist_ok=True)
        if manifest is not None and (folder / PARTIAL_PARSE).exists():  # the parse, kept for the next run
            shutil.copyfile(folder / PARTIAL_PARSE, target / PARTIAL_PARSE)
        (target / RECORD).write_text(json.dumps({
            "manifest_reused": manifest is not None, "reason": reason, "ready_seconds": round(parsed - started, 2),
            "waited_seconds": round(time.monotonic() - parsed, 2)}))
        sys.argv = ["dbt", *request["args"]]  # what dbt logs as its invocation
        return exit_code(dbtRunner(manifest=manifest).invoke(request["args"]))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(serve(Path.cwd(), json.loads(sys.argv[1])))
