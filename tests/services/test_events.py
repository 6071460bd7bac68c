"""The event bus: fan-out, bounded queues, NOTIFY payloads, and publishing only what
committed (both engines, each with the bus it runs in production)."""

import asyncio
import json
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import Movement, Product, ReceivingLine, Serial, Shipment, Tracking
from resolvers.context import Context
from resolvers.outcome import Refusal, attempt
from services.catalog import create_product
from services.errors import ErrorCode, Refused
from services.events import (
    MAX_PAYLOAD_BYTES,
    Event,
    EventBus,
    EventKind,
    FellBehind,
    InProcessBus,
    Subscriber,
    TooManySubscribers,
    decode_notification,
    encode_notifications,
    events_for_movement_ranges,
    id_ranges,
)
from services.outbound import allocate_order
from services.picking import PickConfirmation, confirm_pick
from services.queries import key_values
from services.receiving import LineReceipt, LotEntry, PlannedLine, plan_receiving_order, receive
from services.shipping import create_shipment, dispatch_shipment
from tests.conftest import Database
from tests.services.builders import (
    Order,
    Site,
    lot_product,
    make_order,
    make_site,
    pick_tasks_of,
    serial_product,
    stock_lot,
)
from trackline.events_pg import create_bus


def serial_event(serial_id: int, to_status: str = "RECEIVED", product_id: int = 1) -> Event:
    return Event(
        EventKind.SERIAL_STATUS,
        serial_id,
        warehouse_id=1,
        product_id=product_id,
        movement_ids=(serial_id * 10,),
        from_status="EXPECTED",
        to_status=to_status,
        actor="tester",
    )


async def received(subscriber: Subscriber, count: int, within: float = 10) -> list[Event]:
    """The next `count` events of `subscriber` (fails the test if they do not come)."""
    events: list[Event] = []
    batches = subscriber.batches()

    async def collect() -> None:
        async for batch in batches:
            events.extend(batch)
            if len(events) >= count:
                return

    await asyncio.wait_for(collect(), within)
    await batches.aclose()
    return events


# ---------------------------------------------------------------- fan-out


async def test_each_subscriber_gets_the_events_it_accepts_in_commit_order() -> None:
    # given a subscriber to everything about serials, one to product 2 only, one to lots
    bus = InProcessBus()
    everything = bus.subscribe({EventKind.SERIAL_STATUS})
    product_2 = bus.subscribe({EventKind.SERIAL_STATUS}, lambda e: e.product_id == 2)
    lots = bus.subscribe({EventKind.LOT_STOCK})
    events = [serial_event(1), serial_event(2, product_id=2), serial_event(3, product_id=2)]

    # when two commits are handed over
    bus.committed(events[:1])
    bus.committed(events[1:])

    # then each subscriber has what it asked for, in order, the same objects for all
    assert await received(everything, 3) == events
    got = await received(product_2, 2)
    assert got == events[1:]
    assert got[0] is events[1]
    assert lots._queue.empty()


async def test_a_subscriber_that_falls_behind_is_closed_and_its_queue_freed() -> None:
    # given a slow subscriber with room for 3 events and a fast one with room for 1000
    bus = InProcessBus()
    slow = bus.subscribe({EventKind.SERIAL_STATUS}, max_queue=3)
    fast = bus.subscribe({EventKind.SERIAL_STATUS})

    # when 5 events arrive before the slow one reads any
    bus.committed([serial_event(i) for i in range(5)])

    # then the slow one is closed: unsubscribed, queue emptied, and its reader told why
    assert slow.closed
    assert bus.subscriber_count == 1
    assert bus.dropped_subscribers == 1
    assert slow._queue.qsize() == 1  # only the wake-up marker
    # (no batch first: the events it missed are not handed to it)
    with pytest.raises(FellBehind, match="more than 3 events"):
        await anext(slow.batches())
    # and later events are not queued for it
    bus.committed([serial_event(9)])
    assert slow._queue.empty()
    # while the fast one has everything
    assert [e.subject_id for e in await received(fast, 6)] == [0, 1, 2, 3, 4, 9]


