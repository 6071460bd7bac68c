"""Runs the README's recall documents on the state the walk-through leaves, so that section
cannot drift from the API either."""

import re

from tests.api.conftest import Gql
from tests.api.test_readme_walkthrough import README, walk_through

RECALL_STEP = re.compile(r"<!-- recall: (?P<name>\w+) -->\s*```graphql\n(?P<doc>.*?)```", re.S)
REASON = "Supplier recall: possible contamination"


async def test_readme_recall_runs_as_written(gql: Gql) -> None:
    # given the warehouse as the walk-through leaves it
    answers = await walk_through(gql)

    # when the recall section's documents run
    docs = {m["name"]: m["doc"] for m in RECALL_STEP.finditer(README.read_text())}
    assert list(docs) == ["hold", "trace", "release"]
    hold = await gql(docs["hold"])
    trace = await gql(docs["trace"])
    release = await gql(docs["release"])

    # then they say what the text around them says: both lots held, the new order refused
    assert hold["holdLots"] == {
        "lots": [
            {"lotNumber": "LOT-2026A", "onHold": True, "holdReason": REASON},
            {"lotNumber": "LOT-2026B", "onHold": True, "holdReason": REASON},
        ],
        "userErrors": [],
    }
    assert hold["createOrder"]["userErrors"] == []
    assert hold["allocateOrder"] == {
        "order": None,
        "userErrors": [
            {
                "field": "lines.0",
                "code": "INSUFFICIENT_STOCK",
                "message": "line 1 (VITC-500): 5 wanted, 0 available; short by 5",
            }
        ],
    }

    # the recall: nothing left of LOT-2026A, 30 of LOT-2026B in A-02, both shipped on SO-1
    lot_a, lot_b = trace["recall"]
    shipment = {"carrier": "DHL", "trackingNumber": "JD014600003"}
    assert {k: lot_a[k] for k in ("lotNumber", "onHold", "onHand", "shippedQuantity")} == {
        "lotNumber": "LOT-2026A",
        "onHold": True,
        "onHand": 0,
        "shippedQuantity": 60,
    }
    assert lot_a["holdReason"] == REASON
    assert lot_a["stock"] == []
    assert (lot_b["onHand"], lot_b["shippedQuantity"]) == (30, 10)
    assert lot_b["stock"] == [
        {"warehouseCode": "MAIN", "locationCode": "A-02", "quantity": 30, "allocatedQuantity": 0}
    ]
    dispatched = answers["dispatch"]["dispatchShipment"]["shipment"]["dispatchedAt"]
    for lot, quantity in ((lot_a, 60), (lot_b, 10)):
        [order] = lot["orders"]
        assert {k: v for k, v in order.items() if k != "shipments"} == {
            "orderNumber": "SO-1",
            "customerReference": "ACME-778",
            "status": "SHIPPED",
            "allocatedQuantity": quantity,
            "pickedQuantity": quantity,
            "shippedQuantity": quantity,
        }
        assert order["shipments"] == [
            {**shipment, "dispatchedAt": dispatched, "quantity": quantity}
        ]

    # LOT-2026B released: the waiting order takes 5 of it
    assert release["releaseLots"] == {
        "lots": [{"lotNumber": "LOT-2026B", "onHold": False}],
        "userErrors": [],
    }
    assert release["allocateOrder"] == {
        "order": {
            "status": "ALLOCATED",
            "pickTasks": [{"allocation": {"quantity": 5, "lot": {"lotNumber": "LOT-2026B"}}}],
        },
        "userErrors": [],
    }
