"""Look-up and report shapes cost a fixed number of SQL statements, however many rows they
return: every relationship goes through a dataloader that fetches one batch per level."""

from typing import Any, cast

from models import Tracking
from resolvers.context import Context
from schema import schema
from services.putaway import Placement
from services.receiving import LineReceipt, LotEntry
from tests.conftest import TRUSTED, Database
from tests.services.builders import (
    Site,
    expect,
    make_product,
    make_site,
    plan_asn,
    put_away,
    receive_lines,
)

PRODUCTS_LOTS_MOVEMENTS = """
{
  products(first: 10) {
    nodes {
      sku
      lots(first: 50) {
        nodes { lotNumber movements { kind quantity toLocation { code } } }
      }
    }
  }
}
"""

PRODUCTS_SERIALS_MOVEMENTS = """
{
  products(first: 10) {
    nodes {
      sku
      serials(first: 100) {
        nodes {
          serialNumber location { code }
          movements { kind fromLocation { code } toLocation { code } }
        }
      }
    }
  }
}
"""

SERIAL_LOOKUP = """
{
  serialLookup(search: "sn-", first: 100) {
    totalCount
    nodes {
      serialNumber
      product { sku }
      warehouse { code }
      location { code }
      movements { kind toStatus }
    }
  }
}
"""

LOT_INVENTORY = """
{
  lotInventory {
    lotNumber quantity
    location { code }
    lot { lotNumber product { sku } movements { kind } }
  }
}
"""

LOT_MOVEMENTS = """
{
  lotMovements(first: 100) {
    totalCount
    nodes { kind quantity lot { lotNumber } fromLocation { code } toLocation { code } }
  }
}
"""


async def _lots(db: Database, site: Site, sku: str, count: int) -> None:
    """`count` lots of a new product, received and put away in A-01."""
    product = await make_product(db, sku, Tracking.LOT)
    asn = await plan_asn(db, site, f"ASN-{sku}", expect(product, count))
    lots = [LotEntry(f"{sku}-L{i:03d}", 1) for i in range(count)]
    result = await receive_lines(db, asn, LineReceipt(asn.line_ids[0], lots=lots))
    for task in result.putaway_tasks:
        await put_away(db, task.id, Placement(site.a01, 1))


async def _serials(db: Database, site: Site, sku: str, count: int) -> None:
    """`count` serials of a new product, expected, received and put away over A-01/A-02."""
    product = await make_product(db, sku, Tracking.SERIAL)
    numbers = [f"SN-{sku}-{i:04d}" for i in range(count)]
    asn = await plan_asn(db, site, f"ASN-{sku}", expect(product, count, *numbers))
    result = await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=numbers))
    half = count // 2
    placements = [Placement(site.a01, count - half)]
    if half:
        placements.append(Placement(site.a02, half))
    await put_away(db, result.putaway_tasks[0].id, *placements)


async def _count(db: Database, document: str) -> tuple[int, Any]:
    context = Context(db.sessions, db.read_sessions, principal=TRUSTED)
    with db.count_statements() as counter:
        result = await schema.execute(document, context_value=context)
    assert result.errors is None, result.errors
    return counter.count, result.data


async def test_products_lots_movements_do_not_grow_with_rows(db: Database) -> None:
    site = await make_site(db)
    await _lots(db, site, "ONE", 1)
    small, data = await _count(db, PRODUCTS_LOTS_MOVEMENTS)
    await _lots(db, site, "MANY", 40)
    await _lots(db, site, "MORE", 40)
    large, data = await _count(db, PRODUCTS_LOTS_MOVEMENTS)

    # products, lot pages, movements, locations
    assert small == large == 4
    lots = [lot for p in data["products"]["nodes"] for lot in p["lots"]["nodes"]]
    assert len(lots) == 81
    assert {len(lot["movements"]) for lot in lots} == {2}


async def test_products_serials_movements_with_locations_do_not_grow_with_rows(
    db: Database,
) -> None:
    site = await make_site(db)
    await _serials(db, site, "ONE", 1)
    small, _ = await _count(db, PRODUCTS_SERIALS_MOVEMENTS)
    await _serials(db, site, "MANY", 60)
    await _serials(db, site, "MORE", 60)
    large, data = await _count(db, PRODUCTS_SERIALS_MOVEMENTS)

    # products, serial pages with the serials' locations, movements with the locations
    # they name not already loaded (the dock)
    assert small == large == 5
    serials = [s for p in data["products"]["nodes"] for s in p["serials"]["nodes"]]
    assert len(serials) == 121
    assert {len(s["movements"]) for s in serials} == {3}


