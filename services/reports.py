"""Inventory reports: serial counts and whereabouts, lot stock in FEFO order, expiring lots,
and lot movement history.

"Today" is the warehouse's: a lot expiring on 31 March is still good all of 31 March in
that warehouse's time zone, and expired from 1 April. Callers pass `now` so a report can be
reproduced for any moment.
"""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    Location,
    LocationKind,
    Lot,
    Movement,
    MovementKind,
    Product,
    Serial,
    SerialStatus,
    StockBalance,
    Warehouse,
)
from services.errors import ErrorCode, Problems, Refused
from services.identifiers import lot_key
from services.lookup import IN_CUSTODY

# Ten years ahead is as far as an expiry report looks.
MAX_EXPIRY_WINDOW_DAYS = 3660
# Rows fetched at a time when a report is streamed.
STREAM_BATCH = 1000

Ts = TypeVarTuple("Ts")
_STATUS_ORDER = {status: i for i, status in enumerate(SerialStatus)}


def warehouse_today(time_zone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(time_zone)).date()


# ---------------------------------------------------------------- serial inventory


@dataclass(frozen=True)
class SerialCount:
    """How many serials of one product are in one status, in one warehouse (and location,
    in the by-location report)."""

    product_id: int
    sku: str
    product_name: str
    warehouse_id: int
    warehouse_code: str
    status: SerialStatus
    count: int
    location_id: int | None = None
    location_code: str | None = None
    location_kind: LocationKind | None = None


async def serial_inventory(
    session: AsyncSession, *, product_id: int | None = None, warehouse_id: int | None = None
) -> list[SerialCount]:
    """Serial counts by product × warehouse × status, in lifecycle order. Numbers released
    from a cancelled ASN never were items here and are left out."""
    keys = (Product.id, Product.sku, Product.name, Warehouse.id, Warehouse.code, Serial.status)
    query = (
        select(*keys, func.count(Serial.id))
        .join(Product, Product.id == Serial.product_id)
        .join(Warehouse, Warehouse.id == Serial.warehouse_id)
        .where(Serial.status != SerialStatus.RELEASED)
        .group_by(*keys)
    )
    query = _narrow(query, product_id, warehouse_id)
    rows = [SerialCount(*row) for row in await session.execute(query)]
    return sorted(rows, key=lambda r: (r.sku, r.warehouse_code, _STATUS_ORDER[r.status]))


async def serial_inventory_by_location(
    session: AsyncSession, *, product_id: int | None = None, warehouse_id: int | None = None
) -> list[SerialCount]:
    """Counts of the serials physically here, by product × location × status."""
    keys = (Product.id, Product.sku, Product.name, Warehouse.id, Warehouse.code, Serial.status)
    places = (Location.id, Location.code, Location.kind)
    query = (
        select(*keys, func.count(Serial.id), *places)
        .join(Product, Product.id == Serial.product_id)
        .join(Location, Location.id == Serial.location_id)
        .join(Warehouse, Warehouse.id == Location.warehouse_id)
        .where(Serial.status.in_(IN_CUSTODY))
        .group_by(*keys, *places)
    )
    query = _narrow(query, product_id, warehouse_id)
    rows = [SerialCount(*tuple(row)) for row in await session.execute(query)]
    return sorted(
        rows,
        key=lambda r: (r.sku, r.warehouse_code, r.location_code or "", _STATUS_ORDER[r.status]),
    )


def _narrow(query: Select[*Ts], product_id: int | None, warehouse_id: int | None) -> Select[*Ts]:
    if product_id is not None:
        query = query.where(Product.id == product_id)
    if warehouse_id is not None:
        query = query.where(Warehouse.id == warehouse_id)
    return query


# ---------------------------------------------------------------- serial locations


@dataclass(frozen=True)
class SerialWhereabouts:
    serial_id: int
    serial_number: str
    sku: str
    product_name: str
    status: SerialStatus
    warehouse_code: str
    location_code: str
    location_kind: LocationKind
    received_at: datetime | None


