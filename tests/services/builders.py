"""Small builders for service tests. Each runs one use case through the services, in its
own transaction, the way a resolver would; none inserts rows behind the services' back."""

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Allocation,
    AllocationStrategy,
    Base,
    Location,
    LocationKind,
    Lot,
    Movement,
    MovementKind,
    OutboundLine,
    OutboundOrder,
    OutboundOrderStatus,
    PickTask,
    PickTaskStatus,
    Product,
    PutawayTask,
    PutawayTaskStatus,
    ReceivingLine,
    ReceivingLineStatus,
    ReceivingOrder,
    ReceivingOrderStatus,
    Serial,
    SerialStatus,
    Shipment,
    ShipmentStatus,
    StockBalance,
    Tracking,
    Warehouse,
)
from services.catalog import LocationSpec, create_product, create_warehouse
from services.errors import ErrorCode, Problem, Refused
from services.outbound import OrderLineSpec, allocate_order, create_order
from services.picking import PickConfirmation, confirm_pick
from services.putaway import Placement, complete_putaway
from services.receiving import (
    LineReceipt,
    LotEntry,
    PlannedLine,
    ReceiptResult,
    plan_receiving_order,
    receive,
)
from tests.conftest import Database

ACTOR = "tester"
NOW = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)

T = TypeVar("T", bound=Base)

# ---------------------------------------------------------------- catalog


@dataclass(frozen=True)
class Site:
    """A warehouse with a receiving dock and two storage locations (and, when asked for, a
    packing location)."""

    warehouse_id: int
    dock: int
    a01: int
    a02: int
    packing: int | None = None


async def make_site(
    db: Database,
    code: str = "WH1",
    *,
    time_zone: str = "UTC",
    allocation_strategy: AllocationStrategy = AllocationStrategy.FEFO,
    packing: bool = False,
) -> Site:
    locations = [
        LocationSpec("DOCK", LocationKind.RECEIVING),
        LocationSpec("A-01", LocationKind.STORAGE),
        LocationSpec("A-02", LocationKind.STORAGE),
    ]
    if packing:
        locations.append(LocationSpec("PACK", LocationKind.PACKING))
    async with db.sessions.begin() as session:
        warehouse = await create_warehouse(
            session,
            code=code,
            name=f"Warehouse {code}",
            time_zone=time_zone,
            allocation_strategy=allocation_strategy,
            locations=locations,
        )
        ids = {
            loc.code: loc.id
            for loc in await session.scalars(
                select(Location).where(Location.warehouse_id == warehouse.id)
            )
        }
    return Site(warehouse.id, ids["DOCK"], ids["A-01"], ids["A-02"], ids.get("PACK"))


async def make_product(
    db: Database, sku: str, tracking: Tracking = Tracking.NONE, *, gtin: str | None = None
) -> int:
    async with db.sessions.begin() as session:
        product = await create_product(
            session, sku=sku, name=f"Product {sku}", tracking=tracking, gtin=gtin
        )
    return product.id


async def serial_product(db: Database, sku: str = "SER-1") -> int:
    return await make_product(db, sku, Tracking.SERIAL)


async def lot_product(db: Database, sku: str = "LOT-1") -> int:
    return await make_product(db, sku, Tracking.LOT)


async def plain_product(db: Database, sku: str = "PLAIN-1") -> int:
    return await make_product(db, sku, Tracking.NONE)


# ---------------------------------------------------------------- receiving and putaway


@dataclass(frozen=True)
class Asn:
    order_id: int
    number: str
    line_ids: list[int]  # in line-number order


def expect(product_id: int, quantity: int, *serials: str) -> PlannedLine:
    return PlannedLine(product_id, quantity, list(serials))


