"""Composition root: the Starlette application with the GraphQL endpoint and the admin."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from resolvers.context import DEFAULT_ACTOR, Context
from schema import schema
from trackline.db import Engines, create_engines
from trackline.reports_http import report_routes

ADMIN_DIR = Path(__file__).resolve().parent.parent / "graphiql"
ACTOR_HEADER = "x-trackline-actor"
log = logging.getLogger(__name__)


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context and a local console page.

    The stock IDE loads React from a CDN and stays blank without internet; ours is served
    from graphiql/ and names no outside address.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        read_sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.sessions = sessions
        self.read_sessions = read_sessions

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        actor = request.headers.get(ACTOR_HEADER, "").strip()[:200] or DEFAULT_ACTOR
        return Context(self.sessions, self.read_sessions, actor=actor)

    async def render_graphql_ide(self, request: Request) -> Response:
        return FileResponse(ADMIN_DIR / "console.html", media_type="text/html")


async def health(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def home(_request: Request) -> Response:
    return RedirectResponse("/graphql")


def create_app(database_url: str, engines: Engines | None = None) -> Starlette:
    engines = engines or create_engines(database_url)
    view = GraphQLView(engines.sessions(), engines.read_sessions())

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await engines.dispose()

    return Starlette(
        routes=[
            Route("/", home),
            Route("/health", health),
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Mount("/graphiql", StaticFiles(directory=ADMIN_DIR), name="admin"),
            report_routes(view.read_sessions),
        ],
        lifespan=lifespan,
    )
