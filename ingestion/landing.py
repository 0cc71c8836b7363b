"""The landing folder as the ledger sees it (landing.md): what lands where, which entries are refused, and which
the ledger has not seen as they are now.

No dataframe library here: the check that a run has nothing new (orchestration/run_inputs.py) reads only this, and
it is meant to cost about a second, not the import of polars and pyarrow.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import duckdb

REFERENCE_FOLDER = "reference"
# the reference files, in the order they are ingested
REFERENCE_FILES = ("units.csv", "procedures.csv", "targets.csv", "programmes.csv")
EXPORT_FOLDERS = ("dossiers", "unit_reports", "explanations")  # the exports, each in its folder
LANDED_SUFFIXES = (".csv", ".xlsx")


def is_landed_export(name: str) -> bool:
    """A CSV or XLSX export by its name, not a hidden file or an office lock file (`~$...`)."""
    return Path(name).suffix.lower() in LANDED_SUFFIXES and not name.startswith((".", "~$"))


@dataclass(frozen=True)
class Landed:
    """An entry of the landing folder: a regular file to read, or one refused (a symlink, a special file)."""

    path: Path
    place: str  # where it landed: a reference file's name (REFERENCE_FILES) or an export folder (EXPORT_FOLDERS)
    refusal: str | None = None  # why it is not read; None for a regular file


def landed_name(landing: Path, path: Path) -> str:
    """An entry's path relative to the landing folder, as text: bytes of a name that are not UTF-8 are shown as
    `\\xNN` escapes, so that the ledger, the logs and the terminal can all hold it."""
    return os.fsencode(path.relative_to(landing).as_posix()).decode("utf-8", "backslashreplace")


def refusal_of(path: Path) -> str | None:
    """Why an entry is never read (landing.md: only regular files inside the landing folder), or None."""
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        target = os.fsencode(os.readlink(path)).decode("utf-8", "backslashreplace")
        return f"symbolic link to {target}: not followed (only regular files inside the landing folder are read)"
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        return "not a regular file (a pipe, socket or device): not read"
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return ("its name is not valid UTF-8 (the bytes shown as \\xNN): not read; rename it with a UTF-8 name "
                "(exports named on another system's code page)")
    return None


def _walk(root: Path, place: str) -> list[Landed]:
    """Every landed export under `root`, never following a link; links and special files are listed, refused."""
    found = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:  # discover() sorts what is found
            if name.startswith("."):
                continue
            path = Path(folder) / name
            refusal = refusal_of(path)
            if refusal is not None:
                found.append(Landed(path, place, refusal))
            elif name in files and is_landed_export(name):
                found.append(Landed(path, place))
        dirs[:] = [d for d in dirs if not d.startswith(".")]
    return found


def discover(landing: Path) -> list[Landed]:
    """Landed files in ingestion order: reference first (dossiers are checked against it), then by path."""
    found: list[Landed] = []
    for name in REFERENCE_FILES:
        path = landing / REFERENCE_FOLDER / name
        if path.is_symlink() or path.exists():
            found.append(Landed(path, name, refusal_of(path)))
    for folder in EXPORT_FOLDERS:
        root = landing / folder
        if root.is_symlink():
            found.append(Landed(root, folder, refusal_of(root)))
        elif root.is_dir():
            found += sorted(_walk(root, folder), key=lambda entry: entry.path)
    return found


def sha256_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def file_signature(st: os.stat_result) -> tuple[int, int, int]:
    """What tells a landed file's bytes changed without reading them: size, modification time and status-change
    time. The last catches a corrected export given back the old size and time (`cp -p`, `touch -r`, a sync tool):
    setting a file's times changes its ctime, which nothing can set back."""
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


@dataclass(frozen=True)
class LedgerSeen:
    """What the ledger has seen of the landing folder: every (path, sha256), the signature (file_signature) each
    path had when it was last read (a path whose signature is unchanged is not hashed again), and each path's
    latest batch."""

    files: set[tuple[str, str]]
    stats: dict[str, tuple[int, int, int | None]]
    latest: dict[str, str]  # path -> sha256 of its latest ledger row

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> LedgerSeen:
        files = set(con.execute("select file_path, sha256 from raw.ingestion_ledger").fetchall())
        stats, latest = {}, {}
        for path, sha, size, mtime, ctime in con.execute(
                "select file_path, sha256, file_size, file_mtime_ns, file_ctime_ns "
                "from raw.ingestion_ledger "
                "qualify row_number() over (partition by file_path order by batch_seq desc) = 1").fetchall():
            latest[path] = sha
            if size is not None:
                stats[path] = (size, mtime, ctime)
        return cls(files, stats, latest)

    def saw(self, rel: str, entry: Landed) -> bool:
        """The ledger saw this entry as it is now: a refusal it reported, or a file of the same path and
        signature (a row written before ctimes were kept compares size and time). Nothing is hashed."""
        if entry.refusal is not None:
            return (rel, sha256_of(entry.refusal.encode("utf-8"))) in self.files
        recorded = self.stats.get(rel)
        if recorded is None:
            return False
        now = file_signature(entry.path.stat())
        return recorded == now if recorded[2] is not None else recorded[:2] == now[:2]


def landing_changes(landing: Path, seen: LedgerSeen) -> list[str]:
    """The landed entries (relative paths) that the ledger has not seen as they are now."""
    relative = ((landed_name(landing, entry.path), entry) for entry in discover(landing))
    return [rel for rel, entry in relative if not seen.saw(rel, entry)]
