"""Picking by scan: serials (the allocated one, or a swap), lots by lot number, short and
zero picks; and returning picked goods to stock.

Every refusal is checked with `refused`, which proves the refused call changed nothing.
"""

from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Allocation,
    AllocationStatus,
    MovementKind,
    OutboundOrderStatus,
    PickTask,
    PickTaskStatus,
    SerialStatus,
    Tracking,
)
from services.errors import ErrorCode
from services.outbound import cancel_order
from services.picking import PickConfirmation, confirm_pick, return_to_stock
from services.putaway import Placement
from services.receiving import LineReceipt
from services.shipping import create_shipment
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
    make_product,
    make_site,
    movements,
    moves,
    order_state,
    pick,
    pick_all,
    plain_product,
    plan_asn,
    receive_lines,
    refused,
    reservations,
    serial_product,
    serials_of,
    stock_lot,
    stock_plain,
    stock_serials,
    task_for,
)

T0 = NOW - timedelta(days=3)
T1 = NOW - timedelta(days=2)
EXPIRY = date(2025, 12, 31)

S = SerialStatus
K = MovementKind
OS = OutboundOrderStatus
A = AllocationStatus


def _serial(number: str | None) -> PickConfirmation:
    return PickConfirmation(serial_number=number)


def _confirm(task_id: int, scan: PickConfirmation) -> Callable[[AsyncSession], Awaitable[PickTask]]:
    """The pick use case as a `refused` call."""
    return lambda s: confirm_pick(s, task_id=task_id, scan=scan, actor=ACTOR)


async def _return(db: Database, allocation_id: int, location_id: int) -> Allocation:
    async with db.sessions.begin() as session:
        return await return_to_stock(
            session, allocation_id=allocation_id, location_id=location_id, actor=ACTOR
        )


async def _one_task(db: Database, order: Order) -> tuple[Allocation, PickTask]:
    [allocation] = await allocations_of(db, order)
    return allocation, await task_for(db, allocation.id)


# ================================================================ serials


@pytest.mark.parametrize("packing", [True, False], ids=["packing", "no-packing"])
async def test_picking_the_allocated_serial(db: Database, packing: bool) -> None:
    site = await make_site(db, packing=packing)
    product = await serial_product(db)
    ids = await stock_serials(db, site, product, "SN-1", "SN-2", location=site.a02)
    order = await make_order(db, site, (product, 1))
    [allocation] = await allocate(db, order, {order.line_ids[0]: ["SN-1"]})
    task = await task_for(db, allocation.id)

    done = await pick(db, task.id, _serial(" SN-1 "))

    destination = site.packing if packing else site.a02
    assert done.status is PickTaskStatus.DONE
    stored = await get(db, PickTask, task.id)
    assert stored.status is PickTaskStatus.DONE
    assert stored.completed_at is not None
    serials = await serials_of(db, product)
    assert {n: (s.status, s.location_id) for n, s in serials.items()} == {
        "SN-1": (S.PICKED, destination),
        "SN-2": (S.IN_INVENTORY, site.a02),
    }
    rows = await movements(db, serial_id=ids["SN-1"])
    assert moves(rows)[-2:] == [
        (K.ALLOCATE, S.IN_INVENTORY, S.ALLOCATED, site.a02, site.a02, 1),
        (K.PICK, S.ALLOCATED, S.PICKED, site.a02, destination, 1),
    ]
    assert (rows[-1].document_type, rows[-1].document_number, rows[-1].actor) == (
        "ORDER",
        "SO-1",
        ACTOR,
    )
    picked = await get(db, Allocation, allocation.id)
    assert (picked.status, picked.picked_quantity, picked.serial_id, picked.location_id) == (
        A.PICKED,
        1,
        ids["SN-1"],
        site.a02,
    )
    assert await order_state(db, order) == (OS.PICKED, [(1, 1, 1, 0)])