async def test_serial_lookup_with_product_location_and_history_is_constant(
    db: Database,
) -> None:
    site = await make_site(db)
    await _serials(db, site, "ONE", 1)
    small, _ = await _count(db, SERIAL_LOOKUP)
    await _serials(db, site, "MANY", 50)
    await _serials(db, site, "MORE", 40)
    large, data = await _count(db, SERIAL_LOOKUP)

    # the page, its total count, then one batch each of products, warehouses, locations
    # and movements
    assert small == large == 6
    assert data["serialLookup"]["totalCount"] == 91
    assert len(data["serialLookup"]["nodes"]) == 91


async def test_lot_inventory_with_lot_history_is_constant(db: Database) -> None:
    site = await make_site(db)
    await _lots(db, site, "ONE", 1)
    small, _ = await _count(db, LOT_INVENTORY)
    await _lots(db, site, "MANY", 40)
    large, data = await _count(db, LOT_INVENTORY)

    # the report, then locations and lots together, then products and movements
    assert small == large == 5
    assert len(data["lotInventory"]) == 41


async def test_lot_movements_with_lots_and_locations_is_constant(db: Database) -> None:
    site = await make_site(db)
    await _lots(db, site, "ONE", 1)
    small, _ = await _count(db, LOT_MOVEMENTS)
    await _lots(db, site, "MANY", 40)
    large, data = await _count(db, LOT_MOVEMENTS)

    # the page, its total count, lots, locations (from and to in one batch)
    assert small == large == 4
    assert data["lotMovements"]["totalCount"] == 82


ONE_SERIAL = """
query ($sku: String!, $number: String!) {
  serial(sku: $sku, serialNumber: $number) {
    serialNumber status
    product { sku name }
    location { code }
    movements(last: 10) { kind fromLocation { code } toLocation { code } }
  }
}
"""


async def test_one_serial_with_its_product_location_and_history_costs_two(
    db: Database,
) -> None:
    site = await make_site(db)
    await _serials(db, site, "ONE", 2)
    reads = CountingSessions(db.read_sessions)
    context = Context(db.sessions, cast(Any, reads), principal=TRUSTED)
    variables = {"sku": "ONE", "number": "SN-ONE-0001"}
    with db.count_statements() as counter:
        result = await schema.execute(ONE_SERIAL, variables, context_value=context)
    assert result.errors is None, result.errors

    # the serial with its product and location, then its movements with the locations they
    # name, in the look-up's one read session; the product and the location come with the
    # serial and are not read again
    assert (counter.count, reads.opened) == (2, 1)
    serial = result.data["serial"] if result.data else {}
    assert serial["product"]["sku"] == "ONE"
    assert serial["location"] == {"code": "A-02"}

    def code(place: dict[str, str] | None) -> str | None:
        return None if place is None else place["code"]

    places = [
        (m["kind"], code(m["fromLocation"]), code(m["toLocation"])) for m in serial["movements"]
    ]
    assert places == [
        ("EXPECT", None, None),
        ("RECEIVE", None, "DOCK"),
        ("PUTAWAY", "DOCK", "A-02"),
    ]


class CountingSessions:
    """A session factory that counts the sessions it opens."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self.opened = 0

    def __call__(self) -> Any:
        self.opened += 1
        return self.sessions()


HISTORY_WITHOUT_LOCATIONS = """
{ products(first: 10) { nodes { sku serials(first: 100) { nodes { movements { kind } } } } } }
"""


async def test_locations_come_in_the_batches_of_the_serials_and_movements_that_name_them(
    db: Database,
) -> None:
    site = await make_site(db)
    await _serials(db, site, "MANY", 20)
    reads = CountingSessions(db.read_sessions)
    context = Context(db.sessions, cast(Any, reads), principal=TRUSTED)
    with db.count_statements() as counter:
        result = await schema.execute(PRODUCTS_SERIALS_MOVEMENTS, context_value=context)
    assert result.errors is None, result.errors
    # Five statements in three reads: products; serial pages and their locations;
    # movements and the locations they name. No round of its own for locations.
    assert (counter.count, reads.opened) == (5, 3)
    serials = result.data["products"]["nodes"][0]["serials"]["nodes"] if result.data else []
    assert {s["location"]["code"] for s in serials} == {"A-01", "A-02"}
    assert {m["fromLocation"]["code"] for s in serials for m in s["movements"][-1:]} == {"DOCK"}

    reads = CountingSessions(db.read_sessions)
    context = Context(db.sessions, cast(Any, reads), principal=TRUSTED)
    with db.count_statements() as counter:
        result = await schema.execute(HISTORY_WITHOUT_LOCATIONS, context_value=context)
    assert result.errors is None, result.errors
    # Nothing selects a location, so none is read.
    assert not any("FROM location " in statement for statement in counter.statements)
    assert (counter.count, reads.opened) == (3, 3)
