"""The cost curve of the engines (docs/scale-out.md): the same first and nightly `tthc run` with TTHC_ENGINE=duckdb,
spark (a local PySpark session) and spark_cluster (a standalone cluster on this machine: a master, two workers of one
core, the Thrift server; orchestration/spark_cluster.py), on the same landing.

    uv run python benchmarks/engines.py --scale 1.4 --landing /work/bench1/landing     # ~1M dossiers

For each engine, from an empty warehouse: the first run on the landing without its last day's export (ingestion,
which writes the raw Parquet for Spark as it loads, the engine's `dbt build`, the checks, publication and the report
pack), then the nightly run that picks up that day. Each records the wall time, the peak RSS of the whole process
tree (benchmarks/peak_rss.py; with the cluster's processes for the cluster), the `dbt build`'s own elapsed time
(its run_results.json) and the time ingestion took (the run's step line). The cluster's start is timed apart. Each
Spark engine's published marts are compared with DuckDB's. Writes `benchmarks/results/<date>-engines-<scale>.json`.
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
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench import held_back  # noqa: E402
from peak_rss import measure  # noqa: E402

from orchestration import spark_cluster  # noqa: E402
from storage.duckdb_connection import connect  # noqa: E402

ENGINES = ("duckdb", "spark", "spark_cluster")
# compared between the runs: every published mart but the runs' own record, without ingestion times
COMPARED = ("kpi_unit_month", "kpi_level_month", "directive10_scorecard", "programme_scorecard",
            "late_dossiers", "overdue_dossiers", "unit_report_discrepancies", "explanation_issues")
STEP_DONE = re.compile(r"✓ (\S+)(?: \(\d+ checks passed\))? in ([\d.]+) s")


def dbt_elapsed(started: float) -> float | None:
    """The elapsed seconds of the `dbt build` that ended after `started` (the newest invocation folder)."""
    target = ROOT / "dbt_project" / "target"
    done = [f for f in sorted(target.glob("warehouse_models-*"), key=lambda p: p.stat().st_mtime)
            if f.stat().st_mtime >= started and (f / "run_results.json").exists()]
    return round(json.loads((done[-1] / "run_results.json").read_text())["elapsed_time"], 1) if done else None


def same_marts(first: Path, second: Path) -> bool:
    con = connect()
    con.execute(f"attach '{first}' as a (read_only)")
    con.execute(f"attach '{second}' as b (read_only)")
    return all(con.execute(f"select count(*) from (select * from a.marts.{t} except all select * from b.marts.{t}) "
                           f"union all select count(*) from (select * from b.marts.{t} except all "
                           f"select * from a.marts.{t})").fetchall() == [(0,), (0,)] for t in COMPARED)


def timed_run(label: str, tthc: str, env: dict, log: Path, also: tuple[int, ...]) -> dict:
    started = time.time()
    print(f"  {label}: tthc run", flush=True)
    with open(log, "w") as out:
        result = measure([tthc, "run"], also=also, env=env, stdout=out, stderr=subprocess.STDOUT)
    result["dbt_build_seconds"] = dbt_elapsed(started)
    steps = dict(STEP_DONE.findall(log.read_text()))
    result["ingestion_seconds"] = float(steps["raw_tables"]) if "raw_tables" in steps else None
    print(f"    {result}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--folder", type=Path, default=None, help="runs' folder (default: beside the landing)")
    parser.add_argument("--engines", default=",".join(ENGINES))
    args = parser.parse_args()
    folder = args.folder or args.landing.parent / "engines"
    tthc = str(Path(sys.executable).with_name("tthc"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    results: dict = {"scale": args.scale, "date": date.today().isoformat(), "commit": commit, "machine": {
        "cores": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "python": platform.python_version()}, "spark": {
        "master": f"local[{os.environ.get('TTHC_SPARK_CORES', '2')}]",
        "driver_memory": os.environ.get("TTHC_SPARK_DRIVER_MEMORY", "4g"),
        "shuffle_partitions": os.environ.get("TTHC_SPARK_SHUFFLE_PARTITIONS", "8")},
        "spark_cluster": {k: str(v) for k, v in vars(spark_cluster.ClusterSpec(Path("."))).items()
                          if k != "spark_dir"}, "runs": {}}
    last_day = held_back(args.landing, folder / "held")  # kept out of the landing but for each nightly run
    nightly_copy = args.landing / "dossiers" / last_day.name[5:9] / last_day.name[9:11] / last_day.name
    for engine in args.engines.split(","):
        nightly_copy.unlink(missing_ok=True)
        run = folder / engine
        shutil.rmtree(run, ignore_errors=True)
        run.mkdir(parents=True)
        env = {**os.environ, "TTHC_ENGINE": engine, "TTHC_LANDING_DIR": str(args.landing),
               "TTHC_WAREHOUSE": str(run / "warehouse" / "tthc.duckdb"),
               "TTHC_PUBLISHED": str(run / "published" / "tthc_marts.duckdb"), "DAGSTER_HOME": str(run / "dagster")}
        print(f"{engine} on {args.landing}", flush=True)
        result: dict = {}
        also: tuple[int, ...] = ()
        spark_dir = run / "warehouse" / "spark"
        try:
            if engine == "spark_cluster":
                spec = spark_cluster.ClusterSpec(spark_dir, thrift_port=spark_cluster.free_port(),
                                                 master_port=spark_cluster.free_port())
                started = time.monotonic()
                state = spark_cluster.start(spec)
                result["cluster_start_seconds"] = round(time.monotonic() - started, 1)
                env["TTHC_SPARK_PORT"] = str(spec.thrift_port)
                also = tuple(state.pids.values())
            result["first"] = timed_run("first run, without the last day", tthc, env, run / "first.log", also)
            shutil.copy2(last_day, nightly_copy)  # landed long before the run, as bench.py's nightly day
            os.sync()  # and the warehouse written back to disk, as bench.py's
            result["nightly"] = timed_run(f"nightly run, with {last_day.name}", tthc, env, run / "nightly.log", also)
        finally:
            spark_cluster.stop(spark_dir)
        results["runs"][engine] = result
    nightly_copy.unlink(missing_ok=True)
    with connect(folder / engine / "warehouse" / "tthc.duckdb", read_only=True) as con:
        results["dossiers"] = con.execute("select count(distinct dossier_code) from raw.dossier_snapshots").fetchone()[0]
        results["snapshot_rows"] = con.execute("select count(*) from raw.dossier_snapshots").fetchone()[0]
    results["same_marts"] = {engine: same_marts(folder / "duckdb" / "published" / "tthc_marts.duckdb",
                                                folder / engine / "published" / "tthc_marts.duckdb")
                             for engine in results["runs"] if engine != "duckdb" and "duckdb" in results["runs"]}
    out = ROOT / "benchmarks" / "results" / f"{results['date']}-engines-{args.scale:g}-{commit}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
