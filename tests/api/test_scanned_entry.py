"""Raw scans in the fields where serial and lot numbers are typed, through GraphQL."""

from typing import Any

from strawberry import relay

from models import Tracking
from tests.api.conftest import Gql
from tests.conftest import Database
from tests.services.builders import (
    allocate,
    expect,
    make_order,
    make_product,
    make_site,
    plan_asn,
    stock_serials,
    task_for,
)

LAPTOP_GTIN = "09506000134352"
VITAMIN_GTIN = "09506000134369"
GS = "\x1d"

RECEIVE = """
mutation ($input: ReceiveItemsInput!) {
  receiveItems(input: $input) {
    serials { serialNumber status }
    lots { lotNumber expiryDate }
    userErrors { field code message }
  }
}
"""

CONFIRM = """
mutation ($input: ConfirmPickInput!) {
  confirmPick(input: $input) {
    pickTask { status allocation { serial { serialNumber status } } }
    userErrors { field code message }
  }
}
"""


def _receipt(serials: list[str], lot: dict[str, Any]) -> dict[str, Any]:
    return {
        "input": {
            "orderNumber": "ASN-1",
            "lines": [
                {"lineNumber": 1, "serialNumbers": serials},
                {"lineNumber": 2, "lots": [lot]},
            ],
        }
    }


def _errors(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


async def test_receiving_raw_scans(gql: Gql, db: Database) -> None:
    site = await make_site(db)
    laptop = await make_product(db, "LAPTOP", Tracking.SERIAL, gtin=LAPTOP_GTIN)
    vitamins = await make_product(db, "VITC", Tracking.LOT, gtin=VITAMIN_GTIN)
    await plan_asn(db, site, "ASN-1", expect(laptop, 2), expect(vitamins, 10))
    serials = [f"]C101{LAPTOP_GTIN}21SN-1{GS}", f"(01){VITAMIN_GTIN}(21)SN-2"]
    lot = {"lotNumber": f"]d201{VITAMIN_GTIN}17310300" + "10LOT-A", "quantity": 10}

    # a label of another product, and a label whose expiry is not the one typed
    typed_expiry = lot | {"expiryDate": "2031-03-30"}
    refused = (await gql(RECEIVE, _receipt(serials, typed_expiry)))["receiveItems"]
    assert _errors(refused) == [
        ("GTIN_MISMATCH", "lines.0.serialNumbers.1"),
        ("EXPIRY_MISMATCH", "lines.1.lots.0.lotNumber"),
    ]
    assert (refused["serials"], refused["lots"]) == ([], [])

    serials[1] = f"https://id.example.com/01/{LAPTOP_GTIN}/21/SN-2"
    received = (await gql(RECEIVE, _receipt(serials, lot)))["receiveItems"]

    assert received["userErrors"] == []
    assert received["serials"] == [
        {"serialNumber": "SN-1", "status": "RECEIVED"},
        {"serialNumber": "SN-2", "status": "RECEIVED"},
    ]
    # the expiry was not typed: it is the label's, day 00 being the month's last day
    assert received["lots"] == [{"lotNumber": "LOT-A", "expiryDate": "2031-03-31"}]


async def test_picking_a_raw_scan(gql: Gql, db: Database) -> None:
    site = await make_site(db)
    laptop = await make_product(db, "LAPTOP", Tracking.SERIAL, gtin=LAPTOP_GTIN)
    await make_product(db, "VITC", Tracking.LOT, gtin=VITAMIN_GTIN)
    await stock_serials(db, site, laptop, "SN-1")
    order = await make_order(db, site, (laptop, 1))
    [allocation] = await allocate(db, order)
    task_id = str(relay.GlobalID("PickTask", str((await task_for(db, allocation.id)).id)))

    def confirm(scan: str) -> dict[str, Any]:
        return {"input": {"taskId": task_id, "serialNumber": scan}}

    wrong = (await gql(CONFIRM, confirm(f"]C101{VITAMIN_GTIN}21SN-1")))["confirmPick"]
    assert _errors(wrong) == [("GTIN_MISMATCH", "serialNumber")]
    assert wrong["pickTask"] is None

    picked = (await gql(CONFIRM, confirm(f"]C101{LAPTOP_GTIN}21SN-1")))["confirmPick"]
    assert picked["userErrors"] == []
    assert picked["pickTask"] == {
        "status": "DONE",
        "allocation": {"serial": {"serialNumber": "SN-1", "status": "PICKED"}},
    }