async def test_leaving_unsubscribes_and_stopping_the_bus_ends_every_subscription() -> None:
    bus = InProcessBus()
    with bus.subscribe({EventKind.ORDER}):
        assert bus.subscriber_count == 1
    assert bus.subscriber_count == 0

    waiting = bus.subscribe({EventKind.ORDER})
    batches: list[list[Event]] = []

    async def read() -> None:
        async for batch in waiting.batches():
            batches.append(batch)

    reader = asyncio.create_task(read())
    await asyncio.sleep(0)
    await bus.stop()
    await asyncio.wait_for(reader, 5)  # ended without error
    assert batches == []


def test_a_process_serves_at_most_its_maximum_of_subscribers() -> None:
    bus = EventBus(max_subscribers=2)
    bus.subscribe({EventKind.ORDER})
    bus.subscribe({EventKind.LOT_STOCK})
    with pytest.raises(TooManySubscribers):
        bus.subscribe({EventKind.ORDER})


# ---------------------------------------------------------------- NOTIFY payloads


def test_a_small_commit_is_one_notification_that_decodes_to_the_same_events() -> None:
    events = [serial_event(1), Event(EventKind.ORDER, 7, 1, None, (), "OPEN", "ALLOCATED", "ann")]
    events = [Event(e.kind, e.subject_id, e.warehouse_id, e.product_id, e.movement_ids,
                    e.from_status, e.to_status, "ann") for e in events]  # fmt: skip

    payloads = encode_notifications(events)

    assert len(payloads) == 1
    decoded = decode_notification(payloads[0])
    assert decoded.events == events
    assert decoded.movement_ranges == []


def test_payloads_stay_under_the_postgresql_limit_and_big_commits_send_a_summary() -> None:
    # a few hundred events: several notifications, each under 8000 bytes, nothing lost
    medium = [serial_event(i) for i in range(1, 301)]
    payloads = encode_notifications(medium)
    assert len(payloads) > 1
    assert all(len(p.encode()) <= MAX_PAYLOAD_BYTES < 8000 for p in payloads)
    assert [e for p in payloads for e in decode_notification(p).events] == medium

    # thousands: a summary of movement id ranges instead (consecutive ids: one range)
    big = [
        Event(EventKind.SERIAL_STATUS, i, 1, 1, (1000 + i,), "EXPECTED", "RECEIVED", "t")
        for i in range(5000)
    ]
    summary = encode_notifications(big)
    assert len(summary) == 1
    decoded = decode_notification(summary[0])
    assert decoded.events == []
    assert decoded.movement_ranges == [(1000, 5999)]


def test_a_summary_covers_exactly_the_movement_ids() -> None:
    events = [
        Event(EventKind.SERIAL_STATUS, i, 1, 1, (1000 + i,), "EXPECTED", "RECEIVED", "t")
        for i in range(3000)
    ] + [Event(EventKind.SERIAL_STATUS, 5000, 1, 1, (9000,), None, "EXPECTED", "t")]

    payloads = encode_notifications(events)

    ranges = [r for p in payloads for r in decode_notification(p).movement_ranges]
    assert ranges == [(1000, 3999), (9000, 9000)]
    assert all(len(p.encode()) <= MAX_PAYLOAD_BYTES for p in payloads)
    assert id_ranges([5, 3, 4, 9, 11, 10]) == [[3, 5], [9, 11]]
    assert json.loads(payloads[0])["a"] == "t"


# ---------------------------------------------------------------- publishing after commit


async def _plan(
    session: AsyncSession, site: Site, product_id: int, number: str, serials: Sequence[str]
) -> int:
    order = await plan_receiving_order(
        session,
        number=number,
        warehouse_id=site.warehouse_id,
        lines=[PlannedLine(product_id, len(serials), list(serials))],
        actor="planner",
    )
    return order.id


async def _movement_ids(db: Database, serial_ids: Sequence[int]) -> dict[int, list[int]]:
    async with db.read_sessions() as session:
        rows = await session.execute(
            select(Movement.serial_id, Movement.id)
            .where(Movement.serial_id.in_(serial_ids))
            .order_by(Movement.id)
        )
        found: dict[int, list[int]] = {i: [] for i in serial_ids}
        for serial_id, movement_id in rows:
            assert serial_id is not None
            found[serial_id].append(movement_id)
        return found


