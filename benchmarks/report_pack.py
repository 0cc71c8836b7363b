"""Time to write the monthly report pack from a published file, and the dashboard's size.

    uv run python benchmarks/report_pack.py data/published/tthc_marts.duckdb [--repeat 3] [--out results.json]

The pack reads only the marts, so its time depends on the number of units and months, hardly on the dossiers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from reporting.pack import build_pack
from reporting.published import open_published


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("published", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with open_published(args.published) as con:
        dossiers = con.execute("select sum(received) from marts.kpi_level_month where level = 'toan_tinh'").fetchall()[0][0]
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeat):
            started = time.perf_counter()
            pack = build_pack(args.published, reports=Path(folder))
            runs.append(time.perf_counter() - started)
        result = {"published": str(args.published), "dossiers_received": int(dossiers or 0),
                  "month": f"{pack.month:%Y-%m}", "unit_workbooks": len(pack.unit_workbooks),
                  "seconds": [round(s, 2) for s in runs], "best_seconds": round(min(runs), 2),
                  "dashboard_bytes": pack.dashboard.stat().st_size,
                  "province_workbook_bytes": pack.province_workbook.stat().st_size,
                  "cpus": os.cpu_count(), "machine": platform.machine()}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
