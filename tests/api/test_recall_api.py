"""Recall through GraphQL (holdLots, releaseLots, recall) and the hold in the reports, on
the known recall data set (tests/services/recall_data.py). Both engines."""

import csv
import io
from typing import Any

import httpx
import pytest
from strawberry import relay

from models import Tracking
from resolvers.context import Context
from schema import schema
from tests.api.conftest import Gql
from tests.conftest import TRUSTED, Database
from tests.services.builders import (
    allocate,
    make_order,
    make_product,
    pick_all,
    stock_lot,
)
from tests.services.recall_data import LATER, RecallData, build_recall_data, ship

HOLD = """
mutation ($input: HoldLotsInput!) {
  holdLots(input: $input) {
    lots { lotNumber onHold holdReason product { sku } }
    userErrors { field code message }
  }
}
"""

RELEASE = """
mutation ($input: ReleaseLotsInput!) {
  releaseLots(input: $input) {
    lots { lotNumber onHold holdReason }
    userErrors { field code message }
  }
}
"""

ALLOCATE = """
mutation ($number: String!) {
  createOrder(input: {number: $number, warehouseCode: "WH1",
                      lines: [{productSku: "VIT", quantity: 25}]}) {
    userErrors { code }
  }
  allocateOrder(input: {orderNumber: $number}) {
    order { status pickTasks { allocation { quantity lot { lotNumber } } } }
    userErrors { field code message }
  }
}
"""

RECALL = """
query ($lotIds: [ID!], $lots: [LotRefInput!]) {
  recall(lotIds: $lotIds, lots: $lots) {
    lotNumber sku productName expiryDate receivedAt onHold holdReason
    onHand allocatedQuantity shippedQuantity
    lot { lotNumber movements { kind documentNumber } }
    product { sku }
    stock {
      warehouseCode locationCode locationKind quantity allocatedQuantity
      location { code } warehouse { code }
    }
    orders {
      orderNumber customerReference status warehouseCode orderedAt allocatedAt
      allocatedQuantity pickedQuantity shippedQuantity
      order { number status }
      shipments { carrier trackingNumber status dispatchedAt quantity shipment { status } }
    }
  }
}
"""

LOT_HISTORY = """
query {
  lot(sku: "VIT", lotNumber: "L-1") {
    onHold holdReason
    movements { kind quantity documentType documentNumber actor fromLocation { code } }
  }
}
"""

LOT_REPORTS = """
query {
  lotInventory { lotNumber locationCode onHold holdReason }
  expiringLots(days: 3660) { lotNumber onHold holdReason }
}
"""

REASON = "Supplier recall: possible contamination"


def gid(type_name: str, row_id: int) -> str:
    return str(relay.GlobalID(type_name, str(row_id)))


@pytest.fixture
async def data(db: Database) -> RecallData:
    return await build_recall_data(db)


def errors(answer: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in answer["userErrors"]]


