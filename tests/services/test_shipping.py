"""Packing and dispatch: a shipment takes a picked order; dispatch sends serials out of the
warehouse and quantities out of stock, and refuses a lot that expired since allocation.

Every refusal is checked with `refused`, which proves the refused call changed nothing.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Allocation,
    AllocationStatus,
    MovementKind,
    OutboundOrder,
    OutboundOrderStatus,
    SerialEvent,
    SerialStatus,
    Shipment,
    ShipmentStatus,
)
from models.lifecycle import allowed_events
from services.errors import ErrorCode
from services.lifecycle import apply_event, lock_serials
from services.movements import Document
from services.outbound import allocate_order, cancel_allocation, cancel_order
from services.picking import PickConfirmation, return_to_stock
from services.receiving import LineReceipt, plan_receiving_order, receive
from services.shipping import create_shipment, dispatch_shipment
from services.stock_levels import positions_by_product
from tests.conftest import Database
from tests.services.builders import (
    ACTOR,
    NOW,
    Order,
    Site,
    allocate,
    allocations_of,
    codes,
    expect,
    get,
    lot_product,
    make_order,
    make_site,
    movements,
    order_state,
    pick,
    pick_all,
    plain_product,
    plan_asn,
    refused,
    reservations,
    serial_product,
    serials_of,
    stock_lot,
    stock_plain,
    stock_serials,
    task_for,
)

SHIP_AT = NOW + timedelta(hours=4)
EXPIRY = date(2025, 12, 31)

S = SerialStatus
K = MovementKind
OS = OutboundOrderStatus
A = AllocationStatus


async def _pack(db: Database, order: Order, **kwargs: str) -> Shipment:
    async with db.sessions.begin() as session:
        return await create_shipment(session, order_id=order.id, **kwargs)


async def _dispatch(db: Database, shipment_id: int, now: datetime = SHIP_AT) -> Shipment:
    async with db.sessions.begin() as session:
        return await dispatch_shipment(session, shipment_id=shipment_id, actor=ACTOR, now=now)


def _dispatching(
    shipment_id: int, now: datetime = SHIP_AT
) -> Callable[[AsyncSession], Awaitable[Shipment]]:
    return lambda s: dispatch_shipment(s, shipment_id=shipment_id, actor=ACTOR, now=now)


async def _on_hand(db: Database, product_id: int) -> list[tuple[int, int, int, int]]:
    """(location, on hand, allocated, available) of each stock position of the product."""
    async with db.read_sessions() as session:
        [positions] = await positions_by_product(session, [product_id], now=NOW)
    return [(p.location_id, p.on_hand, p.allocated, p.available) for p in positions]


# ================================================================ packing


async def test_a_shipment_packs_every_picked_allocation(db: Database) -> None:
    site = await make_site(db, packing=True)
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1", "SN-2")
    order = await make_order(db, site, (product, 2))
    await allocate(db, order)
    await pick_all(db, order)

    shipment = await _pack(db, order, carrier="DHL", tracking_number="TRK-1")

    stored = await get(db, Shipment, shipment.id)
    assert (
        stored.order_id,
        stored.carrier,
        stored.tracking_number,
        stored.status,
        stored.dispatched_at,
    ) == (order.id, "DHL", "TRK-1", ShipmentStatus.PACKED, None)
    assert [(a.status, a.shipment_id) for a in await allocations_of(db, order)] == [
        (A.PICKED, shipment.id),
        (A.PICKED, shipment.id),
    ]
    assert await order_state(db, order) == (OS.PACKED, [(2, 2, 2, 0)])
    # packing moves nothing: the serials wait, picked, at packing
    assert {s.status for s in (await serials_of(db, product)).values()} == {S.PICKED}


async def test_packing_shows_in_the_allocations_the_session_holds(db: Database) -> None:
    site = await make_site(db, packing=True)
    product = await lot_product(db)
    await stock_lot(db, site, product, "L-1", 10)
    order = await make_order(db, site, (product, 3))
    await allocate(db, order)
    await pick_all(db, order)

    async with db.sessions.begin() as session:
        [held] = await session.scalars(select(Allocation).where(Allocation.order_id == order.id))
        held_order = await session.get(OutboundOrder, order.id)
        shipment = await create_shipment(session, order_id=order.id)
        # packed by one UPDATE each, yet the objects the session holds say so too
        assert held.shipment_id == shipment.id
        assert held_order is not None
        assert held_order.status is OS.PACKED

    assert [a.shipment_id for a in await allocations_of(db, order)] == [shipment.id]


async def test_only_a_fully_picked_order_can_be_packed(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1", "SN-2")
    order = await make_order(db, site, (product, 2))

    def packing(**kwargs: str) -> Callable[[AsyncSession], Awaitable[Shipment]]:
        return lambda s: create_shipment(s, order_id=order.id, **kwargs)

    for status in (OS.OPEN, OS.ALLOCATED, OS.PICKING):
        if status is OS.ALLOCATED:
            await allocate(db, order)
        if status is OS.PICKING:
            first = (await allocations_of(db, order))[0]
            await pick(db, (await task_for(db, first.id)).id, PickConfirmation("SN-1"))
        assert (await order_state(db, order))[0] is status
        problems = await refused(db, packing())
        assert codes(problems) == [(ErrorCode.ORDER_NOT_PICKED, "orderId")]
        assert str(status) in problems[0].message

    await pick_all(db, order)
    problems = await refused(db, packing(carrier="C" * 101))
    assert codes(problems) == [(ErrorCode.INVALID_VALUE, "carrier")]
    problems = await refused(db, packing(tracking_number="T" * 101))
    assert codes(problems) == [(ErrorCode.INVALID_VALUE, "trackingNumber")]
    problems = await refused(db, lambda s: create_shipment(s, order_id=999_999))
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "orderId")]
    # refused, the picked order is as it was and no shipment was made
    assert (await order_state(db, order))[0] is OS.PICKED
    assert [a.shipment_id for a in await allocations_of(db, order)] == [None, None]

    await _pack(db, order, carrier="C" * 100)
    problems = await refused(db, packing())  # packed once is enough
    assert codes(problems) == [(ErrorCode.ORDER_NOT_PICKED, "orderId")]


# ================================================================ dispatch


@pytest.mark.parametrize("packing", [True, False], ids=["packing", "no-packing"])
async def test_dispatch_sends_everything_out_of_the_warehouse(db: Database, packing: bool) -> None:
    site = await make_site(db, packing=packing)
    serial = await serial_product(db)
    lot = await lot_product(db)
    plain = await plain_product(db)
    ids = await stock_serials(db, site, serial, "SN-1", "SN-2", "SN-3")
    lot_id = await stock_lot(db, site, lot, "L-1", 10, EXPIRY)
    await stock_plain(db, site, plain, 5)
    order = await make_order(db, site, (serial, 2), (lot, 6), (plain, 3))
    await allocate(db, order, {order.line_ids[0]: ["SN-1", "SN-2"]})
    await pick_all(db, order)
    shipment = await _pack(db, order)
    staged = site.packing if packing else site.a01
    assert staged is not None
    before = len(await movements(db))

    dispatched = await _dispatch(db, shipment.id)

    assert (dispatched.status, dispatched.dispatched_at) == (ShipmentStatus.DISPATCHED, SHIP_AT)
    stored = await get(db, Shipment, shipment.id)
    assert (stored.status, stored.dispatched_at) == (ShipmentStatus.DISPATCHED, SHIP_AT)
    serials = await serials_of(db, serial)
    assert {n: (s.status, s.location_id) for n, s in serials.items()} == {
        "SN-1": (S.SHIPPED, None),
        "SN-2": (S.SHIPPED, None),
        "SN-3": (S.IN_INVENTORY, site.a01),
    }
    rows = (await movements(db))[before:]
    assert sorted(
        (
            m.kind,
            m.product_id,
            m.serial_id,
            m.lot_id,
            m.quantity,
            m.from_status,
            m.to_status,
            m.from_location_id,
            m.to_location_id,
            m.shipment_id,
        )
        for m in rows
    ) == sorted(
        [
            (K.SHIP, serial, ids["SN-1"], None, 1, S.PICKED, S.SHIPPED, staged, None, shipment.id),
            (K.SHIP, serial, ids["SN-2"], None, 1, S.PICKED, S.SHIPPED, staged, None, shipment.id),
            (K.SHIP, lot, None, lot_id, 6, None, None, staged, None, shipment.id),
            (K.SHIP, plain, None, None, 3, None, None, staged, None, shipment.id),
        ]
    )
    assert {(m.document_type, m.document_number, m.actor) for m in rows} == {
        ("ORDER", "SO-1", ACTOR)
    }
    assert await reservations(db, lot) == [(site.a01, lot_id, 4, 0, NOW)]
    assert await reservations(db, plain) == [(site.a01, None, 2, 0, NOW)]
    assert await _on_hand(db, serial) == [(site.a01, 1, 0, 1)]
    assert await _on_hand(db, lot) == [(site.a01, 4, 0, 4)]
    assert await _on_hand(db, plain) == [(site.a01, 2, 0, 2)]
    assert {a.status for a in await allocations_of(db, order)} == {A.SHIPPED}
    assert await order_state(db, order) == (OS.SHIPPED, [(2, 2, 2, 2), (6, 6, 6, 6), (3, 3, 3, 3)])


async def test_on_hand_drops_only_when_the_shipment_leaves(db: Database) -> None:
    site = await make_site(db, packing=True)
    lot = await lot_product(db)
    await stock_lot(db, site, lot, "L-1", 10, EXPIRY)
    order = await make_order(db, site, (lot, 6))
    await allocate(db, order)
    await pick_all(db, order)
    shipment = await _pack(db, order)
    assert site.packing is not None
    assert await _on_hand(db, lot) == [(site.a01, 4, 0, 4), (site.packing, 6, 6, 0)]
    await _dispatch(db, shipment.id)
    assert await _on_hand(db, lot) == [(site.a01, 4, 0, 4)]


async def test_a_short_picked_order_ships_what_was_picked(db: Database) -> None:
    site = await make_site(db, packing=True)
    lot = await lot_product(db)
    lot_id = await stock_lot(db, site, lot, "L-1", 10, EXPIRY)
    order = await make_order(db, site, (lot, 5))
    [allocation] = await allocate(db, order)
    await pick(
        db, (await task_for(db, allocation.id)).id, PickConfirmation(lot_number="L-1", quantity=3)
    )
    shipment = await _pack(db, order)
    await _dispatch(db, shipment.id)
    assert await order_state(db, order) == (OS.SHIPPED, [(5, 3, 3, 3)])
    assert await reservations(db, lot) == [(site.a01, lot_id, 7, 0, NOW)]
    last = (await movements(db, lot_id=lot_id))[-1]
    assert (last.kind, last.quantity, last.shipment_id) == (K.SHIP, 3, shipment.id)


async def _lot_shipment(db: Database, site: Site, expiry: date) -> tuple[int, Shipment]:
    product = await lot_product(db)
    await stock_lot(db, site, product, "L-SOON", 4, expiry)
    order = await make_order(db, site, (product, 4))
    await allocate(db, order)
    await pick_all(db, order)
    return product, await _pack(db, order)


@pytest.mark.parametrize(
    ("time_zone", "expired_at", "last_day"),
    [
        (
            "UTC",
            datetime(2025, 6, 6, 0, 30, tzinfo=UTC),
            datetime(2025, 6, 5, 23, 30, tzinfo=UTC),
        ),
        # Auckland (UTC+12) reaches 6 June at noon UTC on the 5th
        (
            "Pacific/Auckland",
            datetime(2025, 6, 5, 12, 30, tzinfo=UTC),
            datetime(2025, 6, 5, 11, 30, tzinfo=UTC),
        ),
    ],
    ids=["utc", "auckland"],
)
async def test_a_lot_that_expired_since_allocation_does_not_ship(
    db: Database, time_zone: str, expired_at: datetime, last_day: datetime
) -> None:
    site = await make_site(db, time_zone=time_zone)
    product, shipment = await _lot_shipment(db, site, date(2025, 6, 5))

    problems = await refused(db, _dispatching(shipment.id, expired_at))

    assert codes(problems) == [(ErrorCode.LOT_EXPIRED, "shipmentId")]
    assert "L-SOON" in problems[0].message
    assert "2025-06-05" in problems[0].message
    assert (await get(db, Shipment, shipment.id)).status is ShipmentStatus.PACKED

    # on its expiry day itself the lot may still leave
    await _dispatch(db, shipment.id, last_day)
    assert (await get(db, Shipment, shipment.id)).status is ShipmentStatus.DISPATCHED
    assert await _on_hand(db, product) == []


async def test_a_shipment_is_dispatched_once(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1")
    order = await make_order(db, site, (product, 1))
    await allocate(db, order)
    await pick_all(db, order)
    shipment = await _pack(db, order)
    await _dispatch(db, shipment.id)

    problems = await refused(db, _dispatching(shipment.id, SHIP_AT + timedelta(hours=1)))
    assert codes(problems) == [(ErrorCode.SHIPMENT_NOT_PACKED, "shipmentId")]
    assert "DISPATCHED" in problems[0].message
    assert (await get(db, Shipment, shipment.id)).dispatched_at == SHIP_AT
    problems = await refused(db, _dispatching(999_999))
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "shipmentId")]


async def test_a_shipment_without_allocations_is_found_and_dispatched(db: Database) -> None:
    """Dispatch reads a shipment with its allocations in one statement; one that has none
    (no step makes one, a hand-written row can) is read on its own, not taken as absent."""
    site = await make_site(db)
    product = await plain_product(db)
    order = await make_order(db, site, (product, 1))
    async with db.sessions.begin() as session:
        empty = Shipment(order_id=order.id)
        session.add(empty)
    before = len(await movements(db))

    await _dispatch(db, empty.id)

    assert (await get(db, Shipment, empty.id)).status is ShipmentStatus.DISPATCHED
    assert len(await movements(db)) == before
    problems = await refused(db, _dispatching(empty.id))
    assert codes(problems) == [(ErrorCode.SHIPMENT_NOT_PACKED, "shipmentId")]


async def test_shipped_is_terminal(db: Database) -> None:
    site = await make_site(db, packing=True)
    product = await serial_product(db)
    ids = await stock_serials(db, site, product, "SN-1")
    order = await make_order(db, site, (product, 1))
    [allocation] = await allocate(db, order)
    await pick_all(db, order)
    await _dispatch(db, (await _pack(db, order)).id)
    assert (await serials_of(db, product))["SN-1"].status is S.SHIPPED

    assert allowed_events(S.SHIPPED) == []
    for event in SerialEvent:

        async def apply(session: AsyncSession, event: SerialEvent = event) -> None:
            serials = await lock_serials(session, [ids["SN-1"]])
            await apply_event(
                session, serials, event, document=Document("TEST", "T-1"), actor=ACTOR
            )

        problems = await refused(db, apply)
        assert codes(problems) == [(ErrorCode.ILLEGAL_TRANSITION, None)], event

    problems = await refused(
        db,
        lambda s: return_to_stock(
            s, allocation_id=allocation.id, location_id=site.a01, actor=ACTOR
        ),
    )
    assert codes(problems) == [(ErrorCode.NOT_RETURNABLE, "allocationId")]
    problems = await refused(db, lambda s: cancel_order(s, order_id=order.id, actor=ACTOR))
    assert codes(problems) == [(ErrorCode.ORDER_NOT_OPEN, "orderId")]
    problems = await refused(
        db, lambda s: cancel_allocation(s, allocation_id=allocation.id, actor=ACTOR)
    )
    assert codes(problems) == [(ErrorCode.ALLOCATION_NOT_CANCELLABLE, "allocationId")]

    # a shipped item is no longer stock, and its number is never reused
    again = await make_order(db, site, (product, 1), number="SO-2")
    problems = await refused(
        db,
        lambda s: allocate_order(
            s, order_id=again.id, actor=ACTOR, serials_by_line={again.line_ids[0]: ["SN-1"]}
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_NOT_AVAILABLE, "lines.0.serialNumbers")]
    asn = await plan_asn(db, site, "ASN-AGAIN", expect(product, 1))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(asn.line_ids[0], serial_numbers=["SN-1"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_ALREADY_EXISTS, "lines.0.serialNumbers")]
    problems = await refused(
        db,
        lambda s: plan_receiving_order(
            s,
            number="ASN-X",
            warehouse_id=site.warehouse_id,
            actor=ACTOR,
            lines=[expect(product, 1, "SN-1")],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_ALREADY_EXISTS, "lines.0.expectedSerialNumbers")]