async def test_scanning_another_serial_at_the_location_swaps_it_in(db: Database) -> None:
    site = await make_site(db, packing=True)
    product = await serial_product(db)
    ids = await stock_serials(db, site, product, "SN-1", now=T0)
    ids |= await stock_serials(db, site, product, "SN-2", now=T1)
    order = await make_order(db, site, (product, 1))
    [allocation] = await allocate(db, order)
    assert allocation.serial_id == ids["SN-1"]

    await pick(db, (await task_for(db, allocation.id)).id, _serial("SN-2"))

    serials = await serials_of(db, product)
    assert {n: (s.status, s.location_id) for n, s in serials.items()} == {
        "SN-1": (S.IN_INVENTORY, site.a01),
        "SN-2": (S.PICKED, site.packing),
    }
    assert moves(await movements(db, serial_id=ids["SN-1"])) == [
        (K.RECEIVE, None, S.RECEIVED, None, site.dock, 1),
        (K.PUTAWAY, S.RECEIVED, S.IN_INVENTORY, site.dock, site.a01, 1),
        (K.ALLOCATE, S.IN_INVENTORY, S.ALLOCATED, site.a01, site.a01, 1),
        (K.CANCEL, S.ALLOCATED, S.IN_INVENTORY, site.a01, site.a01, 1),
    ]
    swapped_in = await movements(db, serial_id=ids["SN-2"])
    assert moves(swapped_in) == [
        (K.RECEIVE, None, S.RECEIVED, None, site.dock, 1),
        (K.PUTAWAY, S.RECEIVED, S.IN_INVENTORY, site.dock, site.a01, 1),
        (K.ALLOCATE, S.IN_INVENTORY, S.ALLOCATED, site.a01, site.a01, 1),
        (K.PICK, S.ALLOCATED, S.PICKED, site.a01, site.packing, 1),
    ]
    assert {m.document_number for m in swapped_in[-2:]} == {"SO-1"}
    after = await get(db, Allocation, allocation.id)
    assert (after.serial_id, after.received_at, after.status, after.picked_quantity) == (
        ids["SN-2"],
        T1,
        A.PICKED,
        1,
    )
    assert await order_state(db, order) == (OS.PICKED, [(1, 1, 1, 0)])

    # the serial swapped out is free for the next order
    other = await make_order(db, site, (product, 1), number="SO-2")
    [next_allocation] = await allocate(db, other)
    assert next_allocation.serial_id == ids["SN-1"]


async def _serial_scene(db: Database) -> tuple[Site, int, PickTask]:
    """SN-1 allocated to SO-1 at A-01 (the task under test), and around it: SN-2 allocated
    to SO-2 and SN-4 picked for SO-3 (both at A-01), SN-3 in stock at A-02, SN-D still on
    the dock, SN-9 of this product in another warehouse, and OT-1 of another product at A-01.
    """
    site = await make_site(db)
    elsewhere = await make_site(db, "WH2")
    product = await serial_product(db)
    other = await serial_product(db, "SER-2")
    await stock_serials(db, site, product, "SN-1", "SN-2", "SN-4")
    await stock_serials(db, site, product, "SN-3", location=site.a02)
    await stock_serials(db, site, other, "OT-1")
    await stock_serials(db, elsewhere, product, "SN-9", location=elsewhere.a01)
    on_dock = await plan_asn(db, site, "ASN-DOCK", expect(product, 1))
    await receive_lines(db, on_dock, LineReceipt(on_dock.line_ids[0], serial_numbers=["SN-D"]))
    order = await make_order(db, site, (product, 1), number="SO-1")
    [allocation] = await allocate(db, order, {order.line_ids[0]: ["SN-1"]})
    second = await make_order(db, site, (product, 1), number="SO-2")
    await allocate(db, second, {second.line_ids[0]: ["SN-2"]})
    third = await make_order(db, site, (product, 1), number="SO-3")
    await allocate(db, third, {third.line_ids[0]: ["SN-4"]})
    await pick_all(db, third)
    return site, product, await task_for(db, allocation.id)


