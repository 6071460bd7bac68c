"""Runs the README's EPCIS documents on the state the walk-through leaves, and checks the
event shown there against the one exported, so that section cannot drift from the API."""

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.conftest import Gql, app_client
from tests.api.test_readme_walkthrough import README, resolved, walk_through
from tests.conftest import Database
from tests.standards.epcis_schema import schema_errors

STEP = re.compile(
    r"<!-- epcis: (?P<name>\w+) -->\s*```(?P<lang>graphql|json)\n(?P<doc>.*?)```"
    r"(?:\s*```json\n(?P<vars>.*?)```)?",
    re.S,
)
# What the README can only give an example of: when the dispatch happened, and the event id
# (derived from the movement's id, which any step added before the dispatch changes).
VARIES = ("eventTime", "eventTimeZoneOffset", "eventID")


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(db, epcis_base_uri="https://trackline.invalid/epcis") as client:
        yield client


async def test_readme_epcis_export_runs_as_written(gql: Gql, client: httpx.AsyncClient) -> None:
    # given the warehouse as the walk-through leaves it
    answers = await walk_through(gql)

    # when the EPCIS section's documents run
    steps = {m["name"]: m for m in STEP.finditer(README.read_text())}
    assert list(steps) == ["refused", "gtins", "shipment", "event"]
    for name in ("refused", "gtins", "shipment"):
        variables = json.loads(steps[name]["vars"] or "{}")
        answers[name] = await gql(steps[name]["doc"], resolved(variables, answers))

    # then the first is refused for both products without a GTIN
    refused = answers["refused"]["epcisEvents"]
    assert refused["document"] is None
    [error] = refused["userErrors"]
    assert error["code"] == "GTIN_REQUIRED"
    assert "BOX-M, VITC-500" in error["message"]
    assert [p["product"]["gtin"] for p in answers["gtins"].values()] == [
        "09506000134369",
        "09506000134376",
    ]

    # and the shipment's export holds the four movements of the dispatch
    export = answers["shipment"]["epcisEvents"]
    assert (export["eventCount"], export["hasNextPage"], export["userErrors"]) == (4, False, [])
    document = export["document"]
    assert schema_errors(document) == []
    events = document["epcisBody"]["eventList"]
    quantities = sorted(
        (e["quantityList"][0]["epcClass"].rsplit("/", 1)[-1], e["quantityList"][0]["quantity"])
        for e in events
        if "quantityList" in e
    )
    assert quantities == [("09506000134376", 5), ("LOT-2026A", 60), ("LOT-2026B", 10)]

    # the event shown is the laptop's, as exported
    shown = json.loads(steps["event"]["doc"])
    [laptop] = [e for e in events if "epcList" in e]
    assert {k: v for k, v in laptop.items() if k not in VARIES} == {
        k: v for k, v in shown.items() if k not in VARIES
    }
    assert laptop["eventTimeZoneOffset"] in ("+01:00", "+02:00")
    assert laptop["eventID"].startswith("urn:uuid:")

    # and over HTTP the document is the same
    shipment = resolved({"id": "@pack.createShipment.shipment.id"}, answers)["id"]
    response = await client.get(f"/epcis/events?shipment={shipment}")
    assert response.status_code == 200
    assert response.json()["epcisBody"] == document["epcisBody"]
