"""Credentials for the suite: an admin API token for requests over HTTP, and the system
principal for contexts built in process (docs/security.md)."""

from models.enums import Role
from services import tokens
from services.access import Principal, system
from trackline.db import Engines


async def headers(engines: Engines) -> dict[str, str]:
    async with engines.sessions().begin() as session:
        issued = await tokens.issue(
            session, name="bench", role=Role.ADMIN, expires_at=None, by=system("bench")
        )
    return {"Authorization": f"Bearer {issued.secret}"}


def principal() -> Principal:
    """Who the in-process subscribers and writers are."""
    return system("bench")
