"""Request ids, structured logs and Prometheus metrics for every HTTP request.

The request id comes from the caller's `X-Request-ID` (so a load balancer's id follows the
request through) or is made here; it is returned in the response and kept in a context
variable, so every log line written while the request runs carries it.
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from graphql import GraphQLError, get_operation_ast, parse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resolvers.context import request_id
from services.events import EventBus

REQUEST_ID_HEADER = "x-request-id"
# A caller's id is kept only if it is short and plain; anything else is replaced.
ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
# First path segments reported as routes; everything else is "other", so a scan of random
# URLs cannot create unbounded metric series.
ROUTES = frozenset(
    {"graphql", "health", "healthz", "readyz", "metrics", "admin", "graphiql", "reports", "epcis"}
)
log = logging.getLogger("trackline.requests")


@dataclass
class RequestRecord:
    """What the GraphQL view learns about a request, for its log line and metrics."""

    operation_type: str = ""
    operation_name: str | None = None
    error_codes: list[str] = field(default_factory=list)


_current: ContextVar[RequestRecord | None] = ContextVar("request_record", default=None)


@lru_cache(maxsize=512)
def describe_operation(query: str, operation_name: str | None) -> tuple[str, str | None]:
    """The operation's type ("query", "mutation", "subscription") and name, read from the
    document when the request does not name it; ("", None) for one that does not parse."""
    try:
        operation = get_operation_ast(parse(query), operation_name)
    except GraphQLError:
        return "", None
    if operation is None:
        return "", None
    return operation.operation.value, operation.name.value if operation.name else None


def note_operation(query: str | None, operation_name: str | None) -> None:
    record = _current.get()
    if record is not None and query:
        record.operation_type, record.operation_name = describe_operation(query, operation_name)


def note_errors(response: Mapping[str, Any]) -> None:
    """Count the GraphQL errors of an answer by `extensions.code` (UNCODED without one)."""
    record = _current.get()
    if record is None:
        return
    for error in response.get("errors") or ():
        code = ((error or {}).get("extensions") or {}).get("code")
        record.error_codes.append(str(code) if code else "UNCODED")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and the request
    fields of the access line (method, path, status, duration_ms, operation)."""

    FIELDS = ("method", "path", "status", "duration_ms", "operation", "operation_type")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(log_format: str) -> None:
    """`json` for log collectors; anything else is readable text for a terminal."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class _DatabaseAndLiveCollector(Collector):
    """Read at scrape time: connection pools and open subscriptions."""

    def __init__(self, engines: tuple[AsyncEngine, ...], bus: EventBus) -> None:
        self.engines = engines
        self.bus = bus

    def collect(self) -> Iterator[Metric]:
        checked_out = GaugeMetricFamily(
            "trackline_db_pool_checked_out",
            "Database connections in use, by pool",
            labels=["pool"],
        )
        size = GaugeMetricFamily(
            "trackline_db_pool_size", "Database connections a pool keeps", labels=["pool"]
        )
        for name, engine in zip(("write", "read"), self.engines, strict=False):
            pool: Any = engine.pool
            if hasattr(pool, "checkedout") and hasattr(pool, "size"):
                checked_out.add_metric([name], pool.checkedout())
                size.add_metric([name], pool.size())
        yield checked_out
        yield size
        yield GaugeMetricFamily(
            "trackline_active_subscriptions",
            "GraphQL subscriptions this process is serving",
            value=self.bus.subscriber_count,
        )


class Metrics:
    """The application's metrics, in a registry of its own (one per app, so several apps in
    one process, as in the tests, never collide)."""

    def __init__(self, engines: tuple[AsyncEngine, ...], bus: EventBus) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "trackline_http_requests",
            "HTTP requests by route, GraphQL operation type and status",
            ["route", "operation", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "trackline_http_request_duration_seconds",
            "Time to answer an HTTP request, by route and GraphQL operation type",
            ["route", "operation"],
            registry=self.registry,
        )
        self.graphql_errors = Counter(
            "trackline_graphql_errors",
            "GraphQL errors in answers, by extensions.code",
            ["code"],
            registry=self.registry,
        )
        self.registry.register(_DatabaseAndLiveCollector(engines, bus))

    async def endpoint(self, _request: Request) -> Response:
        """/metrics in Prometheus' text format."""
        return Response(
            generate_latest(self.registry), headers={"content-type": CONTENT_TYPE_LATEST}
        )


def route_of(path: str) -> str:
    first = path.strip("/").split("/", 1)[0]
    if not first:
        return "home"
    return first if first in ROUTES else "other"


def _request_id_of(scope: Scope) -> str:
    given = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
    return given if ACCEPTABLE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


class Observability:
    """ASGI middleware: request id, one access log line and metrics per HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = _request_id_of(scope)
        id_token = request_id.set(rid)
        if scope["type"] == "websocket":
            try:
                await self.app(scope, receive, send)
            finally:
                request_id.reset(id_token)
            return

        record = RequestRecord()
        record_token = _current.set(record)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._observe(scope, record, status, time.perf_counter() - started)
            _current.reset(record_token)
            request_id.reset(id_token)

    def _observe(self, scope: Scope, record: RequestRecord, status: int, elapsed: float) -> None:
        route = route_of(scope["path"])
        self.metrics.requests.labels(route, record.operation_type, str(status)).inc()
        self.metrics.latency.labels(route, record.operation_type).observe(elapsed)
        for code in record.error_codes:
            self.metrics.graphql_errors.labels(code).inc()
        log.info(
            "%s %s %d",
            scope["method"],
            scope["path"],
            status,
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "operation": record.operation_name,
                "operation_type": record.operation_type or None,
            },
        )