async def test_wrong_scans_are_refused_with_what_was_wrong(db: Database) -> None:
    _site, product, task = await _serial_scene(db)
    cases = [
        (_serial("SN-404"), ErrorCode.UNKNOWN_SERIAL, "serialNumber"),
        (_serial("sn-1"), ErrorCode.UNKNOWN_SERIAL, "serialNumber"),  # exact match only
        (_serial("SN-9"), ErrorCode.UNKNOWN_SERIAL, "serialNumber"),  # another warehouse
        (_serial("OT-1"), ErrorCode.WRONG_PRODUCT, "serialNumber"),
        (_serial("SN-2"), ErrorCode.WRONG_ORDER, "serialNumber"),
        (_serial("SN-4"), ErrorCode.ALREADY_PICKED, "serialNumber"),
        (_serial("SN-3"), ErrorCode.WRONG_LOCATION, "serialNumber"),
        (_serial("SN-D"), ErrorCode.SERIAL_NOT_AVAILABLE, "serialNumber"),
        (_serial(None), ErrorCode.SCAN_REQUIRED, "serialNumber"),
        (_serial(""), ErrorCode.SCAN_REQUIRED, "serialNumber"),
        (PickConfirmation(lot_number="SN-1"), ErrorCode.SCAN_REQUIRED, "serialNumber"),
        (_serial("   "), ErrorCode.INVALID_SERIAL_NUMBER, "serialNumber"),
    ]
    for scan, code, field in cases:
        problems = await refused(db, _confirm(task.id, scan))
        assert codes(problems) == [(code, field)], scan
    wrong_order = await refused(
        db, lambda s: confirm_pick(s, task_id=task.id, scan=_serial("SN-2"), actor=ACTOR)
    )
    assert "SO-2" in wrong_order[0].message
    # after all that, the right scan still works
    await pick(db, task.id, _serial("SN-1"))
    assert (await serials_of(db, product))["SN-1"].status is S.PICKED


async def test_a_task_is_picked_once(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1", "SN-2")
    order = await make_order(db, site, (product, 1))
    [allocation] = await allocate(db, order, {order.line_ids[0]: ["SN-1"]})
    task = await task_for(db, allocation.id)
    await pick(db, task.id, _serial("SN-1"))

    for number in ("SN-1", "SN-2"):
        problems = await refused(db, _confirm(task.id, _serial(number)))
        assert codes(problems) == [(ErrorCode.ALREADY_PICKED, "taskId")]
        assert "DONE" in problems[0].message


async def test_cancelled_and_unknown_tasks_are_refused(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1")
    order = await make_order(db, site, (product, 1))
    [allocation] = await allocate(db, order)
    task = await task_for(db, allocation.id)
    problems = await refused(
        db, lambda s: confirm_pick(s, task_id=999_999, scan=_serial("SN-1"), actor=ACTOR)
    )
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "taskId")]

    async with db.sessions.begin() as session:
        await cancel_order(session, order_id=order.id, actor=ACTOR)
    problems = await refused(
        db, lambda s: confirm_pick(s, task_id=task.id, scan=_serial("SN-1"), actor=ACTOR)
    )
    assert codes(problems) == [(ErrorCode.TASK_NOT_OPEN, "taskId")]


# ================================================================ lots


async def test_a_lot_is_picked_by_its_number_in_any_case(db: Database) -> None:
    site = await make_site(db, packing=True)
    product = await lot_product(db)
    lot = await stock_lot(db, site, product, "LOT-2025A", 10, EXPIRY)
    order = await make_order(db, site, (product, 4))
    [allocation] = await allocate(db, order)
    task = await task_for(db, allocation.id)

    done = await pick(db, task.id, PickConfirmation(lot_number=" lot-2025a ", quantity=4))

    assert done.status is PickTaskStatus.DONE
    assert await reservations(db, product) == [
        (site.a01, lot, 6, 0, NOW),
        (site.packing, lot, 4, 4, NOW),
    ]
    picked = await get(db, Allocation, allocation.id)
    assert (picked.status, picked.quantity, picked.picked_quantity) == (A.PICKED, 4, 4)
    assert picked.stock_balance_id != allocation.stock_balance_id  # now the packing balance
    rows = await movements(db, lot_id=lot)
    assert [
        (m.kind, m.quantity, m.from_location_id, m.to_location_id, m.document_number)
        for m in rows[-1:]
    ] == [(K.PICK, 4, site.a01, site.packing, "SO-1")]
    assert await order_state(db, order) == (OS.PICKED, [(4, 4, 4, 0)])


