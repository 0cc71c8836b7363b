"""Operations: the code location, its asset graph, the schedule, the sensor, freshness, one writer at a time."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.automation import landing_sensor, nightly_full_refresh
from orchestration.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.txt"
ROOT = Path(__file__).resolve().parents[1]


def graph_listing() -> str:
    """Every asset (key, group, upstream keys) and every check (asset, name, blocking), one per line."""
    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        if not node.is_materializable:
            continue
        parents = ",".join(sorted(p.to_user_string() for p in node.parent_keys))
        lines.append(f"asset {key.to_user_string()} [{node.group_name}] <- {parents}")
    for check in sorted(graph.asset_check_keys, key=lambda c: (c.asset_key.to_user_string(), c.name)):
        spec = graph.get_check_spec(check)
        lines.append(f"check {check.asset_key.to_user_string()}:{check.name}{' blocking' if spec.blocking else ''}")
    return "\n".join(lines) + "\n"


def test_the_code_location_loads_and_validates():
    done = subprocess.run([str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-m",
                           "orchestration.definitions"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert defs.resolve_job_def("full_refresh").executor_def.name == "in_process"


def test_the_asset_graph_matches_its_snapshot():
    """Any added or removed asset or check shows in review. Refresh with UPDATE_SNAPSHOTS=1."""
    listing = graph_listing()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(listing, encoding="utf-8")
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing: write it with UPDATE_SNAPSHOTS=1, then review it"
    assert listing == SNAPSHOT.read_text(encoding="utf-8")


def test_the_gate_is_one_list_that_the_graph_and_the_readme_follow():
    """Blocking checks are exactly the gate's list: every entry names a real check, every other check warns, and
    the README's list is the same list."""
    from orchestration.gate import BLOCKING_CHECKS, check_key

    graph = defs.resolve_asset_graph()
    blocking = {check_key(c.asset_key, c.name) for c in graph.asset_check_keys if graph.get_check_spec(c).blocking}
    assert blocking == set(BLOCKING_CHECKS)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z_/0-9]+:[a-z_0-9]+)` \|", readme, flags=re.M))
    assert listed == set(BLOCKING_CHECKS)


def test_lineage_runs_from_the_landing_files_to_the_published_marts():
    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    assert groups == {"ingestion", "staging", "intermediate", "facts", "marts", "quality", "publication"}
    assert dg.AssetKey(["raw", "dossier_snapshots"]) in graph.get(
        dg.AssetKey(["staging", "stg_tthc__dossier_snapshots"])).parent_keys
    published = graph.get(dg.AssetKey("published_marts"))
    assert dg.AssetKey(["marts", "directive10_scorecard"]) in published.parent_keys
    upstream = graph.upstream_key_iterator(dg.AssetKey("published_marts"))
    assert dg.AssetKey(["raw", "dossier_snapshots"]) in set(upstream)


def test_every_schedule_runs_nightly_in_vietnam_time():
    assert nightly_full_refresh.cron_schedule == "0 2 * * *"
    assert nightly_full_refresh.execution_timezone == "Asia/Ho_Chi_Minh"
    assert nightly_full_refresh.default_status == dg.DefaultScheduleStatus.RUNNING
    assert nightly_full_refresh.job_name == "full_refresh"
    for schedule in defs.schedules:
        assert schedule.execution_timezone == "Asia/Ho_Chi_Minh"


def test_the_sensor_asks_the_ledger_what_is_new_and_keeps_a_small_cursor(tmp_path, monkeypatch, landing):
    """The sensor asks what `tthc run` asks: is there a landed file the ingestion ledger has not seen as it is now?
    After a run has ingested everything (as `make run` does before the UI starts), its first tick finds nothing."""
    import duckdb

    from ingestion.ingest import ingest_landing
    from orchestration.run_inputs import STOP_IF_NOTHING_NEW_TAG

    from .conftest import PII_KEY
    from .test_ingestion import GOOD, write_csv

    monkeypatch.setenv("TTHC_LANDING_DIR", str(landing))
    monkeypatch.setenv("TTHC_WAREHOUSE", str(tmp_path / "w" / "tthc.duckdb"))
    export = write_csv(landing / "dossiers" / "2024" / "hoso_20240201.csv", [GOOD])

    def evaluate(cursor):
        context = dg.build_sensor_context(cursor=cursor)
        result = landing_sensor(context)
        return result, context.cursor

    first, cursor = evaluate(None)  # no warehouse yet: everything is new
    assert isinstance(first, dg.RunRequest) and first.tags[STOP_IF_NOTHING_NEW_TAG] == "true"
    assert len(cursor) == 16, "a digest, not every path"
    again, same = evaluate(cursor)
    assert isinstance(again, dg.SkipReason) and same == cursor, "the same files: their run was requested"
    (tmp_path / "w").mkdir()
    with duckdb.connect(str(tmp_path / "w" / "tthc.duckdb")) as con:  # the requested run ingests them
        ingest_landing(landing, con, PII_KEY)
    assert isinstance(evaluate(cursor)[0], dg.SkipReason)
    assert isinstance(evaluate(None)[0], dg.SkipReason), "a fresh cursor (a new UI) asks the ledger too"
    export.write_bytes(export.read_bytes() + export.read_bytes().splitlines(keepends=True)[1])  # new bytes
    changed, cursor2 = evaluate(cursor)
    assert isinstance(changed, dg.RunRequest) and changed.run_key != first.run_key
    with duckdb.connect(str(tmp_path / "w" / "tthc.duckdb")) as con:
        ingest_landing(landing, con, PII_KEY)
    (landing / "reference" / "units.csv").touch()  # a reference file is an input too, as for `tthc run`
    assert isinstance(evaluate(cursor2)[0], dg.RunRequest)
    with duckdb.connect(str(tmp_path / "w" / "tthc.duckdb")):  # while a run writes the warehouse: ask later
        assert isinstance(evaluate(None)[0], dg.SkipReason)


def _warehouse_with_export_loaded_at(path: Path, loaded_at: datetime) -> None:
    from ingestion.raw_schema import ensure_raw_schema

    with duckdb.connect(str(path)) as con:
        ensure_raw_schema(con)
        con.execute("insert into raw.ingestion_ledger (file_path, sha256, kind, status, rows_read, rows_loaded, "
                    "rows_quarantined, duplicates_dropped, batch_seq, ingested_at) "
                    "values ('dossiers/a.csv', 'x', 'dossiers', 'loaded', 1, 1, 0, 0, 1, ?)", [loaded_at])


@pytest.mark.parametrize("hours_ago,passed", [(2, True), (40, False)])
def test_freshness_warns_when_no_dossier_export_landed_for_36_hours(tmp_path, hours_ago, passed):
    from orchestration.assets.freshness import freshness_result

    db = tmp_path / "w.duckdb"
    now = datetime(2024, 2, 3, 12, 0)
    _warehouse_with_export_loaded_at(db, now - timedelta(hours=hours_ago))
    from orchestration.gate import graded

    with duckdb.connect(str(db)) as con:
        result = freshness_result(con, now)
    assert result.passed is passed and graded(result).severity == dg.AssetCheckSeverity.WARN


def test_two_runs_started_together_both_succeed_one_after_the_other(small_landing, tmp_path):
    shutil.copytree(small_landing, tmp_path / "landing")
    env = {**os.environ, "TTHC_LANDING_DIR": str(tmp_path / "landing"),
           "TTHC_WAREHOUSE": str(tmp_path / "warehouse" / "tthc.duckdb"),
           "TTHC_PUBLISHED": str(tmp_path / "published" / "tthc_marts.duckdb"),
           "DAGSTER_HOME": str(tmp_path / "dagster"), "TTHC_PII_KEY": "two-runs"}
    runs = []
    for _ in range(2):
        runs.append(subprocess.Popen([sys.executable, "-m", "cli.commands", "run"], env=env, cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        time.sleep(1)
    outputs = [run.communicate(timeout=900) for run in runs]
    for run, (_out, err) in zip(runs, outputs, strict=False):
        assert run.returncode == 0, err[-3000:]
        assert "published: yes" in err
    assert any("waiting for the warehouse lock" in err for _, err in outputs)
    new_files = sorted(int(re.search(r"summary: files new (\d+)", err).group(1)) for _, err in outputs)
    assert new_files[0] == 0 and new_files[1] > 600  # the second run found nothing new to ingest


def _processes_with(marker: str) -> list[int]:
    """Every live process whose environment carries `marker` (the whole tree a command started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _code_location_status(port: int) -> list[dict]:
    import urllib.request

    query = ("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
             "locationOrLoadError { __typename ... on PythonError { message } } } } } }")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=10))["data"]["workspaceOrError"]["locationEntries"]


@pytest.mark.parametrize("stop", ["ctrl_c", "sigterm"])
def test_tthc_ui_loads_without_an_activated_venv_and_stops_its_whole_tree(tmp_path, stop):
    """`.venv/bin/tthc ui` with a bare PATH (dbt found beside the interpreter); Ctrl-C (SIGINT to the terminal's
    process group) or SIGTERM to tthc alone (a service manager) both stop dagster dev, webserver, daemon and
    code servers, and tthc waits for them."""
    import signal
    import socket
    import urllib.request
    import uuid

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    marker = f"TTHC_TEST_TREE={uuid.uuid4()}"
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), marker.split("=")[0]: marker.split("=")[1],
           "DAGSTER_HOME": str(tmp_path / "dagster"), "TTHC_LANDING_DIR": str(tmp_path / "landing")}
    tthc = Path(sys.executable).with_name("tthc")
    ui = subprocess.Popen([str(tthc), "ui", "--port", str(port)], env=env, cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        locations = None
        while time.monotonic() < deadline and not locations:
            try:
                locations = [e for e in _code_location_status(port) if e["loadStatus"] == "LOADED"]
            except (OSError, KeyError, TypeError):
                time.sleep(2)
        assert locations, "the UI did not come up"
        assert [e["locationOrLoadError"]["__typename"] for e in locations] == ["RepositoryLocation"], locations
        assert (tmp_path / "dagster" / "dagster.yaml").read_text().count("run_monitoring:\n  enabled: true") == 1
        assert len(_processes_with(marker)) >= 3  # tthc, dagster dev, webserver, daemon, code servers
        if stop == "ctrl_c":
            os.killpg(ui.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        else:
            ui.send_signal(signal.SIGTERM)  # to tthc alone, as systemd's stop would
        _, err = ui.communicate(timeout=120)
        assert "stopped." in err
        assert _processes_with(marker) == []  # tthc returned only once the whole tree was gone
    finally:
        for pid in _processes_with(marker):
            os.kill(pid, signal.SIGKILL)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
