"""A warehouse history with every kind of movement, for the EPCIS export tests. Built through
the services, except the opening stock, written as rows the way an import writes them.

WH1 (Europe/Amsterdam) with DOCK, A-01, A-02 and PACK. Products, each with a GTIN:
SER (serials), VIT (lots), BOX (untracked).

    at OPENED_AT: opening stock (document IMPORT OPENING-1) into A-02: serial S-OLD, and 7
        of lot L-OLD (expiry 2030-12-31).
    then, in this order:
    ASN-1 expects S-1, S/2, S-3, 30 VIT and 10 BOX; receives S-1, S/2, L-1 (20, expiry
        2031-03-31), L-2 (10, no expiry) and 10 BOX on the dock; puts S-1, L-1 and the
        boxes into A-01, S/2 and L-2 into A-02; is closed short, releasing S-3.
    SO-1 (customer reference CUST-SO-1): S-1, 5 of L-1, 2 BOX allocated, picked (to PACK)
        and dispatched in one shipment (DHL, JD0001).
    SO-2: S/2 allocated, picked, returned to stock into A-01; the order cancelled.
    SO-3: 2 of L-1 allocated, then the order cancelled.
    L-2 held and released again under recall RC-1.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select

from models import Lot, MovementKind, OutboundLine, Serial, SerialStatus, Tracking
from services import chain
from services.identifiers import lot_key, serial_key
from services.outbound import OrderLineSpec, cancel_order, create_order
from services.picking import return_to_stock
from services.putaway import Placement
from services.recall import hold_lots, release_lots
from services.receiving import LineReceipt, LotEntry, close_receiving_order
from tests.conftest import Database
from tests.services.builders import (
    ACTOR,
    Order,
    Site,
    allocate,
    allocations_of,
    expect,
    make_product,
    make_site,
    pick_all,
    plan_asn,
    put_away,
    receive_lines,
)
from tests.services.recall_data import ship

SERIAL_GTIN = "09506000134352"
LOT_GTIN = "09506000134369"
BOX_GTIN = "09506000134376"
OPENED_AT = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
L1_EXPIRY = date(2031, 3, 31)
OLD_EXPIRY = date(2030, 12, 31)


@dataclass(frozen=True)
class EpcisData:
    site: Site
    ser: int
    vit: int
    box: int
    orders: dict[str, Order]
    shipment: int


async def build_epcis_data(db: Database) -> EpcisData:
    site = await make_site(db, "WH1", time_zone="Europe/Amsterdam", packing=True)
    ser = await make_product(db, "SER", Tracking.SERIAL, gtin=SERIAL_GTIN)
    vit = await make_product(db, "VIT", Tracking.LOT, gtin=LOT_GTIN)
    box = await make_product(db, "BOX", Tracking.NONE, gtin=BOX_GTIN)
    await _opening_stock(db, site, ser, vit)

    asn = await plan_asn(
        db, site, "ASN-1", expect(ser, 3, "S-1", "S/2", "S-3"), expect(vit, 30), expect(box, 10)
    )
    receipt = await receive_lines(
        db,
        asn,
        LineReceipt(asn.line_ids[0], serial_numbers=["S-1", "S/2"]),
        LineReceipt(
            asn.line_ids[1], lots=[LotEntry("L-1", 20, L1_EXPIRY), LotEntry("L-2", 10, None)]
        ),
        LineReceipt(asn.line_ids[2], quantity=10),
    )
    serials, lot_1, lot_2, boxes = receipt.putaway_tasks
    await put_away(db, serials.id, Placement(site.a01, 1, ["S-1"]), Placement(site.a02, 1, ["S/2"]))
    await put_away(db, lot_1.id, Placement(site.a01, 20))
    await put_away(db, lot_2.id, Placement(site.a02, 10))
    await put_away(db, boxes.id, Placement(site.a01, 10))
    async with db.sessions.begin() as session:
        await close_receiving_order(session, order_id=asn.order_id, actor=ACTOR)
    l2 = next(lot.id for lot in receipt.lots if lot.lot_number == "L-2")

    so1 = await _customer_order(db, site, "SO-1", (ser, 1), (vit, 5), (box, 2))
    await allocate(db, so1, {so1.line_ids[0]: ["S-1"]})
    await pick_all(db, so1)
    shipment = await ship(db, so1, "DHL", "JD0001")

    so2 = await _customer_order(db, site, "SO-2", (ser, 1))
    await allocate(db, so2, {so2.line_ids[0]: ["S/2"]})
    await pick_all(db, so2)
    [picked] = await allocations_of(db, so2)
    async with db.sessions.begin() as session:
        await return_to_stock(session, allocation_id=picked.id, location_id=site.a01, actor=ACTOR)
    async with db.sessions.begin() as session:
        await cancel_order(session, order_id=so2.id, actor=ACTOR)

    so3 = await _customer_order(db, site, "SO-3", (vit, 2))
    await allocate(db, so3)
    async with db.sessions.begin() as session:
        await cancel_order(session, order_id=so3.id, actor=ACTOR)

    async with db.sessions.begin() as session:
        await hold_lots(session, [l2], "Supplier recall", ACTOR, reference="RC-1")
    async with db.sessions.begin() as session:
        await release_lots(session, [l2], ACTOR, reference="RC-1")
    return EpcisData(site, ser, vit, box, {"SO-1": so1, "SO-2": so2, "SO-3": so3}, shipment)


async def _customer_order(db: Database, site: Site, number: str, *lines: tuple[int, int]) -> Order:
    """An order of (product id, quantity) lines, with customer reference CUST-<number>."""
    async with db.sessions.begin() as session:
        order = await create_order(
            session,
            number=number,
            warehouse_id=site.warehouse_id,
            lines=[OrderLineSpec(product, quantity) for product, quantity in lines],
            customer_reference=f"CUST-{number}",
        )
        line_ids = list(
            await session.scalars(
                select(OutboundLine.id)
                .where(OutboundLine.order_id == order.id)
                .order_by(OutboundLine.line_number)
            )
        )
    return Order(order.id, order.number, line_ids)


async def _opening_stock(db: Database, site: Site, ser: int, vit: int) -> None:
    """What the opening-stock import writes: the serial and the lot, each with its one
    OPENING_STOCK movement dated when stock was counted in."""
    async with db.sessions.begin() as session:
        serial = Serial(
            product_id=ser,
            serial_number="S-OLD",
            serial_key=serial_key("S-OLD"),
            status=SerialStatus.IN_INVENTORY,
            warehouse_id=site.warehouse_id,
            location_id=site.a02,
            received_at=OPENED_AT,
        )
        lot = Lot(
            product_id=vit,
            lot_number="L-OLD",
            lot_key=lot_key("L-OLD"),
            expiry_date=OLD_EXPIRY,
            received_at=OPENED_AT,
        )
        session.add_all([serial, lot])
        await session.flush()
        opening = {
            "kind": MovementKind.OPENING_STOCK,
            "to_location_id": site.a02,
            "document_type": "IMPORT",
            "document_number": "OPENING-1",
            "actor": ACTOR,
            "occurred_at": OPENED_AT,
        }
        await chain.append(
            session,
            [
                {**opening, "product_id": ser, "serial_id": serial.id, "quantity": 1},
                {**opening, "product_id": vit, "lot_id": lot.id, "quantity": 7},
            ],
        )