async def test_lot_scan_must_name_the_allocated_lot(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    await stock_lot(db, site, product, "L-1", 5, date(2025, 7, 1))
    await stock_lot(db, site, product, "L-2", 5, date(2025, 8, 1))
    order = await make_order(db, site, (product, 3))
    await allocate(db, order)
    allocation, task = await _one_task(db, order)

    cases = [
        (PickConfirmation(lot_number="L-2", quantity=3), ErrorCode.WRONG_LOT, "lotNumber"),
        (PickConfirmation(lot_number="L-404", quantity=3), ErrorCode.WRONG_LOT, "lotNumber"),
        (PickConfirmation(quantity=3), ErrorCode.SCAN_REQUIRED, "lotNumber"),
        (PickConfirmation(serial_number="L-1"), ErrorCode.SCAN_REQUIRED, "lotNumber"),
        (PickConfirmation(lot_number="L-1", quantity=4), ErrorCode.INVALID_VALUE, "quantity"),
        (PickConfirmation(lot_number="L-1", quantity=-1), ErrorCode.INVALID_VALUE, "quantity"),
    ]
    for scan, code, field in cases:
        problems = await refused(db, _confirm(task.id, scan))
        assert codes(problems) == [(code, field)], scan
    # the quantity defaults to all that was allocated
    await pick(db, task.id, PickConfirmation(lot_number="l-1"))
    assert (await get(db, Allocation, allocation.id)).picked_quantity == 3


@pytest.mark.parametrize("packing", [True, False], ids=["packing", "no-packing"])
async def test_a_short_lot_pick_releases_the_remainder(db: Database, packing: bool) -> None:
    site = await make_site(db, packing=packing)
    product = await lot_product(db)
    lot = await stock_lot(db, site, product, "L-1", 10, EXPIRY)
    order = await make_order(db, site, (product, 5))
    [allocation] = await allocate(db, order)
    before = len(await movements(db))

    done = await pick(
        db, (await task_for(db, allocation.id)).id, PickConfirmation(lot_number="L-1", quantity=3)
    )

    assert done.status is PickTaskStatus.SHORT
    after = await get(db, Allocation, allocation.id)
    assert (after.status, after.quantity, after.picked_quantity) == (A.PICKED, 5, 3)
    assert await order_state(db, order) == (OS.PICKED, [(5, 3, 3, 0)])
    if packing:
        assert await reservations(db, product) == [
            (site.a01, lot, 7, 0, NOW),
            (site.packing, lot, 3, 3, NOW),
        ]
    else:
        assert await reservations(db, product) == [(site.a01, lot, 10, 3, NOW)]
    destination = site.packing if packing else site.a01
    rows = (await movements(db))[before:]
    assert [(m.kind, m.lot_id, m.quantity, m.from_location_id, m.to_location_id) for m in rows] == [
        (K.PICK, lot, 3, site.a01, destination),
        (K.CANCEL, lot, 2, site.a01, site.a01),
    ]
    # the two released are free again: another order can have all seven left in storage
    other = await make_order(db, site, (product, 7), number="SO-2")
    assert [a.quantity for a in await allocate(db, other)] == [7]


async def test_a_zero_pick_cancels_the_allocation(db: Database) -> None:
    site = await make_site(db, packing=True)
    product = await lot_product(db)
    lot = await stock_lot(db, site, product, "L-1", 10, EXPIRY)
    order = await make_order(db, site, (product, 5))
    [allocation] = await allocate(db, order)
    before = len(await movements(db))

    done = await pick(
        db, (await task_for(db, allocation.id)).id, PickConfirmation(lot_number="L-1", quantity=0)
    )

    assert done.status is PickTaskStatus.SHORT
    after = await get(db, Allocation, allocation.id)
    assert (after.status, after.picked_quantity, after.stock_balance_id) == (
        A.CANCELLED,
        0,
        allocation.stock_balance_id,
    )
    assert await reservations(db, product) == [(site.a01, lot, 10, 0, NOW)]
    rows = (await movements(db))[before:]
    assert [(m.kind, m.quantity, m.from_location_id, m.to_location_id) for m in rows] == [
        (K.CANCEL, 5, site.a01, site.a01)
    ]
    assert await order_state(db, order) == (OS.OPEN, [(5, 0, 0, 0)])
    # the order can be allocated again
    assert [a.quantity for a in await allocate(db, order)] == [5]


async def test_untracked_picks_take_a_quantity_and_no_lot(db: Database) -> None:
    site = await make_site(db, packing=True)
    product = await plain_product(db)
    await stock_plain(db, site, product, 5)
    order = await make_order(db, site, (product, 4))
    await allocate(db, order)
    allocation, task = await _one_task(db, order)
    problems = await refused(
        db,
        lambda s: confirm_pick(
            s, task_id=task.id, scan=PickConfirmation(lot_number="L-1"), actor=ACTOR
        ),
    )
    assert codes(problems) == [(ErrorCode.LOTS_NOT_ALLOWED, "lotNumber")]

    await pick(db, task.id, PickConfirmation())

    assert await reservations(db, product) == [
        (site.a01, None, 1, 0, NOW),
        (site.packing, None, 4, 4, NOW),
    ]
    assert (await get(db, Allocation, allocation.id)).picked_quantity == 4
    assert await order_state(db, order) == (OS.PICKED, [(4, 4, 4, 0)])


# ================================================================ returns


async def test_a_returned_serial_goes_back_into_inventory_where_told(db: Database) -> None:
    site = await make_site(db, packing=True)
    product = await serial_product(db)
    ids = await stock_serials(db, site, product, "SN-1")
    order = await make_order(db, site, (product, 1))
    [allocation] = await allocate(db, order)
    await pick_all(db, order)

    returned = await _return(db, allocation.id, site.a02)

    assert returned.status is A.RETURNED
    serial = (await serials_of(db, product))["SN-1"]
    assert (serial.status, serial.location_id) == (S.IN_INVENTORY, site.a02)
    rows = await movements(db, serial_id=ids["SN-1"])
    assert moves(rows)[-1] == (K.RETURN, S.PICKED, S.IN_INVENTORY, site.packing, site.a02, 1)
    assert rows[-1].document_number == "SO-1"
    assert (await get(db, Allocation, allocation.id)).status is A.RETURNED
    assert await order_state(db, order) == (OS.OPEN, [(1, 0, 0, 0)])

    # and it may be allocated again, from where it now is
    [again] = await allocate(db, order)
    assert (again.serial_id, again.location_id) == (ids["SN-1"], site.a02)


async def test_returned_lot_quantities_come_back_from_packing(db: Database) -> None:
    site = await make_site(db, packing=True)
    product = await lot_product(db)
    lot = await stock_lot(db, site, product, "L-1", 10, EXPIRY)
    order = await make_order(db, site, (product, 4))
    [allocation] = await allocate(db, order)
    await pick_all(db, order)

    await _return(db, allocation.id, site.a02)

    assert await reservations(db, product) == [
        (site.a01, lot, 6, 0, NOW),
        (site.a02, lot, 4, 0, NOW),  # keeps its receipt time, so FIFO still holds
    ]
    last = (await movements(db, lot_id=lot))[-1]
    assert (last.kind, last.quantity, last.from_location_id, last.to_location_id) == (
        K.RETURN,
        4,
        site.packing,
        site.a02,
    )
    assert await order_state(db, order) == (OS.OPEN, [(4, 0, 0, 0)])


async def test_returning_unpacked_goods_to_the_shelf_they_came_from(db: Database) -> None:
    """Without a packing location picked goods stay on their shelf, still reserved; giving
    them back to that same shelf must leave one balance, whole and unreserved."""
    site = await make_site(db)
    product = await lot_product(db)
    lot = await stock_lot(db, site, product, "L-1", 10, EXPIRY)
    order = await make_order(db, site, (product, 4))
    [allocation] = await allocate(db, order)
    await pick_all(db, order)
    assert await reservations(db, product) == [(site.a01, lot, 10, 4, NOW)]

    await _return(db, allocation.id, site.a01)

    assert await reservations(db, product) == [(site.a01, lot, 10, 0, NOW)]
    other = await make_order(db, site, (product, 10), number="SO-2")
    assert [a.quantity for a in await allocate(db, other)] == [10]


async def test_only_picked_unpacked_goods_can_be_returned(db: Database) -> None:
    site = await make_site(db, packing=True)
    elsewhere = await make_site(db, "WH2")
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1", "SN-2", "SN-3")
    waiting = await make_order(db, site, (product, 1), number="SO-1")
    [unpicked] = await allocate(db, waiting, {waiting.line_ids[0]: ["SN-1"]})
    packed = await make_order(db, site, (product, 1), number="SO-2")
    [in_shipment] = await allocate(db, packed, {packed.line_ids[0]: ["SN-2"]})
    await pick_all(db, packed)
    async with db.sessions.begin() as session:
        await create_shipment(session, order_id=packed.id)
    picked_order = await make_order(db, site, (product, 1), number="SO-3")
    [picked] = await allocate(db, picked_order, {picked_order.line_ids[0]: ["SN-3"]})
    await pick_all(db, picked_order)

    def attempt(
        allocation_id: int, location_id: int
    ) -> Callable[[AsyncSession], Awaitable[Allocation]]:
        return lambda s: return_to_stock(
            s, allocation_id=allocation_id, location_id=location_id, actor=ACTOR
        )

    problems = await refused(db, attempt(unpicked.id, site.a01))
    assert codes(problems) == [(ErrorCode.NOT_RETURNABLE, "allocationId")]
    assert "ALLOCATED" in problems[0].message
    problems = await refused(db, attempt(in_shipment.id, site.a01))
    assert codes(problems) == [(ErrorCode.NOT_RETURNABLE, "allocationId")]
    assert "packed" in problems[0].message
    problems = await refused(db, attempt(999_999, site.a01))
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "allocationId")]
    for location in (site.dock, site.packing):
        assert location is not None
        problems = await refused(db, attempt(picked.id, location))
        assert codes(problems) == [(ErrorCode.LOCATION_NOT_STORAGE, "locationId")]
    for location in (elsewhere.a01, 999_999):
        problems = await refused(db, attempt(picked.id, location))
        assert codes(problems) == [(ErrorCode.NOT_FOUND, "locationId")]

    await _return(db, picked.id, site.a01)
    problems = await refused(db, attempt(picked.id, site.a01))
    assert codes(problems) == [(ErrorCode.NOT_RETURNABLE, "allocationId")]
    assert "RETURNED" in problems[0].message


