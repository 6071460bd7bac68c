"""Runs the README's look-up and report documents on the state the walk-through leaves, so
that section cannot drift from the API either."""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from tests.api.conftest import Gql
from tests.api.test_readme_walkthrough import README, walk_through

LOOKUP_STEP = re.compile(r"<!-- lookup: (?P<name>\w+) -->\s*```graphql\n(?P<doc>.*?)```", re.S)


async def test_readme_lookup_and_report_run_as_written(gql: Gql) -> None:
    # given the warehouse as the walk-through leaves it
    await walk_through(gql)

    # when the look-up section's documents run
    docs = {m["name"]: m["doc"] for m in LOOKUP_STEP.finditer(README.read_text())}
    assert list(docs) == ["find", "report"]
    find = await gql(docs["find"])
    report = await gql(docs["report"])

    # then they say what the text around them says
    assert find["serialLookup"]["totalCount"] == 2
    assert [
        (n["serialNumber"], n["status"], n["location"]) for n in find["serialLookup"]["nodes"]
    ] == [("SN-1001", "SHIPPED", None), ("SN-1002", "IN_INVENTORY", {"code": "A-01"})]
    scan = find["scan"]
    assert (scan["format"], scan["gtin"], scan["serialNumber"]) == (
        "GS1_ELEMENT_STRING",
        "09506000134352",
        "SN-1002",
    )
    assert (scan["found"], scan["error"], scan["product"]) == (True, None, {"sku": "LAPTOP-14"})
    assert scan["serials"] == [
        {"serialNumber": "SN-1002", "status": "IN_INVENTORY", "location": {"code": "A-01"}}
    ]

    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Amsterdam")).date()
    [row] = report["lotInventory"]
    assert row == {
        "sku": "VITC-500",
        "lotNumber": "LOT-2026B",
        "expiryDate": "2031-09-30",
        "daysToExpiry": (date(2031, 9, 30) - today).days,
        "expired": False,
        "warehouseCode": "MAIN",
        "locationCode": "A-02",
        "quantity": 30,
        "allocatedQuantity": 0,
        "availableQuantity": 30,
    }
