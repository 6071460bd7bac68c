"""Putaway: moving what a receipt staged on the dock into storage, whole or split."""

from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import pytest

from models import (
    LocationKind,
    MovementKind,
    PutawayTask,
    PutawayTaskStatus,
    SerialStatus,
    Tracking,
)
from services.catalog import create_location
from services.errors import ErrorCode
from services.putaway import Placement, complete_putaway
from services.receiving import LineReceipt, LotEntry
from tests.conftest import Database
from tests.services.builders import (
    ACTOR,
    NOW,
    Site,
    balances,
    codes,
    expect,
    get,
    lot_product,
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
)

LATER = NOW + timedelta(hours=5)
EXPIRY = date(2026, 12, 31)
S = SerialStatus
K = MovementKind


async def _serial_task(
    db: Database, site: Site, numbers: list[str], *, listed: bool = False, asn: str = "ASN-1"
) -> tuple[int, int]:
    """Receive serials on the dock; (product id, putaway task id)."""
    product = await serial_product(db, f"SER-{asn}")
    planned = expect(product, len(numbers), *(numbers if listed else []))
    order = await plan_asn(db, site, asn, planned)
    result = await receive_lines(db, order, LineReceipt(order.line_ids[0], serial_numbers=numbers))
    [task] = result.putaway_tasks
    return product, task.id


async def _lot_tasks(db: Database, site: Site) -> tuple[int, list[PutawayTask]]:
    """Receive lot L-1 (6) and L-2 (4) on the dock; (product id, [task L-1, task L-2])."""
    product = await lot_product(db)
    order = await plan_asn(db, site, "ASN-1", expect(product, 10))
    result = await receive_lines(
        db,
        order,
        LineReceipt(order.line_ids[0], lots=[LotEntry("L-1", 6, EXPIRY), LotEntry("L-2", 4)]),
    )
    return product, result.putaway_tasks


async def _plain_task(db: Database, site: Site, quantity: int = 5) -> tuple[int, int]:
    product = await plain_product(db)
    order = await plan_asn(db, site, "ASN-1", expect(product, quantity))
    result = await receive_lines(db, order, LineReceipt(order.line_ids[0], quantity=quantity))
    [task] = result.putaway_tasks
    return product, task.id


# ================================================================ serials


async def test_serial_task_puts_serials_into_inventory(db: Database) -> None:
    site = await make_site(db)
    product, task_id = await _serial_task(db, site, ["SN-1", "SN-2"], listed=True)

    task = await put_away(db, task_id, Placement(site.a01, 2))

    assert task.status is PutawayTaskStatus.DONE
    stored = await get(db, PutawayTask, task_id)
    assert stored.status is PutawayTaskStatus.DONE
    assert stored.completed_at is not None
    serials = await serials_of(db, product)
    for s in serials.values():
        assert (s.status, s.location_id, s.putaway_task_id, s.received_at) == (
            S.IN_INVENTORY,
            site.a01,
            task_id,
            NOW,
        )
        rows = await movements(db, serial_id=s.id)
        assert moves(rows) == [
            (K.EXPECT, None, S.EXPECTED, None, None, 1),
            (K.RECEIVE, S.EXPECTED, S.RECEIVED, None, site.dock, 1),
            (K.PUTAWAY, S.RECEIVED, S.IN_INVENTORY, site.dock, site.a01, 1),
        ]
        assert (rows[-1].document_type, rows[-1].document_number, rows[-1].actor) == (
            "RECEIVING_ORDER",
            "ASN-1",
            ACTOR,
        )
    assert await balances(db, product) == []


async def _placed(db: Database, product: int) -> dict[str, tuple[SerialStatus, int | None]]:
    return {n: (s.status, s.location_id) for n, s in (await serials_of(db, product)).items()}


