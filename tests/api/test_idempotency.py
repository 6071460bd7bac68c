"""Idempotency keys over HTTP: a retried mutation has one effect and one answer."""

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from models import ApiToken, IdempotencyKey, OutboundOrder, Product
from models.base import utc_now
from services.idempotency import purge
from tests.api.conftest import app_client, bearer, issue_token
from tests.conftest import Database
from trackline import idempotency
from trackline.limits import HttpLimits

CREATE = """
mutation Create($sku: String!, $name: String!) {
  createProduct(input: {sku: $sku, name: $name}) {
    product { id sku name } userErrors { code field message }
  }
}
"""
ORDER = """
mutation Order {
  createOrder(input: {number: "SO-1", warehouseCode: "MAIN",
                      lines: [{productSku: "BOX", quantity: 1}]}) {
    order { number } userErrors { code message }
  }
}
"""
SETUP = """
mutation Setup {
  createWarehouse(input: {code: "MAIN", name: "Main", timeZone: "UTC",
                          locations: [{code: "A-01", kind: STORAGE}]}) { userErrors { code } }
  createProduct(input: {sku: "BOX", name: "Box"}) { userErrors { code } }
}
"""


async def _post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, str] | None = None,
    *,
    key: str | None = None,
    token: str | None = None,
) -> httpx.Response:
    headers = bearer(token) if token is not None else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    body = {"query": query, "variables": variables or {}}
    return await client.post("/graphql", json=body, headers=headers)


async def _count(db: Database, model: type[Product] | type[OutboundOrder]) -> int:
    async with db.read_sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _code(response: httpx.Response) -> str:
    error: dict[str, dict[str, str]] = response.json()["errors"][0]
    return error["extensions"]["code"]


async def test_retries_in_sequence_and_at_once_have_one_effect_and_one_answer(
    db: Database, client: httpx.AsyncClient
) -> None:
    # given a hundred different mutations, each with its own key
    requests = [(f"key-{i}", {"sku": f"SKU-{i:03d}", "name": f"Product {i}"}) for i in range(100)]

    # when each is sent ten times at once (ten mutations at a time), then three times more
    answers: dict[str, list[bytes]] = {key: [] for key, _ in requests}
    for start in range(0, len(requests), 10):
        batch = [r for r in requests[start : start + 10] for _ in range(10)]
        responses = await asyncio.gather(*(_post(client, CREATE, v, key=k) for k, v in batch))
        for (key, _), response in zip(batch, responses, strict=True):
            assert response.status_code == 200, response.text
            answers[key].append(response.content)
    for key, variables in requests:
        for _ in range(3):
            answers[key].append((await _post(client, CREATE, variables, key=key)).content)

    # then each made one product, and every copy got the same bytes
    assert await _count(db, Product) == 100
    for key, variables in requests:
        assert len(set(answers[key])) == 1, key
        product = json.loads(answers[key][0])["data"]["createProduct"]["product"]
        assert product["sku"] == variables["sku"]


async def test_a_document_of_several_writes_claims_its_key_once(
    db: Database, client: httpx.AsyncClient
) -> None:
    first = await _post(client, SETUP, key="setup")
    again = await _post(client, SETUP, key="setup")

    assert first.json()["data"]["createProduct"]["userErrors"] == []
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert await _count(db, Product) == 1


async def test_the_same_key_for_another_request_is_refused_and_changes_nothing(
    db: Database, client: httpx.AsyncClient
) -> None:
    first = await _post(client, CREATE, {"sku": "A", "name": "A"}, key="k")

    other = await _post(client, CREATE, {"sku": "B", "name": "B"}, key="k")

    assert other.status_code == 422
    assert _code(other) == "IDEMPOTENCY_KEY_REUSED"
    assert await _count(db, Product) == 1
    assert (await _post(client, CREATE, {"sku": "A", "name": "A"}, key="k")).content == (
        first.content
    )


async def test_a_document_written_differently_is_the_same_request(
    db: Database, client: httpx.AsyncClient
) -> None:
    variables = {"sku": "A", "name": "A"}
    first = await _post(client, CREATE, variables, key="k")

    reformatted = await _post(client, "# retried\n" + " ".join(CREATE.split()), variables, key="k")

    assert reformatted.content == first.content
    assert await _count(db, Product) == 1


async def test_keys_belong_to_their_token(db: Database, client: httpx.AsyncClient) -> None:
    dock, office = await issue_token(db, name="dock"), await issue_token(db, name="office")
    dock_answer = await _post(client, CREATE, {"sku": "A", "name": "A"}, key="k", token=dock)
    office_answer = await _post(client, CREATE, {"sku": "B", "name": "B"}, key="k", token=office)

    assert dock_answer.status_code == office_answer.status_code == 200
    assert await _count(db, Product) == 2


