"""B0, B1, B2, B4 and B9: reads through the real app over in-process HTTP (httpx's ASGI
transport, so both sides pay for routing, JSON encoding and HTTP framing alike) next to
hand-written raw-SQL Starlette routes answering byte-identical JSON (bench/raw_lookup.py),
and B2 again with the production extensions switched off."""

import copy
import json
from collections.abc import Awaitable, Callable
from typing import Any, cast

import httpx
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from bench import access
from bench.common import StatementCounter, time_interleaved
from bench.raw_lookup import create_raw_app
from bench.report import Row
from bench.scenarios import Bench
from schema import schema
from schema.limits import HostileQueryGuard
from schema.masking import MaskUnexpectedErrors
from schema.permissions import Authorization
from trackline.app import create_app
from trackline.authentication import Authentication
from trackline.observability import Observability

TYPENAME_QUERY = "{ __typename }"

SERIAL_QUERY = """
query One($sku: String!, $number: String!) {
  serial(sku: $sku, serialNumber: $number) {
    id serialNumber status receivedAt
    product { sku name }
    location { code }
    movements(last: 10) {
      kind fromStatus toStatus fromLocation { code } toLocation { code }
      documentType documentNumber actor occurredAt
    }
  }
}
"""

TREE_QUERY = """
query Tree($products: Int!, $serials: Int!) {
  products(first: $products) {
    nodes {
      sku name
      serials(first: $serials) {
        pageInfo { hasNextPage endCursor }
        nodes {
          serialNumber status location { code }
          movements(last: 10) {
            kind fromStatus toStatus toLocation { code } documentNumber occurredAt
          }
        }
      }
    }
  }
}
"""

Request = Callable[[int], Awaitable[bytes]]


def graphql(client: httpx.AsyncClient, query: str, variables: Callable[[int], Any]) -> Request:
    async def call(i: int) -> bytes:
        response = await client.post("/graphql", json={"query": query, "variables": variables(i)})
        response.raise_for_status()
        return response.content

    return call


def raw(client: httpx.AsyncClient, path: str, params: Callable[[int], Any]) -> Request:
    async def call(i: int) -> bytes:
        response = await client.get(path, params=params(i))
        response.raise_for_status()
        return response.content

    return call


def check_same(label: str, ours: bytes, theirs: bytes) -> None:
    """Byte for byte: both encode with json.dumps(separators=(",", ":"))."""
    if b'"errors"' in ours[:20]:
        raise AssertionError(f"{label}: GraphQL answered errors: {ours[:600]!r}")
    if ours != theirs:
        same = json.loads(ours) == json.loads(theirs)
        raise AssertionError(
            f"{label}: the bodies differ ({'parsed JSON is equal' if same else 'JSON differs'})"
            f"\nours: {ours[:600]!r}\nraw:  {theirs[:600]!r}"
        )


def bare_app(bench: Bench) -> Starlette:
    """The app without the production extensions: no token check or permission rule (the
    Authentication middleware, Authorization), no query limits (HostileQueryGuard), no
    error masking (MaskUnexpectedErrors, ErrorHandlingSchema), no metrics and request-id
    logs (the Observability middleware); everything else as `create_app` builds it.
    Nothing in the settings switches these off, so B9 takes them out of a built app here
    rather than adding a production switch for a benchmark."""
    app = create_app(bench.url, bench.engines)
    # A shallow copy that builds each request's extensions from a shorter list (Strawberry
    # instantiates them per request from `extensions`); types and resolvers are shared.
    bare_schema = copy.copy(schema)
    production = (HostileQueryGuard, Authorization, MaskUnexpectedErrors)
    bare_schema.extensions = tuple(e for e in schema.extensions if e not in production)
    assert len(bare_schema.extensions) == len(schema.extensions) - len(production)
    for route in app.routes:
        if isinstance(route, WebSocketRoute) and route.path == "/graphql":
            view: Any = route.endpoint
            view.schema = bare_schema  # the view the HTTP route wraps as well
    outer = (Observability, Authentication)
    app.user_middleware = [m for m in app.user_middleware if cast(Any, m.cls) not in outer]
    app.middleware_stack = None  # rebuilt from user_middleware on the next request
    return app


def client(app: Any, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://b", headers=headers
    )


async def statements(bench: Bench, request: Request) -> int:
    with StatementCounter(bench.engines) as counter:
        await request(0)
    return counter.count


async def compare(
    bench: Bench, label: str, ours: Request, theirs: Request, runs: int, target: float | None
) -> Row:
    """Warm-up (three requests each, the bodies compared), statements, then timed runs."""
    for i in range(3):
        check_same(label, await ours(i), await theirs(i))
    counts = [await statements(bench, r) for r in (ours, theirs)]
    mine, base = await time_interleaved(runs, ours, theirs)
    return Row(
        label,
        "ms",
        mine.median_ms,
        mine.p99_ms,
        base.median_ms,
        base.median_ms / mine.median_ms,
        target,
        "" if target is None else f">= {target:.2f}",
        f"{counts[0]} / {counts[1]}",
    )


async def run(bench: Bench, only: set[str]) -> list[Row]:
    seeded = bench.seeded
    app = create_app(bench.url, bench.engines)
    rows: list[Row] = []

    def one(i: int) -> dict[str, str]:
        sku, number = seeded.long_history[i % len(seeded.long_history)]
        return {"sku": sku, "number": number}

    def shape(products: int, serials: int) -> Callable[[int], dict[str, int]]:
        return lambda _: {"products": products, "serials": serials}

    token = await access.headers(bench.engines)
    async with client(app, token) as ours, client(create_raw_app(bench.engines.read)) as theirs:
        if "B0" in only:
            rows.append(
                await compare(
                    bench,
                    "B0 { __typename }",
                    graphql(ours, TYPENAME_QUERY, lambda _: {}),
                    raw(theirs, "/typename", lambda _: {}),
                    40 * bench.reps,
                    None,
                )
            )
        if "B1" in only:
            rows.append(
                await compare(
                    bench,
                    "B1 dashboard 5x10x10",
                    graphql(ours, TREE_QUERY, shape(5, 10)),
                    raw(theirs, "/tree", shape(5, 10)),
                    10 * bench.reps,
                    1 / 3,
                )
            )
        tree = graphql(ours, TREE_QUERY, shape(20, 50))
        if "B2" in only:
            rows.append(
                await compare(
                    bench,
                    "B2 tree 20x50x10",
                    tree,
                    raw(theirs, "/tree", shape(20, 50)),
                    3 * bench.reps,
                    1 / 2.5,
                )
            )
        if "B4" in only:
            rows.append(
                await compare(
                    bench,
                    "B4 serial + last 10 of 41 movements",
                    graphql(ours, SERIAL_QUERY, one),
                    raw(theirs, "/serial", one),
                    20 * bench.reps,
                    1 / 2,
                )
            )
        if "B9" in only:
            async with client(bare_app(bench), token) as bare:
                off = graphql(bare, TREE_QUERY, shape(20, 50))
                row = await compare(bench, "B9 B2 with extensions", tree, off, 3 * bench.reps, None)
            assert row.ratio is not None
            overhead = 1 / row.ratio - 1
            rows.append(
                Row(
                    f"B9 B2 with extensions (overhead {overhead:+.1%})",
                    "ms",
                    row.ours,
                    row.ours_p99,
                    row.baseline,
                    row.ratio,
                    1 / 1.1,
                    "overhead < 10%",
                    row.statements,
                )
            )
    return rows