async def test_split_with_named_serials(db: Database) -> None:
    site = await make_site(db)
    product, task_id = await _serial_task(db, site, ["SN-1", "SN-2", "SN-3"])

    await put_away(
        db,
        task_id,
        Placement(site.a01, 1, ["SN-3"]),
        Placement(site.a02, 2, [" SN-1 ", "SN-2"]),
    )

    assert await _placed(db, product) == {
        "SN-1": (S.IN_INVENTORY, site.a02),
        "SN-2": (S.IN_INVENTORY, site.a02),
        "SN-3": (S.IN_INVENTORY, site.a01),
    }
    serials = await serials_of(db, product)
    for number, location in (("SN-1", site.a02), ("SN-2", site.a02), ("SN-3", site.a01)):
        assert moves(await movements(db, serial_id=serials[number].id))[-1] == (
            K.PUTAWAY,
            S.RECEIVED,
            S.IN_INVENTORY,
            site.dock,
            location,
            1,
        )


async def test_split_with_unnamed_serials_takes_them_in_number_order(db: Database) -> None:
    site = await make_site(db)
    product, task_id = await _serial_task(db, site, ["SN-B", "SN-C", "SN-A"])

    await put_away(db, task_id, Placement(site.a01, 2), Placement(site.a02, 1))

    assert await _placed(db, product) == {
        "SN-A": (S.IN_INVENTORY, site.a01),
        "SN-B": (S.IN_INVENTORY, site.a01),
        "SN-C": (S.IN_INVENTORY, site.a02),
    }


async def test_named_serials_are_placed_first_and_the_rest_fill_in(db: Database) -> None:
    site = await make_site(db)
    product, task_id = await _serial_task(db, site, ["SN-B", "SN-C", "SN-A"])

    await put_away(db, task_id, Placement(site.a01, 2), Placement(site.a02, 1, ["SN-A"]))

    assert await _placed(db, product) == {
        "SN-A": (S.IN_INVENTORY, site.a02),
        "SN-B": (S.IN_INVENTORY, site.a01),
        "SN-C": (S.IN_INVENTORY, site.a01),
    }


# ================================================================ lots and plain stock


async def test_lot_task_moves_stock_from_dock_to_storage(db: Database) -> None:
    site = await make_site(db)
    product, (first, second) = await _lot_tasks(db, site)
    assert first.lot_id is not None
    assert second.lot_id is not None

    await put_away(db, first.id, Placement(site.a01, 4), Placement(site.a02, 2))

    assert [
        (b.location_id, b.lot_id, b.quantity, b.received_at) for b in await balances(db, product)
    ] == [
        (site.dock, second.lot_id, 4, NOW),  # the other lot's task is untouched
        (site.a01, first.lot_id, 4, NOW),
        (site.a02, first.lot_id, 2, NOW),
    ]
    assert [
        (m.lot_id, m.serial_id, *moves([m])[0]) for m in await movements(db, lot_id=first.lot_id)
    ] == [
        (first.lot_id, None, K.RECEIVE, None, None, None, site.dock, 6),
        (first.lot_id, None, K.PUTAWAY, None, None, site.dock, site.a01, 4),
        (first.lot_id, None, K.PUTAWAY, None, None, site.dock, site.a02, 2),
    ]
    assert (await get(db, PutawayTask, first.id)).status is PutawayTaskStatus.DONE
    assert (await get(db, PutawayTask, second.id)).status is PutawayTaskStatus.OPEN

    await put_away(db, second.id, Placement(site.a01, 4))
    assert [(b.location_id, b.lot_id, b.quantity) for b in await balances(db, product)] == [
        (site.a01, first.lot_id, 4),
        (site.a01, second.lot_id, 4),
        (site.a02, first.lot_id, 2),
    ]


