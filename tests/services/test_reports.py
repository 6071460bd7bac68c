"""Reports on a known data set (tests/services/report_data.py), at a fixed moment.

The moment, 2025-06-05 22:30 UTC, is already 6 June in Amsterdam (WH1) and still 5 June in
New York (WH2), so each warehouse's "today" differs from the server's date one way or the
other.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from models import MovementKind, SerialStatus
from services import reports
from services.errors import ErrorCode, Refused
from services.outbound import OrderLineSpec, allocate_order, create_order
from services.reports import MovementFilter
from tests.conftest import Database
from tests.services.builders import ACTOR
from tests.services.report_data import ReportData, build_report_data

REPORT_NOW = datetime(2025, 6, 5, 22, 30, tzinfo=UTC)
WH1_TODAY = date(2025, 6, 6)  # Europe/Amsterdam at REPORT_NOW
RECEIVED_AT = REPORT_NOW - timedelta(days=10)
S = SerialStatus


@pytest.fixture
async def data(db: Database) -> ReportData:
    return await build_report_data(db, today=WH1_TODAY, received_at=RECEIVED_AT)


async def test_serial_inventory_counts_by_product_warehouse_and_status(
    db: Database, data: ReportData
) -> None:
    async with db.read_sessions() as session:
        rows = await reports.serial_inventory(session)
        only_wh2 = await reports.serial_inventory(session, warehouse_id=data.wh2.warehouse_id)
        of_box = await reports.serial_inventory(session, product_id=data.box)

    # the released S-9 never was an item here: not counted
    assert [(r.sku, r.warehouse_code, r.status, r.count) for r in rows] == [
        ("SER", "WH1", S.EXPECTED, 1),
        ("SER", "WH1", S.RECEIVED, 1),
        ("SER", "WH1", S.IN_INVENTORY, 2),
        ("SER", "WH2", S.IN_INVENTORY, 1),
    ]
    assert [(r.warehouse_code, r.status, r.count) for r in only_wh2] == [("WH2", S.IN_INVENTORY, 1)]
    assert of_box == []


async def test_serial_inventory_by_location_counts_what_is_here(
    db: Database, data: ReportData
) -> None:
    async with db.read_sessions() as session:
        rows = await reports.serial_inventory_by_location(session)
        wh1 = await reports.serial_inventory_by_location(
            session, warehouse_id=data.wh1.warehouse_id, product_id=data.ser
        )

    # EXPECTED S-4 is nowhere yet
    assert [(r.warehouse_code, r.location_code, r.status, r.count) for r in rows] == [
        ("WH1", "A-01", S.IN_INVENTORY, 1),
        ("WH1", "A-02", S.IN_INVENTORY, 1),
        ("WH1", "DOCK", S.RECEIVED, 1),
        ("WH2", "A-01", S.IN_INVENTORY, 1),
    ]
    assert [r.location_id for r in rows[:3]] == [data.wh1.a01, data.wh1.a02, data.wh1.dock]
    assert len(wh1) == 3


async def test_serial_locations_lists_each_serial_here_in_location_order(
    db: Database, data: ReportData
) -> None:
    async with db.read_sessions() as session:
        every = [r async for r in reports.serial_locations(session)]
        at_a01 = [
            r
            async for r in reports.serial_locations(
                session, warehouse_id=data.wh1.warehouse_id, location_id=data.wh1.a01
            )
        ]

    assert [(r.warehouse_code, r.location_code, r.serial_number, r.status) for r in every] == [
        ("WH1", "A-01", "S-1", S.IN_INVENTORY),
        ("WH1", "A-02", "S-2", S.IN_INVENTORY),
        ("WH1", "DOCK", "S-3", S.RECEIVED),
        ("WH2", "A-01", "S-20", S.IN_INVENTORY),
    ]
    assert [r.serial_number for r in at_a01] == ["S-1"]
    assert every[0].received_at == RECEIVED_AT


async def test_lot_inventory_is_in_fefo_order_with_days_to_expiry_in_local_time(
    db: Database, data: ReportData
) -> None:
    async with db.read_sessions() as session:
        rows = await reports.lot_inventory(session, now=REPORT_NOW)

    assert [
        (
            r.warehouse_code,
            r.lot_number,
            r.location_code,
            r.quantity,
            r.allocated_quantity,
            r.days_to_expiry,
            r.expired,
        )
        for r in rows
    ] == [
        # WH1's today is 6 June: L-EXPIRED (5 June) is expired, L-TODAY (6 June) is not
        ("WH1", "L-EXPIRED", "A-01", 3, 0, -1, True),
        ("WH1", "L-TODAY", "DOCK", 2, 0, 0, False),
        # equal expiry: the lot received first comes first
        ("WH1", "L-SOON", "A-02", 5, 0, 4, False),
        ("WH1", "L-SOON-B", "A-01", 4, 0, 4, False),
        ("WH1", "L-LATER", "A-01", 6, 0, 14, False),
        ("WH1", "L-LATER", "A-02", 4, 0, 14, False),
        ("WH1", "L-UNDATED", "A-01", 7, 0, None, False),
        # WH2's today is still 5 June: the same lot is on its expiry day there, not expired
        ("WH2", "L-EXPIRED", "A-01", 1, 0, 0, False),
    ]
    assert {r.sku for r in rows} == {"VIT"}  # untracked boxes are no lot stock
    assert rows[0].expiry_date == date(2025, 6, 5)
    assert rows[-2].expiry_date is None


async def test_lot_inventory_shows_allocated_and_available(db: Database, data: ReportData) -> None:
    # given an order for 3 VIT in WH1, allocated FEFO from the first storable lot
    async with db.sessions.begin() as session:
        order = await create_order(
            session,
            number="SO-1",
            warehouse_id=data.wh1.warehouse_id,
            lines=[OrderLineSpec(data.vit, 3)],
        )
        await allocate_order(session, order_id=order.id, actor=ACTOR, now=REPORT_NOW)

    async with db.read_sessions() as session:
        rows = await reports.lot_inventory(
            session, now=REPORT_NOW, warehouse_id=data.wh1.warehouse_id, product_id=data.vit
        )

    soon = [r for r in rows if r.lot_number == "L-SOON"]
    assert [(r.quantity, r.allocated_quantity, r.available_quantity) for r in soon] == [(5, 3, 2)]
    assert sum(r.allocated_quantity for r in rows) == 3
    assert {r.warehouse_code for r in rows} == {"WH1"}


async def test_expiring_lots_within_days_include_the_expired_still_on_hand(
    db: Database, data: ReportData
) -> None:
    async with db.read_sessions() as session:
        within_4 = await reports.expiring_lots(session, now=REPORT_NOW, days=4)
        within_13 = await reports.expiring_lots(session, now=REPORT_NOW, days=13)
        within_14 = await reports.expiring_lots(session, now=REPORT_NOW, days=14)
        today_only = await reports.expiring_lots(session, now=REPORT_NOW, days=0)

    assert [
        (r.warehouse_code, r.lot_number, r.days_to_expiry, r.expired, r.quantity, r.location_codes)
        for r in within_4
    ] == [
        ("WH1", "L-EXPIRED", -1, True, 3, ("A-01",)),
        ("WH2", "L-EXPIRED", 0, False, 1, ("A-01",)),
        ("WH1", "L-TODAY", 0, False, 2, ("DOCK",)),
        ("WH1", "L-SOON", 4, False, 5, ("A-02",)),
        ("WH1", "L-SOON-B", 4, False, 4, ("A-01",)),
    ]
    assert [r.lot_number for r in within_13] == [r.lot_number for r in within_4]
    # the last day of the window is in it; two locations make one row per warehouse
    later = within_14[-1]
    assert (later.lot_number, later.quantity, later.location_codes) == (
        "L-LATER",
        10,
        ("A-01", "A-02"),
    )
    assert later.days_to_expiry == 14
    assert later.expiry_date == date(2025, 6, 20)
    assert [(r.warehouse_code, r.lot_number) for r in today_only] == [
        ("WH1", "L-EXPIRED"),
        ("WH2", "L-EXPIRED"),
        ("WH1", "L-TODAY"),
    ]


async def test_expiring_lots_narrow_by_warehouse_and_product(
    db: Database, data: ReportData
) -> None:
    async with db.read_sessions() as session:
        wh2 = await reports.expiring_lots(
            session, now=REPORT_NOW, days=30, warehouse_id=data.wh2.warehouse_id
        )
        boxes = await reports.expiring_lots(session, now=REPORT_NOW, days=30, product_id=data.box)

    assert [(r.warehouse_code, r.lot_number) for r in wh2] == [("WH2", "L-EXPIRED")]
    assert boxes == []


@pytest.mark.parametrize("days", [-1, reports.MAX_EXPIRY_WINDOW_DAYS + 1])
async def test_expiring_lots_refuse_a_window_out_of_range(db: Database, days: int) -> None:
    async with db.read_sessions() as session:
        with pytest.raises(Refused) as refused:
            await reports.expiring_lots(session, now=REPORT_NOW, days=days)
    assert [(p.code, p.field) for p in refused.value.problems] == [
        (ErrorCode.INVALID_VALUE, "days")
    ]


async def test_lot_movement_history_of_one_lot_with_locations_spelled_out(
    db: Database, data: ReportData
) -> None:
    where = MovementFilter(lot_id=data.lots["L-LATER"])
    async with db.read_sessions() as session:
        lines = [line async for line in reports.lot_movement_lines(session, where)]
        paged = list(await session.scalars(reports.lot_movements_query(where)))

    assert [
        (m.kind, m.quantity, m.from_location_code, m.to_location_code, m.document_number)
        for m in lines
    ] == [
        (MovementKind.RECEIVE, 10, None, "DOCK", "ASN-LOTS-1"),
        (MovementKind.PUTAWAY, 6, "DOCK", "A-01", "ASN-LOTS-1"),
        (MovementKind.PUTAWAY, 4, "DOCK", "A-02", "ASN-LOTS-1"),
    ]
    assert {m.lot_number for m in lines} == {"L-LATER"}
    assert {m.actor for m in lines} == {ACTOR}
    assert [m.id for m in paged] == [m.movement_id for m in lines]


async def test_lot_movement_history_narrows_by_warehouse_kind_and_time(
    db: Database, data: ReportData
) -> None:
    async with db.read_sessions() as session:
        in_wh2 = [
            m
            async for m in reports.lot_movement_lines(
                session, MovementFilter(warehouse_id=data.wh2.warehouse_id)
            )
        ]
        receipts = [
            m
            async for m in reports.lot_movement_lines(
                session, MovementFilter(product_id=data.vit, kinds=[MovementKind.RECEIVE])
            )
        ]
        every = [m async for m in reports.lot_movement_lines(session, MovementFilter())]
    # movements are stamped when written; split the history at one of them
    middle = every[len(every) // 2]
    async with db.read_sessions() as session:
        before = [
            m
            async for m in reports.lot_movement_lines(
                session, MovementFilter(until=middle.occurred_at)
            )
        ]
        after = [
            m
            async for m in reports.lot_movement_lines(
                session, MovementFilter(since=middle.occurred_at)
            )
        ]

    assert [(m.lot_number, m.kind, m.to_location_code) for m in in_wh2] == [
        ("L-EXPIRED", MovementKind.RECEIVE, "DOCK"),
        ("L-EXPIRED", MovementKind.PUTAWAY, "A-01"),
    ]
    assert [m.lot_number for m in receipts] == [
        "L-EXPIRED",
        "L-TODAY",
        "L-SOON",
        "L-LATER",
        "L-UNDATED",
        "L-SOON-B",
        "L-EXPIRED",
    ]
    # since is inclusive and until exclusive: together they are the whole history, once
    assert [m.movement_id for m in before + after] == [m.movement_id for m in every]
    assert before
    assert after[0].occurred_at >= middle.occurred_at
    # serial movements are not lot history
    assert len(every) == 7 + 7  # seven receipts, seven putaways (L-LATER split in two)


async def test_report_scope_names_what_it_cannot_find(db: Database, data: ReportData) -> None:
    async with db.read_sessions() as session:
        scope = await reports.report_scope(
            session, sku="VIT", warehouse_code="WH1", location_code="A-02", lot_number="l-soon"
        )
        with pytest.raises(Refused) as refused:
            await reports.report_scope(
                session, sku="NOPE", warehouse_code="WH9", location_code="A-01"
            )

    assert scope == reports.ReportScope(
        data.vit, data.wh1.warehouse_id, data.wh1.a02, data.lots["L-SOON"]
    )
    assert [(p.code, p.field) for p in refused.value.problems] == [
        (ErrorCode.NOT_FOUND, "sku"),
        (ErrorCode.NOT_FOUND, "warehouse"),
    ]
