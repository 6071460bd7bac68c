"""Hundreds of hostile requests, each refused before execution with its stable code, never
with a 5xx, and nothing written to the database (docs/security.md)."""

import json
import logging
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

import resolvers.catalog
import resolvers.live
from models import Base
from schema.limits import DocumentLimits
from tests.api.conftest import app_client, issue_token
from tests.conftest import Database
from trackline.app import create_app
from trackline.limits import HttpLimits
from trackline.observability import JsonLogFormatter

PRODUCTION = HttpLimits(document=DocumentLimits(introspection=False))
GRAPHQL_RESPONSE = {"accept": "application/graphql-response+json"}
PRODUCT = '{sku: "X-1", name: "x"}'
CREATE_WITH_VARIABLE = (
    "mutation M($i: CreateProductInput!) { createProduct(input: $i) { userErrors { code } } }"
)


@dataclass(frozen=True)
class Hostile:
    name: str
    code: str
    method: str = "POST"
    body: Any = None  # JSON-encoded unless `raw`
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] | None = None
    production: bool = False

    def request(self, client: httpx.AsyncClient) -> Any:
        headers = {"content-type": "application/json", **self.headers}
        if self.method == "GET":
            return client.get("/graphql", params=self.params, headers=self.headers)
        content = self.raw if self.raw is not None else json.dumps(self.body).encode()
        return client.post("/graphql", content=content, headers=headers)


def query(name: str, code: str, document: str, **extra: Any) -> Hostile:
    return Hostile(name, code, body={"query": document, **extra})


def nested(depth: int, leaf: str = "__typename") -> str:
    return "{ " + "warehouses { locations { " * (depth // 2) + leaf + " }" * (depth // 2 * 2) + " }"


def fragment_bomb(levels: int, base: str) -> str:
    """Each fragment spreads the previous one twice: 2**levels copies of `base`."""
    fragments = [f"fragment F0 on Query {{ {base} }}"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)]
    return f"{{ ...F{levels - 1} }} " + " ".join(fragments)