async def test_hold_blocks_allocation_and_release_restores_it(gql: Gql, data: RecallData) -> None:
    # given both lots of VIT on hold, named by SKU and number in any case
    held = (
        await gql(
            HOLD,
            {
                "input": {
                    "lots": [
                        {"sku": "VIT", "lotNumber": "l-1"},
                        {"sku": "VIT", "lotNumber": "L-2"},
                    ],
                    "reason": REASON,
                    "reference": "RC-2031-07",
                }
            },
        )
    )["holdLots"]
    assert held["userErrors"] == []
    assert held["lots"] == [
        {"lotNumber": "L-1", "onHold": True, "holdReason": REASON, "product": {"sku": "VIT"}},
        {"lotNumber": "L-2", "onHold": True, "holdReason": REASON, "product": {"sku": "VIT"}},
    ]

    # when an order wants stock of VIT, then there is none to allocate
    refused = (await gql(ALLOCATE, {"number": "SO-HELD"}))["allocateOrder"]
    assert refused["order"] is None
    assert errors(refused) == [("lines.0", "INSUFFICIENT_STOCK")]
    assert "25 wanted, 0 available" in refused["userErrors"][0]["message"]

    # when L-2 is released by id, then its 5 are all there is to allocate
    released = (await gql(RELEASE, {"input": {"lotIds": [gid("Lot", data.other)]}}))["releaseLots"]
    assert released == {
        "lots": [{"lotNumber": "L-2", "onHold": False, "holdReason": None}],
        "userErrors": [],
    }
    assert (
        "25 wanted, 5 available"
        in (await gql(ALLOCATE, {"number": "SO-PART"}))["allocateOrder"]["userErrors"][0]["message"]
    )

    # when L-1 is released too, then the whole order is allocated
    await gql(RELEASE, {"input": {"lots": [{"sku": "VIT", "lotNumber": "L-1"}]}})
    allocated = (await gql(ALLOCATE, {"number": "SO-FREE"}))["allocateOrder"]
    assert allocated["userErrors"] == []
    assert allocated["order"]["status"] == "ALLOCATED"
    assert sorted(
        (t["allocation"]["lot"]["lotNumber"], t["allocation"]["quantity"])
        for t in allocated["order"]["pickTasks"]
    ) == [("L-1", 10), ("L-1", 12), ("L-2", 3)]


async def test_hold_and_release_are_movements_with_actor_and_document(
    gql: Gql, data: RecallData
) -> None:
    await gql(
        HOLD,
        {"input": {"lotIds": [gid("Lot", data.lot)], "reason": REASON}},
        actor="qa-lead",
    )
    held = (await gql(LOT_HISTORY))["lot"]
    await gql(RELEASE, {"input": {"lotIds": [gid("Lot", data.lot)]}}, actor="qa-lead")
    released = (await gql(LOT_HISTORY))["lot"]

    assert (held["onHold"], held["holdReason"]) == (True, REASON)
    assert (released["onHold"], released["holdReason"]) == (False, None)
    assert released["movements"][-2:] == [
        {
            "kind": kind,
            "quantity": 28,
            "documentType": "RECALL",
            "documentNumber": "HOLD-L-1",
            "actor": "qa-lead",
            "fromLocation": None,
        }
        for kind in ("HOLD", "RELEASE_HOLD")
    ]


async def test_refusals_name_each_input_at_fault_and_change_nothing(
    gql: Gql, data: RecallData
) -> None:
    await gql(HOLD, {"input": {"lotIds": [gid("Lot", data.other)], "reason": "first"}})

    answer = (
        await gql(
            HOLD,
            {
                "input": {
                    "lotIds": [gid("Lot", data.lot), gid("Product", data.product)],
                    "lots": [
                        {"sku": "VIT", "lotNumber": "L-2"},
                        {"sku": "VIT", "lotNumber": "L-404"},
                    ],
                    "reason": " ",
                }
            },
        )
    )["holdLots"]
    not_held = (
        await gql(
            RELEASE,
            {"input": {"lotIds": [gid("Lot", data.lot), gid("Lot", 999_999)]}},
        )
    )["releaseLots"]
    nothing = (await gql(RELEASE, {"input": {}}))["releaseLots"]

    assert answer["lots"] == []
    assert errors(answer) == [
        ("lotIds.1", "NOT_FOUND"),
        ("lots.1", "NOT_FOUND"),
        ("reason", "INVALID_VALUE"),
        ("lots.0", "LOT_ALREADY_ON_HOLD"),
    ]
    assert errors(not_held) == [("lotIds.1", "NOT_FOUND"), ("lotIds.0", "LOT_NOT_ON_HOLD")]
    assert errors(nothing) == [("lotIds", "INVALID_VALUE")]
    # L-1 was named in the refused hold: it is not held, and has no HOLD movement
    lot = (await gql(LOT_HISTORY))["lot"]
    assert lot["onHold"] is False
    assert "HOLD" not in [m["kind"] for m in lot["movements"]]