async def plan_asn(db: Database, site: Site, number: str, *lines: PlannedLine) -> Asn:
    async with db.sessions.begin() as session:
        order = await plan_receiving_order(
            session, number=number, warehouse_id=site.warehouse_id, lines=list(lines), actor=ACTOR
        )
        line_ids = list(
            await session.scalars(
                select(ReceivingLine.id)
                .where(ReceivingLine.order_id == order.id)
                .order_by(ReceivingLine.line_number)
            )
        )
    return Asn(order.id, order.number, line_ids)


async def receive_lines(
    db: Database, asn: Asn, *lines: LineReceipt, now: datetime = NOW
) -> ReceiptResult:
    async with db.sessions.begin() as session:
        return await receive(
            session, order_id=asn.order_id, lines=list(lines), actor=ACTOR, now=now
        )


async def put_away(db: Database, task_id: int, *placements: Placement) -> PutawayTask:
    async with db.sessions.begin() as session:
        return await complete_putaway(
            session, task_id=task_id, placements=list(placements), actor=ACTOR
        )


# ---------------------------------------------------------------- refusals


@dataclass(frozen=True)
class Snapshot:
    """Everything a refused use case must leave as it was."""

    counts: dict[str, int]
    orders: list[tuple[int, ReceivingOrderStatus]]
    lines: list[tuple[int, int, ReceivingLineStatus]]
    serials: list[tuple[int, str, SerialStatus, int | None, int | None]]
    lots: list[tuple[int, str, str]]
    balances: list[tuple[int, int, int | None, int, datetime]]
    tasks: list[tuple[int, PutawayTaskStatus]]
    # outbound state, and what receiving alone never changes
    reserved: list[tuple[int, int]]  # (balance id, allocated quantity)
    holds: list[tuple[int, bool, date | None]]  # (lot id, on hold, expiry)
    outbound_orders: list[tuple[int, OutboundOrderStatus, datetime]]  # (id, status, updated)
    outbound_lines: list[tuple[int, int, int, int]]  # (id, allocated, picked, shipped)
    allocations: list[tuple[object, ...]]
    pick_tasks: list[tuple[int, PickTaskStatus, datetime | None]]
    shipments: list[tuple[int, ShipmentStatus, datetime | None]]


COUNTED: list[type[Base]] = [
    Warehouse,
    Location,
    Product,
    ReceivingOrder,
    ReceivingLine,
    Serial,
    Lot,
    StockBalance,
    Movement,
    PutawayTask,
    OutboundOrder,
    OutboundLine,
    Allocation,
    PickTask,
    Shipment,
]


