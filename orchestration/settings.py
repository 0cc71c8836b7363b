"""The environment variables of kpis.md, read once, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEVELOPMENT_PII_KEY = "tthc-development-key-not-for-production"


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse: Path
    published: Path
    pii_key: bytes
    pii_key_is_default: bool

    @classmethod
    def from_env(cls) -> "Settings":
        key = os.environ.get("TTHC_PII_KEY", "")
        return cls(
            landing_dir=Path(os.environ.get("TTHC_LANDING_DIR", "data/landing")),
            warehouse=Path(os.environ.get("TTHC_WAREHOUSE", "data/warehouse/tthc.duckdb")),
            published=Path(os.environ.get("TTHC_PUBLISHED", "data/published/tthc_marts.duckdb")),
            pii_key=(key or DEVELOPMENT_PII_KEY).encode("utf-8"),
            pii_key_is_default=not key,
        )
