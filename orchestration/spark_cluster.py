"""A Spark standalone cluster on this machine, started from the pyspark distribution's own scripts: a master, two
workers and the Spark Thrift server submitted to that master, all bound to 127.0.0.1. dbt's `spark_cluster` target
talks to the Thrift server (TTHC_SPARK_HOST, TTHC_SPARK_PORT) as it would to a real cluster's.

    <spark_dir>/tables/          the warehouse folder (spark.sql.warehouse.dir), shared by every executor and read
                                 back by the run (orchestration/spark_marts.py)
    <spark_dir>/metastore_db/    the Thrift server's Derby metastore
    <spark_dir>/cluster/         cluster.json (pids and ports), the logs, the workers' and executors' scratch

`tthc spark-cluster start|stop|status` (and `make spark-cluster` / `make spark-cluster-stop`) drive it; the tests
start one in a temporary folder. Nothing is downloaded: the jars are pyspark's.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from orchestration.settings import DEFAULT_SPARK_HOST, DEFAULT_SPARK_MASTER_PORT, DEFAULT_SPARK_PORT
from storage.processes import process_alive

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
STATE_FILE = "cluster.json"
START_TIMEOUT_SECONDS = 300.0


class ClusterError(RuntimeError):
    """The cluster could not be started or stopped: the message says why and where its logs are."""


@dataclass(frozen=True)
class ClusterSpec:
    """What to start: where, on which ports, how big. The defaults fit this 2-core machine."""

    spark_dir: Path
    host: str = DEFAULT_SPARK_HOST
    thrift_port: int = DEFAULT_SPARK_PORT
    master_port: int = DEFAULT_SPARK_MASTER_PORT
    workers: int = 2
    worker_cores: int = 1
    worker_memory: str = "3g"  # each worker offers this, and its one executor takes it
    driver_memory: str = "2g"  # the Thrift server: plans the queries, holds no data
    shuffle_partitions: int = 8

    @property
    def folder(self) -> Path:
        return self.spark_dir / "cluster"

    @property
    def master_url(self) -> str:
        return f"spark://{self.host}:{self.master_port}"


@dataclass
class ClusterState:
    """A started cluster, as cluster.json keeps it: its processes' ids (each leads its own process group) and ports."""

    spec: dict
    pids: dict[str, int] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)

    def alive(self) -> dict[str, int]:
        return {name: pid for name, pid in self.pids.items() if process_alive(pid)}


def spark_home() -> Path:
    """The pyspark distribution: its bin/spark-class and jars, the Thrift server's among them."""
    found = importlib.util.find_spec("pyspark")
    if found is None or not found.submodule_search_locations:
        raise ClusterError("pyspark is not installed: `make spark` installs Java and the spark dependency group")
    return Path(next(iter(found.submodule_search_locations)))


def java_missing() -> str | None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "java is missing (`make spark` installs Debian's openjdk-17-jre-headless)"
    return None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def read_state(spark_dir: Path) -> ClusterState | None:
    path = spark_dir / "cluster" / STATE_FILE
    if not path.exists():
        return None
    return ClusterState(**json.loads(path.read_text()))


def _environment(spec: ClusterSpec) -> dict[str, str]:
    folder = spec.folder.resolve()
    return {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": spec.host,
            "SPARK_LOCAL_DIRS": str(folder / "scratch"), "SPARK_WORKER_DIR": str(folder / "work"),
            "SPARK_LOG_DIR": str(folder / "logs"), "SPARK_NO_DAEMONIZE": "1"}


def _thrift_server_command(spec: ClusterSpec) -> list[str]:
    spark_dir = spec.spark_dir.resolve()
    scratch = spec.folder.resolve() / "scratch"
    confs = {
        "spark.sql.warehouse.dir": str(spark_dir / "tables"),
        "spark.hadoop.javax.jdo.option.ConnectionURL":
            f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true",
        "spark.executor.memory": spec.worker_memory,
        "spark.executor.cores": str(spec.worker_cores),
        "spark.cores.max": str(spec.workers * spec.worker_cores),
        "spark.sql.shuffle.partitions": str(spec.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.local.dir": str(scratch),
        # the executors' scratch and JVM temporary files beside the cluster's, not in /tmp
        "spark.executor.extraJavaOptions": f"-Djava.io.tmpdir={scratch}",
    }
    command = [str(spark_home() / "bin" / "spark-submit"), "--master", spec.master_url, "--class",
               THRIFT_SERVER_CLASS, "--name", "tthc-thrift-server", "--driver-memory", spec.driver_memory,
               "--driver-java-options", f"-Dderby.system.home={spark_dir} -Djava.io.tmpdir={scratch}"]
    for key, value in confs.items():
        command += ["--conf", f"{key}={value}"]
    return command + ["spark-internal", "--hiveconf", f"hive.server2.thrift.port={spec.thrift_port}",
                      "--hiveconf", f"hive.server2.thrift.bind.host={spec.host}"]


def _spawn(name: str, command: list[str], spec: ClusterSpec, state: ClusterState) -> subprocess.Popen:
    log = spec.folder / "logs" / f"{name}.log"
    # a new log for each start: the master's is read to count the workers that registered with this one
    with open(log, "wb") as out:
        # its own process group: stopping it stops what it started (a worker's executors)
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=_environment(spec), cwd=spec.folder, start_new_session=True)
    state.pids[name], state.logs[name] = process.pid, str(log)
    _write_state(spec, state)
    return process