async def test_untracked_task_keeps_each_receipt_time(db: Database) -> None:
    site = await make_site(db)
    product = await plain_product(db)
    order = await plan_asn(db, site, "ASN-1", expect(product, 8))
    early = await receive_lines(db, order, LineReceipt(order.line_ids[0], quantity=5))
    late = await receive_lines(db, order, LineReceipt(order.line_ids[0], quantity=3), now=LATER)

    await put_away(db, early.putaway_tasks[0].id, Placement(site.a01, 5))
    assert [
        (b.location_id, b.lot_id, b.quantity, b.received_at) for b in await balances(db, product)
    ] == [
        (site.dock, None, 3, LATER),
        (site.a01, None, 5, NOW),
    ]

    await put_away(db, late.putaway_tasks[0].id, Placement(site.a01, 1), Placement(site.a01, 2))
    assert sorted(
        (b.location_id, b.quantity, b.received_at) for b in await balances(db, product)
    ) == [(site.a01, 3, LATER), (site.a01, 5, NOW)]
    assert moves(await movements(db, product_id=product, kind=K.PUTAWAY)) == [
        (K.PUTAWAY, None, None, site.dock, site.a01, 5),
        (K.PUTAWAY, None, None, site.dock, site.a01, 1),
        (K.PUTAWAY, None, None, site.dock, site.a01, 2),
    ]


# ================================================================ refusals


Build = Callable[[Database, Site], Awaitable[int]]


async def _any_serial_task(db: Database, site: Site) -> int:
    return (await _serial_task(db, site, ["SN-1", "SN-2", "SN-3"]))[1]


async def _any_lot_task(db: Database, site: Site) -> int:
    _, tasks = await _lot_tasks(db, site)
    # L-2 goes to storage first, so the product has stock on both sides of the move
    await put_away(db, tasks[1].id, Placement(site.a01, 4))
    assert tasks[0].quantity == 6
    return tasks[0].id


async def _any_plain_task(db: Database, site: Site) -> int:
    return (await _plain_task(db, site, 3))[1]


TASKS = pytest.mark.parametrize(
    ("build", "quantity"),
    [(_any_serial_task, 3), (_any_lot_task, 6), (_any_plain_task, 3)],
    ids=["serial", "lot", "plain"],
)


@TASKS
async def test_only_storage_locations_take_putaway(
    db: Database, build: Build, quantity: int
) -> None:
    site = await make_site(db)
    task_id = await build(db, site)
    async with db.sessions.begin() as session:
        packing = await create_location(
            session, warehouse_id=site.warehouse_id, code="PACK-1", kind=LocationKind.PACKING
        )
    problems = await refused(
        db,
        lambda s: complete_putaway(
            s,
            task_id=task_id,
            actor=ACTOR,
            placements=[
                Placement(site.dock, 1),
                Placement(site.a01, quantity - 2),
                Placement(packing.id, 1),
            ],
        ),
    )
    assert codes(problems) == [
        (ErrorCode.LOCATION_NOT_STORAGE, "placements.0.locationId"),
        (ErrorCode.LOCATION_NOT_STORAGE, "placements.2.locationId"),
    ]
    assert "DOCK" in problems[0].message
    # the task is still open and can be done properly
    await put_away(db, task_id, Placement(site.a02, quantity))
    assert (await get(db, PutawayTask, task_id)).status is PutawayTaskStatus.DONE


@TASKS
@pytest.mark.parametrize("delta", [-1, 1])
async def test_placements_must_add_up_to_the_task(
    db: Database, build: Build, quantity: int, delta: int
) -> None:
    site = await make_site(db)
    task_id = await build(db, site)
    problems = await refused(
        db,
        lambda s: complete_putaway(
            s,
            task_id=task_id,
            actor=ACTOR,
            placements=[Placement(site.a01, 1), Placement(site.a02, quantity - 1 + delta)],
        ),
    )
    assert codes(problems) == [(ErrorCode.PUTAWAY_QUANTITY_MISMATCH, "placements")]


@TASKS
async def test_location_of_another_warehouse_is_not_found(
    db: Database, build: Build, quantity: int
) -> None:
    site = await make_site(db)
    other = await make_site(db, "WH2")
    task_id = await build(db, site)
    problems = await refused(
        db,
        lambda s: complete_putaway(
            s,
            task_id=task_id,
            actor=ACTOR,
            placements=[Placement(other.a01, quantity - 1), Placement(999_999, 1)],
        ),
    )
    assert codes(problems) == [
        (ErrorCode.NOT_FOUND, "placements.0.locationId"),
        (ErrorCode.NOT_FOUND, "placements.1.locationId"),
    ]


