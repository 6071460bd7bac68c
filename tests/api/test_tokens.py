"""API tokens over GraphQL and at the door: shown once, stored as a hash, never granting
more than their creator, refused once expired or revoked (and so is what they created)."""

import hashlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from models.access import ApiToken
from models.base import utc_now
from models.enums import Role
from services import tokens
from services.access import Principal
from services.errors import Refused
from tests.api.conftest import app_client, bearer, issue_token
from tests.conftest import Database

CREATE = """
mutation Create($input: CreateApiTokenInput!) {
  createApiToken(input: $input) {
    secret
    token { id name role prefix expiresAt revokedAt createdById }
    userErrors { code field message }
  }
}"""
REVOKE = """
mutation Revoke($id: ID!) {
  revokeApiToken(input: {id: $id}) { token { id revokedAt } userErrors { code } }
}"""
ME = "{ me { name role expiresAt } }"
LIST = "{ apiTokens { id name role prefix revokedAt } }"


async def _gql(
    client: httpx.AsyncClient, secret: str | None, query: str, variables: Any = None
) -> httpx.Response:
    headers = bearer(secret) if secret is not None else {}
    body = {"query": query, "variables": variables or {}}
    return await client.post("/graphql", json=body, headers=headers)


async def _create(client: httpx.AsyncClient, secret: str, role: str, **more: Any) -> dict[str, Any]:
    answer = await _gql(client, secret, CREATE, {"input": {"name": "made", "role": role, **more}})
    created: dict[str, Any] = answer.json()["data"]["createApiToken"]
    return created


async def test_an_admin_creates_a_token_shown_once_and_stored_as_a_hash(db: Database) -> None:
    admin = await issue_token(db, Role.ADMIN, name="boss")
    async with app_client(db, role=None) as client:
        created = await _create(client, admin, "OPERATOR")
        assert created["userErrors"] == []
        secret, token = created["secret"], created["token"]
        assert secret.startswith(f"tl_{token['prefix']}_")
        assert token["role"] == "OPERATOR"
        assert token["createdById"] is not None

        # the new token works, as itself
        me = (await _gql(client, secret, ME)).json()["data"]["me"]
        assert me == {"name": "made", "role": "OPERATOR", "expiresAt": None}

        # the list shows no secret, and the database holds only its hash
        listed = (await _gql(client, admin, LIST)).json()["data"]["apiTokens"]
        assert secret not in str(listed)
    async with db.read_sessions() as session:
        row = await session.scalar(select(ApiToken).where(ApiToken.prefix == token["prefix"]))
    assert row is not None
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(vars(row))


async def test_a_token_never_grants_more_than_its_creator(db: Database) -> None:
    expires = utc_now() + timedelta(days=1)
    admin = await issue_token(db, Role.ADMIN, name="temp-admin", expires_at=expires)
    async with app_client(db, role=None) as client:
        # no expiry, or a later one, than the creator's own: refused
        forever = await _create(client, admin, "VIEWER")
        later = await _create(
            client, admin, "VIEWER", expiresAt=(expires + timedelta(days=1)).isoformat()
        )
        assert [e["code"] for e in forever["userErrors"]] == ["EXPIRY_TOO_LATE"]
        assert [e["code"] for e in later["userErrors"]] == ["EXPIRY_TOO_LATE"]
        assert forever["secret"] is None
        # within it: fine
        sooner = await _create(
            client, admin, "VIEWER", expiresAt=(expires - timedelta(hours=1)).isoformat()
        )
        assert sooner["userErrors"] == []
        listed = (await _gql(client, admin, LIST)).json()["data"]["apiTokens"]
    assert [t["name"] for t in listed] == ["temp-admin", "made"]


async def test_role_above_the_creator_is_refused(db: Database) -> None:
    operator = Principal("dock", Role.OPERATOR, None)
    async with db.sessions() as session:
        with pytest.raises(Refused) as refused:
            await tokens.issue(session, name="x", role=Role.ADMIN, expires_at=None, by=operator)
    assert [p.code for p in refused.value.problems] == ["ROLE_TOO_HIGH"]


