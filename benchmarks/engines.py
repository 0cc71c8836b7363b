"""The cost curve of the two engines (docs/scale-out.md): the same first `tthc run` with TTHC_ENGINE=duckdb and
with TTHC_ENGINE=spark (a local PySpark session on this machine), on the same landing.

    uv run python benchmarks/engines.py --scale 1.4 --landing data/bench/1.4/landing     # ~1M dossiers

Each run starts from an empty warehouse: ingestion (the same for both), the engine's `dbt build`, the checks,
publication and the report pack. For each it records the wall time and the peak RSS of the whole process tree
(benchmarks/peak_rss.py), and `dbt build`'s own elapsed time (its run_results.json), and it checks that both runs
published the same marts. Writes `benchmarks/results/<date>-engines-<scale>.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from peak_rss import measure  # noqa: E402

from storage.duckdb_connection import connect  # noqa: E402

# compared between the two runs: every published mart but the runs' own record, without ingestion times
COMPARED = ("kpi_unit_month", "kpi_level_month", "directive10_scorecard", "programme_scorecard",
            "late_dossiers", "overdue_dossiers", "unit_report_discrepancies", "explanation_issues")


def dbt_elapsed(run_folder: Path) -> float | None:
    """The elapsed seconds of the run's `dbt build` (the newest invocation folder of the dbt project)."""
    target = ROOT / "dbt_project" / "target"
    folders = sorted(target.glob("warehouse_models-*"), key=lambda p: p.stat().st_mtime)
    started = (run_folder / "started").stat().st_mtime
    done = [f for f in folders if f.stat().st_mtime >= started and (f / "run_results.json").exists()]
    return round(json.loads((done[-1] / "run_results.json").read_text())["elapsed_time"], 1) if done else None


def same_marts(first: Path, second: Path) -> bool:
    con = connect()
    con.execute(f"attach '{first}' as a (read_only)")
    con.execute(f"attach '{second}' as b (read_only)")
    return all(con.execute(f"select count(*) from (select * from a.marts.{t} except all select * from b.marts.{t}) "
                           f"union all select count(*) from (select * from b.marts.{t} except all "
                           f"select * from a.marts.{t})").fetchall() == [(0,), (0,)] for t in COMPARED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--folder", type=Path, default=None, help="runs' folder (default: beside the landing)")
    parser.add_argument("--engines", default="duckdb,spark")
    args = parser.parse_args()
    folder = args.folder or args.landing.parent / "engines"
    tthc = str(Path(sys.executable).with_name("tthc"))
    results: dict = {"scale": args.scale, "date": date.today().isoformat(), "machine": {
        "cores": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "python": platform.python_version()}, "spark": {
        "master": f"local[{os.environ.get('TTHC_SPARK_CORES', '2')}]",
        "driver_memory": os.environ.get("TTHC_SPARK_DRIVER_MEMORY", "4g"),
        "shuffle_partitions": os.environ.get("TTHC_SPARK_SHUFFLE_PARTITIONS", "8")}, "runs": {}}
    for engine in args.engines.split(","):
        run = folder / engine
        shutil.rmtree(run, ignore_errors=True)
        run.mkdir(parents=True)
        (run / "started").touch()
        env = {**os.environ, "TTHC_ENGINE": engine, "TTHC_LANDING_DIR": str(args.landing),
               "TTHC_WAREHOUSE": str(run / "warehouse" / "tthc.duckdb"),
               "TTHC_PUBLISHED": str(run / "published" / "tthc_marts.duckdb"), "DAGSTER_HOME": str(run / "dagster")}
        print(f"{engine}: tthc run on {args.landing}", flush=True)
        with open(run / "run.log", "w") as log:
            result = measure([tthc, "run"], env=env, stdout=log, stderr=log)
        result["dbt_build_seconds"] = dbt_elapsed(run)
        print(f"  {result}", flush=True)
        results["runs"][engine] = result
    with connect(folder / engine / "warehouse" / "tthc.duckdb", read_only=True) as con:
        results["dossiers"] = con.execute("select count(distinct dossier_code) from raw.dossier_snapshots").fetchone()[0]
        results["snapshot_rows"] = con.execute("select count(*) from raw.dossier_snapshots").fetchone()[0]
    if set(results["runs"]) == {"duckdb", "spark"}:
        results["same_marts"] = same_marts(folder / "duckdb" / "published" / "tthc_marts.duckdb",
                                           folder / "spark" / "published" / "tthc_marts.duckdb")
    out = ROOT / "benchmarks" / "results" / f"{results['date']}-engines-{args.scale:g}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
