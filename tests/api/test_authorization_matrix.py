"""The authorization matrix, generated from the schema: every root field of Query, Mutation
and Subscription, asked by anonymous, each role, a revoked and an expired token.

A refused cell answers the permission code and changes no row; an allowed cell is never
refused for access (it may still fail for its made-up arguments). A root field without a
rule in schema/permissions.py fails here before anyone forgets it.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
)
from sqlalchemy import func, select, update

from models import Base
from models.access import ApiToken
from models.base import utc_now
from models.enums import Role
from resolvers.context import Context
from schema import schema
from schema.permissions import RULES, needed_role
from services.access import Principal
from tests.api.conftest import app_client, bearer, issue_token
from tests.conftest import Database

GRAPHQL = schema._schema
ROOTS = {"Query": GRAPHQL.query_type, "Mutation": GRAPHQL.mutation_type}
SCALARS = {"ID": "X", "String": "x", "Int": 1, "Float": 1.0, "Boolean": True}
ACCESS_CODES = {"UNAUTHENTICATED", "FORBIDDEN"}
CALLERS = ["anonymous", *Role, "revoked", "expired"]


def example(kind: GraphQLInputType) -> Any:
    """A value of `kind` that passes validation: the required parts only."""
    if isinstance(kind, GraphQLNonNull):
        return example(kind.of_type)
    if isinstance(kind, GraphQLList):
        return [example(kind.of_type)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            name: example(field.type)
            for name, field in kind.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is None
        }
    assert isinstance(kind, GraphQLScalarType)
    return SCALARS.get(kind.name, "2026-01-01")


def document(operation: str, name: str, field: GraphQLField) -> tuple[str, dict[str, Any]]:
    """One operation selecting `name`, its required arguments as variables."""
    required = {
        arg: kind for arg, kind in field.args.items() if isinstance(kind.type, GraphQLNonNull)
    }
    declared = ", ".join(f"${arg}: {kind.type}" for arg, kind in required.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in required)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    head = f"{operation} Cell({declared})" if declared else f"{operation} Cell"
    call = f"{name}({passed})" if passed else name
    variables = {arg: example(kind.type) for arg, kind in required.items()}
    return f"{head} {{ {call}{selection} }}", variables


def cells(root: str) -> list[tuple[str, str, dict[str, Any]]]:
    kind = GRAPHQL.subscription_type if root == "Subscription" else ROOTS[root]
    assert kind is not None
    return [(name, *document(root.lower(), name, field)) for name, field in kind.fields.items()]


def allowed(caller: str, root: str, name: str) -> bool:
    _, needed = needed_role(root, name)
    if needed is None:
        return caller not in ("revoked", "expired")  # a bad token is refused at the door
    return isinstance(caller, Role) and caller.includes(needed)


def test_every_root_field_has_a_rule_and_every_rule_a_field() -> None:
    for root in ("Query", "Mutation", "Subscription"):
        kind = GRAPHQL.subscription_type if root == "Subscription" else ROOTS[root]
        assert kind is not None
        assert set(kind.fields) == set(RULES[root]), f"{root}: fields and rules differ"


async def row_counts(db: Database) -> dict[str, int]:
    async with db.read_sessions() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
async def tokens(db: Database) -> dict[str, str]:
    issued: dict[str, str] = {
        role.value: await issue_token(db, role, name=role.lower()) for role in Role
    }
    issued["revoked"] = await issue_token(db, Role.ADMIN, name="revoked")
    issued["expired"] = await issue_token(
        db, Role.ADMIN, name="expired", expires_at=utc_now() + timedelta(hours=1)
    )
    async with db.sessions.begin() as session:
        await session.execute(
            update(ApiToken).where(ApiToken.name == "revoked").values(revoked_at=utc_now())
        )
        await session.execute(  # expired an hour ago
            update(ApiToken)
            .where(ApiToken.name == "expired")
            .values(expires_at=utc_now() - timedelta(hours=1))
        )
    return issued


@pytest.fixture
async def anonymous_client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(db, role=None) as client:
        yield client


def codes(answer: dict[str, Any]) -> set[Any]:
    return {(e.get("extensions") or {}).get("code") for e in answer.get("errors") or ()}


@pytest.mark.parametrize("root", ["Query", "Mutation"])
async def test_each_operation_for_each_caller_over_http(
    db: Database, anonymous_client: httpx.AsyncClient, tokens: dict[str, str], root: str
) -> None:
    refused_cells = 0
    # Refused cells first, all of them, with the rows counted around them: none may write.
    before = await row_counts(db)
    for allow_pass in (False, True):
        for name, query, variables in cells(root):
            for caller in CALLERS:
                if allowed(caller, root, name) is not allow_pass:
                    continue
                headers = bearer(tokens[caller]) if caller != "anonymous" else {}
                response = await anonymous_client.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={"Accept": "application/graphql-response+json", **headers},
                )
                answer = response.json()
                cell = f"{root}.{name} as {caller}"
                if allow_pass:
                    assert not codes(answer) & ACCESS_CODES, (cell, answer)
                    continue
                refused_cells += 1
                assert "data" not in answer, (cell, answer)
                expected = "FORBIDDEN" if isinstance(caller, Role) else "UNAUTHENTICATED"
                assert codes(answer) == {expected}, (cell, answer)
                assert response.status_code == (403 if expected == "FORBIDDEN" else 401), cell
        if not allow_pass:
            assert await row_counts(db) == before, "a refused cell changed rows"
    assert refused_cells > 0


async def test_each_subscription_for_each_role(db: Database) -> None:
    """Subscriptions are checked when they start, like any operation (a WebSocket without a
    valid token does not even connect: tests/e2e/test_live_auth.py)."""
    for name, query, variables in cells("Subscription"):
        for caller in [None, *Role]:
            principal = Principal(str(caller), caller) if caller is not None else None
            context = Context(db.sessions, db.read_sessions, principal=principal)
            stream = await schema.subscribe(query, variable_values=variables, context_value=context)
            assert isinstance(stream, AsyncIterator)
            first = asyncio.create_task(anext(stream))
            done, _ = await asyncio.wait([first], timeout=0.2)
            cell = f"Subscription.{name} as {caller}"
            if caller is not None:
                # started: waiting for its first event, or answered without an access error
                if done and first.exception() is None:
                    errors = first.result().errors or []
                    assert not {e.extensions.get("code") for e in errors if e.extensions} & (
                        ACCESS_CODES
                    ), cell
                first.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await first
                await stream.aclose()
                continue
            assert done, f"{cell} started"
            refusals = first.result().errors
            assert refusals is not None, cell
            assert {e.extensions.get("code") for e in refusals if e.extensions} == {
                "UNAUTHENTICATED"
            }, cell


def test_the_rules_are_the_documented_policy() -> None:
    """docs/security.md's table, written out again on purpose: a rule changed by mistake
    fails here even though the matrix above would follow it."""
    floor = {
        "receiveItems", "completePutaway", "closeReceivingOrder", "allocateOrder",
        "cancelAllocation", "confirmPick", "createShipment", "dispatchShipment",
        "cancelOrder", "returnToStock",
    }  # fmt: skip
    integration = {
        "planReceivingOrder", "cancelReceivingOrder", "createOrder", "importCsv", "holdLots",
        "releaseLots",
    }  # fmt: skip
    admin = {
        "createWarehouse", "createLocation", "createProduct", "updateProduct",
        "createApiToken", "revokeApiToken",
    }  # fmt: skip
    expected = {
        **dict.fromkeys(floor, Role.OPERATOR),
        **dict.fromkeys(integration, Role.INTEGRATOR),
        **dict.fromkeys(admin, Role.ADMIN),
    }
    assert RULES["Mutation"] == expected
    assert set(RULES["Subscription"].values()) == {Role.VIEWER}
    queries = dict(RULES["Query"])
    assert queries.pop("me") is None
    assert queries.pop("apiTokens") is Role.ADMIN
    assert set(queries.values()) == {Role.VIEWER}