async def test_a_lot_split_over_two_tasks_is_picked_task_by_task(db: Database) -> None:
    site = await make_site(db, packing=True)
    product = await lot_product(db)
    lot = await stock_lot(
        db, site, product, "L-1", 6, EXPIRY, Placement(site.a01, 3), Placement(site.a02, 3)
    )
    order = await make_order(db, site, (product, 5))
    first, second = await allocate(db, order)
    await pick(db, (await task_for(db, first.id)).id, PickConfirmation(lot_number="L-1"))
    assert await order_state(db, order) == (OS.PICKING, [(5, 5, 3, 0)])
    await pick(db, (await task_for(db, second.id)).id, PickConfirmation(lot_number="L-1"))
    assert await order_state(db, order) == (OS.PICKED, [(5, 5, 5, 0)])
    # both picks land on one packing balance: same lot, same receipt
    assert await reservations(db, product) == [
        (site.a02, lot, 1, 0, NOW),
        (site.packing, lot, 5, 5, NOW),
    ]


async def test_a_serial_on_another_task_of_the_same_order_is_named_as_such(db: Database) -> None:
    # given one order with two serial tasks, SN-1 and SN-2, both at A-01
    site = await make_site(db)
    product = await serial_product(db)
    await stock_serials(db, site, product, "SN-1", "SN-2")
    order = await make_order(db, site, (product, 2))
    allocations = await allocate(db, order, {order.line_ids[0]: ["SN-1", "SN-2"]})
    first = await task_for(db, next(a.id for a in allocations if a.serial_id is not None))
    first_serial = await serials_of(db, product)
    scanned = "SN-2" if first_serial["SN-1"].id == allocations[0].serial_id else "SN-1"

    # when the picker confirms the first task with the other task's serial
    problems = await refused(db, _confirm(first.id, _serial(scanned)))

    # then it is refused as being on another task of this order, not another order
    assert codes(problems) == [(ErrorCode.SERIAL_ON_OTHER_TASK, "serialNumber")]