async def test_recall_traces_the_lot(gql: Gql, data: RecallData) -> None:
    await gql(
        HOLD,
        {"input": {"lotIds": [gid("Lot", data.lot)], "reason": REASON, "reference": "RC-9"}},
    )

    answer = (
        await gql(
            RECALL,
            {
                "lotIds": [gid("Lot", data.lot)],
                "lots": [{"sku": "VIT", "lotNumber": "l-2"}, {"sku": "VIT", "lotNumber": "L-1"}],
            },
        )
    )["recall"]

    # each lot once, in the order first named
    assert [r["lotNumber"] for r in answer] == ["L-1", "L-2"]
    lot, other = answer
    assert {k: lot[k] for k in ("sku", "productName", "expiryDate", "onHold", "holdReason")} == {
        "sku": "VIT",
        "productName": "Product VIT",
        "expiryDate": "2031-03-31",
        "onHold": True,
        "holdReason": REASON,
    }
    assert (lot["onHand"], lot["allocatedQuantity"], lot["shippedQuantity"]) == (28, 6, 2)
    assert lot["lot"]["movements"][-1] == {"kind": "HOLD", "documentNumber": "RC-9"}
    assert lot["product"] == {"sku": "VIT"}
    assert [
        (
            s["warehouseCode"],
            s["locationCode"],
            s["locationKind"],
            s["quantity"],
            s["allocatedQuantity"],
            s["location"]["code"],
            s["warehouse"]["code"],
        )
        for s in lot["stock"]
    ] == [
        ("WH1", "A-01", "STORAGE", 16, 4, "A-01", "WH1"),
        ("WH1", "A-02", "STORAGE", 10, 0, "A-02", "WH1"),
        ("WH1", "PACK", "PACKING", 2, 2, "PACK", "WH1"),
    ]
    assert [
        (
            o["orderNumber"],
            o["customerReference"],
            o["status"],
            o["allocatedQuantity"],
            o["pickedQuantity"],
            o["shippedQuantity"],
            o["order"],
        )
        for o in lot["orders"]
    ] == [
        ("SO-A", "CUST-SO-A", "ALLOCATED", 4, 0, 0, {"number": "SO-A", "status": "ALLOCATED"}),
        ("SO-B", "CUST-SO-B", "PICKED", 2, 2, 0, {"number": "SO-B", "status": "PICKED"}),
        ("SO-C", "CUST-SO-C", "SHIPPED", 2, 2, 2, {"number": "SO-C", "status": "SHIPPED"}),
    ]
    assert [o["shipments"] for o in lot["orders"]] == [
        [],
        [],
        [
            {
                "carrier": "DHL",
                "trackingNumber": "JD0001",
                "status": "DISPATCHED",
                "dispatchedAt": "2025-06-03T14:00:00+00:00",
                "quantity": 2,
                "shipment": {"status": "DISPATCHED"},
            }
        ],
    ]
    assert all(o["orderedAt"] <= o["allocatedAt"] for o in lot["orders"])
    assert (other["onHold"], other["onHand"], other["orders"]) == (False, 5, [])


async def test_recall_of_a_lot_that_does_not_exist_is_an_error(gql: Gql, data: RecallData) -> None:
    unknown_id = await gql(
        RECALL, {"lotIds": [gid("Lot", data.lot), gid("Lot", 999_999)]}, errors_ok=True
    )
    unknown_number = await gql(
        RECALL, {"lots": [{"sku": "VIT", "lotNumber": "L-9"}]}, errors_ok=True
    )
    nothing = await gql(RECALL, errors_ok=True)

    assert (unknown_id["data"], unknown_id["errors"]) == (None, ["lotIds.1: no such lot"])
    assert unknown_number["errors"] == ["no lot 'L-9' of 'VIT'"]
    assert nothing["errors"] == ["name at least one lot: lotIds or lots"]