async def snapshot_in(session: AsyncSession) -> Snapshot:
    counts = {}
    for model in COUNTED:
        counts[model.__tablename__] = (
            await session.scalar(select(func.count()).select_from(model))
        ) or 0
    orders = await session.execute(
        select(ReceivingOrder.id, ReceivingOrder.status).order_by(ReceivingOrder.id)
    )
    lines = await session.execute(
        select(ReceivingLine.id, ReceivingLine.received_quantity, ReceivingLine.status).order_by(
            ReceivingLine.id
        )
    )
    serials = await session.execute(
        select(
            Serial.id,
            Serial.serial_number,
            Serial.status,
            Serial.location_id,
            Serial.putaway_task_id,
        ).order_by(Serial.id)
    )
    lots = await session.execute(select(Lot.id, Lot.lot_number, Lot.lot_key).order_by(Lot.id))
    balances = await session.execute(
        select(
            StockBalance.product_id,
            StockBalance.location_id,
            StockBalance.lot_id,
            StockBalance.quantity,
            StockBalance.received_at,
        ).order_by(StockBalance.id)
    )
    tasks = await session.execute(
        select(PutawayTask.id, PutawayTask.status).order_by(PutawayTask.id)
    )
    reserved = await session.execute(
        select(StockBalance.id, StockBalance.allocated_quantity).order_by(StockBalance.id)
    )
    holds = await session.execute(select(Lot.id, Lot.on_hold, Lot.expiry_date).order_by(Lot.id))
    outbound_orders = await session.execute(
        select(OutboundOrder.id, OutboundOrder.status, OutboundOrder.updated_at).order_by(
            OutboundOrder.id
        )
    )
    outbound_lines = await session.execute(
        select(
            OutboundLine.id,
            OutboundLine.allocated_quantity,
            OutboundLine.picked_quantity,
            OutboundLine.shipped_quantity,
        ).order_by(OutboundLine.id)
    )
    allocations = await session.execute(
        select(
            Allocation.id,
            Allocation.status,
            Allocation.serial_id,
            Allocation.lot_id,
            Allocation.stock_balance_id,
            Allocation.location_id,
            Allocation.received_at,
            Allocation.quantity,
            Allocation.picked_quantity,
            Allocation.shipment_id,
        ).order_by(Allocation.id)
    )
    pick_tasks = await session.execute(
        select(PickTask.id, PickTask.status, PickTask.completed_at).order_by(PickTask.id)
    )
    shipments = await session.execute(
        select(Shipment.id, Shipment.status, Shipment.dispatched_at).order_by(Shipment.id)
    )
    return Snapshot(
        counts,
        [(i, status) for i, status in orders],
        [(i, received, status) for i, received, status in lines],
        [(i, n, status, loc, task) for i, n, status, loc, task in serials],
        [(i, number, key) for i, number, key in lots],
        [(p, loc, lot, qty, at) for p, loc, lot, qty, at in balances],
        [(i, status) for i, status in tasks],
        reserved=[(i, allocated) for i, allocated in reserved],
        holds=[(i, on_hold, expiry) for i, on_hold, expiry in holds],
        outbound_orders=[(i, status, at) for i, status, at in outbound_orders],
        outbound_lines=[(i, a, p, s) for i, a, p, s in outbound_lines],
        allocations=[tuple(row) for row in allocations],
        pick_tasks=[(i, status, at) for i, status, at in pick_tasks],
        shipments=[(i, status, at) for i, status, at in shipments],
    )


async def snapshot(db: Database) -> Snapshot:
    async with db.read_sessions() as session:
        return await snapshot_in(session)


async def refused(db: Database, call: Callable[[AsyncSession], Awaitable[object]]) -> list[Problem]:
    """Run a use case that must be refused, and prove it changed nothing.

    The check runs twice: inside the refused call's own transaction (so nothing was even
    flushed or left pending before the refusal), and after that transaction commits, as a
    resolver that records the refusal in the same transaction would.
    """
    before = await snapshot(db)
    async with db.sessions.begin() as session:
        with pytest.raises(Refused) as caught:
            await call(session)
        assert await snapshot_in(session) == before
    assert await snapshot(db) == before
    return caught.value.problems


def codes(problems: list[Problem]) -> list[tuple[ErrorCode, str | None]]:
    return [(p.code, p.field) for p in problems]


# ---------------------------------------------------------------- reading back


async def get(db: Database, model: type[T], id_: int) -> T:
    async with db.read_sessions() as session:
        row = await session.get(model, id_)
    assert row is not None, f"no {model.__name__} {id_}"
    return row


async def serials_of(db: Database, product_id: int) -> dict[str, Serial]:
    """The product's live serials by number (RELEASED rows left out)."""
    async with db.read_sessions() as session:
        rows = await session.scalars(
            select(Serial).where(
                Serial.product_id == product_id, Serial.status != SerialStatus.RELEASED
            )
        )
        return {s.serial_number: s for s in rows}


async def all_serials(db: Database, product_id: int) -> list[Serial]:
    async with db.read_sessions() as session:
        rows = await session.scalars(
            select(Serial).where(Serial.product_id == product_id).order_by(Serial.id)
        )
        return list(rows)


async def movements(db: Database, **where: Any) -> list[Movement]:
    """Movements whose columns equal the given values, oldest first."""
    async with db.read_sessions() as session:
        query = select(Movement).order_by(Movement.id)
        for column, value in where.items():
            query = query.where(getattr(Movement, column) == value)
        return list(await session.scalars(query))