# ================================================================ scanned labels

LAPTOP_GTIN = "09506000134352"
VITAMIN_GTIN = "09506000134369"
GS = "\x1d"


async def test_a_serial_is_picked_or_swapped_by_a_raw_scan_of_its_label(db: Database) -> None:
    site = await make_site(db, packing=True)
    laptop = await make_product(db, "LAPTOP", Tracking.SERIAL, gtin=LAPTOP_GTIN)
    await stock_serials(db, site, laptop, "SN-1", "SN-2", "SN-3")
    order = await make_order(db, site, (laptop, 2))
    first, second = await allocate(db, order, {order.line_ids[0]: ["SN-1", "SN-2"]})
    scans = {
        "SN-1": f"]C101{LAPTOP_GTIN}21SN-1{GS}",
        "SN-2": f"https://id.example.com/01/{LAPTOP_GTIN}/21/SN-3",  # SN-3 swaps in
    }
    serials = await serials_of(db, laptop)
    for allocation in (first, second):
        allocated = next(n for n, s in serials.items() if s.id == allocation.serial_id)
        await pick(db, (await task_for(db, allocation.id)).id, _serial(scans[allocated]))

    assert {n: s.status for n, s in (await serials_of(db, laptop)).items()} == {
        "SN-1": S.PICKED,
        "SN-2": S.IN_INVENTORY,
        "SN-3": S.PICKED,
    }
    assert await order_state(db, order) == (OS.PICKED, [(2, 2, 2, 0)])