@TASKS
async def test_a_done_task_is_not_open(db: Database, build: Build, quantity: int) -> None:
    site = await make_site(db)
    task_id = await build(db, site)
    await put_away(db, task_id, Placement(site.a01, quantity))
    problems = await refused(
        db,
        lambda s: complete_putaway(
            s, task_id=task_id, actor=ACTOR, placements=[Placement(site.a02, quantity)]
        ),
    )
    assert codes(problems) == [(ErrorCode.TASK_NOT_OPEN, "taskId")]


@TASKS
async def test_placement_quantities_must_be_positive(
    db: Database, build: Build, quantity: int
) -> None:
    site = await make_site(db)
    task_id = await build(db, site)
    problems = await refused(
        db,
        lambda s: complete_putaway(
            s,
            task_id=task_id,
            actor=ACTOR,
            placements=[Placement(site.a01, quantity + 1), Placement(site.a02, -1)],
        ),
    )
    assert codes(problems) == [(ErrorCode.QUANTITY_NOT_POSITIVE, "placements.1.quantity")]


async def test_unknown_task_and_empty_placements(db: Database) -> None:
    site = await make_site(db)
    task_id = await _any_plain_task(db, site)
    problems = await refused(
        db,
        lambda s: complete_putaway(
            s, task_id=999_999, actor=ACTOR, placements=[Placement(site.a01, 1)]
        ),
    )
    assert codes(problems) == [(ErrorCode.NOT_FOUND, "taskId")]
    problems = await refused(
        db, lambda s: complete_putaway(s, task_id=task_id, actor=ACTOR, placements=[])
    )
    assert codes(problems) == [(ErrorCode.INVALID_VALUE, "placements")]


async def test_serial_of_another_task_is_refused(db: Database) -> None:
    site = await make_site(db)
    product, task_id = await _serial_task(db, site, ["SN-1", "SN-2", "SN-3"])
    await _serial_task(db, site, ["SN-9"], asn="ASN-2")
    problems = await refused(
        db,
        lambda s: complete_putaway(
            s,
            task_id=task_id,
            actor=ACTOR,
            placements=[Placement(site.a01, 1, ["SN-9"]), Placement(site.a02, 2)],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_NOT_ON_TASK, "placements.0.serialNumbers")]
    assert "SN-9" in problems[0].message
    assert {s.status for s in (await serials_of(db, product)).values()} == {S.RECEIVED}


async def test_serial_placed_twice_is_refused(db: Database) -> None:
    site = await make_site(db)
    _, task_id = await _serial_task(db, site, ["SN-1", "SN-2", "SN-3"])
    problems = await refused(
        db,
        lambda s: complete_putaway(
            s,
            task_id=task_id,
            actor=ACTOR,
            placements=[
                Placement(site.a01, 1, ["SN-1"]),
                Placement(site.a02, 1, ["SN-1 "]),
                Placement(site.a01, 1),
            ],
        ),
    )
    assert codes(problems) == [(ErrorCode.DUPLICATE_SERIAL, "placements.1.serialNumbers")]


async def test_named_serials_must_match_the_placement_quantity(db: Database) -> None:
    site = await make_site(db)
    _, task_id = await _serial_task(db, site, ["SN-1", "SN-2", "SN-3"])
    problems = await refused(
        db,
        lambda s: complete_putaway(
            s,
            task_id=task_id,
            actor=ACTOR,
            placements=[Placement(site.a01, 2, ["SN-1"]), Placement(site.a02, 1)],
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIAL_COUNT_MISMATCH, "placements.0.serialNumbers")]


