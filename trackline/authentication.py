"""Bearer tokens on every request: `Authorization: Bearer tl_…`.

The middleware turns the header into a Principal (or none, for a request without one) for
everything behind it. A header naming no valid token — unknown, malformed, expired or
revoked — is refused at once with 401 `UNAUTHENTICATED`: the caller meant to be someone
and is not. What each role may do is decided later (schema/permissions.py for GraphQL,
`require` for the plain HTTP routes).

WebSocket clients in browsers cannot set headers: they send the token as `authorization`
in the connection_init payload instead, checked by the GraphQL view (trackline/app.py).
"""

import json
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from services.access import Principal, Role
from services.tokens import TokenCache, authenticate

SCOPE_ENTRY = "trackline.principal"
UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"


def principal_of(connection: HTTPConnection) -> Principal | None:
    principal: Principal | None = connection.scope.get(SCOPE_ENTRY)
    return principal


def bearer(value: str) -> str | None:
    """The token in an Authorization value ("Bearer tl_…"); None for another scheme."""
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class Authenticator:
    def __init__(self, read_sessions: async_sessionmaker[AsyncSession], cache: TokenCache):
        self.read_sessions = read_sessions
        self.cache = cache

    async def principal(self, raw: str) -> Principal | None:
        now = time.monotonic()
        known, principal = self.cache.get(raw, now)
        if known:
            return principal
        async with self.read_sessions() as session:
            principal = await authenticate(session, raw)
        self.cache.put(raw, principal, now)
        return principal


def refusal(status: int, code: str, message: str) -> Response:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(body, status, headers, media_type="application/json")


class Authentication:
    """ASGI middleware: resolves the Authorization header for HTTP and WebSocket requests."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = HTTPConnection(scope).headers.get("authorization")
        principal = None
        if header is not None:
            raw = bearer(header)
            principal = await self.authenticator.principal(raw) if raw else None
            if principal is None:
                if scope["type"] == "websocket":  # closing before accepting answers 403
                    await send({"type": "websocket.close", "code": 1008})
                    return
                answer = refusal(
                    401, UNAUTHENTICATED, "the Authorization header holds no valid API token"
                )
                await answer(scope, receive, send)
                return
        await self.app({**scope, SCOPE_ENTRY: principal}, receive, send)


Endpoint = Callable[[Request], Awaitable[Response]]


def require(role: Role, endpoint: Endpoint) -> Endpoint:
    """A plain HTTP route open only to callers with `role` or more."""

    async def guarded(request: Request) -> Response:
        principal = principal_of(request)
        if principal is None:
            return refusal(401, UNAUTHENTICATED, "send an API token: Authorization: Bearer …")
        if not principal.role.includes(role):
            return refusal(403, FORBIDDEN, f"this needs the {role} role")
        return await endpoint(request)

    return guarded