async def test_the_hold_shows_in_the_lot_reports(gql: Gql, data: RecallData) -> None:
    await gql(HOLD, {"input": {"lotIds": [gid("Lot", data.lot)], "reason": REASON}})

    reports = await gql(LOT_REPORTS)

    assert [
        (r["lotNumber"], r["locationCode"], r["onHold"], r["holdReason"])
        for r in reports["lotInventory"]
    ] == [
        ("L-1", "A-01", True, REASON),
        ("L-1", "A-02", True, REASON),
        ("L-1", "PACK", True, REASON),
        ("L-2", "A-02", False, None),
    ]
    assert reports["expiringLots"] == [
        {"lotNumber": "L-1", "onHold": True, "holdReason": REASON},
        {"lotNumber": "L-2", "onHold": False, "holdReason": None},
    ]


async def _csv(client: httpx.AsyncClient, path: str) -> list[dict[str, str]]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


async def test_the_hold_shows_in_the_csv_reports(
    gql: Gql, data: RecallData, client: httpx.AsyncClient
) -> None:
    await gql(HOLD, {"input": {"lotIds": [gid("Lot", data.lot)], "reason": "=bad batch"}})

    inventory = await _csv(client, "/reports/lot-inventory.csv")
    expiring = await _csv(client, "/reports/expiring-lots.csv?days=3660")
    history = await _csv(client, "/reports/lot-movements.csv?sku=VIT&lot=L-1")

    # a reason a spreadsheet would run as a formula is defused, as every text cell is
    assert [(r["lot_number"], r["on_hold"], r["hold_reason"]) for r in inventory] == [
        ("L-1", "true", "'=bad batch"),
        ("L-1", "true", "'=bad batch"),
        ("L-1", "true", "'=bad batch"),
        ("L-2", "false", ""),
    ]
    assert [(r["lot_number"], r["on_hold"], r["hold_reason"]) for r in expiring] == [
        ("L-1", "true", "'=bad batch"),
        ("L-2", "false", ""),
    ]
    last = history[-1]
    assert (last["kind"], last["quantity"], last["document_type"], last["document_number"]) == (
        "HOLD",
        "28",
        "RECALL",
        "HOLD-L-1",
    )
    assert (last["from_location"], last["to_location"], last["actor"]) == ("", "", "tester")


# ---------------------------------------------------------------- statement budget


async def _count(db: Database, variables: dict[str, Any]) -> tuple[int, Any]:
    context = Context(db.sessions, db.read_sessions, principal=TRUSTED)
    with db.count_statements() as counter:
        result = await schema.execute(RECALL, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    return counter.count, result.data


async def test_recall_of_1_or_10_lots_costs_the_same_statements(
    db: Database, data: RecallData
) -> None:
    # given eight more lots, each of its own product, each with stock left and shipped to SO-X
    products = [await make_product(db, f"P-{i}", Tracking.LOT) for i in range(8)]
    extra = [await stock_lot(db, data.site, p, f"X-{i}", 3, LATER) for i, p in enumerate(products)]
    order = await make_order(db, data.site, *((p, 1) for p in products), number="SO-X")
    await allocate(db, order)
    await pick_all(db, order)
    await ship(db, order, "UPS", "1Z0001")

    one, _ = await _count(db, {"lotIds": [gid("Lot", data.lot)]})
    ten, answer = await _count(
        db,
        {
            "lotIds": [gid("Lot", i) for i in (data.lot, *extra)],
            "lots": [{"sku": "VIT", "lotNumber": "L-2"}],
        },
    )

    # the report (lots, stock, orders), then one batch per kind of object: lots, products,
    # movements, locations, warehouses, orders, shipments; naming lots by number adds one
    assert one == ten - 1
    assert one == 10
    assert len(answer["recall"]) == 10
    assert [len(r["orders"]) for r in answer["recall"]] == [3] + [1] * 8 + [0]
    assert {r["orders"][0]["shipments"][0]["trackingNumber"] for r in answer["recall"][1:9]} == {
        "1Z0001"
    }
