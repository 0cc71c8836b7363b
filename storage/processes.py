"""Whether a process is still running: the owner of a staging file or folder left behind, or of a server."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def process_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses): the state
    first, then field 4 on; None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()


def process_alive(pid: int) -> bool:
    """The process exists and has not exited: a zombie (exited, not yet reaped by its parent) is not alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    with contextlib.suppress(OSError):
        stat = process_stat(pid)
        return stat is None or stat[0] != "Z"  # where /proc cannot tell, the signal's answer stands
    return True