async def serial_locations(
    session: AsyncSession,
    *,
    product_id: int | None = None,
    warehouse_id: int | None = None,
    location_id: int | None = None,
) -> AsyncIterator[SerialWhereabouts]:
    """Where each serial physically here is, by warehouse, location, product and number.
    Streamed: a warehouse may hold a great many serials."""
    query = (
        select(
            Serial.id,
            Serial.serial_number,
            Product.sku,
            Product.name,
            Serial.status,
            Warehouse.code,
            Location.code,
            Location.kind,
            Serial.received_at,
        )
        .join(Product, Product.id == Serial.product_id)
        .join(Location, Location.id == Serial.location_id)
        .join(Warehouse, Warehouse.id == Location.warehouse_id)
        .where(Serial.status.in_(IN_CUSTODY))
        .order_by(Warehouse.code, Location.code, Product.sku, Serial.serial_number, Serial.id)
    )
    query = _narrow(query, product_id, warehouse_id)
    if location_id is not None:
        query = query.where(Location.id == location_id)
    result = await session.stream(query.execution_options(yield_per=STREAM_BATCH))
    async for row in result:
        yield SerialWhereabouts(*row)


# ---------------------------------------------------------------- lot stock


# What a lot-inventory row is grouped by (and selects, in this order).
_LOT_STOCK_KEYS = (
    Product.id,
    Product.sku,
    Product.name,
    Warehouse.id,
    Warehouse.code,
    Warehouse.time_zone,
    Location.id,
    Location.code,
    Location.kind,
    Lot.id,
    Lot.lot_number,
    Lot.expiry_date,
    Lot.received_at,
    Lot.on_hold,
    Lot.hold_reason,
)


@dataclass(frozen=True)
class LotStock:
    """On-hand stock of one lot at one location."""

    product_id: int
    sku: str
    product_name: str
    warehouse_id: int
    warehouse_code: str
    location_id: int
    location_code: str
    location_kind: LocationKind
    lot_id: int
    lot_number: str
    expiry_date: date | None
    lot_received_at: datetime
    on_hold: bool
    hold_reason: str | None
    quantity: int
    allocated_quantity: int
    days_to_expiry: int | None  # negative once expired; None without an expiry date
    expired: bool

    @property
    def available_quantity(self) -> int:
        """What allocation could still take here, as in the stock figures: free stock in a
        storage location of a lot neither held nor expired."""
        usable = (
            self.location_kind is LocationKind.STORAGE and not self.on_hold and not self.expired
        )
        return self.quantity - self.allocated_quantity if usable else 0


async def lot_inventory(
    session: AsyncSession,
    *,
    now: datetime,
    product_id: int | None = None,
    warehouse_id: int | None = None,
) -> list[LotStock]:
    """On-hand stock of lot-tracked products, per product, warehouse, lot and location, in
    FEFO order within each product and warehouse: dated lots by expiry, then lots without
    an expiry date; lots of one expiry by first receipt."""
    return await _lot_stock(session, now, product_id, warehouse_id, expiring_by=None)


async def _lot_stock(
    session: AsyncSession,
    now: datetime,
    product_id: int | None,
    warehouse_id: int | None,
    *,
    expiring_by: date | None,
) -> list[LotStock]:
    query = (
        select(
            *_LOT_STOCK_KEYS,
            func.sum(StockBalance.quantity),
            func.sum(StockBalance.allocated_quantity),
        )
        .join(Lot, Lot.id == StockBalance.lot_id)
        .join(Product, Product.id == StockBalance.product_id)
        .join(Location, Location.id == StockBalance.location_id)
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        # Emptied balances stay behind as rows (allocations refer to them): not on hand.
        .where(StockBalance.quantity > 0)
        .group_by(*_LOT_STOCK_KEYS)
        .order_by(
            Product.sku,
            Warehouse.code,
            # Undated lots last, on both engines (they disagree on where NULL sorts).
            case((Lot.expiry_date.is_(None), 1), else_=0),
            Lot.expiry_date,
            Lot.received_at,
            Lot.id,
            Location.code,
        )
    )
    query = _narrow(query, product_id, warehouse_id)
    if expiring_by is not None:
        query = query.where(Lot.expiry_date <= expiring_by)
    stock = []
    for row in await session.execute(query):
        (pid, sku, name, wid, wcode, tz, lid, lcode, lkind) = row[:9]
        (lot_id, number, expiry, received, on_hold, hold_reason, quantity, allocated) = row[9:]
        days = (expiry - warehouse_today(tz, now)).days if expiry is not None else None
        stock.append(
            LotStock(
                pid,
                sku,
                name,
                wid,
                wcode,
                lid,
                lcode,
                lkind,
                lot_id,
                number,
                expiry,
                received,
                on_hold,
                hold_reason,
                int(quantity),
                int(allocated),
                days,
                days is not None and days < 0,
            )
        )
    return stock


