"""The reports through GraphQL, on the known data set, as of now."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from strawberry import relay

from models.base import utc_now
from tests.api.conftest import Gql
from tests.conftest import Database
from tests.services.report_data import ReportData, build_report_data

LOT_INVENTORY = """
query ($warehouseId: ID) {
  lotInventory(warehouseId: $warehouseId) {
    sku warehouseCode locationCode locationKind lotNumber expiryDate
    quantity allocatedQuantity availableQuantity daysToExpiry expired onHold
    lot { lotNumber movements { kind quantity } }
    location { code }
  }
}
"""

EXPIRING_LOTS = """
query ($days: Int!) {
  expiringLots(days: $days) {
    warehouseCode lotNumber expiryDate daysToExpiry expired quantity locationCodes
    lot { lotNumber }
  }
}
"""

SERIAL_INVENTORY = """
query ($warehouseId: ID) {
  serialInventory(warehouseId: $warehouseId) {
    byWarehouse { sku warehouseCode status count product { sku } warehouse { code } }
    byLocation { warehouseCode locationCode locationKind status count location { code } }
  }
}
"""

SERIAL_LOCATIONS = """
query ($after: String) {
  serialLocations(first: 3, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { serialNumber status location { code } warehouse { code } }
  }
}
"""

LOT_MOVEMENTS = """
query ($lotId: ID, $since: DateTime, $first: Int = 50) {
  lotMovements(lotId: $lotId, since: $since, first: $first) {
    totalCount
    pageInfo { hasNextPage }
    nodes { kind quantity fromLocation { code } toLocation { code } lot { lotNumber } }
  }
}
"""


def gid(type_name: str, row_id: int) -> str:
    return str(relay.GlobalID(type_name, str(row_id)))


def today_in(time_zone: str) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(time_zone)).date()


@pytest.fixture
async def data(db: Database) -> ReportData:
    return await build_report_data(
        db, today=today_in("Europe/Amsterdam"), received_at=utc_now() - timedelta(days=10)
    )


async def test_lot_inventory_in_fefo_order(gql: Gql, data: ReportData) -> None:
    rows = (await gql(LOT_INVENTORY))["lotInventory"]

    wh1_today = today_in("Europe/Amsterdam")
    wh2_days = (wh1_today - timedelta(days=1) - today_in("America/New_York")).days
    columns = ("warehouseCode", "lotNumber", "locationCode", "quantity", "daysToExpiry", "expired")
    assert [tuple(r[c] for c in columns) for r in rows] == [
        ("WH1", "L-EXPIRED", "A-01", 3, -1, True),
        ("WH1", "L-TODAY", "DOCK", 2, 0, False),
        ("WH1", "L-SOON", "A-02", 5, 4, False),
        ("WH1", "L-SOON-B", "A-01", 4, 4, False),
        ("WH1", "L-LATER", "A-01", 6, 14, False),
        ("WH1", "L-LATER", "A-02", 4, 14, False),
        ("WH1", "L-UNDATED", "A-01", 7, None, False),
        ("WH2", "L-EXPIRED", "A-01", 1, wh2_days, wh2_days < 0),
    ]
    first = rows[0]
    assert first["expiryDate"] == (wh1_today - timedelta(days=1)).isoformat()
    # expired stock is on hand but not available; storage stock of a usable lot is
    assert [r["availableQuantity"] for r in rows[:3]] == [0, 0, 5]
    assert (first["allocatedQuantity"], first["availableQuantity"], first["onHold"]) == (
        0,
        0,
        False,
    )
    assert first["locationKind"] == "STORAGE"
    assert rows[1]["locationKind"] == "RECEIVING"
    assert first["location"] == {"code": "A-01"}
    assert first["lot"]["lotNumber"] == "L-EXPIRED"
    # the lot's whole history, both warehouses
    assert [(m["kind"], m["quantity"]) for m in first["lot"]["movements"]] == [
        ("RECEIVE", 3),
        ("PUTAWAY", 3),
        ("RECEIVE", 1),
        ("PUTAWAY", 1),
    ]


async def test_lot_inventory_of_one_warehouse(gql: Gql, data: ReportData) -> None:
    rows = (await gql(LOT_INVENTORY, {"warehouseId": gid("Warehouse", data.wh2.warehouse_id)}))[
        "lotInventory"
    ]

    assert [(r["warehouseCode"], r["lotNumber"], r["quantity"]) for r in rows] == [
        ("WH2", "L-EXPIRED", 1)
    ]


async def test_expiring_lots(gql: Gql, data: ReportData) -> None:
    rows = (await gql(EXPIRING_LOTS, {"days": 14}))["expiringLots"]

    wh1 = [r for r in rows if r["warehouseCode"] == "WH1"]
    assert [
        (r["lotNumber"], r["daysToExpiry"], r["expired"], r["quantity"], r["locationCodes"])
        for r in wh1
    ] == [
        ("L-EXPIRED", -1, True, 3, ["A-01"]),
        ("L-TODAY", 0, False, 2, ["DOCK"]),
        ("L-SOON", 4, False, 5, ["A-02"]),
        ("L-SOON-B", 4, False, 4, ["A-01"]),
        ("L-LATER", 14, False, 10, ["A-01", "A-02"]),
    ]
    assert [r["lotNumber"] for r in rows if r["warehouseCode"] == "WH2"] == ["L-EXPIRED"]
    assert [r["lot"]["lotNumber"] for r in rows] == [r["lotNumber"] for r in rows]
    days_3 = (await gql(EXPIRING_LOTS, {"days": 3}))["expiringLots"]
    assert {r["lotNumber"] for r in days_3} == {"L-EXPIRED", "L-TODAY"}


async def test_expiring_lots_refuse_a_negative_window(gql: Gql, data: ReportData) -> None:
    answer = await gql(EXPIRING_LOTS, {"days": -1}, errors_ok=True)

    assert answer["data"] is None
    assert answer["errors"] == ["days must be between 0 and 3660"]


async def test_serial_inventory(gql: Gql, data: ReportData) -> None:
    report = (await gql(SERIAL_INVENTORY))["serialInventory"]

    assert [
        (r["sku"], r["warehouseCode"], r["status"], r["count"]) for r in report["byWarehouse"]
    ] == [
        ("SER", "WH1", "EXPECTED", 1),
        ("SER", "WH1", "RECEIVED", 1),
        ("SER", "WH1", "IN_INVENTORY", 2),
        ("SER", "WH2", "IN_INVENTORY", 1),
    ]
    assert report["byWarehouse"][0]["product"] == {"sku": "SER"}
    assert report["byWarehouse"][3]["warehouse"] == {"code": "WH2"}
    assert [
        (r["warehouseCode"], r["locationCode"], r["locationKind"], r["status"], r["count"])
        for r in report["byLocation"]
    ] == [
        ("WH1", "A-01", "STORAGE", "IN_INVENTORY", 1),
        ("WH1", "A-02", "STORAGE", "IN_INVENTORY", 1),
        ("WH1", "DOCK", "RECEIVING", "RECEIVED", 1),
        ("WH2", "A-01", "STORAGE", "IN_INVENTORY", 1),
    ]
    assert [r["location"]["code"] for r in report["byLocation"]] == ["A-01", "A-02", "DOCK", "A-01"]
    wh2 = (await gql(SERIAL_INVENTORY, {"warehouseId": gid("Warehouse", data.wh2.warehouse_id)}))[
        "serialInventory"
    ]
    assert [r["count"] for r in wh2["byWarehouse"]] == [1]
    assert [r["locationCode"] for r in wh2["byLocation"]] == ["A-01"]


async def test_serial_locations_in_pages(gql: Gql, data: ReportData) -> None:
    first = (await gql(SERIAL_LOCATIONS))["serialLocations"]
    after = first["pageInfo"]["endCursor"]
    second = (await gql(SERIAL_LOCATIONS, {"after": after}))["serialLocations"]

    # EXPECTED S-4 and RELEASED S-9 are nowhere; the rest oldest first
    assert first["totalCount"] == second["totalCount"] == 4
    assert first["pageInfo"]["hasNextPage"] is True
    assert second["pageInfo"]["hasNextPage"] is False
    assert [
        (n["serialNumber"], n["status"], n["location"]["code"], n["warehouse"]["code"])
        for n in first["nodes"] + second["nodes"]
    ] == [
        ("S-1", "IN_INVENTORY", "A-01", "WH1"),
        ("S-2", "IN_INVENTORY", "A-02", "WH1"),
        ("S-3", "RECEIVED", "DOCK", "WH1"),
        ("S-20", "IN_INVENTORY", "A-01", "WH2"),
    ]


async def test_lot_movements_of_one_lot(gql: Gql, data: ReportData) -> None:
    answer = (await gql(LOT_MOVEMENTS, {"lotId": gid("Lot", data.lots["L-LATER"])}))["lotMovements"]

    assert answer["totalCount"] == 3
    assert [
        (m["kind"], m["quantity"], (m["fromLocation"] or {}).get("code"), m["toLocation"]["code"])
        for m in answer["nodes"]
    ] == [
        ("RECEIVE", 10, None, "DOCK"),
        ("PUTAWAY", 6, "DOCK", "A-01"),
        ("PUTAWAY", 4, "DOCK", "A-02"),
    ]
    assert {m["lot"]["lotNumber"] for m in answer["nodes"]} == {"L-LATER"}


async def test_lot_movements_of_every_lot_page_and_count(gql: Gql, data: ReportData) -> None:
    page = (await gql(LOT_MOVEMENTS, {"first": 5}))["lotMovements"]
    future = (await gql(LOT_MOVEMENTS, {"since": "2999-01-01T00:00:00Z"}))["lotMovements"]
    naive = await gql(LOT_MOVEMENTS, {"since": "2026-01-01T00:00:00"}, errors_ok=True)

    assert page["totalCount"] == 14
    assert len(page["nodes"]) == 5
    assert page["pageInfo"]["hasNextPage"] is True
    assert (future["totalCount"], future["nodes"]) == (0, [])
    assert naive["errors"] == ["since needs a time zone offset, e.g. 2026-01-31T00:00:00Z"]
