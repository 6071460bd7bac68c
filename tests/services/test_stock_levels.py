"""Stock figures: on hand, allocated and available per location, through the journey from
the dock to dispatch, and for held and expired lots."""

from datetime import UTC, date, datetime

from models import Tracking
from services.putaway import Placement
from services.receiving import LineReceipt, LotEntry
from services.shipping import create_shipment, dispatch_shipment
from services.stock_levels import positions_by_lot, positions_by_product
from tests.conftest import Database
from tests.services.builders import (
    ACTOR,
    NOW,
    Order,
    allocate,
    expect,
    hold_lot,
    lot_product,
    make_order,
    make_product,
    make_site,
    pick,
    pick_all,
    plain_product,
    plan_asn,
    put_away,
    receive_lines,
    scan_for,
    serial_product,
    stock_lot,
    stock_plain,
    task_for,
)

Figures = list[tuple[int, int | None, int, int, int]]


async def _levels(db: Database, product_id: int, now: datetime = NOW) -> Figures:
    """(location, lot, on hand, allocated, available) of each position of the product."""
    async with db.read_sessions() as session:
        [positions] = await positions_by_product(session, [product_id], now=now)
    assert {p.product_id for p in positions} <= {product_id}
    return [(p.location_id, p.lot_id, p.on_hand, p.allocated, p.available) for p in positions]


async def _ship(db: Database, order: Order) -> None:
    async with db.sessions.begin() as session:
        shipment = await create_shipment(session, order_id=order.id)
    async with db.sessions.begin() as session:
        await dispatch_shipment(session, shipment_id=shipment.id, actor=ACTOR, now=NOW)


async def test_lot_figures_from_dock_to_dispatch(db: Database) -> None:
    site = await make_site(db, packing=True)
    pack = site.packing
    assert pack is not None
    product = await lot_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(product, 10))
    result = await receive_lines(
        db, asn, LineReceipt(asn.line_ids[0], lots=[LotEntry("L-1", 10, date(2025, 12, 31))])
    )
    [lot] = result.lots
    # on the dock: here, but not yet available
    assert await _levels(db, product) == [(site.dock, lot.id, 10, 0, 0)]

    await put_away(db, result.putaway_tasks[0].id, Placement(site.a01, 6), Placement(site.a02, 4))
    assert await _levels(db, product) == [
        (site.a01, lot.id, 6, 0, 6),
        (site.a02, lot.id, 4, 0, 4),
    ]

    order = await make_order(db, site, (product, 7))
    first, second = await allocate(db, order)
    assert await _levels(db, product) == [
        (site.a01, lot.id, 6, 6, 0),
        (site.a02, lot.id, 4, 1, 3),
    ]

    await pick(db, (await task_for(db, first.id)).id, await scan_for(db, first))
    assert await _levels(db, product) == [
        (site.a02, lot.id, 4, 1, 3),
        (pack, lot.id, 6, 6, 0),
    ]
    await pick(db, (await task_for(db, second.id)).id, await scan_for(db, second))
    assert await _levels(db, product) == [
        (site.a02, lot.id, 3, 0, 3),
        (pack, lot.id, 7, 7, 0),
    ]

    await _ship(db, order)
    assert await _levels(db, product) == [(site.a02, lot.id, 3, 0, 3)]
    async with db.read_sessions() as session:
        [by_lot] = await positions_by_lot(session, [lot.id], now=NOW)
    assert [(p.location_id, p.on_hand, p.allocated, p.available) for p in by_lot] == [
        (site.a02, 3, 0, 3)
    ]


async def test_serial_figures_from_dock_to_dispatch(db: Database) -> None:
    site = await make_site(db, packing=True)
    pack = site.packing
    assert pack is not None
    product = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(product, 3))
    result = await receive_lines(
        db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["SN-1", "SN-2", "SN-3"])
    )
    assert await _levels(db, product) == [(site.dock, None, 3, 0, 0)]

    await put_away(db, result.putaway_tasks[0].id, Placement(site.a01, 3))
    assert await _levels(db, product) == [(site.a01, None, 3, 0, 3)]

    order = await make_order(db, site, (product, 2))
    first, _second = await allocate(db, order)
    assert await _levels(db, product) == [(site.a01, None, 3, 2, 1)]

    await pick(db, (await task_for(db, first.id)).id, await scan_for(db, first))
    assert await _levels(db, product) == [(site.a01, None, 2, 1, 1), (pack, None, 1, 1, 0)]

    await pick_all(db, order)
    assert await _levels(db, product) == [(site.a01, None, 1, 0, 1), (pack, None, 2, 2, 0)]

    await _ship(db, order)
    assert await _levels(db, product) == [(site.a01, None, 1, 0, 1)]


