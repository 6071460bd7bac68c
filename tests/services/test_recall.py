"""Recall: holds block allocation until released, both recorded as movements; the recall
report says where a lot is and which orders and shipments took it. Both engines."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AllocationStatus,
    LocationKind,
    Lot,
    MovementKind,
    OutboundOrderStatus,
    ShipmentStatus,
)
from services import recall, reports
from services.errors import ErrorCode
from services.outbound import allocate_order
from services.putaway import Placement
from services.recall import LotRecall, RecallShipment, RecallStock
from services.reports import MovementFilter
from tests.conftest import Database
from tests.services.builders import (
    ACTOR,
    NOW,
    Order,
    allocate,
    allocations_of,
    codes,
    get,
    lot_product,
    make_order,
    make_site,
    movements,
    pick_all,
    refused,
    stock_lot,
)
from tests.services.recall_data import EXPIRY, LATER, SHIPPED_AT, build_recall_data, ship

REASON = "Supplier recall: possible contamination"


async def hold(
    db: Database, *lot_ids: int, reason: str = REASON, reference: str | None = None
) -> list[Lot]:
    async with db.sessions.begin() as session:
        return await recall.hold_lots(session, list(lot_ids), reason, ACTOR, reference=reference)


async def release(db: Database, *lot_ids: int, reference: str | None = None) -> list[Lot]:
    async with db.sessions.begin() as session:
        return await recall.release_lots(session, list(lot_ids), ACTOR, reference=reference)


def holding(
    lot_ids: list[int], reason: str = REASON, reference: str | None = None
) -> Callable[[AsyncSession], Awaitable[object]]:
    async def call(session: AsyncSession) -> object:
        return await recall.hold_lots(session, lot_ids, reason, ACTOR, reference=reference)

    return call


def releasing(
    lot_ids: list[int], reference: str | None = None
) -> Callable[[AsyncSession], Awaitable[object]]:
    async def call(session: AsyncSession) -> object:
        return await recall.release_lots(session, lot_ids, ACTOR, reference=reference)

    return call


def allocating(order: Order) -> Callable[[AsyncSession], Awaitable[object]]:
    async def call(session: AsyncSession) -> object:
        return await allocate_order(session, order_id=order.id, actor=ACTOR, now=NOW)

    return call


async def report(db: Database, *lot_ids: int) -> list[LotRecall]:
    async with db.read_sessions() as session:
        return await recall.recall_report(session, list(lot_ids))


# ---------------------------------------------------------------- holding blocks allocation


async def test_a_held_lot_is_not_allocated_until_released(db: Database) -> None:
    # given a lot that is all the stock of its product, on hold
    site = await make_site(db)
    product = await lot_product(db)
    lot = await stock_lot(db, site, product, "L-1", 5, EXPIRY)
    [held] = await hold(db, lot)
    assert (held.on_hold, held.hold_reason) == (True, REASON)

    # when an order wants some of it, then allocation finds nothing and changes nothing
    order = await make_order(db, site, (product, 2))
    problems = await refused(db, allocating(order))
    assert codes(problems) == [(ErrorCode.INSUFFICIENT_STOCK, "lines.0")]
    assert problems[0].message == "line 1 (LOT-1): 2 wanted, 0 available; short by 2"

    # when the hold is released, then the same order is allocated from that lot
    [released] = await release(db, lot)
    assert (released.on_hold, released.hold_reason) == (False, None)
    assert [(a.lot_id, a.quantity) for a in await allocate(db, order)] == [(lot, 2)]


async def test_allocation_passes_over_a_held_lot_to_the_next_by_fefo(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    first = await stock_lot(db, site, product, "L-FIRST", 3, EXPIRY)
    second = await stock_lot(db, site, product, "L-SECOND", 3, LATER)
    await hold(db, first)

    order = await make_order(db, site, (product, 3))

    assert [(a.lot_id, a.quantity) for a in await allocate(db, order)] == [(second, 3)]


async def test_holding_leaves_existing_allocations_with_their_orders(db: Database) -> None:
    # given 4 of a lot reserved by an order
    site = await make_site(db, packing=True)
    product = await lot_product(db)
    lot = await stock_lot(db, site, product, "L-1", 10, EXPIRY)
    order = await make_order(db, site, (product, 4))
    await allocate(db, order)

    # when the lot is held, then the reservation stands and can still be picked
    await hold(db, lot)
    [allocation] = await allocations_of(db, order)
    assert (allocation.status, allocation.quantity) == (AllocationStatus.ALLOCATED, 4)
    await pick_all(db, order)
    [allocation] = await allocations_of(db, order)
    assert allocation.status is AllocationStatus.PICKED


# ---------------------------------------------------------------- movements


async def test_hold_and_release_write_one_movement_per_lot(db: Database) -> None:
    # given two lots, one split over two bins, and one whose stock has all gone
    site = await make_site(db)
    product = await lot_product(db)
    split = await stock_lot(
        db, site, product, "L-SPLIT", 7, EXPIRY, Placement(site.a01, 4), Placement(site.a02, 3)
    )
    single = await stock_lot(db, site, product, "L-SINGLE", 2, LATER)

    # when both are held under a recall reference (one named twice), and released without
    held = await hold(db, split, single, split, reference=" RC-2031-07 ")
    released = await release(db, single, split)

    # then each lot was changed once, in the order first named
    assert [lot.id for lot in held] == [split, single]
    assert [lot.id for lot in released] == [single, split]
    rows = await movements(db, product_id=product)
    recall_rows = [m for m in rows if m.kind in (MovementKind.HOLD, MovementKind.RELEASE_HOLD)]
    assert [
        (m.kind, m.lot_id, m.quantity, m.document_type, m.document_number, m.actor)
        for m in recall_rows
    ] == [
        (MovementKind.HOLD, split, 7, "RECALL", "RC-2031-07", ACTOR),
        (MovementKind.HOLD, single, 2, "RECALL", "RC-2031-07", ACTOR),
        (MovementKind.RELEASE_HOLD, single, 2, "RECALL", "HOLD-L-SINGLE", ACTOR),
        (MovementKind.RELEASE_HOLD, split, 7, "RECALL", "HOLD-L-SPLIT", ACTOR),
    ]
    # a hold is of the whole lot, not of a place
    assert {(m.from_location_id, m.to_location_id, m.serial_id) for m in recall_rows} == {
        (None, None, None)
    }
    lot = await get(db, Lot, split)
    assert (lot.on_hold, lot.hold_reason) == (False, None)


async def test_a_lot_with_nothing_left_is_held_with_quantity_one(db: Database) -> None:
    # given a lot all shipped
    site = await make_site(db, packing=True)
    product = await lot_product(db)
    lot = await stock_lot(db, site, product, "L-GONE", 2, EXPIRY)
    order = await make_order(db, site, (product, 2))
    await allocate(db, order)
    await pick_all(db, order)
    await ship(db, order, "UPS", "1Z999")

    await hold(db, lot, reason="  Mislabelled  ")

    [movement] = await movements(db, lot_id=lot, kind=MovementKind.HOLD)
    assert (movement.quantity, movement.document_number) == (1, "HOLD-L-GONE")
    assert (await get(db, Lot, lot)).hold_reason == "Mislabelled"


async def test_the_default_document_number_fits_a_long_lot_number(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    number = "L" * 64
    lot = await stock_lot(db, site, product, number, 1, EXPIRY)

    await hold(db, lot)

    [movement] = await movements(db, lot_id=lot, kind=MovementKind.HOLD)
    assert movement.document_number == ("HOLD-" + number)[:64]


# ---------------------------------------------------------------- refusals


async def test_holding_a_held_lot_is_refused_whole(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    free = await stock_lot(db, site, product, "L-FREE", 3, EXPIRY)
    held = await stock_lot(db, site, product, "L-HELD", 3, LATER)
    await hold(db, held, reason="First recall")

    problems = await refused(db, holding([free, held]))

    assert codes(problems) == [(ErrorCode.LOT_ALREADY_ON_HOLD, "lotIds.1")]
    assert problems[0].message == "lot L-HELD is already on hold (First recall)"
    assert (await get(db, Lot, free)).on_hold is False


async def test_releasing_a_lot_not_on_hold_is_refused_whole(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    held = await stock_lot(db, site, product, "L-HELD", 3, EXPIRY)
    free = await stock_lot(db, site, product, "L-FREE", 3, LATER)
    await hold(db, held)

    problems = await refused(db, releasing([held, free]))

    assert codes(problems) == [(ErrorCode.LOT_NOT_ON_HOLD, "lotIds.1")]
    assert problems[0].message == "lot L-FREE is not on hold"
    assert (await get(db, Lot, held)).on_hold is True


@pytest.mark.parametrize(
    ("reason", "reference", "expected"),
    [
        ("", None, [(ErrorCode.INVALID_VALUE, "reason")]),
        ("   ", None, [(ErrorCode.INVALID_VALUE, "reason")]),
        ("x" * 501, None, [(ErrorCode.INVALID_VALUE, "reason")]),
        (REASON, "", [(ErrorCode.INVALID_VALUE, "reference")]),
        (REASON, "R" * 65, [(ErrorCode.INVALID_VALUE, "reference")]),
        (
            "",
            "R" * 65,
            [(ErrorCode.INVALID_VALUE, "reason"), (ErrorCode.INVALID_VALUE, "reference")],
        ),
    ],
    ids=["empty", "blank", "too-long", "empty-reference", "long-reference", "both"],
)
async def test_a_hold_needs_a_reason_and_a_fitting_reference(
    db: Database, reason: str, reference: str | None, expected: list[tuple[ErrorCode, str]]
) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    lot = await stock_lot(db, site, product, "L-1", 3, EXPIRY)

    problems = await refused(db, holding([lot], reason, reference))

    assert codes(problems) == expected


async def test_a_reason_of_500_characters_is_enough(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    lot = await stock_lot(db, site, product, "L-1", 3, EXPIRY)

    [held] = await hold(db, lot, reason="x" * 500)

    assert held.hold_reason == "x" * 500


async def test_unknown_and_missing_lots_are_refused_with_every_problem(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    lot = await stock_lot(db, site, product, "L-1", 3, EXPIRY)

    unknown = await refused(db, holding([lot, 999_999], reason=""))
    nothing = await refused(db, holding([]))
    not_held = await refused(db, releasing([999_999, lot]))

    assert codes(unknown) == [
        (ErrorCode.INVALID_VALUE, "reason"),
        (ErrorCode.NOT_FOUND, "lotIds.1"),
    ]
    assert codes(nothing) == [(ErrorCode.INVALID_VALUE, "lotIds")]
    assert codes(not_held) == [
        (ErrorCode.NOT_FOUND, "lotIds.0"),
        (ErrorCode.LOT_NOT_ON_HOLD, "lotIds.1"),
    ]


# ---------------------------------------------------------------- the recall report


async def test_recall_report_says_where_the_lot_is_and_who_took_it(db: Database) -> None:
    data = await build_recall_data(db)
    await hold(db, data.lot)

    # when the recall of both lots is asked for, an unknown id among them
    found = await report(db, data.other, 999_999, data.lot)

    # then the lots come in the order asked, the unknown one left out
    assert [r.lot_id for r in found] == [data.other, data.lot]
    other, lot = found
    assert (lot.lot_number, lot.sku, lot.product_name, lot.expiry_date) == (
        "L-1",
        "VIT",
        "Product VIT",
        EXPIRY,
    )
    assert (lot.on_hold, lot.hold_reason) == (True, REASON)
    assert lot.received_at == NOW

    # what is left: 16 in A-01 (SO-A's 4 reserved), 10 in A-02, SO-B's 2 waiting at PACK
    s = data.site
    assert lot.stock == (
        RecallStock(s.warehouse_id, "WH1", s.a01, "A-01", LocationKind.STORAGE, 16, 4),
        RecallStock(s.warehouse_id, "WH1", s.a02, "A-02", LocationKind.STORAGE, 10, 0),
        RecallStock(s.warehouse_id, "WH1", s.packing or 0, "PACK", LocationKind.PACKING, 2, 2),
    )
    assert (lot.on_hand, lot.allocated_quantity, lot.shipped_quantity) == (28, 6, 2)

    # who took it: the cancelled SO-D gave it back and is not listed
    assert [
        (
            o.order_number,
            o.customer_reference,
            o.status,
            o.warehouse_code,
            o.allocated_quantity,
            o.picked_quantity,
            o.shipped_quantity,
        )
        for o in lot.orders
    ] == [
        ("SO-A", "CUST-SO-A", OutboundOrderStatus.ALLOCATED, "WH1", 4, 0, 0),
        ("SO-B", "CUST-SO-B", OutboundOrderStatus.PICKED, "WH1", 2, 2, 0),
        ("SO-C", "CUST-SO-C", OutboundOrderStatus.SHIPPED, "WH1", 2, 2, 2),
    ]
    so_a, so_b, so_c = lot.orders
    assert so_a.shipments == so_b.shipments == ()
    assert so_c.shipments == (
        RecallShipment(data.shipment, "DHL", "JD0001", ShipmentStatus.DISPATCHED, SHIPPED_AT, 2),
    )
    assert [o.order_id for o in lot.orders] == [data.orders[n].id for n in ("SO-A", "SO-B", "SO-C")]
    assert all(o.ordered_at <= o.allocated_at for o in lot.orders)

    # the untouched lot: all on the shelf, nobody took any
    assert (other.on_hold, other.hold_reason, other.orders) == (False, None, ())
    assert other.stock == (
        RecallStock(s.warehouse_id, "WH1", s.a02, "A-02", LocationKind.STORAGE, 5, 0),
    )


async def test_recall_report_costs_three_statements_for_any_number_of_lots(
    db: Database,
) -> None:
    data = await build_recall_data(db)
    extra = [await stock_lot(db, data.site, data.product, f"L-X{i}", 1, LATER) for i in range(8)]

    with db.count_statements() as one:
        await report(db, data.lot)
    with db.count_statements() as ten:
        found = await report(db, data.lot, data.other, *extra)

    assert one.count == ten.count == 3
    assert len(found) == 10
    assert await report(db) == []


async def test_a_picked_allocation_shows_what_was_picked_not_what_was_reserved(
    db: Database,
) -> None:
    # (a short pick released the rest of its reservation back to the shelf)
    data = await build_recall_data(db)
    [allocation] = await allocations_of(db, data.orders["SO-B"])
    assert (allocation.quantity, allocation.picked_quantity) == (3, 2)

    [lot] = await report(db, data.lot)

    so_b = next(o for o in lot.orders if o.order_number == "SO-B")
    assert (so_b.allocated_quantity, so_b.picked_quantity) == (2, 2)


# ---------------------------------------------------------------- holds in the reports


async def test_holds_show_in_lot_inventory_expiring_lots_and_movements(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    soon = NOW.date() + timedelta(days=5)
    held = await stock_lot(db, site, product, "L-HELD", 3, soon)
    free = await stock_lot(db, site, product, "L-FREE", 2, soon)
    await hold(db, held, reference="RC-1")

    async with db.read_sessions() as session:
        inventory = await reports.lot_inventory(session, now=NOW)
        expiring = await reports.expiring_lots(session, now=NOW, days=30)
        history = [
            (m.kind, m.lot_number, m.quantity, m.document_type, m.document_number, m.actor)
            async for m in reports.lot_movement_lines(
                session, MovementFilter(kinds=[MovementKind.HOLD, MovementKind.RELEASE_HOLD])
            )
        ]

    assert [(r.lot_id, r.on_hold, r.hold_reason) for r in inventory] == [
        (held, True, REASON),
        (free, False, None),
    ]
    # (one expiry and receipt: by lot number)
    assert [(r.lot_id, r.on_hold, r.hold_reason) for r in expiring] == [
        (free, False, None),
        (held, True, REASON),
    ]
    assert history == [(MovementKind.HOLD, "L-HELD", 3, "RECALL", "RC-1", ACTOR)]

    await release(db, held, reference="RC-1")
    async with db.read_sessions() as session:
        inventory = await reports.lot_inventory(session, now=NOW)
    assert [(r.on_hold, r.hold_reason) for r in inventory] == [(False, None), (False, None)]