async def test_revoking_a_token_revokes_what_it_created(db: Database) -> None:
    admin = await issue_token(db, Role.ADMIN, name="boss")
    async with app_client(db, role=None) as client:
        deputy = await _create(client, admin, "ADMIN")
        grandchild = await _create(client, deputy["secret"], "VIEWER")
        assert (await _gql(client, grandchild["secret"], ME)).status_code == 200

        revoked = await _gql(client, admin, REVOKE, {"id": deputy["token"]["id"]})
        assert revoked.json()["data"]["revokeApiToken"]["token"]["revokedAt"] is not None

        for secret in (deputy["secret"], grandchild["secret"]):
            refused = await _gql(client, secret, ME)
            assert refused.status_code == 401
            assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await _gql(client, admin, ME)).status_code == 200

        unknown = await _gql(client, admin, REVOKE, {"id": "999999"})
        assert unknown.json()["data"]["revokeApiToken"]["userErrors"] == [{"code": "NOT_FOUND"}]


async def test_bad_tokens_are_refused_at_the_door(db: Database) -> None:
    real = await issue_token(db, Role.VIEWER)
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    async with app_client(db, role=None) as client:
        for header in (
            f"Bearer {forged}",
            "Bearer tl_nothing",
            "Bearer ",
            f"Basic {real}",
            "Bearer tl_00000000_" + "x" * 27,
        ):
            response = await client.post(
                "/graphql", json={"query": ME}, headers={"Authorization": header}
            )
            assert response.status_code == 401, header
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        # without any header, `me` is open and says nobody
        anonymous = await client.post("/graphql", json={"query": ME})
        assert anonymous.json() == {"data": {"me": None}}


async def test_plain_http_routes_need_a_token(db: Database) -> None:
    viewer = await issue_token(db, Role.VIEWER)
    async with app_client(db, role=None) as client:
        for path in ("/reports/serial-inventory.csv", "/epcis/events?from=2026-01-01T00:00:00Z"):
            anonymous = await client.get(path)
            assert anonymous.status_code == 401, path
            assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            assert (await client.get(path, headers=bearer(viewer))).status_code == 200, path
        # probes and the admin's static pages stay open
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/admin")).status_code == 200


async def test_uploads_need_a_token(db: Database) -> None:
    async with app_client(db, role=None) as client:
        response = await client.post(
            "/graphql",
            headers={"GraphQL-Preflight": "1"},
            files={"operations": (None, "{}"), "map": (None, "{}")},
        )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_movements_record_the_token_that_acted(db: Database) -> None:
    admin = await issue_token(db, Role.ADMIN, name="erp-connector")
    plan = """
    mutation {
      createWarehouse(input: {code: "W", name: "W", timeZone: "UTC",
                              locations: [{code: "DOCK", kind: RECEIVING}]}) { userErrors { code } }
      createProduct(input: {sku: "P", name: "P", serialTracked: true}) { userErrors { code } }
    }"""
    asn = """
    mutation {
      planReceivingOrder(input: {number: "ASN-1", warehouseCode: "W", supplier: "S",
        lines: [{productSku: "P", expectedQuantity: 1, expectedSerialNumbers: ["SN-1"]}]}) {
        userErrors { code message }
      }
    }"""
    history = '{ serial(sku: "P", serialNumber: "SN-1") { movements { actor } } }'
    async with app_client(db, role=None) as client:
        assert "errors" not in (await _gql(client, admin, plan)).json()
        planned = (await _gql(client, admin, asn)).json()
        assert planned["data"]["planReceivingOrder"]["userErrors"] == [], planned
        moves = (await _gql(client, admin, history)).json()["data"]["serial"]["movements"]
    assert moves == [{"actor": "erp-connector"}]