async def test_events_are_handed_over_only_after_the_commit(db: Database) -> None:
    # given a subscriber to serial and ASN changes
    site = await make_site(db)
    laptop = await serial_product(db)
    bus = InProcessBus()
    serials = bus.subscribe({EventKind.SERIAL_STATUS})
    asns = bus.subscribe({EventKind.RECEIVING_ORDER})
    ctx = Context(db.sessions, db.read_sessions, actor="planner", bus=bus)

    # when an ASN with two serials is planned
    async with ctx.write() as session:
        order_id = await _plan(session, site, laptop, "ASN-1", ["SN-1", "SN-2"])
        await session.flush()
        # then nothing is published while the transaction is open
        assert bus.delivered_events == 0

    # and once it has committed, one event per serial and one for the ASN
    got = await received(serials, 2)
    async with db.read_sessions() as session:
        rows = list(await session.scalars(select(Serial).order_by(Serial.id)))
    movements = await _movement_ids(db, [s.id for s in rows])
    assert got == [
        Event(
            EventKind.SERIAL_STATUS,
            serial.id,
            site.warehouse_id,
            laptop,
            tuple(movements[serial.id]),
            None,
            "EXPECTED",
            "planner",
        )
        for serial in rows
    ]
    assert await received(asns, 1) == [
        Event(EventKind.RECEIVING_ORDER, order_id, site.warehouse_id, None, (), None, "PLANNED",
              "planner")
    ]  # fmt: skip


async def test_a_receipt_publishes_serial_lot_and_asn_changes(db: Database) -> None:
    # given an ASN for two serials and a lot-tracked line
    site = await make_site(db)
    laptop = await serial_product(db)
    vitamins = await lot_product(db)
    async with db.sessions.begin() as session:
        order = await plan_receiving_order(
            session,
            number="ASN-2",
            warehouse_id=site.warehouse_id,
            lines=[PlannedLine(laptop, 2, ["SN-1", "SN-2"]), PlannedLine(vitamins, 10)],
            actor="planner",
        )
        line_ids = list(
            await session.scalars(
                select(ReceivingLine.id)
                .where(ReceivingLine.order_id == order.id)
                .order_by(ReceivingLine.line_number)
            )
        )
    bus = InProcessBus()
    everything = bus.subscribe(set(EventKind))
    ctx = Context(db.sessions, db.read_sessions, actor="receiver", bus=bus)

    # when both lines are received in one call
    async with ctx.write() as session:
        await receive(
            session,
            order_id=order.id,
            lines=[
                LineReceipt(line_ids[0], serial_numbers=["SN-1", "SN-2"]),
                LineReceipt(line_ids[1], lots=[LotEntry("L-1", 10)]),
            ],
            actor="receiver",
        )

    # then: both serials EXPECTED -> RECEIVED, the lot's receipt, the ASN now RECEIVED
    got = await received(everything, 4)
    assert [(e.kind, e.from_status, e.to_status) for e in got] == [
        (EventKind.SERIAL_STATUS, "EXPECTED", "RECEIVED"),
        (EventKind.SERIAL_STATUS, "EXPECTED", "RECEIVED"),
        (EventKind.LOT_STOCK, None, None),
        (EventKind.RECEIVING_ORDER, "PLANNED", "RECEIVED"),
    ]
    assert {e.warehouse_id for e in got} == {site.warehouse_id}
    assert {e.actor for e in got} == {"receiver"}
    assert got[2].product_id == vitamins
    assert len(got[2].movement_ids) == 1

    # and a summary of the same movements rebuilds the same movement events
    ranges = [(lo, hi) for lo, hi in id_ranges(i for e in got for i in e.movement_ids)]
    async with db.read_sessions() as session:
        rebuilt = await events_for_movement_ranges(session, ranges, "receiver")
    assert rebuilt == got[:3]


