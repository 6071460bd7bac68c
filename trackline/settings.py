"""Settings from the environment, read once at start-up."""

import os
from dataclasses import dataclass
from pathlib import Path

from services.epcis_identifiers import DEFAULT_BASE_URI

DEFAULT_SQLITE_PATH = Path("var") / "trackline.sqlite3"


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://, sqlite:///) and pick the
    async driver for them."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    # Base of our URIs in EPCIS documents: a domain the operator controls (docs/epcis.md).
    epcis_base_uri: str = DEFAULT_BASE_URI

    @classmethod
    def from_env(cls) -> "Settings":
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"
        return cls(
            database_url=normalize_database_url(url),
            host=os.environ.get("TRACKLINE_HOST", "127.0.0.1"),
            port=int(os.environ.get("TRACKLINE_PORT", "8000")),
            epcis_base_uri=os.environ.get("TRACKLINE_EPCIS_BASE_URI") or DEFAULT_BASE_URI,
        )
