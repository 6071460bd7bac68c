"""Receiving: planning an ASN, receiving serials, lots and plain quantities, cancel and close.

Every refusal is checked with `refused`, which proves the refused call changed nothing.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    LocationKind,
    MovementKind,
    PutawayTaskStatus,
    ReceivingLine,
    ReceivingLineStatus,
    ReceivingOrder,
    ReceivingOrderStatus,
    SerialStatus,
    Tracking,
)
from services.catalog import LocationSpec, create_warehouse
from services.errors import ErrorCode
from services.putaway import Placement
from services.receiving import (
    LineReceipt,
    LotEntry,
    PlannedLine,
    ReceiptResult,
    cancel_receiving_order,
    close_receiving_order,
    plan_receiving_order,
    receive,
)
from tests.conftest import Database
from tests.services.builders import (
    ACTOR,
    NOW,
    Asn,
    all_serials,
    balances,
    codes,
    expect,
    get,
    lot_product,
    lots_of,
    make_product,
    make_site,
    movements,
    moves,
    plain_product,
    plan_asn,
    put_away,
    receive_lines,
    refused,
    serial_product,
    serials_of,
    snapshot,
    tasks_of,
)

TODAY = NOW.date()
LATER = NOW + timedelta(days=1)
EXPIRY = date(2026, 12, 31)

S = SerialStatus
K = MovementKind


async def _line(db: Database, line_id: int) -> tuple[int, ReceivingLineStatus]:
    line = await get(db, ReceivingLine, line_id)
    return line.received_quantity, line.status


async def _order(db: Database, asn: Asn) -> ReceivingOrderStatus:
    return (await get(db, ReceivingOrder, asn.order_id)).status


# ================================================================ planning


async def test_planning_creates_expected_serials_with_expect_movements(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    plain = await plain_product(db)
    asn = await plan_asn(
        db, site, " ASN-1 ", expect(serial, 3, " SN-1 ", "SN-2", "SN-3"), expect(plain, 5)
    )

    order = await get(db, ReceivingOrder, asn.order_id)
    assert (order.number, order.warehouse_id, order.status) == (
        "ASN-1",
        site.warehouse_id,
        ReceivingOrderStatus.PLANNED,
    )
    lines = [await get(db, ReceivingLine, i) for i in asn.line_ids]
    assert [
        (ln.line_number, ln.product_id, ln.expected_quantity, ln.received_quantity, ln.status)
        for ln in lines
    ] == [
        (1, serial, 3, 0, ReceivingLineStatus.PLANNED),
        (2, plain, 5, 0, ReceivingLineStatus.PLANNED),
    ]
    serials = await all_serials(db, serial)
    assert [
        (
            s.serial_number,
            s.status,
            s.warehouse_id,
            s.location_id,
            s.receiving_line_id,
            s.putaway_task_id,
            s.received_at,
        )
        for s in serials
    ] == [
        (n, S.EXPECTED, site.warehouse_id, None, lines[0].id, None, None)
        for n in ("SN-1", "SN-2", "SN-3")
    ]
    for s in serials:
        rows = await movements(db, serial_id=s.id)
        assert moves(rows) == [(K.EXPECT, None, S.EXPECTED, None, None, 1)]
        assert [(m.document_type, m.document_number, m.actor, m.product_id) for m in rows] == [
            ("RECEIVING_ORDER", "ASN-1", ACTOR, serial)
        ]
    state = await snapshot(db)
    assert state.counts["movement"] == 3
    assert state.counts["lot"] == state.counts["stock_balance"] == state.counts["putaway_task"] == 0


async def test_planning_without_serial_list_creates_no_serials(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    await plan_asn(db, site, "ASN-1", expect(serial, 3))
    state = await snapshot(db)
    assert state.counts["serial"] == state.counts["movement"] == 0
    assert state.counts["receiving_line"] == 1


async def test_planning_problems_are_collected_and_nothing_is_written(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    lot = await lot_product(db)
    plain = await plain_product(db)
    problems = await refused(
        db,
        lambda s: plan_receiving_order(
            s,
            number="ASN-1",
            warehouse_id=site.warehouse_id,
            actor=ACTOR,
            lines=[
                PlannedLine(lot, 2, ["X-1", "X-2"]),
                PlannedLine(serial, 3, ["A-1", "A-2"]),
                PlannedLine(serial, 2, ["B-1", " B-1"]),
                PlannedLine(999, 1),
                PlannedLine(plain, 0),
                PlannedLine(serial, 1, [" "]),
            ],
        ),
    )
    assert codes(problems) == [
        (ErrorCode.SERIALS_NOT_ALLOWED, "lines.0.expectedSerialNumbers"),
        (ErrorCode.SERIAL_COUNT_MISMATCH, "lines.1.expectedSerialNumbers"),
        (ErrorCode.DUPLICATE_SERIAL, "lines.2.expectedSerialNumbers"),
        (ErrorCode.NOT_FOUND, "lines.3.productId"),
        (ErrorCode.QUANTITY_NOT_POSITIVE, "lines.4.expectedQuantity"),
        (ErrorCode.INVALID_SERIAL_NUMBER, "lines.5.expectedSerialNumbers"),
    ]


async def test_planning_the_same_serial_on_two_lines_is_refused(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    problems = await refused(
        db,
        lambda s: plan_receiving_order(
            s,
            number="ASN-1",
            warehouse_id=site.warehouse_id,
            actor=ACTOR,
            lines=[PlannedLine(serial, 1, ["SN-1"]), PlannedLine(serial, 1, ["SN-1"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.DUPLICATE_SERIAL, "lines.1.expectedSerialNumbers")]


async def test_same_serial_number_for_two_products_is_fine(db: Database) -> None:
    site = await make_site(db)
    drill = await serial_product(db, "DRILL")
    saw = await serial_product(db, "SAW")
    await plan_asn(db, site, "ASN-1", expect(drill, 1, "SN-1"), expect(saw, 1, "SN-1"))
    assert list(await serials_of(db, drill)) == list(await serials_of(db, saw)) == ["SN-1"]


async def test_planning_a_serial_expected_elsewhere_is_refused(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    await plan_asn(db, site, "ASN-1", expect(serial, 1, "SN-1"))
    problems = await refused(
        db,
        lambda s: plan_receiving_order(
            s,
            number="ASN-2",
            warehouse_id=site.warehouse_id,
            actor=ACTOR,
            lines=[PlannedLine(serial, 2, ["SN-2", "SN-1"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_ALREADY_EXISTS, "lines.0.expectedSerialNumbers")]
    assert "EXPECTED" in problems[0].message


async def test_planning_order_level_refusals(db: Database) -> None:
    site = await make_site(db)
    plain = await plain_product(db)
    await plan_asn(db, site, "ASN-1", expect(plain, 1))

    problems = await refused(
        db,
        lambda s: plan_receiving_order(
            s,
            number="ASN-1 ",
            warehouse_id=site.warehouse_id,
            actor=ACTOR,
            lines=[expect(plain, 1)],
        ),
    )
    assert codes(problems) == [(ErrorCode.DUPLICATE_ORDER_NUMBER, "number")]

    problems = await refused(
        db,
        lambda s: plan_receiving_order(
            s, number="ASN-2", warehouse_id=999, actor=ACTOR, lines=[expect(plain, 1)]
        ),
    )
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "warehouseId")]

    problems = await refused(
        db,
        lambda s: plan_receiving_order(
            s, number=" ", warehouse_id=site.warehouse_id, actor=ACTOR, lines=[]
        ),
    )
    assert codes(problems) == [
        (ErrorCode.INVALID_VALUE, "number"),
        (ErrorCode.INVALID_VALUE, "lines"),
    ]


# ================================================================ serials


async def test_receiving_expected_serials_puts_them_on_the_dock(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 2, "SN-1", "SN-2"))
    planned_ids = {s.serial_number: s.id for s in await all_serials(db, serial)}

    result = await receive_lines(
        db, asn, LineReceipt(asn.line_ids[0], quantity=2, serial_numbers=["SN-2", " SN-1 "])
    )

    [task] = result.putaway_tasks
    assert (
        task.warehouse_id,
        task.receiving_line_id,
        task.product_id,
        task.lot_id,
        task.quantity,
        task.from_location_id,
        task.status,
        task.received_at,
        task.completed_at,
    ) == (
        site.warehouse_id,
        asn.line_ids[0],
        serial,
        None,
        2,
        site.dock,
        PutawayTaskStatus.OPEN,
        NOW,
        None,
    )
    assert [t.id for t in await tasks_of(db, asn.line_ids[0])] == [task.id]
    assert sorted(s.serial_number for s in result.serials) == ["SN-1", "SN-2"]
    assert result.lots == []

    serials = await serials_of(db, serial)
    assert {n: s.id for n, s in serials.items()} == planned_ids  # the same rows moved on
    for s in serials.values():
        assert (s.status, s.location_id, s.putaway_task_id, s.receiving_line_id, s.received_at) == (
            S.RECEIVED,
            site.dock,
            task.id,
            asn.line_ids[0],
            NOW,
        )
        assert moves(await movements(db, serial_id=s.id)) == [
            (K.EXPECT, None, S.EXPECTED, None, None, 1),
            (K.RECEIVE, S.EXPECTED, S.RECEIVED, None, site.dock, 1),
        ]
    assert await _line(db, asn.line_ids[0]) == (2, ReceivingLineStatus.RECEIVED)
    assert await _order(db, asn) == ReceivingOrderStatus.RECEIVED
    assert await balances(db, serial) == []  # serials are counted, not stocked


async def test_receiving_unlisted_serials_creates_them_received(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 3))

    result = await receive_lines(
        db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["SN-1", "SN-2"])
    )

    [task] = result.putaway_tasks
    assert (task.quantity, task.from_location_id, task.received_at) == (2, site.dock, NOW)
    serials = await serials_of(db, serial)
    assert sorted(serials) == ["SN-1", "SN-2"]
    for s in serials.values():
        assert (s.status, s.location_id, s.putaway_task_id, s.receiving_line_id) == (
            S.RECEIVED,
            site.dock,
            task.id,
            asn.line_ids[0],
        )
        assert s.received_at == NOW
        assert moves(await movements(db, serial_id=s.id)) == [
            (K.RECEIVE, None, S.RECEIVED, None, site.dock, 1)
        ]
    assert await _line(db, asn.line_ids[0]) == (2, ReceivingLineStatus.RECEIVING)
    assert await _order(db, asn) == ReceivingOrderStatus.RECEIVING


async def test_serial_not_on_the_expected_list_is_refused(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(
        db, site, "ASN-1", expect(serial, 2, "SN-1", "SN-2"), expect(serial, 1, "SN-3")
    )
    line = asn.line_ids[0]
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(line, serial_numbers=["SN-1", "SN-9"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_NOT_EXPECTED, "lines.0.serialNumbers")]
    assert "SN-9" in problems[0].message

    # expected on the order, but on the other line
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(line, serial_numbers=["SN-3"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_NOT_EXPECTED, "lines.0.serialNumbers")]


async def test_serials_match_exactly(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 1, "SN-A"))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(asn.line_ids[0], serial_numbers=["sn-a"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_NOT_EXPECTED, "lines.0.serialNumbers")]

    other = await plan_asn(db, site, "ASN-2", expect(serial, 1))
    await receive_lines(db, other, LineReceipt(other.line_ids[0], serial_numbers=["sn-a"]))
    assert {n: s.status for n, s in (await serials_of(db, serial)).items()} == {
        "SN-A": S.EXPECTED,
        "sn-a": S.RECEIVED,
    }


async def test_serial_count_must_match_quantity(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 3))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(asn.line_ids[0], quantity=3, serial_numbers=["SN-1", "SN-2"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_COUNT_MISMATCH, "lines.0.serialNumbers")]


async def test_serial_tracked_line_needs_serials(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 3))
    problems = await refused(
        db,
        lambda s: receive(
            s, order_id=asn.order_id, actor=ACTOR, lines=[LineReceipt(asn.line_ids[0], quantity=3)]
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIALS_REQUIRED, "lines.0.serialNumbers")]


@pytest.mark.parametrize(
    "numbers", [["SN-1", "SN-1"], [" SN-1", "SN-1 "], ["SN-1", "SN-2", "SN-1"]]
)
async def test_duplicate_serial_within_a_line_is_refused(db: Database, numbers: list[str]) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 3))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(asn.line_ids[0], serial_numbers=numbers)],
        ),
    )
    assert codes(problems) == [(ErrorCode.DUPLICATE_SERIAL, "lines.0.serialNumbers")]


async def test_duplicate_serial_across_two_lines_of_one_product_is_refused(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 2), expect(serial, 2))
    first, second = asn.line_ids
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[
                LineReceipt(first, serial_numbers=["SN-1", "SN-2"]),
                LineReceipt(second, serial_numbers=["SN-3", " SN-1"]),
            ],
        ),
    )
    assert codes(problems) == [(ErrorCode.DUPLICATE_SERIAL, "lines.1.serialNumbers")]
    assert "SN-1" in problems[0].message


async def test_duplicate_serial_field_names_the_request_line(db: Database) -> None:
    """The field must point at the request's own line index, even when an earlier line of
    the request was refused for another reason and so was never planned."""
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 1), expect(serial, 1))
    first, second = asn.line_ids
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[
                LineReceipt(999_999, quantity=1),
                LineReceipt(first, serial_numbers=["SN-1"]),
                LineReceipt(second, serial_numbers=["SN-1"]),
            ],
        ),
    )
    assert codes(problems) == [
        (ErrorCode.NOT_FOUND, "lines.0.lineId"),
        (ErrorCode.DUPLICATE_SERIAL, "lines.2.serialNumbers"),
    ]
    assert "lines 1 and 2" in problems[1].message


async def test_same_serial_number_on_lines_of_two_products_is_fine(db: Database) -> None:
    site = await make_site(db)
    drill = await serial_product(db, "DRILL")
    saw = await serial_product(db, "SAW")
    asn = await plan_asn(db, site, "ASN-1", expect(drill, 1), expect(saw, 1))
    result = await receive_lines(
        db,
        asn,
        LineReceipt(asn.line_ids[0], serial_numbers=["SN-1"]),
        LineReceipt(asn.line_ids[1], serial_numbers=["SN-1"]),
    )
    assert len(result.putaway_tasks) == 2
    assert await _order(db, asn) == ReceivingOrderStatus.RECEIVED


@pytest.mark.parametrize("stored", [False, True], ids=["received", "in-inventory"])
async def test_serial_that_already_exists_is_refused(db: Database, stored: bool) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    first = await plan_asn(db, site, "ASN-1", expect(serial, 1))
    result = await receive_lines(db, first, LineReceipt(first.line_ids[0], serial_numbers=["SN-1"]))
    status = S.RECEIVED
    if stored:
        await put_away(db, result.putaway_tasks[0].id, Placement(site.a01, 1))
        status = S.IN_INVENTORY
    assert (await serials_of(db, serial))["SN-1"].status is status

    second = await plan_asn(db, site, "ASN-2", expect(serial, 2))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=second.order_id,
            actor=ACTOR,
            lines=[LineReceipt(second.line_ids[0], serial_numbers=["SN-2", "SN-1"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_ALREADY_EXISTS, "lines.0.serialNumbers")]
    assert status.value in problems[0].message

    # nor may it be expected again
    problems = await refused(
        db,
        lambda s: plan_receiving_order(
            s,
            number="ASN-3",
            warehouse_id=site.warehouse_id,
            actor=ACTOR,
            lines=[PlannedLine(serial, 1, ["SN-1"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_ALREADY_EXISTS, "lines.0.expectedSerialNumbers")]


async def test_serial_expected_on_another_asn_cannot_be_received_unlisted(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    await plan_asn(db, site, "ASN-1", expect(serial, 1, "SN-1"))
    second = await plan_asn(db, site, "ASN-2", expect(serial, 1))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=second.order_id,
            actor=ACTOR,
            lines=[LineReceipt(second.line_ids[0], serial_numbers=["SN-1"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_ALREADY_EXISTS, "lines.0.serialNumbers")]


async def test_expected_serial_received_twice_is_refused(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 2, "SN-1", "SN-2"))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["SN-1"]))
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
    assert "RECEIVED" in problems[0].message


async def test_more_serials_than_still_expected_is_an_over_receipt(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 3))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["SN-1"]))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(asn.line_ids[0], serial_numbers=["SN-2", "SN-3", "SN-4"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.OVER_RECEIPT, "lines.0.serialNumbers")]


async def test_a_line_without_a_serial_list_may_be_received_in_parts(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 3))
    line = asn.line_ids[0]
    first = await receive_lines(db, asn, LineReceipt(line, serial_numbers=["SN-1"]))

    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(line, serial_numbers=["SN-1"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_ALREADY_EXISTS, "lines.0.serialNumbers")]

    second = await receive_lines(
        db, asn, LineReceipt(line, serial_numbers=["SN-3", "SN-2"]), now=LATER
    )
    assert [t.quantity for t in first.putaway_tasks + second.putaway_tasks] == [1, 2]
    serials = await serials_of(db, serial)
    assert {n: (s.status, s.received_at) for n, s in serials.items()} == {
        "SN-1": (S.RECEIVED, NOW),
        "SN-2": (S.RECEIVED, LATER),
        "SN-3": (S.RECEIVED, LATER),
    }
    assert await _line(db, line) == (3, ReceivingLineStatus.RECEIVED)
    assert await _order(db, asn) == ReceivingOrderStatus.RECEIVED


# ================================================================ untracked quantities


async def test_untracked_receipt_stages_stock_on_the_dock(db: Database) -> None:
    site = await make_site(db)
    plain = await plain_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(plain, 5))
    result = await receive_lines(db, asn, LineReceipt(asn.line_ids[0], quantity=3))
    [task] = result.putaway_tasks
    assert (
        task.product_id,
        task.lot_id,
        task.quantity,
        task.from_location_id,
        task.received_at,
    ) == (
        plain,
        None,
        3,
        site.dock,
        NOW,
    )
    assert [
        (b.warehouse_id, b.location_id, b.lot_id, b.quantity, b.allocated_quantity, b.received_at)
        for b in await balances(db, plain)
    ] == [(site.warehouse_id, site.dock, None, 3, 0, NOW)]
    rows = await movements(db, product_id=plain)
    assert moves(rows) == [(K.RECEIVE, None, None, None, site.dock, 3)]
    assert (rows[0].serial_id, rows[0].lot_id, rows[0].document_number) == (None, None, "ASN-1")
    assert await _line(db, asn.line_ids[0]) == (3, ReceivingLineStatus.RECEIVING)


async def test_over_receipt_is_refused(db: Database) -> None:
    site = await make_site(db)
    plain = await plain_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(plain, 5))
    line = asn.line_ids[0]

    problems = await refused(
        db,
        lambda s: receive(
            s, order_id=asn.order_id, actor=ACTOR, lines=[LineReceipt(line, quantity=6)]
        ),
    )
    assert codes(problems) == [(ErrorCode.OVER_RECEIPT, "lines.0.quantity")]

    await receive_lines(db, asn, LineReceipt(line, quantity=3))
    problems = await refused(
        db,
        lambda s: receive(
            s, order_id=asn.order_id, actor=ACTOR, lines=[LineReceipt(line, quantity=3)]
        ),
    )
    assert codes(problems) == [(ErrorCode.OVER_RECEIPT, "lines.0.quantity")]
    assert "only 2 still expected" in problems[0].message

    await receive_lines(db, asn, LineReceipt(line, quantity=2), now=LATER)
    assert await _line(db, line) == (5, ReceivingLineStatus.RECEIVED)
    assert [(b.quantity, b.received_at) for b in await balances(db, plain)] == [
        (3, NOW),
        (2, LATER),
    ]


@pytest.mark.parametrize("quantity", [None, 0, -1])
async def test_untracked_receipt_needs_a_positive_quantity(
    db: Database, quantity: int | None
) -> None:
    site = await make_site(db)
    plain = await plain_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(plain, 5))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(asn.line_ids[0], quantity=quantity)],
        ),
    )
    assert codes(problems) == [(ErrorCode.QUANTITY_NOT_POSITIVE, "lines.0.quantity")]


# ================================================================ wrong kind of tracking data


@pytest.mark.parametrize("tracking", [Tracking.LOT, Tracking.NONE])
async def test_serials_for_a_product_without_serial_tracking_are_refused(
    db: Database, tracking: Tracking
) -> None:
    site = await make_site(db)
    product = await make_product(db, "P-1", tracking)
    asn = await plan_asn(db, site, "ASN-1", expect(product, 1))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(asn.line_ids[0], quantity=1, serial_numbers=["SN-1"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIALS_NOT_ALLOWED, "lines.0.serialNumbers")]


@pytest.mark.parametrize("tracking", [Tracking.SERIAL, Tracking.NONE])
async def test_lots_for_a_product_without_lot_tracking_are_refused(
    db: Database, tracking: Tracking
) -> None:
    site = await make_site(db)
    product = await make_product(db, "P-1", tracking)
    asn = await plan_asn(db, site, "ASN-1", expect(product, 1))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(asn.line_ids[0], quantity=1, lots=[LotEntry("L-1", 1)])],
        ),
    )
    assert codes(problems) == [(ErrorCode.LOTS_NOT_ALLOWED, "lines.0.lots")]


async def test_lot_tracked_line_needs_lots(db: Database) -> None:
    site = await make_site(db)
    lot = await lot_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(lot, 4))
    problems = await refused(
        db,
        lambda s: receive(
            s, order_id=asn.order_id, actor=ACTOR, lines=[LineReceipt(asn.line_ids[0], quantity=4)]
        ),
    )
    assert codes(problems) == [(ErrorCode.LOT_REQUIRED, "lines.0.lots")]


# ================================================================ lots


async def test_several_lots_on_one_line_add_up_to_the_expected_quantity(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(product, 10))
    line = asn.line_ids[0]

    result = await receive_lines(
        db,
        asn,
        LineReceipt(line, quantity=10, lots=[LotEntry(" LOT-A ", 6, EXPIRY), LotEntry("LOT-B", 4)]),
    )

    lots = await lots_of(db, product)
    assert [(lot.lot_number, lot.lot_key, lot.expiry_date, lot.received_at) for lot in lots] == [
        ("LOT-A", "lot-a", EXPIRY, NOW),
        ("LOT-B", "lot-b", None, NOW),
    ]
    a, b = (lot.id for lot in lots)
    assert [lot.id for lot in result.lots] == [a, b]
    assert [
        (t.lot_id, t.quantity, t.from_location_id, t.status, t.received_at)
        for t in result.putaway_tasks
    ] == [
        (a, 6, site.dock, PutawayTaskStatus.OPEN, NOW),
        (b, 4, site.dock, PutawayTaskStatus.OPEN, NOW),
    ]
    assert [
        (x.location_id, x.lot_id, x.quantity, x.received_at) for x in await balances(db, product)
    ] == [
        (site.dock, a, 6, NOW),
        (site.dock, b, 4, NOW),
    ]
    assert [(m.lot_id, *moves([m])[0]) for m in await movements(db, product_id=product)] == [
        (a, K.RECEIVE, None, None, None, site.dock, 6),
        (b, K.RECEIVE, None, None, None, site.dock, 4),
    ]
    assert await _line(db, line) == (10, ReceivingLineStatus.RECEIVED)
    assert await _order(db, asn) == ReceivingOrderStatus.RECEIVED


@pytest.mark.parametrize(
    ("quantity", "lots", "problems"),
    [
        (
            None,
            [LotEntry("L-1", 6), LotEntry("L-2", 3)],
            [(ErrorCode.LOT_QUANTITY_MISMATCH, "lines.0.lots")],
        ),
        (
            None,
            [LotEntry("L-1", 6), LotEntry("L-2", 5)],
            [(ErrorCode.LOT_QUANTITY_MISMATCH, "lines.0.lots")],
        ),
        (
            10,
            [LotEntry("L-1", 6), LotEntry("L-2", 3)],
            [
                (ErrorCode.LOT_QUANTITY_MISMATCH, "lines.0.lots"),
                (ErrorCode.LOT_QUANTITY_MISMATCH, "lines.0.quantity"),
            ],
        ),
        (
            9,
            [LotEntry("L-1", 6), LotEntry("L-2", 4)],
            [(ErrorCode.LOT_QUANTITY_MISMATCH, "lines.0.quantity")],
        ),
        (
            None,
            [LotEntry("L-1", 10), LotEntry("L-2", 0)],
            [(ErrorCode.QUANTITY_NOT_POSITIVE, "lines.0.lots.1.quantity")],
        ),
        (
            None,
            [LotEntry(" ", 10)],
            [(ErrorCode.INVALID_LOT_NUMBER, "lines.0.lots.0.lotNumber")],
        ),
    ],
    ids=["short", "over", "both-short", "quantity-disagrees", "zero-lot", "blank-number"],
)
async def test_lot_quantities_must_add_up(
    db: Database,
    quantity: int | None,
    lots: list[LotEntry],
    problems: list[tuple[ErrorCode, str]],
) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(product, 10))
    found = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(asn.line_ids[0], quantity=quantity, lots=lots)],
        ),
    )
    assert codes(found) == problems


async def test_lot_numbers_match_without_case_and_keep_the_first_spelling(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    first = await plan_asn(db, site, "ASN-1", expect(product, 5))
    second = await plan_asn(db, site, "ASN-2", expect(product, 3))
    one = await receive_lines(
        db, first, LineReceipt(first.line_ids[0], lots=[LotEntry("LOT-2025A", 5, EXPIRY)])
    )
    two = await receive_lines(
        db,
        second,
        LineReceipt(second.line_ids[0], lots=[LotEntry("lot-2025a", 3, EXPIRY)]),
        now=LATER,
    )

    [lot] = await lots_of(db, product)
    assert (lot.lot_number, lot.lot_key, lot.expiry_date, lot.received_at) == (
        "LOT-2025A",
        "lot-2025a",
        EXPIRY,
        NOW,
    )
    assert [x.id for x in one.lots + two.lots] == [lot.id, lot.id]
    assert [(t.lot_id, t.quantity) for t in one.putaway_tasks + two.putaway_tasks] == [
        (lot.id, 5),
        (lot.id, 3),
    ]
    assert [(b.lot_id, b.quantity, b.received_at) for b in await balances(db, product)] == [
        (lot.id, 5, NOW),
        (lot.id, 3, LATER),
    ]
    assert [
        (m.kind, m.quantity, m.document_number) for m in await movements(db, lot_id=lot.id)
    ] == [
        (K.RECEIVE, 5, "ASN-1"),
        (K.RECEIVE, 3, "ASN-2"),
    ]


async def test_existing_lot_may_be_received_without_repeating_its_expiry(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    first = await plan_asn(db, site, "ASN-1", expect(product, 5))
    second = await plan_asn(db, site, "ASN-2", expect(product, 3))
    await receive_lines(
        db, first, LineReceipt(first.line_ids[0], lots=[LotEntry("L-1", 5, EXPIRY)])
    )
    await receive_lines(db, second, LineReceipt(second.line_ids[0], lots=[LotEntry("l-1", 3)]))
    [lot] = await lots_of(db, product)
    assert lot.expiry_date == EXPIRY
    assert sum(b.quantity for b in await balances(db, product)) == 8


@pytest.mark.parametrize(
    ("stored", "given"),
    [(EXPIRY, date(2027, 1, 1)), (None, EXPIRY)],
    ids=["different-date", "lot-had-none"],
)
async def test_existing_lot_with_another_expiry_is_refused(
    db: Database, stored: date | None, given: date
) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    first = await plan_asn(db, site, "ASN-1", expect(product, 5))
    second = await plan_asn(db, site, "ASN-2", expect(product, 3))
    await receive_lines(
        db, first, LineReceipt(first.line_ids[0], lots=[LotEntry("LOT-2025A", 5, stored)])
    )
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=second.order_id,
            actor=ACTOR,
            lines=[LineReceipt(second.line_ids[0], lots=[LotEntry("lot-2025a", 3, given)])],
        ),
    )
    assert codes(problems) == [(ErrorCode.LOT_EXPIRY_CONFLICT, "lines.0.lots.0.expiryDate")]
    assert "LOT-2025A" in problems[0].message


async def test_one_new_lot_with_two_expiries_in_one_receipt_is_refused(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(product, 2), expect(product, 3))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[
                LineReceipt(asn.line_ids[0], lots=[LotEntry("L-1", 2, EXPIRY)]),
                LineReceipt(asn.line_ids[1], lots=[LotEntry("l-1", 3, date(2027, 1, 1))]),
            ],
        ),
    )
    assert codes(problems) == [(ErrorCode.LOT_EXPIRY_CONFLICT, "lines")]


async def test_one_new_lot_on_two_lines_of_one_receipt_is_one_lot(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(product, 2), expect(product, 3))
    result = await receive_lines(
        db,
        asn,
        LineReceipt(asn.line_ids[0], lots=[LotEntry("L-1", 2, EXPIRY)]),
        LineReceipt(asn.line_ids[1], lots=[LotEntry("l-1", 3, EXPIRY)]),
    )
    [lot] = await lots_of(db, product)
    assert (lot.lot_number, lot.expiry_date) == ("L-1", EXPIRY)
    assert [x.id for x in result.lots] == [lot.id, lot.id]
    assert [(t.receiving_line_id, t.lot_id, t.quantity) for t in result.putaway_tasks] == [
        (asn.line_ids[0], lot.id, 2),
        (asn.line_ids[1], lot.id, 3),
    ]
    # one receipt time, one lot, one place: a single balance
    assert [(b.lot_id, b.quantity) for b in await balances(db, product)] == [(lot.id, 5)]
    assert await _order(db, asn) == ReceivingOrderStatus.RECEIVED


async def test_existing_lot_on_two_lines_with_and_without_its_expiry(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    first = await plan_asn(db, site, "ASN-1", expect(product, 1))
    await receive_lines(
        db, first, LineReceipt(first.line_ids[0], lots=[LotEntry("L-1", 1, EXPIRY)])
    )
    second = await plan_asn(db, site, "ASN-2", expect(product, 2), expect(product, 3))
    await receive_lines(
        db,
        second,
        LineReceipt(second.line_ids[0], lots=[LotEntry("L-1", 2, EXPIRY)]),
        LineReceipt(second.line_ids[1], lots=[LotEntry("l-1", 3)]),
        now=LATER,
    )
    [lot] = await lots_of(db, product)
    assert lot.expiry_date == EXPIRY
    assert [(b.quantity, b.received_at) for b in await balances(db, product)] == [
        (1, NOW),
        (5, LATER),
    ]


async def test_expired_lot_is_refused_but_its_expiry_day_is_fine(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(product, 4))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            now=NOW,
            actor=ACTOR,
            lines=[
                LineReceipt(
                    asn.line_ids[0],
                    lots=[LotEntry("L-1", 2, TODAY), LotEntry("L-2", 2, TODAY - timedelta(days=1))],
                )
            ],
        ),
    )
    assert codes(problems) == [(ErrorCode.LOT_EXPIRED, "lines.0.lots.1.expiryDate")]

    await receive_lines(
        db,
        asn,
        LineReceipt(asn.line_ids[0], lots=[LotEntry("L-1", 2, TODAY), LotEntry("L-2", 2, TODAY)]),
    )
    assert [lot.expiry_date for lot in await lots_of(db, product)] == [TODAY, TODAY]


@pytest.mark.parametrize(
    ("zone", "now", "expired"),
    [
        # 13:00 UTC on 1 June is already 2 June in Auckland: a lot expiring on 1 June is expired
        ("Pacific/Auckland", datetime(2025, 6, 1, 13, 0, tzinfo=UTC), True),
        ("UTC", datetime(2025, 6, 1, 13, 0, tzinfo=UTC), False),
        # 03:00 UTC on 2 June is still 1 June in Los Angeles
        ("America/Los_Angeles", datetime(2025, 6, 2, 3, 0, tzinfo=UTC), False),
        ("UTC", datetime(2025, 6, 2, 3, 0, tzinfo=UTC), True),
    ],
)
async def test_expiry_is_judged_by_the_warehouse_calendar(
    db: Database, zone: str, now: datetime, expired: bool
) -> None:
    site = await make_site(db, time_zone=zone)
    product = await lot_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(product, 1))
    receipt = LineReceipt(asn.line_ids[0], lots=[LotEntry("L-1", 1, date(2025, 6, 1))])
    if expired:
        problems = await refused(
            db, lambda s: receive(s, order_id=asn.order_id, lines=[receipt], actor=ACTOR, now=now)
        )
        assert codes(problems) == [(ErrorCode.LOT_EXPIRED, "lines.0.lots.0.expiryDate")]
    else:
        await receive_lines(db, asn, receipt, now=now)
        assert await _order(db, asn) == ReceivingOrderStatus.RECEIVED


async def test_existing_lot_that_has_since_expired_is_refused(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    first = await plan_asn(db, site, "ASN-1", expect(product, 1))
    second = await plan_asn(db, site, "ASN-2", expect(product, 1))
    await receive_lines(db, first, LineReceipt(first.line_ids[0], lots=[LotEntry("L-1", 1, TODAY)]))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=second.order_id,
            actor=ACTOR,
            now=NOW + timedelta(days=1),
            lines=[LineReceipt(second.line_ids[0], lots=[LotEntry("l-1", 1)])],
        ),
    )
    assert codes(problems) == [(ErrorCode.LOT_EXPIRED, "lines.0.lots.0.lotNumber")]


async def test_same_lot_twice_on_a_line_is_refused(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(product, 5))
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[
                LineReceipt(asn.line_ids[0], lots=[LotEntry("LOT-A", 2), LotEntry("lot-a ", 3)])
            ],
        ),
    )
    assert codes(problems) == [
        (ErrorCode.DUPLICATE_LOT, "lines.0.lots.0.lotNumber"),
        (ErrorCode.DUPLICATE_LOT, "lines.0.lots.1.lotNumber"),
    ]


# ================================================================ mixed receipts


def _mixed_receipt(
    asn: Asn, serials: list[str], lot_expiry: date, quantity: int
) -> list[LineReceipt]:
    serial_line, lot_line, plain_line = asn.line_ids
    return [
        LineReceipt(serial_line, serial_numbers=serials),
        LineReceipt(lot_line, lots=[LotEntry("L-1", 3, lot_expiry), LotEntry("L-2", 2)]),
        LineReceipt(plain_line, quantity=quantity),
    ]


async def _mixed_asn(db: Database) -> tuple[Asn, int, int, int]:
    site = await make_site(db)
    serial = await serial_product(db)
    lot = await lot_product(db)
    plain = await plain_product(db)
    asn = await plan_asn(
        db, site, "ASN-1", expect(serial, 2, "SN-1", "SN-2"), expect(lot, 5), expect(plain, 4)
    )
    return asn, serial, lot, plain


async def test_mixed_receipt_receives_every_line(db: Database) -> None:
    asn, serial, lot, plain = await _mixed_asn(db)
    result = await receive_lines(db, asn, *_mixed_receipt(asn, ["SN-1", "SN-2"], EXPIRY, 4))

    assert [(t.receiving_line_id, t.quantity) for t in result.putaway_tasks] == [
        (asn.line_ids[0], 2),
        (asn.line_ids[1], 3),
        (asn.line_ids[1], 2),
        (asn.line_ids[2], 4),
    ]
    assert {s.status for s in (await serials_of(db, serial)).values()} == {S.RECEIVED}
    assert [(x.lot_number, x.expiry_date) for x in await lots_of(db, lot)] == [
        ("L-1", EXPIRY),
        ("L-2", None),
    ]
    assert sum(b.quantity for b in await balances(db, lot)) == 5
    assert [b.quantity for b in await balances(db, plain)] == [4]
    assert [await _line(db, i) for i in asn.line_ids] == [
        (2, ReceivingLineStatus.RECEIVED),
        (5, ReceivingLineStatus.RECEIVED),
        (4, ReceivingLineStatus.RECEIVED),
    ]
    assert await _order(db, asn) == ReceivingOrderStatus.RECEIVED
    state = await snapshot(db)
    assert state.counts["movement"] == 2 + 2 + 2 + 1  # expect, receive serials, 2 lots, plain


@pytest.mark.parametrize(
    ("serials", "expiry", "quantity", "problem"),
    [
        (["SN-1", "SN-9"], EXPIRY, 4, (ErrorCode.SERIAL_NOT_EXPECTED, "lines.0.serialNumbers")),
        (
            ["SN-1", "SN-2"],
            TODAY - timedelta(days=1),
            4,
            (ErrorCode.LOT_EXPIRED, "lines.1.lots.0.expiryDate"),
        ),
        (["SN-1", "SN-2"], EXPIRY, 5, (ErrorCode.OVER_RECEIPT, "lines.2.quantity")),
    ],
    ids=["bad-serial-line", "bad-lot-line", "bad-plain-line"],
)
async def test_one_bad_line_refuses_the_whole_mixed_receipt(
    db: Database,
    serials: list[str],
    expiry: date,
    quantity: int,
    problem: tuple[ErrorCode, str],
) -> None:
    asn, *_ = await _mixed_asn(db)
    receipt = _mixed_receipt(asn, serials, expiry, quantity)
    problems = await refused(
        db, lambda s: receive(s, order_id=asn.order_id, lines=receipt, actor=ACTOR, now=NOW)
    )
    assert codes(problems) == [problem]
    assert await _order(db, asn) == ReceivingOrderStatus.PLANNED
    # the same receipt, corrected, goes through
    await receive_lines(db, asn, *_mixed_receipt(asn, ["SN-1", "SN-2"], EXPIRY, 4))
    assert await _order(db, asn) == ReceivingOrderStatus.RECEIVED


# ================================================================ order and line states


async def test_order_goes_from_planned_through_receiving_to_received(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    plain = await plain_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 2, "SN-1", "SN-2"), expect(plain, 3))
    serial_line, plain_line = asn.line_ids
    assert await _order(db, asn) == ReceivingOrderStatus.PLANNED

    await receive_lines(db, asn, LineReceipt(serial_line, serial_numbers=["SN-1"]))
    assert await _order(db, asn) == ReceivingOrderStatus.RECEIVING
    assert await _line(db, serial_line) == (1, ReceivingLineStatus.RECEIVING)
    assert await _line(db, plain_line) == (0, ReceivingLineStatus.PLANNED)

    await receive_lines(db, asn, LineReceipt(plain_line, quantity=3))
    assert await _order(db, asn) == ReceivingOrderStatus.RECEIVING
    assert await _line(db, plain_line) == (3, ReceivingLineStatus.RECEIVED)

    # a received line is no longer open
    problems = await refused(
        db,
        lambda s: receive(
            s, order_id=asn.order_id, actor=ACTOR, lines=[LineReceipt(plain_line, quantity=1)]
        ),
    )
    assert codes(problems) == [(ErrorCode.LINE_NOT_OPEN, "lines.0.lineId")]

    await receive_lines(db, asn, LineReceipt(serial_line, serial_numbers=["SN-2"]))
    assert await _order(db, asn) == ReceivingOrderStatus.RECEIVED
    assert await _line(db, serial_line) == (2, ReceivingLineStatus.RECEIVED)

    problems = await refused(
        db,
        lambda s: receive(
            s, order_id=asn.order_id, actor=ACTOR, lines=[LineReceipt(plain_line, quantity=1)]
        ),
    )
    assert codes(problems) == [(ErrorCode.ORDER_NOT_OPEN, "orderId")]


async def test_receipt_request_refusals(db: Database) -> None:
    site = await make_site(db)
    plain = await plain_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(plain, 3))
    other = await plan_asn(db, site, "ASN-2", expect(plain, 3))
    line = asn.line_ids[0]

    problems = await refused(
        db, lambda s: receive(s, order_id=999, actor=ACTOR, lines=[LineReceipt(line, quantity=1)])
    )
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "orderId")]

    problems = await refused(db, lambda s: receive(s, order_id=asn.order_id, actor=ACTOR, lines=[]))
    assert codes(problems) == [(ErrorCode.NOTHING_TO_RECEIVE, "lines")]

    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(other.line_ids[0], quantity=1)],
        ),
    )
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "lines.0.lineId")]

    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(line, quantity=1), LineReceipt(line, quantity=1)],
        ),
    )
    assert codes(problems) == [
        (ErrorCode.DUPLICATE_LINE, "lines.0.lineId"),
        (ErrorCode.DUPLICATE_LINE, "lines.1.lineId"),
    ]


async def test_warehouse_without_a_receiving_location_cannot_receive(db: Database) -> None:
    async with db.sessions.begin() as session:
        warehouse = await create_warehouse(
            session,
            code="WH9",
            name="No dock",
            time_zone="UTC",
            locations=[LocationSpec("A-01", LocationKind.STORAGE)],
        )
    plain = await plain_product(db)
    async with db.sessions.begin() as session:
        order = await plan_receiving_order(
            session,
            number="ASN-1",
            warehouse_id=warehouse.id,
            actor=ACTOR,
            lines=[expect(plain, 1)],
        )
    line_id = (await snapshot(db)).lines[0][0]
    problems = await refused(
        db,
        lambda s: receive(
            s, order_id=order.id, actor=ACTOR, lines=[LineReceipt(line_id, quantity=1)]
        ),
    )
    assert codes(problems) == [(ErrorCode.NO_RECEIVING_LOCATION, "orderId")]


# ================================================================ cancel and close


async def test_cancelling_a_planned_order_releases_its_expected_serials(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    plain = await plain_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 2, "SN-1", "SN-2"), expect(plain, 3))

    async with db.sessions.begin() as session:
        order = await cancel_receiving_order(session, order_id=asn.order_id, actor="planner")
    assert order.status is ReceivingOrderStatus.CANCELLED
    assert await _order(db, asn) == ReceivingOrderStatus.CANCELLED
    assert [await _line(db, i) for i in asn.line_ids] == [
        (0, ReceivingLineStatus.CANCELLED),
        (0, ReceivingLineStatus.CANCELLED),
    ]
    released = await all_serials(db, serial)
    assert [(s.serial_number, s.status, s.location_id) for s in released] == [
        ("SN-1", S.RELEASED, None),
        ("SN-2", S.RELEASED, None),
    ]
    for s in released:
        rows = await movements(db, serial_id=s.id)
        assert moves(rows) == [
            (K.EXPECT, None, S.EXPECTED, None, None, 1),
            (K.RELEASE, S.EXPECTED, S.RELEASED, None, None, 1),
        ]
        assert (rows[1].document_number, rows[1].actor) == ("ASN-1", "planner")
    assert await serials_of(db, serial) == {}

    # a cancelled order receives nothing
    problems = await refused(
        db,
        lambda s: receive(
            s,
            order_id=asn.order_id,
            actor=ACTOR,
            lines=[LineReceipt(asn.line_ids[1], quantity=1)],
        ),
    )
    assert codes(problems) == [(ErrorCode.ORDER_NOT_OPEN, "orderId")]

    # the numbers never arrived, so a new ASN may expect them again, and receive them
    again = await plan_asn(db, site, "ASN-2", expect(serial, 2, "SN-1", "SN-2"))
    await receive_lines(db, again, LineReceipt(again.line_ids[0], serial_numbers=["SN-1", "SN-2"]))
    serial_rows = await all_serials(db, serial)
    assert [(s.serial_number, s.status) for s in serial_rows] == [
        ("SN-1", S.RELEASED),
        ("SN-2", S.RELEASED),
        ("SN-1", S.RECEIVED),
        ("SN-2", S.RECEIVED),
    ]
    assert {s.receiving_line_id for s in serial_rows[2:]} == {again.line_ids[0]}


async def test_released_numbers_may_be_received_without_a_list(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 1, "SN-1"))
    async with db.sessions.begin() as session:
        await cancel_receiving_order(session, order_id=asn.order_id, actor=ACTOR)
    again = await plan_asn(db, site, "ASN-2", expect(serial, 1))
    await receive_lines(db, again, LineReceipt(again.line_ids[0], serial_numbers=["SN-1"]))
    assert (await serials_of(db, serial))["SN-1"].status is S.RECEIVED


async def test_an_order_that_received_anything_cannot_be_cancelled(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 2, "SN-1", "SN-2"))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=["SN-1"]))
    problems = await refused(
        db, lambda s: cancel_receiving_order(s, order_id=asn.order_id, actor=ACTOR)
    )
    assert codes(problems) == [(ErrorCode.ORDER_NOT_CANCELLABLE, "orderId")]
    assert {n: s.status for n, s in (await serials_of(db, serial)).items()} == {
        "SN-1": S.RECEIVED,
        "SN-2": S.EXPECTED,
    }


async def test_cancel_refusals(db: Database) -> None:
    site = await make_site(db)
    plain = await plain_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(plain, 1))
    async with db.sessions.begin() as session:
        await cancel_receiving_order(session, order_id=asn.order_id, actor=ACTOR)
    problems = await refused(
        db, lambda s: cancel_receiving_order(s, order_id=asn.order_id, actor=ACTOR)
    )
    assert codes(problems) == [(ErrorCode.ORDER_NOT_CANCELLABLE, "orderId")]
    problems = await refused(db, lambda s: cancel_receiving_order(s, order_id=999, actor=ACTOR))
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "orderId")]
    problems = await refused(
        db, lambda s: close_receiving_order(s, order_id=asn.order_id, actor=ACTOR)
    )
    assert codes(problems) == [(ErrorCode.ORDER_NOT_OPEN, "orderId")]


async def test_closing_releases_the_serials_that_never_arrived(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    plain = await plain_product(db)
    asn = await plan_asn(
        db, site, "ASN-1", expect(serial, 3, "SN-1", "SN-2", "SN-3"), expect(plain, 5)
    )
    await receive_lines(
        db,
        asn,
        LineReceipt(asn.line_ids[0], serial_numbers=["SN-2"]),
        LineReceipt(asn.line_ids[1], quantity=4),
    )

    async with db.sessions.begin() as session:
        order = await close_receiving_order(session, order_id=asn.order_id, actor=ACTOR)
    assert order.status is ReceivingOrderStatus.CLOSED
    assert await _order(db, asn) == ReceivingOrderStatus.CLOSED
    assert [await _line(db, i) for i in asn.line_ids] == [
        (1, ReceivingLineStatus.CLOSED),
        (4, ReceivingLineStatus.CLOSED),
    ]
    by_number = {s.serial_number: s for s in await all_serials(db, serial)}
    assert {n: (s.status, s.location_id) for n, s in by_number.items()} == {
        "SN-1": (S.RELEASED, None),
        "SN-2": (S.RECEIVED, site.dock),
        "SN-3": (S.RELEASED, None),
    }
    for number in ("SN-1", "SN-3"):
        assert moves(await movements(db, serial_id=by_number[number].id)) == [
            (K.EXPECT, None, S.EXPECTED, None, None, 1),
            (K.RELEASE, S.EXPECTED, S.RELEASED, None, None, 1),
        ]
    assert [m.kind for m in await movements(db, serial_id=by_number["SN-2"].id)] == [
        K.EXPECT,
        K.RECEIVE,
    ]
    # stock already received stays put
    assert [b.quantity for b in await balances(db, plain)] == [4]

    problems = await refused(
        db,
        lambda s: receive(
            s, order_id=asn.order_id, actor=ACTOR, lines=[LineReceipt(asn.line_ids[1], quantity=1)]
        ),
    )
    assert codes(problems) == [(ErrorCode.ORDER_NOT_OPEN, "orderId")]
    problems = await refused(
        db, lambda s: close_receiving_order(s, order_id=asn.order_id, actor=ACTOR)
    )
    assert codes(problems) == [(ErrorCode.ORDER_NOT_OPEN, "orderId")]

    # SN-1 never arrived: it may be expected again; SN-2 did, and may not
    await plan_asn(db, site, "ASN-2", expect(serial, 1, "SN-1"))
    problems = await refused(
        db,
        lambda s: plan_receiving_order(
            s,
            number="ASN-3",
            warehouse_id=site.warehouse_id,
            actor=ACTOR,
            lines=[PlannedLine(serial, 1, ["SN-2"])],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_ALREADY_EXISTS, "lines.0.expectedSerialNumbers")]


async def test_a_planned_order_cannot_be_closed(db: Database) -> None:
    site = await make_site(db)
    serial = await serial_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(serial, 1, "SN-1"))
    problems = await refused(
        db, lambda s: close_receiving_order(s, order_id=asn.order_id, actor=ACTOR)
    )
    assert codes(problems) == [(ErrorCode.ORDER_NOT_OPEN, "orderId")]
    problems = await refused(db, lambda s: close_receiving_order(s, order_id=999, actor=ACTOR))
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "orderId")]


# ================================================================ scanned labels

LAPTOP_GTIN = "09506000134352"
VITAMIN_GTIN = "09506000134369"
UNKNOWN_GTIN = "09506000134376"  # valid, and no product has it
GS = "\x1d"


async def _gs1_products(db: Database) -> tuple[int, int]:
    """LAPTOP (serial-tracked) and VITC (lot-tracked), each with its GTIN."""
    laptop = await make_product(db, "LAPTOP", Tracking.SERIAL, gtin=LAPTOP_GTIN)
    vitamins = await make_product(db, "VITC", Tracking.LOT, gtin=VITAMIN_GTIN)
    return laptop, vitamins


def _receipt(asn: Asn, *lines: LineReceipt) -> Callable[[AsyncSession], Awaitable[ReceiptResult]]:
    return lambda s: receive(s, order_id=asn.order_id, actor=ACTOR, lines=list(lines), now=NOW)


async def test_serials_may_be_received_as_raw_scans(db: Database) -> None:
    site = await make_site(db)
    laptop, _ = await _gs1_products(db)
    numbers = ["SN-1", "SN-2", "SN-3", "SN-4", "SN-5", "21345"]
    asn = await plan_asn(db, site, "ASN-1", expect(laptop, 6, *numbers))
    scans = [
        f"]C101{LAPTOP_GTIN}21SN-1{GS}",
        f"]d201{LAPTOP_GTIN}17310300" + "21SN-2",
        f"(01){LAPTOP_GTIN}(21)SN-3",
        f"https://id.example.com/01/{LAPTOP_GTIN}/21/SN-4",
        f"01{LAPTOP_GTIN}10LOT-9|21SN-5|",
        " 21345 ",  # typed: serial 21345, not AI (21) with serial 345
    ]

    result = await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=scans))

    assert sorted(s.serial_number for s in result.serials) == sorted(numbers)
    assert {s.status for s in (await serials_of(db, laptop)).values()} == {S.RECEIVED}


async def test_a_scanned_and_a_typed_serial_of_one_number_are_a_duplicate(db: Database) -> None:
    site = await make_site(db)
    laptop, _ = await _gs1_products(db)
    asn = await plan_asn(db, site, "ASN-1", expect(laptop, 2))
    scans = ["SN-1", f"(01){LAPTOP_GTIN}(21)SN-1"]
    problems = await refused(db, _receipt(asn, LineReceipt(asn.line_ids[0], serial_numbers=scans)))
    assert codes(problems) == [(ErrorCode.DUPLICATE_SERIAL, "lines.0.serialNumbers")]


async def test_a_scanned_lot_label_gives_the_lot_and_its_expiry(db: Database) -> None:
    site = await make_site(db)
    _, vitamins = await _gs1_products(db)
    asn = await plan_asn(db, site, "ASN-1", expect(vitamins, 10))
    lots = [
        LotEntry(f"]C101{VITAMIN_GTIN}17310300" + "10LOT-A", 6),  # day 00: 31 March
        LotEntry(f"(01){VITAMIN_GTIN}(17)310930(10)LOT-B", 4, date(2031, 9, 30)),
    ]

    result = await receive_lines(db, asn, LineReceipt(asn.line_ids[0], lots=lots))

    assert [(lot.lot_number, lot.expiry_date) for lot in result.lots] == [
        ("LOT-A", date(2031, 3, 31)),
        ("LOT-B", date(2031, 9, 30)),
    ]
    assert [(lot.lot_number, lot.expiry_date) for lot in await lots_of(db, vitamins)] == [
        ("LOT-A", date(2031, 3, 31)),
        ("LOT-B", date(2031, 9, 30)),
    ]


async def test_each_refused_scan_is_named_by_its_entry_and_nothing_is_received(
    db: Database,
) -> None:
    site = await make_site(db)
    laptop, vitamins = await _gs1_products(db)
    plain = await plain_product(db)
    asn = await plan_asn(
        db, site, "ASN-1", expect(laptop, 5), expect(vitamins, 10), expect(plain, 3)
    )
    serial_line, lot_line, plain_line = asn.line_ids
    serials = [
        f"]C101{LAPTOP_GTIN}21SN-1",  # fine
        f"]C101{VITAMIN_GTIN}21SN-2",  # another product's GTIN
        f"]C101{LAPTOP_GTIN[:-1]}1" + "21SN-3",  # a wrong check digit
        f"(01){LAPTOP_GTIN}(10)LOT-A",  # a lot label
        f"]C101{LAPTOP_GTIN}99",  # not GS1 data
    ]
    lots = [
        LotEntry(f"(01){VITAMIN_GTIN}(17)310300(10)LOT-A", 2, date(2031, 3, 30)),
        LotEntry(f"(01){VITAMIN_GTIN}(21)SN-9", 2),  # a serial label
        LotEntry(f"(01){LAPTOP_GTIN}(10)LOT-C", 2),  # another product's GTIN
        LotEntry(f"(01){VITAMIN_GTIN}(17)310231(10)LOT-D", 2),  # 31 February
        LotEntry("LOT-E", 2),  # fine
    ]

    problems = await refused(
        db,
        _receipt(
            asn,
            LineReceipt(serial_line, serial_numbers=serials),
            LineReceipt(lot_line, lots=lots),
            LineReceipt(plain_line, quantity=3),
        ),
    )

    assert codes(problems) == [
        (ErrorCode.GTIN_MISMATCH, "lines.0.serialNumbers.1"),
        (ErrorCode.INVALID_SCAN, "lines.0.serialNumbers.2"),
        (ErrorCode.WRONG_LABEL, "lines.0.serialNumbers.3"),
        (ErrorCode.INVALID_SCAN, "lines.0.serialNumbers.4"),
        (ErrorCode.EXPIRY_MISMATCH, "lines.1.lots.0.lotNumber"),
        (ErrorCode.WRONG_LABEL, "lines.1.lots.1.lotNumber"),
        (ErrorCode.GTIN_MISMATCH, "lines.1.lots.2.lotNumber"),
        (ErrorCode.INVALID_SCAN, "lines.1.lots.3.lotNumber"),
    ]
    messages = [p.message for p in problems]
    assert f"GTIN {VITAMIN_GTIN}, but LAPTOP's GTIN is {LAPTOP_GTIN}" in messages[0]
    assert "check digit" in messages[1]
    assert "lot LOT-A" in messages[2]
    assert "says expiry 2031-03-31, but the lot's is 2031-03-30" in messages[4]
    assert "impossible date" in messages[7]


async def test_one_refused_scan_refuses_the_whole_receipt(db: Database) -> None:
    site = await make_site(db)
    laptop, _ = await _gs1_products(db)
    plain = await plain_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(laptop, 2), expect(plain, 3))
    serial_line, plain_line = asn.line_ids
    scans = ["SN-1", f"(01){VITAMIN_GTIN}(21)SN-2"]
    problems = await refused(
        db,
        _receipt(
            asn,
            LineReceipt(serial_line, serial_numbers=scans),
            LineReceipt(plain_line, quantity=3),
        ),
    )
    assert codes(problems) == [(ErrorCode.GTIN_MISMATCH, "lines.0.serialNumbers.1")]

    scans[1] = f"(01){LAPTOP_GTIN}(21)SN-2"
    await receive_lines(
        db,
        asn,
        LineReceipt(serial_line, serial_numbers=scans),
        LineReceipt(plain_line, quantity=3),
    )
    assert await _order(db, asn) == ReceivingOrderStatus.RECEIVED


async def test_a_scanned_expiry_must_be_the_one_an_existing_lot_has(db: Database) -> None:
    site = await make_site(db)
    _, vitamins = await _gs1_products(db)
    first = await plan_asn(db, site, "ASN-1", expect(vitamins, 4))
    dated, undated = LotEntry("LOT-A", 2, date(2031, 3, 31)), LotEntry("LOT-U", 2)
    await receive_lines(db, first, LineReceipt(first.line_ids[0], lots=[dated, undated]))
    second = await plan_asn(db, site, "ASN-2", expect(vitamins, 2))
    line = second.line_ids[0]

    for scan, recorded in [
        (f"(01){VITAMIN_GTIN}(17)310330(10)lot-a", "2031-03-31"),
        (f"(01){VITAMIN_GTIN}(17)310330(10)LOT-U", "none"),
    ]:
        problems = await refused(db, _receipt(second, LineReceipt(line, lots=[LotEntry(scan, 2)])))
        assert codes(problems) == [(ErrorCode.EXPIRY_MISMATCH, "lines.0.lots.0.lotNumber")]
        assert problems[0].message.startswith("the label says expiry 2031-03-30, but lot ")
        assert problems[0].message.endswith(f"is recorded with {recorded}")

    # the label that agrees (day 00 of March) is received into the existing lot
    agreeing = LotEntry(f"]C101{VITAMIN_GTIN}17310300" + "10lot-a", 2)
    await receive_lines(db, second, LineReceipt(line, lots=[agreeing]))
    assert [(lot.lot_number, lot.expiry_date) for lot in await lots_of(db, vitamins)] == [
        ("LOT-A", date(2031, 3, 31)),
        ("LOT-U", None),
    ]


async def test_a_scanned_expiry_that_has_passed_is_refused_at_the_scan(db: Database) -> None:
    site = await make_site(db)
    _, vitamins = await _gs1_products(db)
    asn = await plan_asn(db, site, "ASN-1", expect(vitamins, 2))
    expired = LotEntry(f"(01){VITAMIN_GTIN}(17)250531(10)LOT-A", 2)  # NOW is 1 June 2025
    problems = await refused(db, _receipt(asn, LineReceipt(asn.line_ids[0], lots=[expired])))
    assert codes(problems) == [(ErrorCode.LOT_EXPIRED, "lines.0.lots.0.lotNumber")]
    assert problems[0].message == "lot LOT-A expired on 2025-05-31"


async def test_a_product_without_gtin_refuses_only_labels_of_other_products(
    db: Database,
) -> None:
    site = await make_site(db)
    await _gs1_products(db)
    drill = await serial_product(db, "DRILL")
    asn = await plan_asn(db, site, "ASN-1", expect(drill, 2))
    line = asn.line_ids[0]
    scans = [f"(01){LAPTOP_GTIN}(21)SN-1", f"(01){UNKNOWN_GTIN}(21)SN-2"]
    problems = await refused(db, _receipt(asn, LineReceipt(line, serial_numbers=scans)))
    assert codes(problems) == [(ErrorCode.GTIN_MISMATCH, "lines.0.serialNumbers.0")]
    assert f"GTIN {LAPTOP_GTIN} of LAPTOP, not DRILL" in problems[0].message

    await receive_lines(db, asn, LineReceipt(line, serial_numbers=scans[1:]))
    assert list(await serials_of(db, drill)) == ["SN-2"]