async def test_wrong_serial_labels_are_refused(db: Database) -> None:
    site = await make_site(db)
    laptop = await make_product(db, "LAPTOP", Tracking.SERIAL, gtin=LAPTOP_GTIN)
    await make_product(db, "VITC", Tracking.LOT, gtin=VITAMIN_GTIN)
    await stock_serials(db, site, laptop, "SN-1")
    order = await make_order(db, site, (laptop, 1))
    [allocation] = await allocate(db, order)
    task = await task_for(db, allocation.id)
    cases = [
        (f"(01){VITAMIN_GTIN}(21)SN-1", ErrorCode.GTIN_MISMATCH),
        (f"(01){LAPTOP_GTIN[:-1]}1(21)SN-1", ErrorCode.INVALID_SCAN),
        (f"(01){LAPTOP_GTIN}(10)LOT-1", ErrorCode.WRONG_LABEL),
        (f"]C101{LAPTOP_GTIN}99", ErrorCode.INVALID_SCAN),
        (f"(01){LAPTOP_GTIN}(21)SN-404", ErrorCode.UNKNOWN_SERIAL),
    ]
    for scan, code in cases:
        problems = await refused(db, _confirm(task.id, _serial(scan)))
        assert codes(problems) == [(code, "serialNumber")], scan

    await pick(db, task.id, _serial(f"(01){LAPTOP_GTIN}(21)SN-1"))
    assert (await serials_of(db, laptop))["SN-1"].status is S.PICKED


async def test_a_lot_is_picked_by_a_raw_scan_of_its_label(db: Database) -> None:
    site = await make_site(db, packing=True)
    vitamins = await make_product(db, "VITC", Tracking.LOT, gtin=VITAMIN_GTIN)
    await stock_lot(db, site, vitamins, "LOT-2025A", 10, EXPIRY)
    order = await make_order(db, site, (vitamins, 4))
    [allocation] = await allocate(db, order)
    scan = f"]C101{VITAMIN_GTIN}17251200" + "10lot-2025a"  # day 00: 31 December

    done = await pick(
        db, (await task_for(db, allocation.id)).id, PickConfirmation(lot_number=scan, quantity=4)
    )

    assert done.status is PickTaskStatus.DONE
    assert await order_state(db, order) == (OS.PICKED, [(4, 4, 4, 0)])


async def test_wrong_lot_labels_are_refused(db: Database) -> None:
    site = await make_site(db)
    vitamins = await make_product(db, "VITC", Tracking.LOT, gtin=VITAMIN_GTIN)
    await make_product(db, "LAPTOP", Tracking.SERIAL, gtin=LAPTOP_GTIN)
    await stock_lot(db, site, vitamins, "L-1", 5, date(2025, 7, 1))
    await stock_lot(db, site, vitamins, "L-2", 5, date(2025, 8, 1))
    order = await make_order(db, site, (vitamins, 3))
    await allocate(db, order)  # L-1, first to expire
    allocation, task = await _one_task(db, order)
    cases = [
        (f"(01){VITAMIN_GTIN}(17)250801(10)L-2", ErrorCode.WRONG_LOT),
        (f"(01){VITAMIN_GTIN}(17)250702(10)L-1", ErrorCode.EXPIRY_MISMATCH),
        (f"(01){LAPTOP_GTIN}(10)L-1", ErrorCode.GTIN_MISMATCH),
        (f"(01){VITAMIN_GTIN}(21)SN-1", ErrorCode.WRONG_LABEL),
        (f"(01){VITAMIN_GTIN}(17)250231(10)L-1", ErrorCode.INVALID_SCAN),
    ]
    for scan, code in cases:
        problems = await refused(db, _confirm(task.id, PickConfirmation(lot_number=scan)))
        assert codes(problems) == [(code, "lotNumber")], scan

    await pick(db, task.id, PickConfirmation(lot_number=f"(01){VITAMIN_GTIN}(17)250701(10)L-1"))
    assert (await get(db, Allocation, allocation.id)).picked_quantity == 3
