"""Settings from the environment, read once at start-up."""

import os
from dataclasses import dataclass, field
from pathlib import Path

from schema.limits import DocumentLimits
from services.epcis_identifiers import DEFAULT_BASE_URI
from trackline.limits import HttpLimits

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
    # What a request may ask of the GraphQL endpoint (docs/security.md).
    limits: HttpLimits = field(default_factory=HttpLimits)
    # Where the PostgreSQL event listener connects, when requests go through a pooler in
    # transaction mode, which cannot keep a LISTEN (docs/scaling.md). Default: database_url.
    listen_url: str | None = None

    @classmethod
    def from_env(cls) -> "Settings":
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"
        return cls(
            database_url=normalize_database_url(url),
            host=os.environ.get("TRACKLINE_HOST", "127.0.0.1"),
            port=int(os.environ.get("TRACKLINE_PORT", "8000")),
            epcis_base_uri=os.environ.get("TRACKLINE_EPCIS_BASE_URI") or DEFAULT_BASE_URI,
            limits=limits_from_env(),
            listen_url=normalize_database_url(listen) if (listen := _listen_url()) else None,
        )


def _listen_url() -> str | None:
    return os.environ.get("TRACKLINE_LISTEN_URL") or None


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def limits_from_env() -> HttpLimits:
    """Production (TRACKLINE_ENV=production) turns introspection off unless
    TRACKLINE_INTROSPECTION says otherwise."""
    default, document = HttpLimits(), DocumentLimits()
    production = os.environ.get("TRACKLINE_ENV", "").lower() == "production"
    introspection = os.environ.get("TRACKLINE_INTROSPECTION", "").lower()
    return HttpLimits(
        document=DocumentLimits(
            max_depth=_int("TRACKLINE_MAX_DEPTH", document.max_depth),
            max_aliases=_int("TRACKLINE_MAX_ALIASES", document.max_aliases),
            max_tokens=_int("TRACKLINE_MAX_TOKENS", document.max_tokens),
            max_cost=_int("TRACKLINE_MAX_COST", document.max_cost),
            introspection=introspection in ("true", "1", "yes")
            if introspection
            else not production,
        ),
        max_body_bytes=_int("TRACKLINE_MAX_BODY_BYTES", default.max_body_bytes),
        max_upload_bytes=_int("TRACKLINE_MAX_UPLOAD_BYTES", default.max_upload_bytes),
    )
