"""Liveness, readiness, metrics and structured request logs."""

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from resolvers.context import request_id
from tests.api.conftest import app_client
from tests.conftest import Database
from trackline.observability import JsonLogFormatter
from trackline.probes import head_revision

MUTATION = 'mutation Make { createProduct(input: {sku: "A", name: "A"}) { product { sku } } }'


async def test_healthz_answers_without_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_when_the_schema_is_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "revision": head_revision()}


async def test_readyz_refuses_a_database_behind_the_code(
    db: Database, client: httpx.AsyncClient
) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    try:
        response = await client.get("/readyz")
    finally:
        async with db.engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()}
            )

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "revision older" in response.json()["reason"]


@pytest.mark.sqlite_only  # an unreachable database: a SQLite path that is a directory
async def test_readyz_refuses_an_unreachable_database(tmp_path: Path) -> None:
    database = Database.__new__(Database)
    database.url = f"sqlite+aiosqlite:///{tmp_path}"
    async with app_client(database, role=None) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["reason"].startswith("database unreachable")


async def test_metrics_count_requests_errors_subscriptions_and_pools(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/graphql", json={"query": MUTATION})
    await client.post("/graphql", json={"query": "{ nothing }"})
    await client.post("/graphql", json={"query": MUTATION}, headers={"Idempotency-Key": "k"})
    await client.post(
        "/graphql",
        json={"query": MUTATION.replace('"A"', '"B"')},
        headers={"Idempotency-Key": "k"},
    )

    metrics = (await client.get("/metrics")).text

    assert (
        'trackline_http_requests_total{operation="mutation",route="graphql",status="200"} 2.0'
        in metrics
    )
    assert 'trackline_http_requests_total{operation="",route="graphql",status="422"} 1.0' in metrics
    assert (
        'trackline_http_request_duration_seconds_count{operation="mutation",route="graphql"}'
        in (metrics)
    )
    assert 'trackline_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"}' in metrics or (
        'trackline_graphql_errors_total{code="UNCODED"} 1.0' in metrics
    )
    assert 'trackline_graphql_errors_total{code="IDEMPOTENCY_KEY_REUSED"} 1.0' in metrics
    assert "trackline_active_subscriptions 0.0" in metrics
    assert 'trackline_db_pool_size{pool="write"}' in metrics
    assert 'trackline_db_pool_checked_out{pool="read"}' in metrics


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the request logger writes, formatted as `serve` does with TRACKLINE_LOG_FORMAT=json."""
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("trackline.requests")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _records(lines: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in lines.getvalue().splitlines()]


async def test_each_request_logs_one_json_line_with_its_id(
    client: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    response = await client.post(
        "/graphql", json={"query": MUTATION}, headers={"X-Request-ID": "lb-1234"}
    )

    assert response.headers["x-request-id"] == "lb-1234"
    [line] = _records(json_log)
    assert set(line) >= {"time", "level", "logger", "message", "request_id"}
    assert line["request_id"] == "lb-1234"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/graphql", 200)
    assert (line["operation"], line["operation_type"]) == ("Make", "mutation")
    assert isinstance(line["duration_ms"], float)
    assert (line["level"], line["logger"]) == ("INFO", "trackline.requests")


async def test_a_request_without_an_acceptable_id_gets_a_new_one(
    client: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    plain = await client.get("/healthz")
    odd = await client.get("/healthz", headers={"X-Request-ID": "no spaces allowed"})

    ids = [plain.headers["x-request-id"], odd.headers["x-request-id"]]
    assert all(len(i) == 32 for i in ids)
    assert [r["request_id"] for r in _records(json_log)] == ids


def test_any_log_line_during_a_request_carries_its_id() -> None:
    record = logging.LogRecord(
        "services.x", logging.WARNING, __file__, 1, "late %s", ("pick",), None
    )
    token = request_id.set("req-9")
    try:
        line = json.loads(JsonLogFormatter().format(record))
    finally:
        request_id.reset(token)

    assert line["request_id"] == "req-9"
    assert (line["message"], line["level"], line["logger"]) == (
        "late pick",
        "WARNING",
        "services.x",
    )
