"""Each step of fulfilling an order costs a fixed number of SQL statements, and the steps
that write past the session's objects (one UPDATE where a read and a write were) leave
the order, the stock and the hash chain as right as before."""

import pytest
from sqlalchemy import func, select, text

from models import Movement, MovementKind, OutboundOrderStatus, Tracking
from services.audit import verify_chain
from services.picking import PickConfirmation
from services.shipping import create_shipment, dispatch_shipment
from tests.conftest import Database
from tests.services.builders import (
    Order,
    Site,
    allocate,
    make_order,
    make_product,
    make_site,
    movements,
    moves,
    order_state,
    pick,
    pick_tasks_of,
    reservations,
    stock_lot,
)


async def _fulfil(db: Database, site: Site, order: Order, lot_number: str) -> list[int]:
    """Allocate, pick, pack and dispatch a one-line lot order of 4; the statements of each
    step."""
    counts = []
    with db.count_statements() as counter:
        await allocate(db, order)
    counts.append(counter.count)
    [task] = await pick_tasks_of(db, order)
    with db.count_statements() as counter:
        await pick(db, task.id, PickConfirmation(lot_number=lot_number, quantity=4))
    counts.append(counter.count)
    with db.count_statements() as counter:
        async with db.sessions.begin() as session:
            shipment = await create_shipment(session, order_id=order.id)
    counts.append(counter.count)
    with db.count_statements() as counter:
        async with db.sessions.begin() as session:
            await dispatch_shipment(session, shipment_id=shipment.id, actor="packer")
    counts.append(counter.count)
    return counts


async def test_each_step_of_an_order_costs_a_fixed_number_of_statements(db: Database) -> None:
    # given a lot in storage, and a warehouse with a packing location
    site = await make_site(db, packing=True)
    vitamins = await make_product(db, "VIT", Tracking.LOT)
    lot = await stock_lot(db, site, vitamins, "L-1", 10)
    first = await make_order(db, site, (vitamins, 4), number="SO-1")
    second = await make_order(db, site, (vitamins, 4), number="SO-2")

    # when two orders are fulfilled, the second once the packing location holds a balance
    await _fulfil(db, site, first, "L-1")
    counts = await _fulfil(db, site, second, "l-1")

    # then (at each commit that writes a movement: on PostgreSQL one statement that locks
    # the chain's head, hashes and inserts the row and moves the head; on SQLite the head's
    # read, the row and the head's advance):
    chain = 1 if db.name == "postgresql" else 3
    assert counts == [
        # order, warehouse and lines; products; free stock; reserve, allocation, line and
        # order; pick tasks
        8 + chain,
        # task, allocation, order, line, lot and packing location; take from storage; add
        # to packing; allocation, line, task; the order's progress
        7 + chain,
        # the order marked packed; the shipment; the allocations into it
        3,
        # shipment, order, warehouse, allocations and lots; take from packing; line shipped;
        # allocation, shipment, order
        6 + chain,
    ]

    # and both orders shipped, the stock and its history are right, the chain holds
    for order in (first, second):
        assert await order_state(db, order) == (OutboundOrderStatus.SHIPPED, [(4, 4, 4, 4)])
    # (2 left in storage; the packing balance emptied, so not on hand)
    assert [(loc, q, a) for loc, _, q, a, _ in await reservations(db, vitamins)] == [
        (site.a01, 2, 0)
    ]
    picks = [(m[3], m[4], m[5]) for m in moves(await movements(db, kind=MovementKind.PICK))]
    assert picks == [(site.a01, site.packing, 4)] * 2
    ships = [(m[3], m[4], m[5]) for m in moves(await movements(db, kind=MovementKind.SHIP))]
    assert ships == [(site.packing, None, 4)] * 2
    assert {m.lot_id for m in await movements(db, document_type="ORDER")} == {lot}
    async with db.read_sessions() as session:
        check = await verify_chain(session)
    assert check.broken is None
    async with db.read_sessions() as session:
        assert check.checked == await session.scalar(select(func.count()).select_from(Movement))


async def test_a_movement_written_with_the_heads_advance_moves_the_id_sequence(
    db: Database,
) -> None:
    if db.name != "postgresql":
        pytest.skip("SQLite gives the next id from the table, with no sequence")
    # given a lot received and put away
    site = await make_site(db, packing=True)
    vitamins = await make_product(db, "VIT", Tracking.LOT)
    await stock_lot(db, site, vitamins, "L-1", 10)
    order = await make_order(db, site, (vitamins, 4))

    # when a commit writes one movement (on PostgreSQL, with the head's advance)
    await allocate(db, order)

    # then the id the table gives next follows the last movement's
    async with db.read_sessions() as session:
        highest = await session.scalar(select(func.max(Movement.id)))
        following = await session.scalar(text("SELECT nextval('movement_id_seq')"))
    assert highest is not None
    assert following == highest + 1