async def _lot_order(db: Database) -> tuple[Site, Order]:
    """A site with a packing station, lot L-1 of a product in stock (10), an order for 4."""
    site = await make_site(db, packing=True)
    vitamins = await lot_product(db)
    await stock_lot(db, site, vitamins, "L-1", 10)
    return site, await make_order(db, site, (vitamins, 4))


async def test_every_step_of_an_order_publishes_its_status(db: Database) -> None:
    # given an order for a lot, and a subscriber to orders
    site, order = await _lot_order(db)
    bus = InProcessBus()
    orders = bus.subscribe({EventKind.ORDER})
    ctx = Context(db.sessions, db.read_sessions, actor="packer", bus=bus)
    scan = PickConfirmation(lot_number="l-1", quantity=4)

    # when it is allocated, picked, packed and dispatched, one call each
    await attempt(ctx, lambda s: allocate_order(s, order_id=order.id, actor="packer"))
    [task] = await pick_tasks_of(db, order)
    await attempt(ctx, lambda s: confirm_pick(s, task_id=task.id, scan=scan, actor="packer"))
    packed = await attempt(ctx, lambda s: create_shipment(s, order_id=order.id))
    assert isinstance(packed, Shipment)
    await attempt(ctx, lambda s: dispatch_shipment(s, shipment_id=packed.id, actor="packer"))

    # then each step's status change is published, whichever way it was written
    got = await received(orders, 4)
    assert [(e.subject_id, e.from_status, e.to_status) for e in got] == [
        (order.id, "OPEN", "ALLOCATED"),
        (order.id, "ALLOCATED", "PICKED"),
        (order.id, "PICKED", "PACKED"),
        (order.id, "PACKED", "SHIPPED"),
    ]
    assert {(e.warehouse_id, e.actor) for e in got} == {(site.warehouse_id, "packer")}


async def test_the_chains_head_is_taken_after_the_events_are_read(db: Database) -> None:
    # given a picked order for a lot, whose movements name locations, not a warehouse
    _, order = await _lot_order(db)
    bus = InProcessBus()
    ctx = Context(db.sessions, db.read_sessions, actor="picker", bus=bus)
    await attempt(ctx, lambda s: allocate_order(s, order_id=order.id, actor="picker"))
    lots = bus.subscribe({EventKind.LOT_STOCK})
    [task] = await pick_tasks_of(db, order)
    scan = PickConfirmation(lot_number="L-1", quantity=4)
    async with db.read_sessions() as session:
        before = await session.scalar(select(func.max(Movement.id)))

    # when the pick is confirmed, which moves the lot and sets the order's status
    with db.count_statements() as counted:
        await attempt(ctx, lambda s: confirm_pick(s, task_id=task.id, scan=scan, actor="picker"))

    # then everything the events read (the order's status, the locations' warehouse) is
    # read before the chain's head is taken: from then to the commit, which every other
    # writer of movements waits for, only the chain's own statements run
    statements = [" ".join(s.split()).lower() for s in counted.statements]
    taken = next(i for i, s in enumerate(statements) if "movement_chain" in s)
    assert any("from location" in s for s in statements[:taken])
    assert any(s.startswith("update outbound_order") for s in statements[:taken])
    assert all(
        s.startswith(("insert into movement ", "update movement_chain "))
        for s in statements[taken + 1 :]
    ), statements[taken:]
    # and the event names the pick's movements by the ids the chain gave them
    [event] = await received(lots, 1)
    async with db.read_sessions() as session:
        picked = await session.scalars(
            select(Movement.id).where(Movement.id > before).order_by(Movement.id)
        )
        assert event.movement_ids == tuple(picked)


async def _create_then_refuse(session: AsyncSession) -> None:
    await create_product(session, sku="NEVER", name="Never", tracking=Tracking.SERIAL)
    raise Refused.one(ErrorCode.INVALID_VALUE, "changed my mind")


