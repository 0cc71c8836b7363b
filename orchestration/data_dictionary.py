"""The data dictionary: dbt's documentation of every model, source, column and test as one static page beside the
published file (`data_dictionary.html`), which opens from the file system with no server and no network.

`dbt docs generate --static` embeds the manifest and the warehouse's catalog in the page. It is written again only
when what it shows changed (the dbt project, or the warehouse's tables and columns): a nightly run that only adds
rows costs one catalog query.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from orchestration import duckdb_files
from orchestration.settings import Settings

STAMP_MARK = "<!-- tthc data dictionary "


def dictionary_path(published: Path) -> Path:
    return published.parent / "data_dictionary.html"


def content_stamp(manifest: Path, settings: Settings) -> str:
    """What the page shows: the dbt project as parsed, and every table and column type of the warehouse."""
    digest = hashlib.sha256(manifest.read_bytes())
    with duckdb_files.connect(settings.warehouse, settings, read_only=True) as con:
        for row in con.execute("select table_schema, table_name, column_name, data_type from information_schema.columns "
                               "order by all").fetchall():
            digest.update("\t".join(map(str, row)).encode() + b"\n")
    return digest.hexdigest()[:16]


def written_stamp(page: Path) -> str | None:
    if not page.exists():
        return None
    with open(page, "rb") as handle:
        handle.seek(max(page.stat().st_size - 200, 0))
        tail = handle.read().decode(errors="replace")
    start = tail.rfind(STAMP_MARK)
    return tail[start + len(STAMP_MARK):].split(" ", 1)[0] if start >= 0 else None


def write_data_dictionary(settings: Settings, manifest: Path, dbt_executable: str, project_dir: Path,
                          force: bool = False, log: Callable[[str], None] | None = None) -> tuple[Path, bool]:
    """Write the page beside the published file (written beside, renamed into place); returns (path, written):
    not written when the page already shows this project and warehouse, unless `force`."""
    page = dictionary_path(settings.published)
    stamp = content_stamp(manifest, settings)
    if not force and written_stamp(page) == stamp:
        return page, False
    page.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tthc_docs_") as target:
        shutil.copy(manifest, Path(target) / "manifest.json")  # the project as parsed: no second compile
        done = subprocess.run(
            [dbt_executable, "docs", "generate", "--static", "--no-compile", "--target", "warehouse",
             "--target-path", target, "--quiet", *settings.dbt_args()],
            cwd=project_dir, capture_output=True, text=True)
        generated = Path(target) / "static_index.html"
        if done.returncode != 0 or not generated.exists():
            raise RuntimeError(f"dbt docs generate failed for {page.name}: "
                               f"{(done.stdout + done.stderr).strip()[-1500:]}")
        staging = page.with_name(f".{page.name}.{os.getpid()}.tmp")
        try:
            with open(generated, "rb") as source, open(staging, "wb") as out:
                shutil.copyfileobj(source, out)
                out.write(f"\n{STAMP_MARK}{stamp} -->\n".encode())
            os.replace(staging, page)
        finally:
            staging.unlink(missing_ok=True)
    if log:
        log(f"wrote {page} ({page.stat().st_size // 1024} KiB)")
    return page, True
