"""API tests run GraphQL documents through the real schema against `db` (both engines)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from models.enums import Role
from resolvers.context import Context
from schema import schema
from services import tokens
from services.access import system
from tests.conftest import TRUSTED, Database
from trackline.app import create_app

Gql = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def gql(db: Database) -> Gql:
    """Execute a document; fail the test on GraphQL errors unless `errors_ok`."""

    async def execute(
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        actor: str = "tester",
        errors_ok: bool = False,
    ) -> dict[str, Any]:
        context = Context(db.sessions, db.read_sessions, principal=TRUSTED, actor=actor)
        result = await schema.execute(document, variable_values=variables, context_value=context)
        if result.errors and not errors_ok:
            raise AssertionError(f"GraphQL errors: {[str(e) for e in result.errors]}")
        if errors_ok:
            return {"data": result.data, "errors": [e.message for e in result.errors or []]}
        assert result.data is not None
        return result.data

    return execute


async def issue_token(
    db: Database, role: Role = Role.ADMIN, name: str = "tester", **options: Any
) -> str:
    """A new API token's secret, issued as the command line does."""
    async with db.sessions.begin() as session:
        issued = await tokens.issue(
            session, name=name, role=role, by=system(), **{"expires_at": None, **options}
        )
    return issued.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@asynccontextmanager
async def app_client(
    db: Database, *, role: Role | None = Role.ADMIN, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The real application (routes, middleware, lifespan) in process, over ASGI, sending
    a token of `role` (None: no token at all)."""
    app = create_app(db.url, **settings)
    headers = bearer(await issue_token(db, role)) if role is not None else {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://test", headers=headers
        ) as client,
    ):
        yield client


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(db) as client:
        yield client