# ---------------------------------------------------------------- expiring lots


@dataclass(frozen=True)
class ExpiringLot:
    """A lot on hand in one warehouse that expires within the window, or already has."""

    product_id: int
    sku: str
    product_name: str
    warehouse_id: int
    warehouse_code: str
    lot_id: int
    lot_number: str
    expiry_date: date
    lot_received_at: datetime
    on_hold: bool
    hold_reason: str | None
    days_to_expiry: int
    expired: bool
    quantity: int
    allocated_quantity: int
    location_codes: tuple[str, ...]

    @property
    def available_quantity(self) -> int:
        """Free stock of the lot in the warehouse; none while it is held or expired."""
        usable = not self.on_hold and not self.expired
        return self.quantity - self.allocated_quantity if usable else 0


def check_expiry_window(days: int) -> None:
    if not 0 <= days <= MAX_EXPIRY_WINDOW_DAYS:
        raise Refused.one(
            ErrorCode.INVALID_VALUE,
            f"days must be between 0 and {MAX_EXPIRY_WINDOW_DAYS}",
            "days",
        )


async def expiring_lots(
    session: AsyncSession,
    *,
    now: datetime,
    days: int,
    product_id: int | None = None,
    warehouse_id: int | None = None,
) -> list[ExpiringLot]:
    """Lots on hand that expire within `days` days of the warehouse's today (0: today
    only), and those already expired but still here; soonest expiry first."""
    check_expiry_window(days)
    # Warehouses' todays differ by time zone: the database narrows to the latest possible
    # day, the exact cut is made per warehouse below.
    latest = max(
        (warehouse_today(tz, now) for tz in await session.scalars(select(Warehouse.time_zone))),
        default=now.date(),
    )
    stock = await _lot_stock(
        session, now, product_id, warehouse_id, expiring_by=latest + timedelta(days=days)
    )
    grouped: dict[tuple[int, int], list[LotStock]] = {}
    for row in stock:
        assert row.days_to_expiry is not None  # dated lots only, by the query
        if row.days_to_expiry <= days:
            grouped.setdefault((row.warehouse_id, row.lot_id), []).append(row)
    lots = []
    for rows in grouped.values():
        first = rows[0]
        assert first.expiry_date is not None
        assert first.days_to_expiry is not None
        lots.append(
            ExpiringLot(
                first.product_id,
                first.sku,
                first.product_name,
                first.warehouse_id,
                first.warehouse_code,
                first.lot_id,
                first.lot_number,
                first.expiry_date,
                first.lot_received_at,
                first.on_hold,
                first.hold_reason,
                first.days_to_expiry,
                first.expired,
                sum(r.quantity for r in rows),
                sum(r.allocated_quantity for r in rows),
                tuple(r.location_code for r in rows),
            )
        )
    return sorted(
        lots,
        key=lambda lot: (
            lot.expiry_date,
            lot.lot_received_at,
            lot.sku,
            lot.lot_number,
            lot.warehouse_code,
        ),
    )


# ---------------------------------------------------------------- lot movement history


@dataclass(frozen=True)
class MovementFilter:
    product_id: int | None = None
    lot_id: int | None = None
    warehouse_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    kinds: Sequence[MovementKind] = ()


def lot_movements_query(where: MovementFilter) -> Select[Any]:
    """Movements of lots, oldest first: as a query for keyset pages."""
    query = select(Movement).where(Movement.lot_id.is_not(None))
    return _movement_filter(query, where)