async def test_untracked_figures_follow_allocation_and_dispatch(db: Database) -> None:
    site = await make_site(db)  # no packing: picked goods wait on their shelf
    product = await plain_product(db)
    await stock_plain(db, site, product, 5)
    order = await make_order(db, site, (product, 2))
    await allocate(db, order)
    assert await _levels(db, product) == [(site.a01, None, 5, 2, 3)]
    await pick_all(db, order)
    assert await _levels(db, product) == [(site.a01, None, 5, 2, 3)]
    await _ship(db, order)
    assert await _levels(db, product) == [(site.a01, None, 3, 0, 3)]


async def test_held_and_expired_lots_are_on_hand_but_not_available(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    expiring = await stock_lot(db, site, product, "L-EXP", 3, date(2025, 6, 10))
    undated = await stock_lot(db, site, product, "L-UNDATED", 2, None)
    held = await stock_lot(db, site, product, "L-HELD", 4, None, Placement(site.a02, 4))
    await hold_lot(db, held)

    expiry_day = datetime(2025, 6, 10, 23, 0, tzinfo=UTC)
    assert await _levels(db, product, expiry_day) == [
        (site.a01, expiring, 3, 0, 3),
        (site.a01, undated, 2, 0, 2),
        (site.a02, held, 4, 0, 0),
    ]
    day_after = datetime(2025, 6, 11, 0, 0, tzinfo=UTC)
    assert await _levels(db, product, day_after) == [
        (site.a01, expiring, 3, 0, 0),
        (site.a01, undated, 2, 0, 2),
        (site.a02, held, 4, 0, 0),
    ]
    async with db.read_sessions() as session:
        by_lot = await positions_by_lot(session, [held, expiring], now=day_after)
    assert [[(p.on_hand, p.available) for p in positions] for positions in by_lot] == [
        [(4, 0)],
        [(3, 0)],
    ]

    await hold_lot(db, held, on_hold=False)
    assert await _levels(db, product, day_after) == [
        (site.a01, expiring, 3, 0, 0),
        (site.a01, undated, 2, 0, 2),
        (site.a02, held, 4, 0, 4),
    ]


async def test_expiry_is_judged_by_the_warehouse_calendar(db: Database) -> None:
    auckland = await make_site(db, "AKL", time_zone="Pacific/Auckland")
    los_angeles = await make_site(db, "LAX", time_zone="America/Los_Angeles")
    product = await lot_product(db)
    nz = await stock_lot(db, auckland, product, "L-NZ", 2, date(2025, 6, 10))
    us = await stock_lot(
        db, los_angeles, product, "L-US", 3, date(2025, 6, 10), Placement(los_angeles.a01, 3)
    )
    # 12:30 UTC on 10 June: 11 June in Auckland, still 10 June in Los Angeles
    async with db.read_sessions() as session:
        found = await positions_by_lot(
            session, [nz, us], now=datetime(2025, 6, 10, 12, 30, tzinfo=UTC)
        )
    assert [[(p.warehouse_id, p.on_hand, p.available) for p in ps] for ps in found] == [
        [(auckland.warehouse_id, 2, 0)],
        [(los_angeles.warehouse_id, 3, 3)],
    ]


async def test_figures_come_back_per_product_in_the_order_asked(db: Database) -> None:
    site = await make_site(db)
    lot = await lot_product(db)
    plain = await plain_product(db)
    empty = await make_product(db, "EMPTY", Tracking.SERIAL)
    await stock_lot(db, site, lot, "L-1", 2)
    await stock_plain(db, site, plain, 3)
    async with db.read_sessions() as session:
        found = await positions_by_product(session, [plain, empty, lot], now=NOW)
    assert [[(p.product_id, p.on_hand) for p in ps] for ps in found] == [
        [(plain, 3)],
        [],
        [(lot, 2)],
    ]
