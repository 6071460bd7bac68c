"""Small builders for service tests. Each runs one use case through the services, in its
own transaction, the way a resolver would; none inserts rows behind the services' back."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Base,
    Location,
    LocationKind,
    Lot,
    Movement,
    MovementKind,
    Product,
    PutawayTask,
    PutawayTaskStatus,
    ReceivingLine,
    ReceivingLineStatus,
    ReceivingOrder,
    ReceivingOrderStatus,
    Serial,
    SerialStatus,
    StockBalance,
    Tracking,
    Warehouse,
)
from services.catalog import LocationSpec, create_product, create_warehouse
from services.errors import ErrorCode, Problem, Refused
from services.putaway import Placement, complete_putaway
from services.receiving import (
    LineReceipt,
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
    """A warehouse with a receiving dock and two storage locations."""

    warehouse_id: int
    dock: int
    a01: int
    a02: int


async def make_site(db: Database, code: str = "WH1", *, time_zone: str = "UTC") -> Site:
    async with db.sessions.begin() as session:
        warehouse = await create_warehouse(
            session,
            code=code,
            name=f"Warehouse {code}",
            time_zone=time_zone,
            locations=[
                LocationSpec("DOCK", LocationKind.RECEIVING),
                LocationSpec("A-01", LocationKind.STORAGE),
                LocationSpec("A-02", LocationKind.STORAGE),
            ],
        )
        ids = {
            loc.code: loc.id
            for loc in await session.scalars(
                select(Location).where(Location.warehouse_id == warehouse.id)
            )
        }
    return Site(warehouse.id, ids["DOCK"], ids["A-01"], ids["A-02"])


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
    return Snapshot(
        counts,
        [(i, status) for i, status in orders],
        [(i, received, status) for i, received, status in lines],
        [(i, n, status, loc, task) for i, n, status, loc, task in serials],
        [(i, number, key) for i, number, key in lots],
        [(p, loc, lot, qty, at) for p, loc, lot, qty, at in balances],
        [(i, status) for i, status in tasks],
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
