"""GET /epcis/events through the real application, on the EPCIS data set: the document as
JSON-LD, pages by Link header, refusals as JSON. Both engines."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from strawberry import relay

from models import Tracking
from services.receiving import LineReceipt
from tests.api.conftest import app_client
from tests.conftest import Database
from tests.services.builders import expect, make_product, plan_asn, receive_lines
from tests.services.epcis_data import EpcisData, build_epcis_data
from tests.standards.epcis_schema import schema_errors

BASE = "https://wms.example.com/epcis"


@pytest.fixture
async def data(db: Database) -> EpcisData:
    return await build_epcis_data(db)


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(db, epcis_base_uri=BASE) as client:
        yield client


async def document(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/ld+json"
    assert (response.headers["gs1-epcis-version"], response.headers["gs1-cbv-version"]) == (
        "2.0",
        "2.0",
    )
    body: dict[str, Any] = response.json()
    assert schema_errors(body) == []
    return body


def events(body: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = body["epcisBody"]["eventList"]
    return found


async def test_the_events_of_a_shipment(client: httpx.AsyncClient, data: EpcisData) -> None:
    shipment = relay.GlobalID("Shipment", str(data.shipment))

    body = await document(client, f"/epcis/events?shipment={shipment}")

    assert len(events(body)) == 3
    assert {e["readPoint"]["id"] for e in events(body)} == {f"{BASE}/locations/WH1/PACK"}
    assert {t["bizTransaction"] for e in events(body) for t in e["bizTransactionList"]} == {
        f"{BASE}/orders/SO-1",
        f"{BASE}/orders/SO-1/customer-po/CUST-SO-1",
        f"{BASE}/shipments/{data.shipment}",
    }


@pytest.mark.usefixtures("data")
@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("serial=S-1", 4),
        ("product=SER&serial=S%2F2", 4),
        ("product=VIT&lot=l-2", 4),
        ("order=SO-1", 6),
        ("receivingOrder=ASN-1", 10),
        ("from=2025-01-01T08:00:00Z&to=2025-01-01T08:00:01Z", 2),
        ("product=BOX&to=2025-01-02T00:00:00%2B01:00", 0),
    ],
)
async def test_each_filter_by_natural_key(
    client: httpx.AsyncClient, query: str, count: int
) -> None:
    body = await document(client, f"/epcis/events?{query}")

    assert len(events(body)) == count


@pytest.mark.usefixtures("data")
async def test_pages_are_linked(client: httpx.AsyncClient) -> None:
    whole = events(await document(client, "/epcis/events?from=2000-01-01T00:00:00Z"))
    collected: list[dict[str, Any]] = []
    url: str | None = "/epcis/events?from=2000-01-01T00:00:00Z&perPage=10"
    while url is not None:
        response = await client.get(url)
        assert response.status_code == 200
        collected += events(response.json())
        url = response.links.get("next", {}).get("url")

    assert collected == whole
    assert len(whole) > 20


@pytest.mark.usefixtures("data")
@pytest.mark.parametrize(
    ("path", "status", "code", "message"),
    [
        ("/epcis/events", 400, "INVALID_VALUE", "name what to export"),
        ("/epcis/events?serial=S-404", 404, "NOT_FOUND", "no serial 'S-404'"),
        ("/epcis/events?shipment=garbage", 404, "NOT_FOUND", "'garbage' is not the id of a"),
        ("/epcis/events?from=yesterday", 400, "INVALID_VALUE", "from must be an ISO 8601"),
        ("/epcis/events?to=2026-01-01T00:00:00", 400, "INVALID_VALUE", "to needs a time zone"),
        (
            "/epcis/events?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
            400,
            "INVALID_VALUE",
            "the time range ends",
        ),
        ("/epcis/events?order=SO-1&perPage=lots", 400, "INVALID_VALUE", "perPage must be"),
        ("/epcis/events?order=SO-1&perPage=0", 400, "INVALID_VALUE", "a page holds 1 to"),
        ("/epcis/events?order=SO-1&nextPageToken=x", 400, "INVALID_VALUE", "not a page token"),
    ],
)
async def test_a_bad_request_gets_a_coded_json_answer(
    client: httpx.AsyncClient, path: str, status: int, code: str, message: str
) -> None:
    response = await client.get(path)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == code
    assert body["message"].startswith(message)
    assert [e["code"] for e in body["errors"]] == [code]


async def test_what_gs1_cannot_name_is_unprocessable(
    client: httpx.AsyncClient, db: Database, data: EpcisData
) -> None:
    glue = await make_product(db, "GLUE", Tracking.NONE)
    asn = await plan_asn(db, data.site, "ASN-2", expect(glue, 3))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], quantity=3))

    response = await client.get("/epcis/events?receivingOrder=ASN-2")

    assert response.status_code == 422
    assert response.json()["code"] == "GTIN_REQUIRED"
    assert "GLUE" in response.json()["message"]
