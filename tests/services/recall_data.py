"""A known recall state, built only through the services, for the recall tests.

WH1 (UTC) with DOCK, A-01, A-02 and PACK; lot-tracked VIT (FEFO).
    L-1 (expiry 2031-03-31): 30 received, 20 put into A-01 and 10 into A-02.
        SO-A reserves 4 (from A-01).
        SO-B reserves 3 and picks 2 of them (a short pick: 1 goes back to the shelf); the
             2 wait at PACK.
        SO-C reserves 2, picks them and ships them: DHL, tracking JD0001, at SHIPPED_AT.
        SO-D reserves 1 and is cancelled.
      Left: A-01 16 (4 reserved), A-02 10, PACK 2 (2 reserved); 2 shipped.
    L-2 (expiry 2031-09-30): 5 in A-02, untouched.
Each order's customer reference is CUST-<order number>.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from services.outbound import OrderLineSpec, cancel_order, create_order
from services.picking import PickConfirmation
from services.putaway import Placement
from services.shipping import create_shipment, dispatch_shipment
from tests.conftest import Database
from tests.services.builders import (
    ACTOR,
    Order,
    Site,
    allocate,
    allocations_of,
    lot_product,
    make_site,
    pick,
    pick_all,
    stock_lot,
    task_for,
)

EXPIRY = date(2031, 3, 31)
LATER = date(2031, 9, 30)
SHIPPED_AT = datetime(2025, 6, 3, 14, 0, tzinfo=UTC)


@dataclass(frozen=True)
class RecallData:
    site: Site
    product: int
    lot: int  # L-1
    other: int  # L-2
    orders: dict[str, Order]
    shipment: int  # SO-C's


async def make_customer_order(
    db: Database, site: Site, product: int, quantity: int, number: str
) -> Order:
    async with db.sessions.begin() as session:
        order = await create_order(
            session,
            number=number,
            warehouse_id=site.warehouse_id,
            lines=[OrderLineSpec(product, quantity)],
            customer_reference=f"CUST-{number}",
        )
    return Order(order.id, order.number, [])


async def ship(db: Database, order: Order, carrier: str, tracking: str) -> int:
    """Pack a picked order and dispatch it at SHIPPED_AT; the shipment's id."""
    async with db.sessions.begin() as session:
        shipment = await create_shipment(
            session, order_id=order.id, carrier=carrier, tracking_number=tracking
        )
    async with db.sessions.begin() as session:
        await dispatch_shipment(session, shipment_id=shipment.id, actor=ACTOR, now=SHIPPED_AT)
    return shipment.id


async def build_recall_data(db: Database) -> RecallData:
    site = await make_site(db, packing=True)
    product = await lot_product(db, "VIT")
    lot = await stock_lot(
        db, site, product, "L-1", 30, EXPIRY, Placement(site.a01, 20), Placement(site.a02, 10)
    )
    other = await stock_lot(db, site, product, "L-2", 5, LATER, Placement(site.a02, 5))
    orders = {}
    for number, quantity in (("SO-A", 4), ("SO-B", 3), ("SO-C", 2), ("SO-D", 1)):
        orders[number] = await make_customer_order(db, site, product, quantity, number)
        await allocate(db, orders[number])
    async with db.sessions.begin() as session:
        await cancel_order(session, order_id=orders["SO-D"].id, actor=ACTOR)
    [short] = await allocations_of(db, orders["SO-B"])
    await pick(
        db, (await task_for(db, short.id)).id, PickConfirmation(lot_number="l-1", quantity=2)
    )
    await pick_all(db, orders["SO-C"])
    shipment = await ship(db, orders["SO-C"], "DHL", "JD0001")
    return RecallData(site, product, lot, other, orders, shipment)