async def test_a_refused_or_failed_write_publishes_nothing(db: Database) -> None:
    # given a subscriber to everything, and an ASN that a use case will half-write
    site = await make_site(db)
    laptop = await serial_product(db)
    bus = InProcessBus()
    everything = bus.subscribe(set(EventKind))
    ctx = Context(db.sessions, db.read_sessions, bus=bus)

    async def plan_then_refuse(session: AsyncSession) -> None:
        await _plan(session, site, laptop, "ASN-R", ["SN-R1"])
        raise Refused.one(ErrorCode.INVALID_VALUE, "no")

    async def plan_then_conflict(session: AsyncSession) -> None:
        await _plan(session, site, laptop, "ASN-C", ["SN-C1"])
        raise IntegrityError("INSERT", {}, Exception("unique"))

    async def plan_then_crash(session: AsyncSession) -> None:
        await _plan(session, site, laptop, "ASN-X", ["SN-X1"])
        raise RuntimeError("boom")

    # when a use case writes and is then refused, loses a race, or fails
    assert isinstance(await attempt(ctx, plan_then_refuse), Refusal)
    assert isinstance(await attempt(ctx, plan_then_conflict), Refusal)
    with pytest.raises(RuntimeError):
        await attempt(ctx, plan_then_crash)
    assert isinstance(await attempt(ctx, _create_then_refuse), Refusal)

    # then nothing was published, and nothing was written
    assert bus.delivered_events == 0
    assert everything._queue.empty()
    async with db.read_sessions() as session:
        assert list(await session.scalars(select(Serial))) == []
        assert await session.scalar(select(Product).where(Product.sku == "NEVER")) is None

    # while the next successful write is published
    await attempt(ctx, lambda session: _plan(session, site, laptop, "ASN-OK", ["SN-OK"]))
    assert [e.kind for e in await received(everything, 2)] == [
        EventKind.SERIAL_STATUS,
        EventKind.RECEIVING_ORDER,
    ]


async def test_the_engines_bus_delivers_small_and_very_large_commits(
    db: Database, production_bus: EventBus
) -> None:
    # given a subscriber to serial changes of one product, on the engine's own bus
    site = await make_site(db)
    laptop = await serial_product(db)
    other = await serial_product(db, "OTHER")
    bus = production_bus
    mine = bus.subscribe({EventKind.SERIAL_STATUS}, lambda e: e.product_id == laptop)
    ctx = Context(db.sessions, db.read_sessions, actor="planner", bus=bus)

    # when one commit plans a serial of another product, the next 800 of this one (far
    # beyond a few notifications: PostgreSQL gets a summary), and a third one more
    await attempt(ctx, lambda s: _plan(s, site, other, "ASN-O", ["O-1"]))
    numbers = [f"SN-{i:04d}" for i in range(800)]
    await attempt(ctx, lambda s: _plan(s, site, laptop, "ASN-BIG", numbers))
    await attempt(ctx, lambda s: _plan(s, site, laptop, "ASN-ONE", ["SN-LAST"]))

    # then the subscriber gets exactly this product's 801 serials, in commit order
    got = await received(mine, 801, within=30)
    async with db.read_sessions() as session:
        ids = await key_values(session, select(Serial.serial_number, Serial.id))
    assert [e.subject_id for e in got] == [ids[n] for n in [*numbers, "SN-LAST"]]
    assert {(e.to_status, e.warehouse_id, e.actor) for e in got} == {
        ("EXPECTED", site.warehouse_id, "planner")
    }
    assert all(len(e.movement_ids) == 1 for e in got)


async def test_the_listener_connects_where_it_is_told(db: Database) -> None:
    """TRACKLINE_LISTEN_URL: past a transaction-mode pooler the LISTEN connection goes to
    PostgreSQL directly (docs/scaling.md)."""
    if db.name != "postgresql":
        pytest.skip("SQLite's bus is in-process")
    nowhere = make_url(db.url).set(host="127.0.0.1", port=1).render_as_string(False)
    elsewhere = make_url(db.url).set(host="localhost").render_as_string(False)
    for listen_url, listens in ((nowhere, False), (elsewhere, True)):
        bus = create_bus(db.url, db.read_sessions, listen_url)
        await bus.start()
        try:
            for _ in range(40):
                if bus.health()["listening"]:
                    break
                await asyncio.sleep(0.05)
            assert bus.health()["listening"] is listens, listen_url
        finally:
            await bus.stop()