def _write_state(spec: ClusterSpec, state: ClusterState) -> None:
    path = spec.folder / STATE_FILE
    staging = path.with_suffix(".tmp")
    staging.write_text(json.dumps(asdict(state), indent=2))
    os.replace(staging, path)


def _log_tail(path: str, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


def _wait_until(answers, process: subprocess.Popen, name: str, state: ClusterState, deadline: float) -> None:
    while not answers():
        if process.poll() is not None:
            raise ClusterError(f"the Spark {name} exited with code {process.returncode} while starting; "
                               f"its log ({state.logs[name]}) ends:\n{_log_tail(state.logs[name])}")
        if time.monotonic() > deadline:
            raise ClusterError(f"the Spark {name} did not answer within {START_TIMEOUT_SECONDS:.0f} s; "
                               f"its log ({state.logs[name]}) ends:\n{_log_tail(state.logs[name])}")
        time.sleep(0.5)


def _registered_workers(spec: ClusterSpec) -> int:
    """How many workers the master's log says registered (its web UI is not needed for that)."""
    log = spec.folder / "logs" / "master.log"
    with contextlib.suppress(OSError):
        return log.read_text(errors="replace").count("Registering worker")
    return 0


def thrift_answers(host: str, port: int) -> bool:
    """The Thrift server accepts a session and runs a query (its port opens before it can)."""
    if not port_answers(host, port):
        return False
    from pyhive import hive

    try:
        with contextlib.closing(hive.connect(host=host, port=port, username="tthc")) as connection:
            cursor = connection.cursor()
            cursor.execute("select 1")
            return cursor.fetchall() == [(1,)]
    except Exception:  # noqa: BLE001 - any failure means not ready yet; the deadline reports it
        return False


def start(spec: ClusterSpec) -> ClusterState:
    """Start the master, the workers and the Thrift server, and return once a query runs through Thrift. A cluster
    already running from the same folder is returned as it is; a port already taken is refused, naming it."""
    reason = java_missing()
    if reason:
        raise ClusterError(reason)
    running = read_state(spec.spark_dir)
    if running and set(running.alive()) == set(running.pids):
        return running
    if running:  # what is left of a cluster that died: stopped whole before starting again
        stop(spec.spark_dir)
    for name, port in (("Thrift server", spec.thrift_port), ("master", spec.master_port)):
        if port_answers(spec.host, port):
            raise ClusterError(f"port {port} on {spec.host} is taken: the Spark {name} cannot listen there "
                               "(TTHC_SPARK_PORT / TTHC_SPARK_MASTER_PORT choose others)")
    for sub in ("logs", "scratch", "work"):
        (spec.folder / sub).mkdir(parents=True, exist_ok=True)
    (spec.spark_dir / "tables").mkdir(parents=True, exist_ok=True)
    state = ClusterState(spec={k: str(v) for k, v in asdict(spec).items()})
    spark_class = str(spark_home() / "bin" / "spark-class")
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    try:
        master = _spawn("master", [spark_class, MASTER_CLASS, "--host", spec.host, "--port", str(spec.master_port),
                                   "--webui-port", str(free_port(spec.host))], spec, state)
        _wait_until(lambda: port_answers(spec.host, spec.master_port), master, "master", state, deadline)
        for i in range(1, spec.workers + 1):
            _spawn(f"worker-{i}", [spark_class, WORKER_CLASS, "--host", spec.host, "--cores", str(spec.worker_cores),
                                   "--memory", spec.worker_memory, "--webui-port", str(free_port(spec.host)),
                                   "--work-dir", str((spec.folder / "work" / f"worker-{i}").resolve()),
                                   spec.master_url], spec, state)
        _wait_until(lambda: _registered_workers(spec) >= spec.workers, master, "master", state, deadline)
        thrift = _spawn("thrift-server", _thrift_server_command(spec), spec, state)
        _wait_until(lambda: thrift_answers(spec.host, spec.thrift_port), thrift, "thrift-server", state, deadline)
    except BaseException:
        stop(spec.spark_dir)
        raise
    return state


def stop(spark_dir: Path, timeout: float = 30.0) -> list[str]:
    """Stop every process of the cluster started from `spark_dir` (the Thrift server first, the master last):
    SIGTERM to each process group, SIGKILL after `timeout`. Returns the names of what was stopped."""
    state = read_state(spark_dir)
    if state is None:
        return []
    order = sorted(state.pids, key=lambda name: (name != "thrift-server", name == "master", name))
    stopped = []
    for name in order:
        pid = state.pids[name]
        if not process_alive(pid):
            continue
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, sig)
            deadline = time.monotonic() + wait
            while process_alive(pid) and time.monotonic() < deadline:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
                time.sleep(0.2)
            if not process_alive(pid):
                break
        stopped.append(name)
    (spark_dir / "cluster" / STATE_FILE).unlink(missing_ok=True)
    return stopped