def moves(
    rows: list[Movement],
) -> list[
    tuple[MovementKind, SerialStatus | None, SerialStatus | None, int | None, int | None, int]
]:
    """kind, from/to status, from/to location and quantity of each movement."""
    return [
        (m.kind, m.from_status, m.to_status, m.from_location_id, m.to_location_id, m.quantity)
        for m in rows
    ]


async def balances(db: Database, product_id: int) -> list[StockBalance]:
    """The product's on-hand balances (an emptied balance row may be kept, with quantity 0)."""
    async with db.read_sessions() as session:
        rows = await session.scalars(
            select(StockBalance)
            .where(StockBalance.product_id == product_id, StockBalance.quantity > 0)
            .order_by(StockBalance.location_id, StockBalance.lot_id, StockBalance.id)
        )
        return list(rows)


async def tasks_of(db: Database, line_id: int) -> list[PutawayTask]:
    async with db.read_sessions() as session:
        rows = await session.scalars(
            select(PutawayTask)
            .where(PutawayTask.receiving_line_id == line_id)
            .order_by(PutawayTask.id)
        )
        return list(rows)


async def lots_of(db: Database, product_id: int) -> list[Lot]:
    async with db.read_sessions() as session:
        rows = await session.scalars(
            select(Lot).where(Lot.product_id == product_id).order_by(Lot.id)
        )
        return list(rows)


# ---------------------------------------------------------------- stock in storage

_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    """A document number or code no other builder call of this run has used."""
    return f"{prefix}-{next(_numbers)}"


async def stock_serials(
    db: Database,
    site: Site,
    product_id: int,
    *numbers: str,
    location: int | None = None,
    now: datetime = NOW,
) -> dict[str, int]:
    """Receive serials (received at `now`) and put them away; their ids by number."""
    asn = await plan_asn(db, site, unique("ASN"), expect(product_id, len(numbers)))
    result = await receive_lines(
        db, asn, LineReceipt(asn.line_ids[0], serial_numbers=list(numbers)), now=now
    )
    [task] = result.putaway_tasks
    await put_away(db, task.id, Placement(site.a01 if location is None else location, len(numbers)))
    return {s.serial_number: s.id for s in result.serials}


async def stock_lot(
    db: Database,
    site: Site,
    product_id: int,
    lot_number: str,
    quantity: int,
    expiry: date | None = None,
    *placements: Placement,
    now: datetime = NOW,
) -> int:
    """Receive one lot at `now` and put it away (all into A-01 unless placements say
    otherwise); the lot's id."""
    asn = await plan_asn(db, site, unique("ASN"), expect(product_id, quantity))
    result = await receive_lines(
        db,
        asn,
        LineReceipt(asn.line_ids[0], lots=[LotEntry(lot_number, quantity, expiry)]),
        now=now,
    )
    [task] = result.putaway_tasks
    await put_away(db, task.id, *(placements or (Placement(site.a01, quantity),)))
    [lot] = result.lots
    return lot.id


async def stock_plain(
    db: Database,
    site: Site,
    product_id: int,
    quantity: int,
    *placements: Placement,
    now: datetime = NOW,
) -> None:
    """Receive untracked goods at `now` and put them away (into A-01 unless told)."""
    asn = await plan_asn(db, site, unique("ASN"), expect(product_id, quantity))
    result = await receive_lines(db, asn, LineReceipt(asn.line_ids[0], quantity=quantity), now=now)
    [task] = result.putaway_tasks
    await put_away(db, task.id, *(placements or (Placement(site.a01, quantity),)))


async def hold_lot(db: Database, lot_id: int, on_hold: bool = True) -> None:
    """Put a lot on hold directly (there is no hold use case yet)."""
    async with db.sessions.begin() as session:
        lot = await session.get(Lot, lot_id)
        assert lot is not None
        lot.on_hold = on_hold


# ---------------------------------------------------------------- outbound


@dataclass(frozen=True)
class Order:
    id: int
    number: str
    line_ids: list[int]  # in line-number order


