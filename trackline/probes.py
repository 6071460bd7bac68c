"""Liveness and readiness for orchestrators and load balancers.

/healthz says the process answers (no I/O, so a slow database never gets a healthy process
restarted). /readyz says it can serve: the database answers and its schema is the one this
code was written for, so a rolling deploy waits for `trackline migrate`.
"""

import asyncio
from functools import cache

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from trackline.migrate import alembic_config

# A readiness check that takes longer than this counts as a database that does not answer.
READY_TIMEOUT_S = 5


@cache
def head_revision() -> str | None:
    """The newest migration shipped with this code (read once: the files do not change)."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def _unready_reason(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        current = await connection.run_sync(_current_revision)
    head = head_revision()
    if current != head:
        return f"database schema is at revision {current}, this code needs {head}: run migrate"
    return None


def probe_routes(engine: AsyncEngine) -> list[BaseRoute]:
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        try:
            reason = await asyncio.wait_for(_unready_reason(engine), READY_TIMEOUT_S)
        except TimeoutError:
            reason = f"database did not answer within {READY_TIMEOUT_S} s"
        except Exception as exc:  # any failure to reach the database means not ready
            reason = f"database unreachable: {type(exc).__name__}: {exc}"
        if reason is not None:
            return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
        return JSONResponse({"status": "ready", "revision": head_revision()})

    return [Route("/healthz", healthz), Route("/readyz", readyz)]