def corpus() -> list[Hostile]:
    cases: list[Hostile] = []
    add = cases.append
    for depth in range(16, 76):
        add(query(f"depth {depth}", "MAX_DEPTH_EXCEEDED", nested(depth)))
    for depth in (20, 40):
        document = "mutation { createProduct(input: " + PRODUCT + ") " + nested(depth)[1:]
        add(query(f"mutation depth {depth}", "MAX_DEPTH_EXCEEDED", document))
    add(query("nested past the parser", "MAX_DEPTH_EXCEEDED", "{ a " * 1200 + "}" * 1200))
    for count in (31, 40, 60, 100, 200, 400, 800):
        aliases = " ".join(f"a{i}: __typename" for i in range(count))
        add(query(f"{count} aliases", "MAX_ALIASES_EXCEEDED", f"{{ {aliases} }}"))
        if count > 200:
            continue  # more would be refused for its size first
        creates = " ".join(
            f'p{i}: createProduct(input: {{sku: "F-{i}", name: "f"}}) {{ product {{ sku }} }}'
            for i in range(count)
        )
        add(
            query(f"{count} aliased mutations", "MAX_ALIASES_EXCEEDED", f"mutation {{ {creates} }}")
        )
    for levels in range(14, 30):
        add(query(f"alias bomb {levels}", "MAX_ALIASES_EXCEEDED", fragment_bomb(levels, "a: id")))
        add(
            query(
                f"cost bomb {levels}",
                "MAX_COST_EXCEEDED",
                fragment_bomb(levels, "products(first: 100) { nodes { sku } }"),
            )
        )
    for size in (2, 3, 5, 8, 13, 20):
        names = [f"C{i}" for i in range(size)]
        spreads = [
            f"fragment {n} on Query {{ __typename ...{names[(i + 1) % size]} }}"
            for i, n in enumerate(names)
        ]
        add(
            query(
                f"fragment cycle of {size}", "CIRCULAR_FRAGMENT", "{ ...C0 } " + " ".join(spreads)
            )
        )
    add(
        query(
            "fragment spreading itself",
            "CIRCULAR_FRAGMENT",
            "{ ...A } fragment A on Query { ...A }",
        )
    )
    add(
        query(
            "cycle in a mutation",
            "CIRCULAR_FRAGMENT",
            "mutation { ...M } fragment M on Mutation { ...N } fragment N on Mutation { ...M }",
        )
    )
    # A product tree of the largest pages costs some 200,000: five of them in one request
    # go over the default of 1,000,000.
    tree = "serials(first: 100) { nodes { movements { kind occurredAt } } }"
    for first in (100, 200, 1000, 10**6):
        trees = " ".join(
            f"p{i}: products(first: {first}) {{ nodes {{ {tree} }} }}" for i in range(5)
        )
        add(query(f"cost first {first}", "MAX_COST_EXCEEDED", f"{{ {trees} }}"))
    for first in (60, 80, 100):
        trees = " ".join(f"p{i}: products(first: $n) {{ nodes {{ {tree} }} }}" for i in range(5))
        add(
            query(
                f"cost by variable {first}",
                "MAX_COST_EXCEEDED",
                f"query Q($n: Int!) {{ {trees} }}",
                variables={"n": first},
            )
        )
    add(
        query(
            "cost of nested lists",
            "MAX_COST_EXCEEDED",
            "{ warehouses { locations { warehouse { locations { warehouse { locations { "
            "warehouse { locations { warehouse { locations { warehouse { locations { "
            "code } } } } } } } } } } } } }",
        )
    )
    for tokens in (5001, 6000, 10_000, 30_000, 60_000):
        add(query(f"{tokens} tokens", "MAX_TOKENS_EXCEEDED", "{ " + "__typename " * tokens + "}"))
    add(
        query(
            "tokens in arguments",
            "MAX_TOKENS_EXCEEDED",
            '{ scan(code: "x") { format } }' + " query Q { __typename }" * 2000,
        )
    )
    for count in range(1, 11):
        operation = {
            "query": "mutation { createProduct(input: " + PRODUCT + ") { product { sku } } }"
        }
        add(Hostile(f"batch of {count}", "BATCH_NOT_SUPPORTED", body=[operation] * count))
    add(
        Hostile(
            "batch with spaces", "BATCH_NOT_SUPPORTED", raw=b'  \n [{"query": "{ __typename }"}]'
        )
    )
    for document in (
        "{ __schema { types { name } } }",
        '{ __type(name: "Serial") { fields { name } } }',
        "query { __schema { queryType { name } } }",
        "{ s: __schema { types { name } } }",
        "{ ...I } fragment I on Query { __schema { directives { name } } }",
        "{ ... on Query { __schema { mutationType { name } } } }",
        '{ __type(name: "Query") { name } warehouses { code } }',
        "query IntrospectionQuery { __schema { types { kind name fields { name } } } }",
        '{ a: __type(name: "Lot") { name } b: __type(name: "Order") { name } }',
        "{ __schema { subscriptionType { fields { name } } } }",
    ):
        add(
            Hostile(
                f"introspection {document[:30]}",
                "INTROSPECTION_DISABLED",
                body={"query": document},
                production=True,
            )
        )
    for document in (
        "mutation { createProduct(input: " + PRODUCT + ") { product { sku } } }",
        "mutation M { createProduct(input: " + PRODUCT + ") { userErrors { code } } }",
        'mutation { holdLots(input: {lots: [], reason: "x"}) { userErrors { code } } }',
        'mutation { cancelOrder(input: {orderNumber: "SO-1"}) { userErrors { code } } }',
        "mutation { __typename }",
    ):
        for accept in ("application/json", "application/graphql-response+json"):
            add(
                Hostile(
                    f"GET {document[:25]} {accept}",
                    "MUTATION_OVER_GET",
                    method="GET",
                    params={"query": document},
                    headers={"accept": accept},
                )
            )
    mutation = "mutation { createProduct(input: " + PRODUCT + ") { product { sku } } }"
    for content_type, raw in (
        ("application/x-www-form-urlencoded", b"query=" + mutation.encode()),
        ("application/x-www-form-urlencoded", b"query=%7B__typename%7D"),
        ("application/x-www-form-urlencoded; charset=utf-8", b"query=x"),
        ("text/plain", json.dumps({"query": mutation}).encode()),
        ("text/plain;charset=UTF-8", b'{"query": "{ __typename }"}'),
        ("text/html", b"<p>hi</p>"),
        ("application/xml", b"<query/>"),
        ("application/graphql", mutation.encode()),
        ("application/jsonx", b'{"query": "{ __typename }"}'),
        ("application/json; charset=latin-1", b'{"query": "{ __typename }"}'),
        ("", json.dumps({"query": mutation}).encode()),
    ):
        add(
            Hostile(
                f"POST as {content_type!r}",
                "UNSUPPORTED_MEDIA_TYPE",
                raw=raw,
                headers={"content-type": content_type},
            )
        )
    big = 1024 * 1024
    for size in (big + 1, 2 * big, 5 * big):
        padding = "x" * size
        add(
            Hostile(
                f"body of {size} bytes",
                "REQUEST_TOO_LARGE",
                body={"query": "{ __typename }", "variables": {"pad": padding}},
            )
        )
    add(
        Hostile(
            "oversized form",
            "REQUEST_TOO_LARGE",
            raw=b"q=" + b"x" * (2 * big),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    )
    for raw in (
        b'{"query": ',
        b"{",
        b"}",
        b'{"query": "{ __typename }"',
        b"nope",
        b"{\"query\": 'x'}",
        b'{query: "{ __typename }"}',
        b'{"query": "{ __typename }",}',
        b"\xff\xfe\x00",
        b"\x80abc",
        b'{"query": "\\x"}',
        b'{"a": 1} {"b": 2}',
        b"tru",
        b'"unterminated',
        b"{{}}",
    ):
        add(Hostile(f"invalid JSON {raw[:12]!r}", "INVALID_JSON", raw=raw))
    for raw in (b"5", b'"{ __typename }"', b"true", b"null", b"NaN", b"  -1e9"):
        add(Hostile(f"not an object {raw!r}", "BAD_REQUEST", raw=raw))
    for raw in (
        b"",
        b"   ",
        b'{"variables": {}}',
        b'{"query": 5}',
        b'{"query": null}',
        b'{"query": "{ __typename }", "variables": 5}',
        b'{"query": "{ __typename }", "extensions": []}',
    ):
        add(Hostile(f"bad parameters {raw!r}", "BAD_REQUEST", raw=raw))
    for variables, document in (
        ({"n": "ten"}, "query Q($n: Int!) { products(first: $n) { nodes { sku } } }"),
        ({"n": None}, "query Q($n: Int!) { products(first: $n) { nodes { sku } } }"),
        ({"n": 1.5}, "query Q($n: Int!) { products(first: $n) { nodes { sku } } }"),
        ({"n": [1]}, "query Q($n: Int!) { products(first: $n) { nodes { sku } } }"),
        ({}, "query Q($n: Int!) { products(first: $n) { nodes { sku } } }"),
        (
            {"i": {"sku": 1}},
            CREATE_WITH_VARIABLE,
        ),
        (
            {"i": "x"},
            CREATE_WITH_VARIABLE,
        ),
        (
            {"i": {"name": "no sku"}},
            CREATE_WITH_VARIABLE,
        ),
        (
            {"i": {"sku": "A", "name": "a", "bogus": 1}},
            CREATE_WITH_VARIABLE,
        ),
        ({"s": 2**40}, "query Q($s: Int!) { products(first: $s) { nodes { sku } } }"),
    ):
        add(
            Hostile(
                f"variables {variables}"[:60],
                "INVALID_VARIABLES",
                body={"query": document, "variables": variables},
            )
        )
    for name, document in (
        ("Nope", "query A { __typename }"),
        ("B", "query A { __typename } query C { __typename }"),
        ("", "query A { __typename } query C { __typename }"),
        ("query", "query A { __typename } query C { __typename }"),
        ("a", "query A { __typename }"),
        ("Mutation", mutation),
        ("X", "mutation A { __typename } mutation B { __typename }"),
        ("Z", "subscription S { __typename }"),
        ("A B", "query A { __typename }"),
        ("__typename", "query A { __typename }"),
    ):
        add(
            Hostile(
                f"operation {name!r}",
                "UNKNOWN_OPERATION",
                body={"query": document, "operationName": name},
            )
        )
    for document in (
        "{",
        "}",
        "{ a(",
        "query {",
        "mutation",
        "{ a: }",
        "fragment",
        "{ ...on }",
        '{ scan(code: "unterminated) { format } }',
        "query Q($) { a }",
    ):
        add(query(f"parse {document}", "GRAPHQL_PARSE_FAILED", document))
    return cases


CORPUS = corpus()


def test_the_corpus_is_large_and_covers_every_code() -> None:
    assert len(CORPUS) >= 200
    assert len({case.code for case in CORPUS}) >= 14


async def _row_counts(db: Database) -> dict[str, int]:
    async with db.read_sessions() as session:
        return {
            table.name: (
                await session.execute(select(func.count()).select_from(table))
            ).scalar_one()
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
async def clients(db: Database) -> AsyncIterator[dict[bool, httpx.AsyncClient]]:
    async with app_client(db) as development, app_client(db, limits=PRODUCTION) as production:
        yield {False: development, True: production}


async def test_every_hostile_request_is_refused_with_its_code_and_changes_nothing(
    db: Database, clients: dict[bool, httpx.AsyncClient]
) -> None:
    before = await _row_counts(db)
    wrong = []
    for case in CORPUS:
        for headers in ({}, GRAPHQL_RESPONSE):
            hostile = Hostile(**{**case.__dict__, "headers": {**headers, **case.headers}})
            response = await hostile.request(clients[case.production])
            answer = response.json()
            codes = [e.get("extensions", {}).get("code") for e in answer.get("errors", [])]
            if (
                response.status_code >= 500
                or case.code not in codes
                or None in codes
                or answer.get("data") is not None
            ):
                wrong.append((case.name, headers, response.status_code, answer))
    assert not wrong, "\n".join(repr(w)[:400] for w in wrong)
    assert await _row_counts(db) == before


async def test_a_document_failing_before_execution_is_a_400_only_for_graphql_response_json(
    client: httpx.AsyncClient,
) -> None:
    document = {"query": nested(30)}
    plain = await client.post("/graphql", json=document)
    spec = await client.post("/graphql", json=document, headers=GRAPHQL_RESPONSE)
    assert (plain.status_code, spec.status_code) == (200, 400)
    assert "data" not in plain.json()
    assert "data" not in spec.json()
    assert spec.headers["content-type"].startswith("application/graphql-response+json")


async def test_every_limit_follows_its_setting(db: Database) -> None:
    tight = HttpLimits(
        document=DocumentLimits(max_depth=3, max_aliases=1, max_tokens=20, max_cost=12),
        max_body_bytes=300,
    )
    async with app_client(db, limits=tight) as client:
        for document, code in (
            ("{ warehouses { locations { warehouse { code } } } }", "MAX_DEPTH_EXCEEDED"),
            ("{ a: __typename b: __typename }", "MAX_ALIASES_EXCEEDED"),
            ("{ " + "__typename " * 21 + "}", "MAX_TOKENS_EXCEEDED"),
            ("{ products(first: 5) { nodes { sku name } } }", "MAX_COST_EXCEEDED"),
            ("{ __typename }" + " " * 300, "REQUEST_TOO_LARGE"),
        ):
            answer = (await client.post("/graphql", json={"query": document})).json()
            assert [e["extensions"]["code"] for e in answer["errors"]][:1] == [code], document
        ok = await client.post("/graphql", json={"query": "{ warehouses { code } }"})
        assert ok.json() == {"data": {"warehouses": []}}


async def test_introspection_is_on_in_development(client: httpx.AsyncClient) -> None:
    answer = await client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert answer.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def _failing_warehouses(*_: Any) -> Any:
    raise RuntimeError("connection to 10.0.0.7 refused: password authentication failed")


async def test_an_unexpected_error_is_masked_and_logged_with_the_request_id(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(resolvers.catalog, "warehouses", _failing_warehouses)
    lines: list[str] = []
    handler = logging.Handler()
    formatter = JsonLogFormatter()
    handler.emit = lambda record: lines.append(formatter.format(record))  # type: ignore[method-assign]
    logging.getLogger("trackline.graphql").addHandler(handler)
    try:
        response = await client.post(
            "/graphql",
            json={"query": "{ warehouses { code } }"},
            headers={"X-Request-ID": "abc-123"},
        )
    finally:
        logging.getLogger("trackline.graphql").removeHandler(handler)
    (error,) = response.json()["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "abc-123"}
    assert response.headers["x-request-id"] == "abc-123"
    assert "10.0.0.7" not in response.text
    (line,) = [json.loads(text) for text in lines]
    assert line["request_id"] == "abc-123"
    assert "10.0.0.7" in line["exception"]


async def test_expected_errors_stay_visible(client: httpx.AsyncClient) -> None:
    answer = (
        await client.post("/graphql", json={"query": "{ products(first: 500) { nodes { sku } } }"})
    ).json()
    assert answer["errors"][0]["message"] == "first must be between 0 and 100"


async def _bearer(db: Database) -> str:
    """An admin token's Authorization value (the one place these tests authenticate)."""
    return f"Bearer {await issue_token(db, name='hostile')}"


async def test_a_page_size_over_the_maximum_is_coded(
    db: Database, client: httpx.AsyncClient
) -> None:
    headers = {"authorization": await _bearer(db)}
    for first in (101, 500, 5000, -1):
        document = f"{{ products(first: {first}) {{ nodes {{ sku }} }} }}"
        answer = (await client.post("/graphql", json={"query": document}, headers=headers)).json()
        (error,) = answer["errors"]
        assert error["message"] == "first must be between 0 and 100"
        assert error["extensions"] == {"code": "PAGE_SIZE_OUT_OF_RANGE"}, answer


async def test_an_argument_error_is_coded(db: Database, client: httpx.AsyncClient) -> None:
    document = '{ products(first: 1, after: "nope") { nodes { sku } } }'
    headers = {"authorization": await _bearer(db)}
    answer = (await client.post("/graphql", json={"query": document}, headers=headers)).json()
    (error,) = answer["errors"]
    assert error["extensions"] == {"code": "INVALID_PAGE_REQUEST"}, answer


SEVERAL_OPERATIONS = [
    "{ __typename } { __typename }",
    "{ __typename } query B { __typename }",
    "query A { __typename } query B { __typename }",
    "query A { __typename } mutation B { __typename }",
    "mutation A { createProduct(input: "
    + PRODUCT
    + ") { product { sku } } } query B { __typename }",
    "mutation A { createProduct(input: " + PRODUCT + ") { product { sku } } } "
    "mutation B { createProduct(input: " + PRODUCT + ") { product { sku } } }",
]


@pytest.mark.parametrize("document", SEVERAL_OPERATIONS)
async def test_several_operations_without_an_operation_name_are_refused_before_execution(
    db: Database, client: httpx.AsyncClient, document: str
) -> None:
    authorization = {"authorization": await _bearer(db)}
    before = await _row_counts(db)
    for body in ({"query": document}, {"query": document, "operationName": None}):
        for accept in ({}, GRAPHQL_RESPONSE):
            response = await client.post("/graphql", json=body, headers=accept | authorization)
            answer = response.json()
            assert response.status_code == (400 if accept else 200), answer
            assert "data" not in answer, answer
            codes = {e["extensions"]["code"] for e in answer["errors"]}
            assert codes == {"OPERATION_NAME_REQUIRED"}, answer
    assert await _row_counts(db) == before


async def test_a_named_operation_of_several_runs_alone(client: httpx.AsyncClient) -> None:
    document = "query A { a: __typename } query B { b: __typename }"
    answer = await client.post("/graphql", json={"query": document, "operationName": "B"})
    assert answer.json() == {"data": {"b": "Query"}}


def _failing_changes(*_: Any, **__: Any) -> Any:
    async def changes() -> AsyncIterator[Any]:
        raise RuntimeError("connection to 10.0.0.7 refused: password authentication failed")
        yield  # an async generator

    return changes()


async def test_an_unexpected_subscription_error_over_websocket_carries_the_request_id(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """graphql-transport-ws, in process: the masked error names the connection's request
    id, as a masked HTTP error does."""
    with warnings.catch_warnings():  # its note on httpx versions is not ours to act on
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    monkeypatch.setattr(resolvers.live, "serial_status_changes", _failing_changes)
    subscription = "subscription { serialStatusChanged { toStatus } }"
    authorization = await _bearer(db)
    with (
        TestClient(create_app(db.url)) as http,
        http.websocket_connect(
            "/graphql",
            subprotocols=["graphql-transport-ws"],
            headers={"X-Request-ID": "ws-123"},
        ) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {"authorization": authorization}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": subscription}})
        message = ws.receive_json()
    assert "10.0.0.7" not in json.dumps(message)
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    (error,) = errors
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "ws-123"}


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ('{ node(id: "") { id } }', "INVALID_ARGUMENT"),
        ('{ node(id: "406") { id } }', "INVALID_ARGUMENT"),
        ("{ expiringLots(days: 5000) { sku } }", "INVALID_VALUE"),
        ("{ recall { lot { lotNumber } } }", "INVALID_VALUE"),
        ('{ recall(lots: [{sku: "X", lotNumber: "L"}]) { lot { lotNumber } } }', "NOT_FOUND"),
    ],
)
async def test_a_query_refusing_its_arguments_is_coded(
    db: Database, client: httpx.AsyncClient, document: str, code: str
) -> None:
    """Found by tests/e2e/test_schemathesis.py: a malformed ID literal and a refusal raised
    by a query (which has no userErrors) reached the client without a code."""
    headers = {"authorization": await _bearer(db)}
    answer = (await client.post("/graphql", json={"query": document}, headers=headers)).json()
    assert answer.get("errors"), answer
    assert [e["extensions"]["code"] for e in answer["errors"]] == [code], answer
