"""The `epcisEvents` query through the real schema: the document, pages, and refusals as
userErrors naming the input paths. Both engines."""

from typing import Any

import pytest
from strawberry import relay

from resolvers.context import Context
from schema import schema
from services.epcis_identifiers import UriScheme
from tests.api.conftest import Gql
from tests.conftest import TRUSTED, Database
from tests.services.epcis_data import EpcisData, build_epcis_data
from tests.standards.epcis_schema import schema_errors

EXPORT = """
query Export($filter: EpcisFilter!, $first: Int, $after: String) {
  epcisEvents(filter: $filter, first: $first, after: $after) {
    document eventCount hasNextPage endCursor userErrors { code field message }
  }
}
"""


@pytest.fixture
async def data(db: Database) -> EpcisData:
    return await build_epcis_data(db)


def shipment_id(data: EpcisData) -> str:
    return str(relay.GlobalID("Shipment", str(data.shipment)))


async def test_a_shipment_as_an_epcis_document(gql: Gql, data: EpcisData) -> None:
    answer = (await gql(EXPORT, {"filter": {"shipmentId": shipment_id(data)}}))["epcisEvents"]

    document = answer["document"]
    assert schema_errors(document) == []
    assert (answer["eventCount"], answer["hasNextPage"], answer["endCursor"]) == (3, False, None)
    assert answer["userErrors"] == []
    events = document["epcisBody"]["eventList"]
    assert {(e["bizStep"], e["disposition"]) for e in events} == {("shipping", "in_transit")}
    # without a configured base, our URIs say plainly that none was set
    assert {e["readPoint"]["id"] for e in events} == {
        "https://trackline.invalid/epcis/locations/WH1/PACK"
    }


@pytest.mark.usefixtures("data")
async def test_pages_follow_the_end_cursor(gql: Gql) -> None:
    whole = (await gql(EXPORT, {"filter": {"sku": "VIT"}}))["epcisEvents"]
    events: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql(EXPORT, {"filter": {"sku": "VIT"}, "first": 3, "after": after}))[
            "epcisEvents"
        ]
        events += page["document"]["epcisBody"]["eventList"]
        after = page["endCursor"]
        assert page["hasNextPage"] is (after is not None)
        if after is None:
            break

    assert events == whole["document"]["epcisBody"]["eventList"]
    assert len(events) == whole["eventCount"] == 9


@pytest.mark.usefixtures("data")
async def test_our_uris_follow_the_configured_base(db: Database) -> None:
    context = Context(
        db.sessions,
        db.read_sessions,
        principal=TRUSTED,
        epcis_uris=UriScheme.under("https://wms.example.com/epcis"),
    )
    result = await schema.execute(
        EXPORT, variable_values={"filter": {"serialNumber": "S-OLD"}}, context_value=context
    )

    assert result.errors is None
    assert result.data is not None
    [event] = result.data["epcisEvents"]["document"]["epcisBody"]["eventList"]
    assert event["readPoint"] == {"id": "https://wms.example.com/epcis/locations/WH1/A-02"}


@pytest.mark.usefixtures("data")
@pytest.mark.parametrize(
    ("variables", "errors"),
    [
        ({"filter": {}}, [("INVALID_VALUE", "filter")]),
        (
            {"filter": {"serialNumber": "S-404", "orderNumber": "SO-404"}},
            [("NOT_FOUND", "filter.serialNumber"), ("NOT_FOUND", "filter.orderNumber")],
        ),
        (
            {"filter": {"shipmentId": str(relay.GlobalID("Product", "1"))}},
            [("NOT_FOUND", "filter.shipmentId")],
        ),
        (
            {"filter": {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}},
            [("INVALID_VALUE", "filter.to")],
        ),
        ({"filter": {"sku": "SER"}, "first": 0}, [("INVALID_VALUE", "first")]),
        ({"filter": {"sku": "SER"}, "after": "nope"}, [("INVALID_VALUE", "after")]),
    ],
)
async def test_a_bad_filter_is_refused_with_user_errors(
    gql: Gql, variables: dict[str, Any], errors: list[tuple[str, str]]
) -> None:
    answer = (await gql(EXPORT, variables))["epcisEvents"]

    assert [(e["code"], e["field"]) for e in answer["userErrors"]] == errors
    assert (answer["document"], answer["eventCount"]) == (None, 0)
