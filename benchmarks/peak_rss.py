"""Run a command and report its wall time and the peak resident memory of its whole process tree.

`python benchmarks/peak_rss.py -- tthc run` samples /proc every 0.2 s: the peak is the largest sum of RSS over the
command and all its descendants at one moment (dbt runs as a child of `tthc run`, so ru_maxrss alone misses it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

PAGE = 4096


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


def tree_rss(root: int) -> int:
    """Bytes resident in `root` and every descendant now."""
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except OSError:
            pass
        todo += tree.get(pid, [])
    return total


def measure(command: list[str], also: tuple[int, ...] = (), **popen) -> dict:
    """`also`: processes that the command uses without starting them (a Spark cluster's), counted with their
    descendants in the peak."""
    started = time.monotonic()
    process = subprocess.Popen(command, **popen)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid) + sum(tree_rss(pid) for pid in also))
        time.sleep(0.2)
    return {"command": " ".join(command), "exit_code": process.returncode,
            "wall_seconds": round(time.monotonic() - started, 1), "peak_rss_gib": round(peak / 2**30, 2)}


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    print(json.dumps(measure(args)))