async def test_a_refusal_is_the_answer_of_its_key(db: Database, client: httpx.AsyncClient) -> None:
    # given an order refused for want of a warehouse
    refused = await _post(client, ORDER, key="order")
    assert refused.json()["data"]["createOrder"]["userErrors"]

    # when the warehouse exists and the same request is retried
    await _post(client, SETUP)
    retried = await _post(client, ORDER, key="order")

    # then it gets the same refusal, and no order exists
    assert retried.content == refused.content
    assert await _count(db, OutboundOrder) == 0


async def test_queries_ignore_the_key(db: Database, client: httpx.AsyncClient) -> None:
    query = 'query { serialLookup(search: "x") { totalCount } }'
    await _post(client, query, key="k")
    await _post(client, 'query Other { scan(code: "x") { found } }', key="k")

    created = await _post(client, CREATE, {"sku": "A", "name": "A"}, key="k")

    assert created.status_code == 200
    assert created.json()["data"]["createProduct"]["userErrors"] == []


async def test_keys_expire_after_their_lifetime(db: Database, client: httpx.AsyncClient) -> None:
    # given a key used a day and a minute ago
    await _post(client, CREATE, {"sku": "A", "name": "A"}, key="k")
    async with db.sessions.begin() as session:
        await session.execute(
            update(IdempotencyKey).values(created_at=utc_now() - timedelta(days=1, minutes=1))
        )

    # when keys are purged
    async with db.sessions.begin() as session:
        assert await purge(session) == 1

    # then the key is free for a new request
    again = await _post(client, CREATE, {"sku": "B", "name": "B"}, key="k")
    assert again.json()["data"]["createProduct"]["userErrors"] == []
    assert await _count(db, Product) == 2


async def _claim_without_answer(db: Database, age: timedelta) -> None:
    """What a request leaves behind that has committed and not yet stored its answer."""
    fingerprint = idempotency.mutation_fingerprint(
        json.dumps({"query": CREATE, "variables": {"sku": "A", "name": "A"}}).encode()
    )
    async with db.sessions.begin() as session:
        # the scope of the client fixture's token, the only one
        token_id = await session.scalar(select(func.max(ApiToken.id)))
        session.add(
            IdempotencyKey(
                scope=f"token:{token_id}",
                key="k",
                fingerprint=fingerprint,
                created_at=utc_now() - age,
            )
        )


async def test_a_duplicate_of_a_running_request_is_told_to_retry(
    db: Database, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "WAIT_FOR_FIRST_S", 0.2)
    await _claim_without_answer(db, timedelta(seconds=1))

    duplicate = await _post(client, CREATE, {"sku": "A", "name": "A"}, key="k")

    assert duplicate.status_code == 409
    assert _code(duplicate) == "IDEMPOTENCY_KEY_IN_PROGRESS"
    assert duplicate.headers["retry-after"] == "1"
    assert await _count(db, Product) == 0


async def test_an_answer_lost_after_the_commit_is_reported_and_not_redone(
    db: Database, client: httpx.AsyncClient
) -> None:
    await _claim_without_answer(db, idempotency.ANSWER_LOST_AFTER + timedelta(seconds=1))

    retried = await _post(client, CREATE, {"sku": "A", "name": "A"}, key="k")

    assert retried.status_code == 409
    assert _code(retried) == "IDEMPOTENCY_KEY_ANSWER_LOST"
    assert await _count(db, Product) == 0


async def test_keys_that_cannot_be_kept_are_refused(client: httpx.AsyncClient) -> None:
    too_long = await _post(client, CREATE, {"sku": "A", "name": "A"}, key="k" * 256)
    upload = await client.post(
        "/graphql",
        headers={"Idempotency-Key": "k", "GraphQL-Preflight": "1"},
        files={"operations": (None, "{}"), "map": (None, "{}")},
    )

    assert (too_long.status_code, _code(too_long)) == (400, "IDEMPOTENCY_KEY_INVALID")
    assert (upload.status_code, _code(upload)) == (400, "IDEMPOTENCY_KEY_UNSUPPORTED")


async def test_a_keyed_request_over_the_body_cap_is_refused_unread(db: Database) -> None:
    limits = HttpLimits(max_body_bytes=2048)
    async with app_client(db, limits=limits) as client:
        padding = " " * 4096  # a valid document, too long for the cap
        response = await _post(client, CREATE + padding, {"sku": "A", "name": "A"}, key="k-1")
        within = await _post(client, CREATE, {"sku": "A", "name": "A"}, key="k-2")

    assert (response.status_code, _code(response)) == (413, "REQUEST_TOO_LARGE")
    assert within.status_code == 200
    assert await _count(db, Product) == 1
    async with db.read_sessions() as session:
        keys = list(await session.scalars(select(IdempotencyKey.key)))
    assert keys == ["k-2"]