async def test_invalid_serial_number_in_a_placement_is_refused(db: Database) -> None:
    site = await make_site(db)
    _, task_id = await _serial_task(db, site, ["SN-1"])
    problems = await refused(
        db,
        lambda s: complete_putaway(
            s, task_id=task_id, actor=ACTOR, placements=[Placement(site.a01, 1, ["  "])]
        ),
    )
    assert codes(problems) == [(ErrorCode.INVALID_SERIAL_NUMBER, "placements.0.serialNumbers")]


@pytest.mark.parametrize("kind", ["lot", "plain"])
async def test_serial_numbers_on_a_task_without_serials_are_refused(
    db: Database, kind: str
) -> None:
    site = await make_site(db)
    task_id = await (_any_lot_task(db, site) if kind == "lot" else _any_plain_task(db, site))
    quantity = (await get(db, PutawayTask, task_id)).quantity
    numbers = [f"SN-{i}" for i in range(quantity)]
    problems = await refused(
        db,
        lambda s: complete_putaway(
            s, task_id=task_id, actor=ACTOR, placements=[Placement(site.a01, quantity, numbers)]
        ),
    )
    assert codes(problems) == [(ErrorCode.SERIALS_NOT_ALLOWED, "placements.0.serialNumbers")]


# ================================================================ scanned labels

LAPTOP_GTIN = "09506000134352"
VITAMIN_GTIN = "09506000134369"


async def test_serials_may_be_named_by_raw_scans_of_their_labels(db: Database) -> None:
    site = await make_site(db)
    laptop = await make_product(db, "LAPTOP", Tracking.SERIAL, gtin=LAPTOP_GTIN)
    await make_product(db, "VITC", Tracking.LOT, gtin=VITAMIN_GTIN)
    order = await plan_asn(db, site, "ASN-1", expect(laptop, 3))
    result = await receive_lines(
        db, order, LineReceipt(order.line_ids[0], serial_numbers=["SN-1", "SN-2", "SN-3"])
    )
    [task] = result.putaway_tasks

    problems = await refused(
        db,
        lambda s: complete_putaway(
            s,
            task_id=task.id,
            actor=ACTOR,
            placements=[
                Placement(
                    site.a01, 2, [f"(01){LAPTOP_GTIN}(21)SN-1", f"(01){VITAMIN_GTIN}(21)SN-2"]
                ),
                Placement(site.a02, 1, [f"(01){LAPTOP_GTIN}(10)LOT-1"]),
            ],
        ),
    )
    assert codes(problems) == [
        (ErrorCode.GTIN_MISMATCH, "placements.0.serialNumbers.1"),
        (ErrorCode.WRONG_LABEL, "placements.1.serialNumbers.0"),
    ]

    await put_away(
        db,
        task.id,
        Placement(site.a01, 2, [f"]C101{LAPTOP_GTIN}21SN-1\x1d", "SN-3"]),
        Placement(site.a02, 1, [f"https://id.example.com/01/{LAPTOP_GTIN}/21/SN-2"]),
    )
    serials = await serials_of(db, laptop)
    assert {n: (s.status, s.location_id) for n, s in serials.items()} == {
        "SN-1": (S.IN_INVENTORY, site.a01),
        "SN-2": (S.IN_INVENTORY, site.a02),
        "SN-3": (S.IN_INVENTORY, site.a01),
    }


async def test_an_unreadable_serial_label_is_refused_at_its_entry(db: Database) -> None:
    site = await make_site(db)
    laptop = await make_product(db, "LAPTOP", Tracking.SERIAL, gtin=LAPTOP_GTIN)
    order = await plan_asn(db, site, "ASN-1", expect(laptop, 1))
    result = await receive_lines(db, order, LineReceipt(order.line_ids[0], serial_numbers=["SN-1"]))
    [task] = result.putaway_tasks
    bad = f"]C101{LAPTOP_GTIN[:-1]}1" + "21SN-1"
    problems = await refused(
        db,
        lambda s: complete_putaway(
            s, task_id=task.id, actor=ACTOR, placements=[Placement(site.a01, 1, [bad])]
        ),
    )
    assert codes(problems) == [(ErrorCode.INVALID_SCAN, "placements.0.serialNumbers.0")]
