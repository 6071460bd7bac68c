"""Composition root: the Starlette application with the GraphQL endpoint and the admin."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cross_web import AsyncHTTPRequestAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
)
from strawberry.types.unset import UNSET, UnsetType

from resolvers.context import Context
from schema import schema
from services.access import Principal
from services.epcis_identifiers import UriScheme
from services.events import EventBus
from services.tokens import TokenCache
from trackline.authentication import (
    UNAUTHENTICATED,
    Authentication,
    Authenticator,
    bearer,
    principal_of,
)
from trackline.db import Engines, create_engines
from trackline.epcis_http import epcis_routes
from trackline.events_pg import create_bus
from trackline.graphql_http import PREFLIGHT_REQUIRED, ConformingGraphQLView, Refusal
from trackline.idempotency import IdempotentMutations, keyed_request
from trackline.limits import HttpLimits
from trackline.observability import Metrics, Observability, note_errors, note_operation
from trackline.probes import probe_routes
from trackline.reports_http import report_routes
from trackline.runtime import settle_heap, tune_garbage_collector
from trackline.settings import Settings

ADMIN_DIR = Path(__file__).resolve().parent.parent / "graphiql"
PREFLIGHT_HEADERS = ("graphql-preflight", "apollo-require-preflight")
# Operations one WebSocket may run at once (subscriptions included); the next is refused.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 32
log = logging.getLogger(__name__)


ANONYMOUS = "anonymous"


def caller(connection: HTTPConnection) -> str:
    """Whose idempotency keys these are: the token's."""
    principal = principal_of(connection)
    return principal.scope if principal is not None else ANONYMOUS


def context_for(principal: Principal | None) -> dict[str, Any]:
    """The caller's part of a Context: movements record the token's name."""
    return {"principal": principal, "actor": principal.name if principal else ANONYMOUS}


class GraphQLView(ConformingGraphQLView):
    """Strawberry's ASGI view with our context and a local console page.

    The stock IDE loads React from a CDN and stays blank without internet; ours is served
    from graphiql/ and names no outside address.

    Subscriptions are served over WebSocket (graphql-transport-ws, and the older graphql-ws)
    and over server-sent events: a GET or POST with `Accept: text/event-stream`.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        read_sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        epcis_uris: UriScheme,
        limits: HttpLimits,
        authenticator: Authenticator,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL,
                GRAPHQL_WS_PROTOCOL,
                GRAPHQL_SSE_PROTOCOL,
            ),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
            multipart_uploads_enabled=True,
        )
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.bus = bus
        self.epcis_uris = epcis_uris
        self.limits = limits
        self.authenticator = authenticator

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context(
            self.sessions,
            self.read_sessions,
            **context_for(principal_of(request)),
            bus=self.bus,
            epcis_uris=self.epcis_uris,
            idempotency=keyed_request(request),
            tokens=self.authenticator.cache,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType:
        """A WebSocket authenticates when it starts: a token in the Authorization header of
        the handshake (checked by the middleware) or, from browsers, which cannot set that
        header, `authorization` in the connection_init payload. Without one it is closed."""
        raw = (context.connection_params or {}).get("authorization")
        if isinstance(raw, str):
            token = bearer(raw) or raw.strip()
            principal = await self.authenticator.principal(token)
            if principal is None:
                raise ConnectionRejectionError({"code": UNAUTHENTICATED})
            for name, value in context_for(principal).items():
                setattr(context, name, value)
        if context.principal is None:
            raise ConnectionRejectionError({"code": UNAUTHENTICATED})
        unchanged: UnsetType = UNSET  # the plain connection_ack
        return unchanged

    async def execute_operation(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        data = kwargs.get("request_data")
        if isinstance(data, GraphQLRequestData):  # for the request's log line and metrics
            note_operation(data.query, data.operation_name)
        return await super().execute_operation(request, *args, **kwargs)

    def _handle_errors(self, errors: list[Any], response_data: GraphQLHTTPResponse) -> None:
        note_errors(response_data)

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        """File uploads (CSV imports) come as multipart forms, which a browser will send to
        any site without asking first. A custom header forces its preflight check, so another
        site's page cannot make a visitor's browser upload to us (CSRF)."""
        # An Authorization header here is a valid token: the middleware refused any other.
        if not request.headers.get("authorization"):
            raise Refusal(401, UNAUTHENTICATED, "file uploads need an API token")
        if not any(request.headers.get(name) for name in PREFLIGHT_HEADERS):
            raise Refusal(
                400,
                PREFLIGHT_REQUIRED,
                "multipart requests must carry a GraphQL-Preflight header (CSRF protection)",
            )
        return await super().parse_multipart(request)

    async def render_graphql_ide(self, request: Request) -> Response:
        return FileResponse(ADMIN_DIR / "console.html", media_type="text/html")


async def home(_request: Request) -> Response:
    return RedirectResponse("/graphql")


async def admin_page(request: Request) -> Response:
    """/admin is the floor pages' home, /admin/<name> the page graphiql/pages/<name>.html."""
    name = request.path_params.get("page", "home")
    page = ADMIN_DIR / "pages" / f"{name}.html"
    if not name.isalpha() or not page.is_file():
        return Response("Not Found", status_code=404, media_type="text/plain")
    return FileResponse(page, media_type="text/html")


def create_app(
    database_url: str,
    engines: Engines | None = None,
    *,
    epcis_base_uri: str | None = None,
    limits: HttpLimits | None = None,
) -> Starlette:
    """`epcis_base_uri` and `limits` default to their settings (TRACKLINE_EPCIS_BASE_URI,
    docs/security.md)."""
    tune_garbage_collector()
    settings = Settings.from_env()
    epcis_uris = UriScheme.under(epcis_base_uri or settings.epcis_base_uri)
    engines = engines or create_engines(database_url)
    read_sessions = engines.read_sessions()
    bus = create_bus(database_url, read_sessions, settings.listen_url)
    authenticator = Authenticator(read_sessions, TokenCache())
    view = GraphQLView(
        engines.sessions(),
        read_sessions,
        bus,
        epcis_uris,
        limits or settings.limits,
        authenticator,
    )
    graphql = IdempotentMutations(
        view, view.sessions, read_sessions, caller, max_body_bytes=view.limits.max_body_bytes
    )
    metrics = Metrics((engines.write, engines.read), bus)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await bus.start()
        settle_heap()
        try:
            yield
        finally:
            await bus.stop()
            await engines.dispose()

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "events": bus.health()})

    return Starlette(
        routes=[
            Route("/", home),
            Route("/health", health),
            *probe_routes(engines.read),
            Route("/metrics", metrics.endpoint),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/admin", admin_page),
            Route("/admin/{page}", admin_page),
            Mount("/graphiql", StaticFiles(directory=ADMIN_DIR), name="admin"),
            report_routes(view.read_sessions),
            epcis_routes(view.read_sessions, epcis_uris),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(Observability, metrics=metrics),
            Middleware(Authentication, authenticator=authenticator),
        ],
    )
