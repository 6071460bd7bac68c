"""Outbound orders and allocation: creating orders, reserving serials, lots (FEFO/FIFO) and
untracked goods all or nothing, cancelling, and the order's status through the journey.

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
    AllocationStrategy,
    MovementKind,
    OutboundLine,
    OutboundOrder,
    OutboundOrderStatus,
    PickTask,
    PickTaskStatus,
    SerialStatus,
    StockBalance,
)
from services.errors import ErrorCode
from services.outbound import (
    OrderLineSpec,
    allocate_order,
    cancel_allocation,
    cancel_order,
    create_order,
)
from services.picking import PickConfirmation, return_to_stock
from services.putaway import Placement
from services.receiving import LineReceipt, LotEntry
from services.shipping import create_shipment, dispatch_shipment
from tests.conftest import Database
from tests.services.builders import (
    ACTOR,
    NOW,
    Order,
    allocate,
    allocations_of,
    codes,
    expect,
    get,
    hold_lot,
    lot_product,
    make_order,
    make_site,
    movements,
    moves,
    order_state,
    pick,
    plain_product,
    plan_asn,
    receive_lines,
    refused,
    reservations,
    scan_for,
    serial_product,
    serials_of,
    snapshot,
    stock_lot,
    stock_plain,
    stock_serials,
    task_for,
)

T0 = NOW - timedelta(days=3)
T1 = NOW - timedelta(days=2)
T2 = NOW - timedelta(days=1)

S = SerialStatus
K = MovementKind
OS = OutboundOrderStatus
A = AllocationStatus


def _allocate(
    order: Order, serials: dict[int, list[str]] | None = None, now: datetime = NOW
) -> Callable[[AsyncSession], Awaitable[list[Allocation]]]:
    """The allocate use case as a `refused` call."""
    return lambda s: allocate_order(
        s, order_id=order.id, actor=ACTOR, serials_by_line=serials, now=now
    )


async def _cancel_allocation(db: Database, allocation_id: int) -> Allocation:
    async with db.sessions.begin() as session:
        return await cancel_allocation(session, allocation_id=allocation_id, actor=ACTOR)


async def _cancel_order(db: Database, order: Order) -> OutboundOrder:
    async with db.sessions.begin() as session:
        return await cancel_order(session, order_id=order.id, actor=ACTOR)


# ================================================================ orders


async def test_create_order_opens_an_order_with_numbered_lines(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    plain = await plain_product(db)
    async with db.sessions.begin() as session:
        created = await create_order(
            session,
            number=" SO-1 ",
            warehouse_id=site.warehouse_id,
            customer_reference="PO-77",
            lines=[OrderLineSpec(serial, 2), OrderLineSpec(plain, 5), OrderLineSpec(serial, 1)],
        )

    order = await get(db, OutboundOrder, created.id)
    assert (order.number, order.warehouse_id, order.customer_reference, order.status) == (
        "SO-1",
        site.warehouse_id,
        "PO-77",
        OS.OPEN,
    )
    async with db.read_sessions() as session:
        lines = list(
            await session.scalars(
                select(OutboundLine)
                .where(OutboundLine.order_id == order.id)
                .order_by(OutboundLine.id)
            )
        )
    assert [
        (
            ln.line_number,
            ln.product_id,
            ln.quantity,
            ln.allocated_quantity,
            ln.picked_quantity,
            ln.shipped_quantity,
        )
        for ln in lines
    ] == [(1, serial, 2, 0, 0, 0), (2, plain, 5, 0, 0, 0), (3, serial, 1, 0, 0, 0)]
    state = await snapshot(db)
    assert state.counts["movement"] == state.counts["allocation"] == state.counts["pick_task"] == 0


async def test_create_order_problems_are_collected(db: Database) -> None:
    site = await make_site(db)
    plain = await plain_product(db)
    await make_order(db, site, (plain, 1), number="SO-1")

    problems = await refused(db, lambda s: create_order(s, number=" ", warehouse_id=999, lines=[]))
    assert codes(problems) == [
        (ErrorCode.INVALID_VALUE, "number"),
        (ErrorCode.NOT_FOUND, "warehouseId"),
        (ErrorCode.INVALID_VALUE, "lines"),
    ]

    problems = await refused(
        db,
        lambda s: create_order(
            s,
            number="SO-2",
            warehouse_id=site.warehouse_id,
            lines=[OrderLineSpec(999, 1), OrderLineSpec(plain, 0), OrderLineSpec(plain, -2)],
        ),
    )
    assert codes(problems) == [
        (ErrorCode.NOT_FOUND, "lines.0.productId"),
        (ErrorCode.QUANTITY_NOT_POSITIVE, "lines.1.quantity"),
        (ErrorCode.QUANTITY_NOT_POSITIVE, "lines.2.quantity"),
    ]

    problems = await refused(
        db,
        lambda s: create_order(
            s, number=" SO-1", warehouse_id=site.warehouse_id, lines=[OrderLineSpec(plain, 1)]
        ),
    )
    assert codes(problems) == [(ErrorCode.DUPLICATE_ORDER_NUMBER, "number")]

    problems = await refused(
        db,
        lambda s: create_order(
            s, number="S" * 65, warehouse_id=site.warehouse_id, lines=[OrderLineSpec(plain, 1)]
        ),
    )
    assert codes(problems) == [(ErrorCode.INVALID_VALUE, "number")]


async def test_an_overlong_customer_reference_is_refused_not_a_database_error(
    db: Database,
) -> None:
    site = await make_site(db)
    plain = await plain_product(db)
    problems = await refused(
        db,
        lambda s: create_order(
            s,
            number="SO-1",
            warehouse_id=site.warehouse_id,
            customer_reference="R" * 201,
            lines=[OrderLineSpec(plain, 1)],
        ),
    )
    assert codes(problems) == [(ErrorCode.INVALID_VALUE, "customerReference")]

    async with db.sessions.begin() as session:
        order = await create_order(
            session,
            number="SO-1",
            warehouse_id=site.warehouse_id,
            customer_reference="R" * 200,
            lines=[OrderLineSpec(plain, 1)],
        )
    assert (await get(db, OutboundOrder, order.id)).customer_reference == "R" * 200


# ================================================================ serials


async def test_serials_are_allocated_earliest_received_first(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-A", now=T2)
    await stock_serials(db, site, product, "SN-C", location=site.a02, now=T0)
    await stock_serials(db, site, product, "SN-B", now=T1)
    order = await make_order(db, site, (product, 2))

    allocations = await allocate(db, order)

    serials = await serials_of(db, product)
    line = order.line_ids[0]
    assert [
        (
            a.order_id,
            a.line_id,
            a.product_id,
            a.serial_id,
            a.location_id,
            a.lot_id,
            a.stock_balance_id,
            a.received_at,
            a.quantity,
            a.picked_quantity,
            a.status,
            a.shipment_id,
        )
        for a in await allocations_of(db, order)
    ] == [
        (
            order.id,
            line,
            product,
            serials["SN-C"].id,
            site.a02,
            None,
            None,
            T0,
            1,
            0,
            A.ALLOCATED,
            None,
        ),
        (
            order.id,
            line,
            product,
            serials["SN-B"].id,
            site.a01,
            None,
            None,
            T1,
            1,
            0,
            A.ALLOCATED,
            None,
        ),
    ]
    assert [a.id for a in allocations] == [a.id for a in await allocations_of(db, order)]
    assert {n: (s.status, s.location_id) for n, s in serials.items()} == {
        "SN-A": (S.IN_INVENTORY, site.a01),
        "SN-B": (S.ALLOCATED, site.a01),
        "SN-C": (S.ALLOCATED, site.a02),
    }
    rows = await movements(db, serial_id=serials["SN-C"].id)
    assert moves(rows)[-1] == (K.ALLOCATE, S.IN_INVENTORY, S.ALLOCATED, site.a02, site.a02, 1)
    assert (rows[-1].document_type, rows[-1].document_number, rows[-1].actor) == (
        "ORDER",
        "SO-1",
        ACTOR,
    )
    assert moves(await movements(db, serial_id=serials["SN-A"].id))[-1][0] is K.PUTAWAY
    tasks = [await task_for(db, a.id) for a in allocations]
    assert [(t.order_id, t.location_id, t.status, t.completed_at) for t in tasks] == [
        (order.id, site.a02, PickTaskStatus.OPEN, None),
        (order.id, site.a01, PickTaskStatus.OPEN, None),
    ]
    assert await order_state(db, order) == (OS.ALLOCATED, [(2, 2, 0, 0)])


async def test_serials_received_together_are_taken_in_id_order(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    ids = await stock_serials(db, site, product, "SN-2", "SN-1", "SN-3")
    order = await make_order(db, site, (product, 1))
    [allocation] = await allocate(db, order)
    assert allocation.serial_id == min(ids.values())


async def test_serials_not_in_storage_here_are_not_allocated(db: Database) -> None:
    site = await make_site(db)
    elsewhere = await make_site(db, "WH2")
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1")
    await stock_serials(db, elsewhere, product, "SN-2", location=elsewhere.a01, now=T0)
    on_dock = await plan_asn(db, site, "ASN-DOCK", expect(product, 1))
    await receive_lines(db, on_dock, LineReceipt(on_dock.line_ids[0], serial_numbers=["SN-3"]))
    order = await make_order(db, site, (product, 2))

    problems = await refused(db, _allocate(order))

    assert codes(problems) == [(ErrorCode.INSUFFICIENT_STOCK, "lines.0")]
    assert problems[0].message == "line 1 (SER-1): 2 wanted, 1 available; short by 1"


async def test_named_serials_are_allocated_instead_of_the_oldest(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1", now=T0)
    await stock_serials(db, site, product, "SN-2", now=T1)
    await stock_serials(db, site, product, "SN-3", location=site.a02, now=T2)
    order = await make_order(db, site, (product, 2))

    allocations = await allocate(db, order, {order.line_ids[0]: [" SN-3 ", "SN-2"]})

    serials = await serials_of(db, product)
    assert [(a.serial_id, a.location_id, a.received_at) for a in allocations] == [
        (serials["SN-3"].id, site.a02, T2),
        (serials["SN-2"].id, site.a01, T1),
    ]
    assert {n: s.status for n, s in serials.items()} == {
        "SN-1": S.IN_INVENTORY,
        "SN-2": S.ALLOCATED,
        "SN-3": S.ALLOCATED,
    }
    assert await order_state(db, order) == (OS.ALLOCATED, [(2, 2, 0, 0)])


async def test_each_problem_with_named_serials_is_reported(db: Database) -> None:
    site = await make_site(db)
    elsewhere = await make_site(db, "WH2")
    product = await serial_product(db)
    other = await serial_product(db, "SER-2")
    await stock_serials(db, site, product, "SN-1", "SN-2", "SN-3")
    await stock_serials(db, elsewhere, product, "SN-9", location=elsewhere.a01)
    await stock_serials(db, site, other, "SN-X")
    on_dock = await plan_asn(db, site, "ASN-DOCK", expect(product, 1))
    await receive_lines(db, on_dock, LineReceipt(on_dock.line_ids[0], serial_numbers=["SN-D"]))
    taken = await make_order(db, site, (product, 1), number="SO-0")
    await allocate(db, taken, {taken.line_ids[0]: ["SN-3"]})
    order = await make_order(db, site, (product, 8))

    named = ["SN-1", "SN-404", "sn-2", "SN-3", "SN-9", "SN-D", "SN-X", " SN-1"]
    problems = await refused(db, _allocate(order, {order.line_ids[0]: named}))

    field = "lines.0.serialNumbers"
    assert codes(problems) == [
        (ErrorCode.UNKNOWN_SERIAL, field),  # no such serial
        (ErrorCode.UNKNOWN_SERIAL, field),  # serials match exactly
        (ErrorCode.SERIAL_NOT_AVAILABLE, field),  # allocated to SO-0
        (ErrorCode.SERIAL_NOT_AVAILABLE, field),  # in another warehouse
        (ErrorCode.SERIAL_NOT_AVAILABLE, field),  # still on the dock
        (ErrorCode.UNKNOWN_SERIAL, field),  # a serial of another product
        (ErrorCode.DUPLICATE_SERIAL, field),
    ]
    for problem, number in zip(
        problems, ["SN-404", "sn-2", "SN-3", "SN-9", "SN-D", "SN-X", "SN-1"], strict=True
    ):
        assert number in problem.message
    assert "ALLOCATED" in problems[2].message
    assert "RECEIVED" in problems[4].message


@pytest.mark.parametrize(
    ("named", "found"),
    [
        (["SN-1"], [(ErrorCode.SERIAL_COUNT_MISMATCH, "lines.0.serialNumbers")]),
        (
            ["SN-1", "SN-2", "SN-3"],
            [(ErrorCode.SERIAL_COUNT_MISMATCH, "lines.0.serialNumbers")],
        ),
        (
            ["SN-1", " "],
            [
                (ErrorCode.INVALID_SERIAL_NUMBER, "lines.0.serialNumbers"),
                (ErrorCode.SERIAL_COUNT_MISMATCH, "lines.0.serialNumbers"),
            ],
        ),
        ([], [(ErrorCode.SERIAL_COUNT_MISMATCH, "lines.0.serialNumbers")]),
    ],
    ids=["too-few", "too-many", "blank", "none"],
)
async def test_named_serials_must_match_the_quantity_still_to_allocate(
    db: Database, named: list[str], found: list[tuple[ErrorCode, str]]
) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1", "SN-2", "SN-3")
    order = await make_order(db, site, (product, 2))
    problems = await refused(db, _allocate(order, {order.line_ids[0]: named}))
    assert codes(problems) == found


async def test_serials_named_for_a_line_of_another_order_are_refused(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1")
    order = await make_order(db, site, (product, 1))
    other = await make_order(db, site, (product, 1), number="SO-2")
    problems = await refused(db, _allocate(order, {other.line_ids[0]: ["SN-1"]}))
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "lines")]


async def test_serials_named_for_an_untracked_or_lot_line_are_refused(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    lot = await lot_product(db)
    plain = await plain_product(db)
    await stock_serials(db, site, serial, "SN-1")
    await stock_lot(db, site, lot, "L-1", 2)
    await stock_plain(db, site, plain, 2)
    order = await make_order(db, site, (lot, 1), (plain, 1), (serial, 1))
    problems = await refused(
        db,
        _allocate(order, {order.line_ids[0]: ["SN-1"], order.line_ids[1]: ["SN-1"]}),
    )
    assert codes(problems) == [
        (ErrorCode.SERIALS_NOT_ALLOWED, "lines.0.serialNumbers"),
        (ErrorCode.SERIALS_NOT_ALLOWED, "lines.1.serialNumbers"),
    ]


async def test_a_serial_named_on_a_later_line_is_not_taken_by_an_earlier_one(
    db: Database,
) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    ids = await stock_serials(db, site, product, "SN-1", now=T0)
    ids |= await stock_serials(db, site, product, "SN-2", now=T1)
    order = await make_order(db, site, (product, 1), (product, 1))

    allocations = await allocate(db, order, {order.line_ids[1]: ["SN-1"]})

    assert sorted((a.line_id, a.serial_id) for a in allocations) == [
        (order.line_ids[0], ids["SN-2"]),
        (order.line_ids[1], ids["SN-1"]),
    ]
    assert await order_state(db, order) == (OS.ALLOCATED, [(1, 1, 0, 0), (1, 1, 0, 0)])


async def test_one_serial_named_on_two_lines_is_refused(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1", "SN-2")
    order = await make_order(db, site, (product, 1), (product, 1))
    problems = await refused(
        db, _allocate(order, {order.line_ids[0]: ["SN-1"], order.line_ids[1]: ["SN-1"]})
    )
    assert codes(problems) == [(ErrorCode.DUPLICATE_SERIAL, "lines.1.serialNumbers")]


async def test_two_lines_of_one_serial_product_get_different_serials(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    ids = await stock_serials(db, site, product, "SN-1", now=T0)
    ids |= await stock_serials(db, site, product, "SN-2", now=T1)
    ids |= await stock_serials(db, site, product, "SN-3", now=T2)
    order = await make_order(db, site, (product, 1), (product, 2))

    allocations = await allocate(db, order)

    assert [(a.line_id, a.serial_id) for a in allocations] == [
        (order.line_ids[0], ids["SN-1"]),
        (order.line_ids[1], ids["SN-2"]),
        (order.line_ids[1], ids["SN-3"]),
    ]


# ================================================================ lots and untracked goods


async def test_fefo_takes_earliest_expiry_first_undated_last_and_ties_by_receipt(
    db: Database,
) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    undated = await stock_lot(db, site, product, "L-NONE", 2, None, now=T0)
    late = await stock_lot(db, site, product, "L-LATE", 2, date(2025, 9, 1), now=T0)
    tie_new = await stock_lot(db, site, product, "L-TIE-NEW", 2, date(2025, 7, 1), now=T2)
    tie_old = await stock_lot(
        db, site, product, "L-TIE-OLD", 2, date(2025, 7, 1), Placement(site.a02, 2), now=T1
    )
    early = await stock_lot(db, site, product, "L-EARLY", 2, date(2025, 6, 15), now=T2)
    order = await make_order(db, site, (product, 9))

    allocations = await allocate(db, order)

    assert [
        (a.lot_id, a.location_id, a.quantity, a.received_at, a.serial_id, a.status)
        for a in allocations
    ] == [
        (early, site.a01, 2, T2, None, A.ALLOCATED),
        (tie_old, site.a02, 2, T1, None, A.ALLOCATED),
        (tie_new, site.a01, 2, T2, None, A.ALLOCATED),
        (late, site.a01, 2, T0, None, A.ALLOCATED),
        (undated, site.a01, 1, T0, None, A.ALLOCATED),
    ]
    assert [(r[1], r[2], r[3]) for r in await reservations(db, product)] == [
        (undated, 2, 1),
        (late, 2, 2),
        (tie_new, 2, 2),
        (early, 2, 2),
        (tie_old, 2, 2),
    ]
    async with db.read_sessions() as session:
        for allocation in allocations:
            assert allocation.stock_balance_id is not None
            balance = await session.get(StockBalance, allocation.stock_balance_id)
            assert balance is not None
            assert (balance.lot_id, balance.location_id, balance.received_at) == (
                allocation.lot_id,
                allocation.location_id,
                allocation.received_at,
            )
    rows = [m for m in await movements(db, product_id=product) if m.kind is K.ALLOCATE]
    assert [(m.lot_id, m.quantity, m.from_location_id, m.to_location_id) for m in rows] == [
        (early, 2, site.a01, site.a01),
        (tie_old, 2, site.a02, site.a02),
        (tie_new, 2, site.a01, site.a01),
        (late, 2, site.a01, site.a01),
        (undated, 1, site.a01, site.a01),
    ]
    assert {(m.document_type, m.document_number, m.serial_id, m.from_status) for m in rows} == {
        ("ORDER", "SO-1", None, None)
    }
    assert await order_state(db, order) == (OS.ALLOCATED, [(9, 9, 0, 0)])


@pytest.mark.parametrize(
    ("time_zone", "now", "taken"),
    [
        ("UTC", datetime(2025, 6, 10, 23, 59, tzinfo=UTC), "expiring"),  # the expiry day
        ("UTC", datetime(2025, 6, 11, 0, 0, tzinfo=UTC), "later"),
        # already 11 June in Auckland (UTC+12)
        ("Pacific/Auckland", datetime(2025, 6, 10, 12, 30, tzinfo=UTC), "later"),
        # still 10 June in Los Angeles (UTC-7)
        ("America/Los_Angeles", datetime(2025, 6, 11, 5, 0, tzinfo=UTC), "expiring"),
    ],
    ids=["expiry-day", "day-after", "auckland", "los-angeles"],
)
async def test_expired_lots_are_not_allocated_by_the_warehouse_calendar(
    db: Database, time_zone: str, now: datetime, taken: str
) -> None:
    site = await make_site(db, time_zone=time_zone)
    product = await lot_product(db)
    lots = {
        "expiring": await stock_lot(db, site, product, "L-EXP", 3, date(2025, 6, 10)),
        "later": await stock_lot(db, site, product, "L-LATER", 3, date(2025, 12, 31)),
    }
    order = await make_order(db, site, (product, 3))
    [allocation] = await allocate(db, order, now=now)
    assert (allocation.lot_id, allocation.quantity) == (lots[taken], 3)


async def test_an_expired_lot_leaves_a_shortfall(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    await stock_lot(db, site, product, "L-EXP", 3, date(2025, 6, 10))
    await stock_lot(db, site, product, "L-OK", 2, None)
    order = await make_order(db, site, (product, 4))
    problems = await refused(db, _allocate(order, now=datetime(2025, 6, 11, tzinfo=UTC)))
    assert codes(problems) == [(ErrorCode.INSUFFICIENT_STOCK, "lines.0")]
    assert problems[0].message == "line 1 (LOT-1): 4 wanted, 2 available; short by 2"
    # the day before, the same order is fine
    allocations = await allocate(db, order, now=datetime(2025, 6, 10, tzinfo=UTC))
    assert [a.quantity for a in allocations] == [3, 1]


async def test_held_lots_are_not_allocated(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    early = await stock_lot(db, site, product, "L-1", 3, date(2025, 7, 1))
    later = await stock_lot(db, site, product, "L-2", 3, date(2025, 8, 1))
    await hold_lot(db, early)

    first = await make_order(db, site, (product, 3))
    assert [(a.lot_id, a.quantity) for a in await allocate(db, first)] == [(later, 3)]

    second = await make_order(db, site, (product, 1), number="SO-2")
    problems = await refused(db, _allocate(second))
    assert codes(problems) == [(ErrorCode.INSUFFICIENT_STOCK, "lines.0")]
    assert "1 wanted, 0 available; short by 1" in problems[0].message

    await hold_lot(db, early, on_hold=False)
    assert [(a.lot_id, a.quantity) for a in await allocate(db, second)] == [(early, 1)]


async def test_fifo_warehouse_takes_lots_by_receipt_ignoring_expiry(db: Database) -> None:
    site = await make_site(db, allocation_strategy=AllocationStrategy.FIFO)
    product = await lot_product(db)
    before = T0 - timedelta(days=1)
    await stock_lot(db, site, product, "L-EXPIRED", 2, date(2025, 6, 5), now=before)
    held = await stock_lot(db, site, product, "L-HELD", 2, None, now=before)
    await hold_lot(db, held)
    old_late = await stock_lot(db, site, product, "L-OLD", 2, date(2025, 12, 31), now=T0)
    undated = await stock_lot(db, site, product, "L-UNDATED", 2, None, now=T1)
    new_early = await stock_lot(db, site, product, "L-NEW", 2, date(2025, 6, 20), now=T2)
    order = await make_order(db, site, (product, 5))

    allocations = await allocate(db, order, now=datetime(2025, 6, 10, tzinfo=UTC))

    assert [(a.lot_id, a.quantity, a.received_at) for a in allocations] == [
        (old_late, 2, T0),
        (undated, 2, T1),
        (new_early, 1, T2),
    ]


async def test_a_line_is_split_across_locations_and_lots(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    first = await stock_lot(
        db,
        site,
        product,
        "L-1",
        5,
        date(2025, 7, 1),
        Placement(site.a02, 2),
        Placement(site.a01, 3),
    )
    second = await stock_lot(db, site, product, "L-2", 5, date(2025, 8, 1))
    order = await make_order(db, site, (product, 7))

    allocations = await allocate(db, order)

    # one receipt of L-1 split in two: the balance put away first comes first
    assert [(a.lot_id, a.location_id, a.quantity) for a in allocations] == [
        (first, site.a02, 2),
        (first, site.a01, 3),
        (second, site.a01, 2),
    ]
    assert [(r[0], r[1], r[2], r[3]) for r in await reservations(db, product)] == [
        (site.a01, first, 3, 3),
        (site.a01, second, 5, 2),
        (site.a02, first, 2, 2),
    ]
    tasks = [await task_for(db, a.id) for a in allocations]
    assert [t.location_id for t in tasks] == [site.a02, site.a01, site.a01]


async def test_untracked_goods_are_allocated_first_in_first_out(db: Database) -> None:
    site = await make_site(db)  # FEFO, which untracked goods cannot use
    product = await plain_product(db)
    await stock_plain(db, site, product, 5, Placement(site.a02, 5), now=T1)
    await stock_plain(db, site, product, 5, Placement(site.a01, 5), now=T0)
    await stock_plain(db, site, product, 5, Placement(site.a01, 5), now=T2)
    order = await make_order(db, site, (product, 7))

    allocations = await allocate(db, order)

    assert [(a.location_id, a.quantity, a.received_at, a.lot_id) for a in allocations] == [
        (site.a01, 5, T0, None),
        (site.a02, 2, T1, None),
    ]
    assert await reservations(db, product) == [
        (site.a01, None, 5, 5, T0),
        (site.a01, None, 5, 0, T2),
        (site.a02, None, 5, 2, T1),
    ]
    rows = [m for m in await movements(db, product_id=product) if m.kind is K.ALLOCATE]
    assert [(m.quantity, m.from_location_id, m.lot_id) for m in rows] == [
        (5, site.a01, None),
        (2, site.a02, None),
    ]


async def test_stock_on_the_dock_is_not_allocated(db: Database) -> None:
    site = await make_site(db)
    plain = await plain_product(db)
    lot = await lot_product(db)
    await stock_plain(db, site, plain, 2)
    asn = await plan_asn(db, site, "ASN-DOCK", expect(plain, 5), expect(lot, 3))
    await receive_lines(
        db,
        asn,
        LineReceipt(asn.line_ids[0], quantity=5),
        LineReceipt(asn.line_ids[1], lots=[LotEntry("L-1", 3)]),
    )
    order = await make_order(db, site, (plain, 3), (lot, 1))

    problems = await refused(db, _allocate(order))

    assert codes(problems) == [
        (ErrorCode.INSUFFICIENT_STOCK, "lines.0"),
        (ErrorCode.INSUFFICIENT_STOCK, "lines.1"),
    ]
    assert [p.message for p in problems] == [
        "line 1 (PLAIN-1): 3 wanted, 2 available; short by 1",
        "line 2 (LOT-1): 1 wanted, 0 available; short by 1",
    ]


async def test_a_shortfall_on_any_line_reserves_nothing(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    lot = await lot_product(db)
    plain = await plain_product(db)
    await stock_serials(db, site, serial, "SN-1", "SN-2")
    await stock_lot(db, site, lot, "L-1", 4, date(2025, 12, 31))
    await stock_plain(db, site, plain, 3)
    order = await make_order(db, site, (serial, 2), (lot, 6), (plain, 3), (serial, 1))

    problems = await refused(db, _allocate(order))

    assert codes(problems) == [
        (ErrorCode.INSUFFICIENT_STOCK, "lines.1"),
        (ErrorCode.INSUFFICIENT_STOCK, "lines.3"),
    ]
    assert [p.message for p in problems] == [
        "line 2 (LOT-1): 6 wanted, 4 available; short by 2",
        "line 4 (SER-1): 1 wanted, 0 available; short by 1",
    ]
    assert await order_state(db, order) == (
        OS.OPEN,
        [(2, 0, 0, 0), (6, 0, 0, 0), (3, 0, 0, 0), (1, 0, 0, 0)],
    )

    # once the stock is there, the same order allocates in full
    await stock_serials(db, site, serial, "SN-3")
    await stock_lot(db, site, lot, "L-2", 2)
    allocations = await allocate(db, order)
    assert len(allocations) == 2 + 2 + 1 + 1
    assert await order_state(db, order) == (
        OS.ALLOCATED,
        [(2, 2, 0, 0), (6, 6, 0, 0), (3, 3, 0, 0), (1, 1, 0, 0)],
    )


async def test_lines_of_one_product_share_its_stock_without_counting_it_twice(
    db: Database,
) -> None:
    site = await make_site(db)
    plain = await plain_product(db)
    lot = await lot_product(db)
    await stock_plain(db, site, plain, 5)
    lot_id = await stock_lot(db, site, lot, "L-1", 4)

    short = await make_order(db, site, (plain, 3), (plain, 3), (lot, 2), (lot, 3), number="SO-0")
    problems = await refused(db, _allocate(short))
    assert [p.message for p in problems] == [
        "line 2 (PLAIN-1): 3 wanted, 2 available; short by 1",
        "line 4 (LOT-1): 3 wanted, 2 available; short by 1",
    ]

    order = await make_order(db, site, (plain, 3), (plain, 2), (lot, 2), (lot, 2))
    allocations = await allocate(db, order)
    assert [(a.line_id, a.quantity) for a in allocations] == list(
        zip(order.line_ids, [3, 2, 2, 2], strict=True)
    )
    assert len({a.stock_balance_id for a in allocations[:2]}) == 1
    assert [(r[2], r[3]) for r in await reservations(db, plain)] == [(5, 5)]
    assert [(r[1], r[2], r[3]) for r in await reservations(db, lot)] == [(lot_id, 4, 4)]


async def test_allocating_an_allocated_order_again_has_nothing_to_do(db: Database) -> None:
    site = await make_site(db)
    plain = await plain_product(db)
    await stock_plain(db, site, plain, 5)
    order = await make_order(db, site, (plain, 2))
    await allocate(db, order)
    problems = await refused(db, _allocate(order))
    assert codes(problems) == [(ErrorCode.NOTHING_TO_ALLOCATE, "orderId")]


async def test_allocating_an_unknown_or_cancelled_order_is_refused(db: Database) -> None:
    site = await make_site(db)
    plain = await plain_product(db)
    await stock_plain(db, site, plain, 5)
    order = await make_order(db, site, (plain, 2))
    problems = await refused(db, _allocate(Order(999_999, "SO-X", [])))
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "orderId")]
    await _cancel_order(db, order)
    problems = await refused(db, _allocate(order))
    assert codes(problems) == [(ErrorCode.ORDER_NOT_OPEN, "orderId")]
    assert "CANCELLED" in problems[0].message


# ================================================================ cancelling


async def test_cancelling_a_serial_allocation_returns_the_serial_to_inventory(
    db: Database,
) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    ids = await stock_serials(db, site, product, "SN-1", now=T0)
    ids |= await stock_serials(db, site, product, "SN-2", location=site.a02, now=T1)
    order = await make_order(db, site, (product, 2))
    first, second = await allocate(db, order)
    assert first.serial_id == ids["SN-1"]

    cancelled = await _cancel_allocation(db, first.id)

    assert cancelled.status is A.CANCELLED
    assert (await get(db, Allocation, first.id)).status is A.CANCELLED
    task = await task_for(db, first.id)
    assert task.status is PickTaskStatus.CANCELLED
    assert task.completed_at is not None
    assert (await task_for(db, second.id)).status is PickTaskStatus.OPEN
    serials = await serials_of(db, product)
    assert {n: (s.status, s.location_id) for n, s in serials.items()} == {
        "SN-1": (S.IN_INVENTORY, site.a01),
        "SN-2": (S.ALLOCATED, site.a02),
    }
    rows = await movements(db, serial_id=ids["SN-1"])
    assert moves(rows)[-2:] == [
        (K.ALLOCATE, S.IN_INVENTORY, S.ALLOCATED, site.a01, site.a01, 1),
        (K.CANCEL, S.ALLOCATED, S.IN_INVENTORY, site.a01, site.a01, 1),
    ]
    assert (rows[-1].document_number, rows[-1].actor) == ("SO-1", ACTOR)
    assert await order_state(db, order) == (OS.OPEN, [(2, 1, 0, 0)])

    problems = await refused(
        db, lambda s: cancel_allocation(s, allocation_id=first.id, actor=ACTOR)
    )
    assert codes(problems) == [(ErrorCode.ALLOCATION_NOT_CANCELLABLE, "allocationId")]
    problems = await refused(db, lambda s: cancel_allocation(s, allocation_id=999_999, actor=ACTOR))
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "allocationId")]

    # allocating again fills only what is missing, with the serial given back
    [again] = await allocate(db, order)
    assert (again.serial_id, again.line_id) == (ids["SN-1"], order.line_ids[0])
    assert await order_state(db, order) == (OS.ALLOCATED, [(2, 2, 0, 0)])


async def test_cancelling_a_lot_allocation_releases_its_reservation(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    lot = await stock_lot(db, site, product, "L-1", 10, date(2025, 12, 31))
    order = await make_order(db, site, (product, 4))
    [allocation] = await allocate(db, order)
    assert [r[3] for r in await reservations(db, product)] == [4]

    await _cancel_allocation(db, allocation.id)

    assert await reservations(db, product) == [(site.a01, lot, 10, 0, NOW)]
    rows = await movements(db, lot_id=lot)
    assert [(m.kind, m.quantity, m.from_location_id, m.to_location_id) for m in rows[-2:]] == [
        (K.ALLOCATE, 4, site.a01, site.a01),
        (K.CANCEL, 4, site.a01, site.a01),
    ]
    assert await order_state(db, order) == (OS.OPEN, [(4, 0, 0, 0)])
    assert (await task_for(db, allocation.id)).status is PickTaskStatus.CANCELLED


async def test_cancelling_an_order_releases_everything_it_reserved(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    lot = await lot_product(db)
    plain = await plain_product(db)
    ids = await stock_serials(db, site, serial, "SN-1")
    lot_id = await stock_lot(db, site, lot, "L-1", 5)
    await stock_plain(db, site, plain, 5)
    order = await make_order(db, site, (serial, 1), (lot, 3), (plain, 2))
    await allocate(db, order)
    before = len(await movements(db))

    cancelled = await _cancel_order(db, order)

    assert cancelled.status is OS.CANCELLED
    assert await order_state(db, order) == (
        OS.CANCELLED,
        [(1, 0, 0, 0), (3, 0, 0, 0), (2, 0, 0, 0)],
    )
    assert {a.status for a in await allocations_of(db, order)} == {A.CANCELLED}
    async with db.read_sessions() as session:
        statuses = set(
            await session.scalars(select(PickTask.status).where(PickTask.order_id == order.id))
        )
    assert statuses == {PickTaskStatus.CANCELLED}
    assert (await serials_of(db, serial))["SN-1"].status is S.IN_INVENTORY
    assert [r[3] for r in await reservations(db, lot) + await reservations(db, plain)] == [0, 0]
    rows = (await movements(db))[before:]
    assert [(m.kind, m.serial_id, m.lot_id, m.quantity) for m in rows] == [
        (K.CANCEL, ids["SN-1"], None, 1),
        (K.CANCEL, None, lot_id, 3),
        (K.CANCEL, None, None, 2),
    ]

    problems = await refused(db, lambda s: cancel_order(s, order_id=order.id, actor=ACTOR))
    assert codes(problems) == [(ErrorCode.ORDER_NOT_OPEN, "orderId")]

    # what it held is free for the next order
    other = await make_order(db, site, (serial, 1), (lot, 5), (plain, 5), number="SO-2")
    assert len(await allocate(db, other)) == 3


async def test_an_order_with_nothing_allocated_can_be_cancelled(db: Database) -> None:
    site = await make_site(db)
    plain = await plain_product(db)
    order = await make_order(db, site, (plain, 2))
    await _cancel_order(db, order)
    assert await order_state(db, order) == (OS.CANCELLED, [(2, 0, 0, 0)])
    assert await movements(db) == []
    problems = await refused(db, lambda s: cancel_order(s, order_id=999_999, actor=ACTOR))
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "orderId")]


async def test_an_order_with_picked_items_cannot_be_cancelled(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1", now=T0)
    await stock_serials(db, site, product, "SN-2", now=T1)
    order = await make_order(db, site, (product, 2))
    first, second = await allocate(db, order)
    await pick(db, (await task_for(db, first.id)).id, await scan_for(db, first))
    assert (await order_state(db, order))[0] is OS.PICKING

    problems = await refused(db, lambda s: cancel_order(s, order_id=order.id, actor=ACTOR))
    assert codes(problems) == [(ErrorCode.ORDER_HAS_PICKED_ITEMS, "orderId")]
    problems = await refused(
        db, lambda s: cancel_allocation(s, allocation_id=first.id, actor=ACTOR)
    )
    assert codes(problems) == [(ErrorCode.ALLOCATION_NOT_CANCELLABLE, "allocationId")]
    assert "PICKED" in problems[0].message

    async with db.sessions.begin() as session:
        await return_to_stock(session, allocation_id=first.id, location_id=site.a01, actor=ACTOR)
    await _cancel_order(db, order)
    assert {n: s.status for n, s in (await serials_of(db, product)).items()} == {
        "SN-1": S.IN_INVENTORY,
        "SN-2": S.IN_INVENTORY,
    }
    assert [(a.id, a.status) for a in await allocations_of(db, order)] == [
        (first.id, A.RETURNED),
        (second.id, A.CANCELLED),
    ]


# ================================================================ the journey


async def test_order_status_follows_the_journey(db: Database) -> None:
    site = await make_site(db, packing=True)
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1", now=T0)
    await stock_serials(db, site, product, "SN-2", now=T1)
    order = await make_order(db, site, (product, 2))
    seen = [(await order_state(db, order))[0]]

    first, second = await allocate(db, order)
    seen.append((await order_state(db, order))[0])
    await pick(db, (await task_for(db, first.id)).id, PickConfirmation(serial_number="SN-1"))
    seen.append((await order_state(db, order))[0])
    await pick(db, (await task_for(db, second.id)).id, PickConfirmation(serial_number="SN-2"))
    seen.append((await order_state(db, order))[0])
    async with db.sessions.begin() as session:
        shipment = await create_shipment(session, order_id=order.id)
    seen.append((await order_state(db, order))[0])

    # a packed order is closed to allocation and cancelling
    problems = await refused(db, _allocate(order))
    assert codes(problems) == [(ErrorCode.ORDER_NOT_OPEN, "orderId")]
    problems = await refused(db, lambda s: cancel_order(s, order_id=order.id, actor=ACTOR))
    assert codes(problems) == [(ErrorCode.ORDER_NOT_OPEN, "orderId")]

    async with db.sessions.begin() as session:
        await dispatch_shipment(session, shipment_id=shipment.id, actor=ACTOR, now=NOW)
    seen.append((await order_state(db, order))[0])

    assert seen == [OS.OPEN, OS.ALLOCATED, OS.PICKING, OS.PICKED, OS.PACKED, OS.SHIPPED]
    assert await order_state(db, order) == (OS.SHIPPED, [(2, 2, 2, 2)])
    problems = await refused(db, lambda s: cancel_order(s, order_id=order.id, actor=ACTOR))
    assert codes(problems) == [(ErrorCode.ORDER_NOT_OPEN, "orderId")]


async def test_the_remainder_of_a_short_pick_can_be_allocated_again(db: Database) -> None:
    site = await make_site(db, packing=True)
    product = await lot_product(db)
    first = await stock_lot(db, site, product, "L-1", 3, date(2025, 7, 1))
    second = await stock_lot(db, site, product, "L-2", 5, date(2025, 8, 1))
    order = await make_order(db, site, (product, 5))
    one, two = await allocate(db, order)
    assert [(a.lot_id, a.quantity) for a in (one, two)] == [(first, 3), (second, 2)]
    await pick(db, (await task_for(db, one.id)).id, PickConfirmation(lot_number="L-1"))
    await pick(db, (await task_for(db, two.id)).id, PickConfirmation(lot_number="L-2", quantity=1))
    assert await order_state(db, order) == (OS.PICKED, [(5, 4, 4, 0)])

    # a picked order is still open: the one unit missing comes from what is left of L-2
    [again] = await allocate(db, order)
    assert (again.lot_id, again.quantity) == (second, 1)
    assert await order_state(db, order) == (OS.PICKING, [(5, 5, 4, 0)])
    await pick(db, (await task_for(db, again.id)).id, PickConfirmation(lot_number="L-2"))
    assert await order_state(db, order) == (OS.PICKED, [(5, 5, 5, 0)])
