"""The project carries its own documentation (issue #24, section 4): the contracts and the domain are in docs/,
and no file of the repository points at a path outside it (a clone has nothing beside it)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = {".md", ".py", ".sql", ".yml", ".yaml", ".toml", ".cfg", ".sh", ".txt", ".sqlfluff", ""}
# what a benchmark measured where (data, not a reference for the reader), and this file's own examples
RECORDED = ("benchmarks/results/", "tests/test_repository_docs.py")
CLIMBING = re.compile(r"(?<![\w./])((?:\.\./)+[\w.\-/]*)")
CONTRACT_NAME = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*(?:landing|kpis|domain)\.md)\b")
DOCS = {"landing.md": "docs/contracts/landing.md", "kpis.md": "docs/contracts/kpis.md", "domain.md": "docs/domain.md"}


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / n for n in names
            if (Path(n).suffix in TEXT or Path(n).name == "Makefile") and not n.startswith(RECORDED)
            and (ROOT / n).is_file()]


def outside_references(path: Path, text: str) -> list[str]:
    """`../` paths of `text` (in file `path`) that climb out of the repository, or name a Markdown file that the
    repository does not have."""
    found = []
    for match in CLIMBING.finditer(text):
        reference = match.group(1)
        target = (path.parent / reference).resolve()
        if not target.is_relative_to(ROOT) or (reference.endswith(".md") and not target.exists()):
            found.append(reference)
    return found


def test_the_contracts_and_the_domain_are_in_the_repository():
    for relative in DOCS.values():
        text = (ROOT / relative).read_text(encoding="utf-8")
        assert len(text) > 2000 and text.startswith("# "), relative
    guide = (ROOT / "docs" / "real-exports.md").read_text(encoding="utf-8")
    for needed in ("TTHC_LANDING_DIR", "TTHC_PII_KEY", "UTF-8", "tthc quarantine", "tthc accept-batch", "dossiers/"):
        assert needed in guide, needed
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/contracts/landing.md" in readme and "docs/real-exports.md" in readme


def test_no_file_points_outside_the_repository():
    offenders = {}
    for path in tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        bad = outside_references(path, text)
        # a contract named by a path must be the repository's copy (docs/contracts/kpis.md, contracts/kpis.md from
        # docs/, ../domain.md from docs/contracts/); a bare `kpis.md` means that copy
        for match in CONTRACT_NAME.finditer(text):
            name = match.group(1)
            if "/" in name and not any((base / name).resolve().exists() for base in (path.parent, ROOT)):
                bad.append(name)
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(set(bad))
    assert offenders == {}


def test_the_reference_check_catches_a_path_out_of_the_repository(tmp_path):
    readme = ROOT / "README.md"
    assert outside_references(readme, "see `../shared/contracts/kpis.md`") == ["../shared/contracts/kpis.md"]
    assert outside_references(ROOT / "dbt_project" / "profiles.yml", "'../data/warehouse/tthc.duckdb'") == []
    assert outside_references(ROOT / "docs" / "contracts" / "kpis.md", "(see ../domain.md)") == []
    assert outside_references(ROOT / "docs" / "real-exports.md", "../missing.md") == ["../missing.md"]
