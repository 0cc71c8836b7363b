"""`make bench`: what a full run, a nightly run and a run with nothing new cost, against DuckDB's bare read.

    uv run python benchmarks/bench.py --scale 1.4        # ~1M dossiers; --scale 14 for ~10M

Generates the sample once into `data/bench/<scale>/landing` (reused when present), holds back its last day's
export, then measures in one go, each as wall time and peak RSS of the whole process tree (benchmarks/peak_rss.py):
  floor    DuckDB's bare read_csv of the same CSV exports into a file (one table per file: no rules, no ledger)
  full     `tthc run` on a fresh warehouse, without the last day
  nightly  the last day landed, `tthc run` again
  no-op    `tthc run` once more, nothing new
and writes `benchmarks/results/<date>-bench-<scale>.json` with the ratios to the floor, and for each run where its
time went: each step's duration as `tthc run` printed it, and the dbt nodes' seconds (from the build's
run_results.json) by family, the 766 estimate's models and tests on their own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from peak_rss import measure  # noqa: E402

FLOOR = """
import sys
from pathlib import Path
from storage.duckdb_connection import connect
landing, target = Path(sys.argv[1]), sys.argv[2]
con = connect(target)  # the memory bound of a run's connections (its one default)
for n, path in enumerate(sorted(landing.rglob("*.csv"))):
    con.execute(f"create table f{n} as select * from read_csv(?, all_varchar = true, header = true, "
                f"ignore_errors = true, null_padding = true)", [str(path)])
"""


def held_back(landing: Path, held: Path) -> Path:
    """Move the latest day's dossier export out of the landing folder (once); returns where it is kept."""
    held.mkdir(parents=True, exist_ok=True)
    kept = sorted(held.glob("hoso_*"))
    if kept:
        return kept[0]
    last = max((landing / "dossiers").rglob("hoso_*.*"), key=lambda p: p.name)
    shutil.move(last, held / last.name)
    return held / last.name


STEP_DONE = re.compile(r"✓ (\S+)(?: \(\d+ checks passed\))? in ([\d.]+) s")
DBT_TARGETS = ROOT / "dbt_project" / "target"
FAMILIES = {"index766": ("index766_", "int_open_at_month_end")}  # the 766 estimate's models and their tests


def run(label: str, command: list[str], env: dict, output: Path | None = None) -> dict:
    """Wall time and peak memory of a command; with `output`, its console kept there and where its time went."""
    print(f"{label}: {' '.join(command)}", flush=True)
    before = set(DBT_TARGETS.glob("warehouse_models-*"))
    sink = open(output or os.devnull, "w")
    result = measure(command, env=env, stdout=sink, stderr=sink)
    sink.close()
    print(f"  {result['wall_seconds']} s, peak {result['peak_rss_gib']} GiB, exit {result['exit_code']}", flush=True)
    if output:
        result["steps_seconds"] = {step: float(seconds) for step, seconds in STEP_DONE.findall(output.read_text())}
        builds = sorted(set(DBT_TARGETS.glob("warehouse_models-*")) - before, key=lambda p: p.stat().st_mtime)
        if builds and (builds[-1] / "run_results.json").exists():
            result["dbt_node_seconds"] = dbt_node_seconds(builds[-1] / "run_results.json")
    return result


def dbt_node_seconds(run_results: Path) -> dict:
    """The build's nodes' execution seconds: in all, by resource type, the 766 estimate's, and the ten slowest."""
    nodes = json.loads(run_results.read_text())["results"]
    seconds = {"elapsed": round(json.loads(run_results.read_text())["elapsed_time"], 1)}
    for node in nodes:
        kind = node["unique_id"].split(".")[0]
        seconds[kind] = round(seconds.get(kind, 0) + node["execution_time"], 2)
        for family, prefixes in FAMILIES.items():
            if any(prefix in node["unique_id"] for prefix in prefixes):
                seconds[family] = round(seconds.get(family, 0) + node["execution_time"], 2)
    slowest = sorted(nodes, key=lambda n: -n["execution_time"])[:10]
    seconds["slowest"] = {n["unique_id"].split(".", 2)[2]: round(n["execution_time"], 2) for n in slowest}
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.4)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    folder = (args.folder or ROOT / "data" / "bench" / f"{args.scale:g}").resolve()
    landing, work = folder / "landing", folder / "run"
    tthc, python = str(Path(sys.executable).with_name("tthc")), sys.executable
    if not (landing / "dossiers").exists():
        run("generate", [tthc, "generate", "--scale", str(args.scale), "--landing", str(landing)], dict(os.environ))
    last_day = held_back(landing, folder / "held")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {**os.environ, "TTHC_LANDING_DIR": str(landing), "TTHC_WAREHOUSE": str(work / "warehouse" / "tthc.duckdb"),
           "TTHC_PUBLISHED": str(work / "published" / "tthc_marts.duckdb"), "DAGSTER_HOME": str(work / "dagster")}
    results = {"floor": run("floor", [python, "-c", FLOOR, str(landing), str(work / "floor.duckdb")], env)}
    results["floor"]["command"] = "DuckDB read_csv of every CSV export into a file (benchmarks/bench.py FLOOR)"
    (work / "floor.duckdb").unlink(missing_ok=True)
    results["full"] = run("full", [tthc, "run"], env, work / "full.out")
    target = landing / "dossiers" / last_day.name[5:9] / last_day.name[9:11] / last_day.name
    target.parent.mkdir(parents=True, exist_ok=True)
    # with its modification time: a day's export lands hours before the nightly run, which would otherwise wait for
    # a file copied in just before it to settle (TTHC_SETTLE_SECONDS, less the run's start-up)
    shutil.copy2(last_day, target)
    # and on a warehouse written back to disk, as the last night's run left it: otherwise the first checkpoint's
    # fsync waits for the pages the run just before wrote (seconds at 10M, benchmarks/README.md)
    os.sync()
    results["nightly"] = run("nightly", [tthc, "run"], env, work / "nightly.out")
    os.sync()
    results["no_op"] = run("no-op", [tthc, "run"], env)
    target.unlink()  # the landing is kept without its last day, for the next benchmark
    floor = results["floor"]["wall_seconds"]
    for result in results.values():
        result["ratio_to_floor"] = round(result["wall_seconds"] / floor, 2) if floor else None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    report = {"date": date.today().isoformat(), "scale": args.scale, "commit": commit, "landing": str(landing),
              "held_back": last_day.name, "cpus": os.cpu_count(), "machine": platform.machine(), **results}
    out = ROOT / "benchmarks" / "results" / f"{date.today().isoformat()}-bench-{args.scale:g}-{commit}.json"
    if out.exists():  # an earlier benchmark of the same day is kept: this one is named by its commit
        out = out.with_name(f"{out.stem}-{commit}.json")
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'step':<8} {'wall s':>8} {'× floor':>8} {'peak GiB':>9}")
    for name, result in results.items():
        print(f"{name:<8} {result['wall_seconds']:>8} {result['ratio_to_floor']:>8} {result['peak_rss_gib']:>9}")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