async def make_order(
    db: Database, site: Site, *lines: tuple[int, int], number: str = "SO-1"
) -> Order:
    """An order of (product id, quantity) lines."""
    async with db.sessions.begin() as session:
        order = await create_order(
            session,
            number=number,
            warehouse_id=site.warehouse_id,
            lines=[OrderLineSpec(product, quantity) for product, quantity in lines],
        )
        line_ids = list(
            await session.scalars(
                select(OutboundLine.id)
                .where(OutboundLine.order_id == order.id)
                .order_by(OutboundLine.line_number)
            )
        )
    return Order(order.id, order.number, line_ids)


async def allocate(
    db: Database,
    order: Order,
    serials: dict[int, list[str]] | None = None,
    *,
    now: datetime = NOW,
) -> list[Allocation]:
    async with db.sessions.begin() as session:
        return await allocate_order(
            session, order_id=order.id, actor=ACTOR, serials_by_line=serials, now=now
        )


async def pick(db: Database, task_id: int, scan: PickConfirmation) -> PickTask:
    async with db.sessions.begin() as session:
        return await confirm_pick(session, task_id=task_id, scan=scan, actor=ACTOR)


async def allocations_of(db: Database, order: Order) -> list[Allocation]:
    async with db.read_sessions() as session:
        rows = await session.scalars(
            select(Allocation).where(Allocation.order_id == order.id).order_by(Allocation.id)
        )
        return list(rows)


async def pick_tasks_of(db: Database, order: Order) -> list[PickTask]:
    async with db.read_sessions() as session:
        rows = await session.scalars(
            select(PickTask).where(PickTask.order_id == order.id).order_by(PickTask.id)
        )
        return list(rows)


async def task_for(db: Database, allocation_id: int) -> PickTask:
    async with db.read_sessions() as session:
        task = await session.scalar(select(PickTask).where(PickTask.allocation_id == allocation_id))
    assert task is not None
    return task


async def scan_for(db: Database, allocation: Allocation) -> PickConfirmation:
    """What a picker who finds exactly what was allocated scans."""
    async with db.read_sessions() as session:
        if allocation.serial_id is not None:
            number = await session.scalar(
                select(Serial.serial_number).where(Serial.id == allocation.serial_id)
            )
            return PickConfirmation(serial_number=number)
        if allocation.lot_id is not None:
            lot_number = await session.scalar(
                select(Lot.lot_number).where(Lot.id == allocation.lot_id)
            )
            return PickConfirmation(lot_number=lot_number, quantity=allocation.quantity)
        return PickConfirmation(quantity=allocation.quantity)


async def pick_all(db: Database, order: Order) -> None:
    """Confirm every open pick task of the order with exactly what was allocated."""
    for allocation in await allocations_of(db, order):
        task = await task_for(db, allocation.id)
        if task.status is PickTaskStatus.OPEN:
            await pick(db, task.id, await scan_for(db, allocation))


async def order_state(
    db: Database, order: Order
) -> tuple[OutboundOrderStatus, list[tuple[int, int, int, int]]]:
    """The order's status and, per line, (quantity, allocated, picked, shipped)."""
    async with db.read_sessions() as session:
        found = await session.get(OutboundOrder, order.id)
        assert found is not None
        lines = await session.scalars(
            select(OutboundLine)
            .where(OutboundLine.order_id == order.id)
            .order_by(OutboundLine.line_number)
        )
        return found.status, [
            (ln.quantity, ln.allocated_quantity, ln.picked_quantity, ln.shipped_quantity)
            for ln in lines
        ]


async def reservations(
    db: Database, product_id: int
) -> list[tuple[int, int | None, int, int, datetime]]:
    """(location, lot, quantity, allocated, received at) of the product's on-hand balances."""
    return [
        (b.location_id, b.lot_id, b.quantity, b.allocated_quantity, b.received_at)
        for b in await balances(db, product_id)
    ]