def _movement_filter(query: Select[*Ts], where: MovementFilter) -> Select[*Ts]:
    if where.product_id is not None:
        query = query.where(Movement.product_id == where.product_id)
    if where.lot_id is not None:
        query = query.where(Movement.lot_id == where.lot_id)
    if where.warehouse_id is not None:
        here = select(Location.id).where(Location.warehouse_id == where.warehouse_id)
        query = query.where(
            or_(Movement.from_location_id.in_(here), Movement.to_location_id.in_(here))
        )
    if where.since is not None:
        query = query.where(Movement.occurred_at >= where.since)
    if where.until is not None:
        query = query.where(Movement.occurred_at < where.until)
    if where.kinds:
        query = query.where(Movement.kind.in_(where.kinds))
    return query


@dataclass(frozen=True)
class LotMovementLine:
    movement_id: int
    occurred_at: datetime
    sku: str
    lot_number: str
    expiry_date: date | None
    kind: MovementKind
    quantity: int
    from_location_code: str | None
    to_location_code: str | None
    document_type: str
    document_number: str
    actor: str


async def lot_movement_lines(
    session: AsyncSession, where: MovementFilter
) -> AsyncIterator[LotMovementLine]:
    """The lot movement history with its codes spelled out, oldest first; streamed."""
    source = aliased(Location)
    target = aliased(Location)
    query = (
        select(
            Movement.id,
            Movement.occurred_at,
            Product.sku,
            Lot.lot_number,
            Lot.expiry_date,
            Movement.kind,
            Movement.quantity,
            source.code,
            target.code,
            Movement.document_type,
            Movement.document_number,
            Movement.actor,
        )
        .join(Lot, Lot.id == Movement.lot_id)
        .join(Product, Product.id == Movement.product_id)
        .outerjoin(source, source.id == Movement.from_location_id)
        .outerjoin(target, target.id == Movement.to_location_id)
        .order_by(Movement.id)
    )
    query = _movement_filter(query, where)
    result = await session.stream(query.execution_options(yield_per=STREAM_BATCH))
    async for row in result:
        yield LotMovementLine(*tuple(row))


# ---------------------------------------------------------------- naming what to report on


@dataclass(frozen=True)
class ReportScope:
    """Ids for the natural keys a report URL names; None where none was named."""

    product_id: int | None = None
    warehouse_id: int | None = None
    location_id: int | None = None
    lot_id: int | None = None


async def report_scope(
    session: AsyncSession,
    *,
    sku: str | None = None,
    warehouse_code: str | None = None,
    location_code: str | None = None,
    lot_number: str | None = None,
) -> ReportScope:
    """Resolve natural keys, or refuse NOT_FOUND naming each one that does not exist.
    A location is named within its warehouse, a lot within its product."""
    problems = Problems()
    product_id = warehouse_id = location_id = lot_id = None
    if sku:
        product_id = await session.scalar(select(Product.id).where(Product.sku == sku.strip()))
        if product_id is None:
            problems.add(ErrorCode.NOT_FOUND, f"no product {sku!r}", "sku")
    if warehouse_code:
        warehouse_id = await session.scalar(
            select(Warehouse.id).where(Warehouse.code == warehouse_code.strip())
        )
        if warehouse_id is None:
            problems.add(ErrorCode.NOT_FOUND, f"no warehouse {warehouse_code!r}", "warehouse")
    if location_code:
        if not warehouse_code:
            problems.add(ErrorCode.INVALID_VALUE, "name the location's warehouse", "warehouse")
        elif warehouse_id is not None:
            location_id = await session.scalar(
                select(Location.id).where(
                    Location.warehouse_id == warehouse_id, Location.code == location_code.strip()
                )
            )
            if location_id is None:
                problems.add(
                    ErrorCode.NOT_FOUND,
                    f"no location {location_code!r} in {warehouse_code}",
                    "location",
                )
    if lot_number:
        if not sku:
            problems.add(ErrorCode.INVALID_VALUE, "name the lot's product (sku)", "sku")
        elif product_id is not None:
            lot_id = await session.scalar(
                select(Lot.id).where(
                    Lot.product_id == product_id, Lot.lot_key == lot_key(lot_number.strip())
                )
            )
            if lot_id is None:
                problems.add(ErrorCode.NOT_FOUND, f"no lot {lot_number!r} of {sku}", "lot")
    problems.raise_if_any()
    return ReportScope(product_id, warehouse_id, location_id, lot_id)
