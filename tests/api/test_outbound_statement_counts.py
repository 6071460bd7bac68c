"""The outbound shape orders → lines → allocations → serials and lots costs a fixed number
of SQL statements, however many orders it lists."""

from typing import Any

from models import Tracking
from resolvers.context import Context
from schema import schema
from tests.conftest import TRUSTED, Database
from tests.services.builders import (
    Site,
    allocate,
    make_order,
    make_product,
    make_site,
    stock_lot,
    stock_serials,
)

ORDERS_LINES_ALLOCATIONS_SERIALS = """
{
  orders(first: 20) {
    nodes {
      lines {
        allocations {
          serial { serialNumber movements { kind } }
          lot { lotNumber }
        }
      }
    }
  }
}
"""


async def _orders(db: Database, site: Site, serial: int, lot: int, first: int, count: int) -> None:
    """`count` orders, each of one serial and two units of the lot, allocated."""
    for i in range(first, first + count):
        await stock_serials(db, site, serial, f"SN-{i:03d}")
        order = await make_order(db, site, (serial, 1), (lot, 2), number=f"SO-{i:03d}")
        await allocate(db, order)


async def _count(db: Database) -> tuple[int, Any]:
    context = Context(db.sessions, db.read_sessions, principal=TRUSTED)
    with db.count_statements() as counter:
        result = await schema.execute(ORDERS_LINES_ALLOCATIONS_SERIALS, context_value=context)
    assert result.errors is None, result.errors
    return counter.count, result.data


async def test_orders_lines_allocations_serials_cost_the_same_for_1_and_10_orders(
    db: Database,
) -> None:
    # given one allocated order of a serial and a lot
    site = await make_site(db)
    serial = await make_product(db, "SER", Tracking.SERIAL)
    lot = await make_product(db, "VIT", Tracking.LOT)
    await stock_lot(db, site, lot, "L-1", 20)
    await _orders(db, site, serial, lot, 0, 1)
    one, small = await _count(db)

    # when nine more are added
    await _orders(db, site, serial, lot, 1, 9)
    ten, large = await _count(db)

    # then both cost the orders page, then one batch each of lines, allocations, serials
    # and lots together, and the serials' movements
    assert one == ten == 6
    assert len(small["orders"]["nodes"]) == 1
    nodes = large["orders"]["nodes"]
    assert len(nodes) == 10
    allocations = [[a for line in order["lines"] for a in line["allocations"]] for order in nodes]
    assert [[(a["serial"] or {}).get("serialNumber") for a in order] for order in allocations] == [
        [f"SN-{i:03d}", None] for i in range(10)
    ]
    assert {a["lot"]["lotNumber"] for order in allocations for a in order[1:]} == {"L-1"}
    assert {tuple(m["kind"] for m in order[0]["serial"]["movements"]) for order in allocations} == {
        ("RECEIVE", "PUTAWAY", "ALLOCATE")
    }
