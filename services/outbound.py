"""Outbound orders and allocation: reserve stock for an order, all or nothing.

Serials: specific IN_INVENTORY serials, earliest received first, or the ones the caller
names. Lots: by the warehouse's strategy (FEFO: earliest expiry, undated after dated, ties
by receipt; FIFO: by receipt), never expired or held lots. Untracked: FIFO. Only stock in
storage locations is allocated. A shortfall on any line reserves nothing and says, per
line, how much is missing.
"""

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Exists,
    Select,
    and_,
    bindparam,
    case,
    exists,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    Allocation,
    AllocationStatus,
    AllocationStrategy,
    Location,
    LocationKind,
    Lot,
    MovementKind,
    OutboundLine,
    OutboundOrder,
    OutboundOrderStatus,
    PickTask,
    PickTaskStatus,
    Product,
    Serial,
    SerialEvent,
    SerialStatus,
    StockBalance,
    Tracking,
    Warehouse,
)
from models.base import utc_now
from services.errors import ErrorCode, Problems, Refused
from services.events import note_order_status
from services.identifiers import clean_code, clean_number
from services.lifecycle import apply_event, lock_serials
from services.movements import Document, MovementRecord, record_movements
from services.queries import locked
from services.stock import lock_products

ORDER_NUMBER_MAX = 64
CUSTOMER_REFERENCE_MAX = 200
CLOSED_ORDER = (
    OutboundOrderStatus.PACKED,
    OutboundOrderStatus.SHIPPED,
    OutboundOrderStatus.CANCELLED,
)


def document_for(order: OutboundOrder) -> Document:
    return Document("ORDER", order.number)


def warehouse_today(warehouse: Warehouse, now: datetime) -> date:
    """Expiry is judged by the calendar of the warehouse, not of the server."""
    return now.astimezone(ZoneInfo(warehouse.time_zone)).date()


# ---------------------------------------------------------------- orders


@dataclass(frozen=True)
class OrderLineSpec:
    product_id: int
    quantity: int


async def create_order(
    session: AsyncSession,
    *,
    number: str,
    warehouse_id: int,
    lines: list[OrderLineSpec],
    customer_reference: str | None = None,
) -> OutboundOrder:
    problems = Problems()
    clean = clean_code(number, problems, "number", what="order number", max_length=ORDER_NUMBER_MAX)
    if clean and await session.scalar(
        select(OutboundOrder.id).where(OutboundOrder.number == clean)
    ):
        problems.add(ErrorCode.DUPLICATE_ORDER_NUMBER, f"order {clean} already exists", "number")
    if await session.get(Warehouse, warehouse_id) is None:
        problems.add(ErrorCode.NOT_FOUND, "no such warehouse", "warehouseId")
    if customer_reference is not None and len(customer_reference) > CUSTOMER_REFERENCE_MAX:
        problems.add(
            ErrorCode.INVALID_VALUE,
            f"the customer reference must be at most {CUSTOMER_REFERENCE_MAX} characters",
            "customerReference",
        )
    if not lines:
        problems.add(ErrorCode.INVALID_VALUE, "an order needs at least one line", "lines")
    ids = {line.product_id for line in lines}
    known = set(await session.scalars(select(Product.id).where(Product.id.in_(ids))))
    for i, line in enumerate(lines):
        if line.product_id not in known:
            problems.add(ErrorCode.NOT_FOUND, "no such product", f"lines.{i}.productId")
        if line.quantity <= 0:
            problems.add(
                ErrorCode.QUANTITY_NOT_POSITIVE,
                "the quantity must be positive",
                f"lines.{i}.quantity",
            )
    problems.raise_if_any()
    assert clean
    order = OutboundOrder(
        number=clean, warehouse_id=warehouse_id, customer_reference=customer_reference
    )
    session.add(order)
    await session.flush()
    session.add_all(
        OutboundLine(
            order_id=order.id, line_number=i + 1, product_id=line.product_id, quantity=line.quantity
        )
        for i, line in enumerate(lines)
    )
    await session.flush()
    return order


async def lock_order(session: AsyncSession, order_id: int) -> OutboundOrder:
    order = await locked(session, OutboundOrder, order_id)
    if order is None:
        raise Refused.one(ErrorCode.NOT_FOUND, "no such order", "orderId")
    return order


def _any_allocation(status: AllocationStatus) -> Exists:
    return exists().where(Allocation.order_id == bindparam("order_id"), Allocation.status == status)


def _status(status: OutboundOrderStatus) -> Any:
    return literal(status, OutboundOrder.__table__.c.status.type)


# An order's progress set from where it stands, in one statement built once (services/
# queries.py says why): picked allocations and allocations waiting to be picked make it
# PICKING; picked ones alone PICKED; waiting ones with every line covered ALLOCATED; else
# it is OPEN.
_picked = _any_allocation(AllocationStatus.PICKED)
_waiting = _any_allocation(AllocationStatus.ALLOCATED)
_short = exists().where(
    OutboundLine.order_id == bindparam("order_id"),
    OutboundLine.allocated_quantity != OutboundLine.quantity,
)
_SET_PROGRESS = (
    update(OutboundOrder)
    .where(OutboundOrder.id == bindparam("order_id"))
    .values(
        status=case(
            (and_(_picked, _waiting), _status(OutboundOrderStatus.PICKING)),
            (_picked, _status(OutboundOrderStatus.PICKED)),
            (and_(_waiting, ~_short), _status(OutboundOrderStatus.ALLOCATED)),
            else_=_status(OutboundOrderStatus.OPEN),
        ),
        updated_at=bindparam("now"),
    )
    .returning(OutboundOrder.status)
)


async def refresh_order_status(session: AsyncSession, order: OutboundOrder) -> None:
    """Derive the order's progress from its allocations (packed, shipped and cancelled are
    set by their own steps)."""
    if order.status in CLOSED_ORDER:
        return
    await session.flush()  # the statement reads what this transaction changed
    now = utc_now()
    connection = await session.connection()
    values = {"order_id": order.id, "now": now}
    status = (await connection.execute(_SET_PROGRESS, values)).scalar_one()
    note_order_status(session, order.id, order.warehouse_id, order.status, status)
    # Written already: the session takes the values as the row's, with nothing to flush.
    set_committed_value(order, "status", status)
    set_committed_value(order, "updated_at", now)


# ---------------------------------------------------------------- allocation


@dataclass
class _Reservation:
    line: OutboundLine
    location_id: int
    quantity: int
    received_at: datetime
    serial: Serial | None = None
    balance: StockBalance | None = None


@dataclass
class _Plan:
    reservations: list[_Reservation] = field(default_factory=list)
    # Per balance, what earlier lines of this request already took from it.
    taken: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    serials_taken: set[int] = field(default_factory=set)
    # (product id, serial number) the request names for some line: not for the taking by
    # lines that let the oldest serials be chosen.
    named: set[tuple[int, str]] = field(default_factory=set)


# An order with its warehouse and its lines, the order and lines locked, in one statement
# built once (services/queries.py says why). Every order has a line (`create_order`).
_LOCK_ORDER_AT_WAREHOUSE = (
    select(OutboundOrder, Warehouse, OutboundLine)
    .join(Warehouse, Warehouse.id == OutboundOrder.warehouse_id)
    .join(OutboundLine, OutboundLine.order_id == OutboundOrder.id)
    .where(OutboundOrder.id == bindparam("order_id"))
    .order_by(OutboundLine.line_number)
    .with_for_update(of=[OutboundOrder, OutboundLine])
)


async def allocate_order(
    session: AsyncSession,
    *,
    order_id: int,
    actor: str,
    serials_by_line: dict[int, list[str]] | None = None,
    now: datetime | None = None,
) -> list[Allocation]:
    """Reserve stock for every line still short of its quantity, or nothing at all."""
    now = now or utc_now()
    found = (await session.execute(_LOCK_ORDER_AT_WAREHOUSE, {"order_id": order_id})).all()
    if not found:
        raise Refused.one(ErrorCode.NOT_FOUND, "no such order", "orderId")
    order, warehouse, _line = found[0]
    lines = [line for _order, _warehouse, line in found]
    if order.status in CLOSED_ORDER:
        raise Refused.one(
            ErrorCode.ORDER_NOT_OPEN, f"order {order.number} is {order.status}", "orderId"
        )
    products = await lock_products(session, (line.product_id for line in lines))
    chosen = serials_by_line or {}
    unknown = set(chosen) - {line.id for line in lines}
    if unknown:
        raise Refused.one(
            ErrorCode.NOT_FOUND, "serials named for a line not on this order", "lines"
        )

    problems = Problems()
    plan = _Plan()
    plan.named = {
        (line.product_id, number.strip())
        for line in lines
        if line.id in chosen and line.allocated_quantity < line.quantity
        for number in chosen[line.id]
    }
    today = warehouse_today(warehouse, now)
    for i, line in enumerate(lines):
        product = products[line.product_id]
        at = f"lines.{i}"
        if line.id in chosen and product.tracking is not Tracking.SERIAL:
            problems.add(
                ErrorCode.SERIALS_NOT_ALLOWED,
                f"{product.sku} is not serial-tracked",
                f"{at}.serialNumbers",
            )
        wanted = line.quantity - line.allocated_quantity
        if wanted <= 0:
            continue
        if product.tracking is Tracking.SERIAL and line.id in chosen:
            got = await _named_serials(
                session, order, line, product, chosen[line.id], wanted, plan, problems, at
            )
        elif product.tracking is Tracking.SERIAL:
            got = await _oldest_serials(session, order, line, wanted, plan)
        else:
            got = await _balances(session, order, line, product, warehouse, today, wanted, plan)
        named = product.tracking is Tracking.SERIAL and line.id in chosen
        if got < wanted and not named:  # named serials report each of their problems
            problems.add(
                ErrorCode.INSUFFICIENT_STOCK,
                f"line {line.line_number} ({product.sku}): {wanted} wanted, {got} available; "
                f"short by {wanted - got}",
                at,
            )
    if not plan.reservations and not problems:
        raise Refused.one(
            ErrorCode.NOTHING_TO_ALLOCATE,
            f"order {order.number} is already fully allocated",
            "orderId",
        )
    problems.raise_if_any()
    return await _reserve(session, order, plan, actor)


async def _oldest_serials(
    session: AsyncSession, order: OutboundOrder, line: OutboundLine, wanted: int, plan: _Plan
) -> int:
    query = (
        select(Serial)
        .join(Location, Location.id == Serial.location_id)
        .where(
            Serial.product_id == line.product_id,
            Serial.warehouse_id == order.warehouse_id,
            Serial.status == SerialStatus.IN_INVENTORY,
            Location.kind == LocationKind.STORAGE,
        )
        .order_by(Serial.received_at, Serial.id)
        .limit(wanted + len(plan.serials_taken) + len(plan.named))
    )
    got = 0
    for serial in await session.scalars(query):
        if got == wanted:
            break
        if serial.id in plan.serials_taken:
            continue
        if (serial.product_id, serial.serial_number) in plan.named:
            continue
        _reserve_serial(plan, line, serial)
        got += 1
    return got


async def _named_serials(
    session: AsyncSession,
    order: OutboundOrder,
    line: OutboundLine,
    product: Product,
    raw: list[str],
    wanted: int,
    plan: _Plan,
    problems: Problems,
    at: str,
) -> int:
    where = f"{at}.serialNumbers"
    numbers = [n for n in (clean_number(r, problems, where, kind="serial") for r in raw) if n]
    if len(numbers) != wanted:
        problems.add(
            ErrorCode.SERIAL_COUNT_MISMATCH,
            f"{len(numbers)} serials named for {wanted} still to allocate",
            where,
        )
        return 0
    found = {
        s.serial_number: s
        for s in await session.scalars(
            select(Serial).where(
                Serial.product_id == product.id,
                Serial.serial_number.in_(numbers),
                Serial.status != SerialStatus.RELEASED,
            )
        )
    }
    storage = set(
        await session.scalars(
            select(Location.id).where(
                Location.warehouse_id == order.warehouse_id, Location.kind == LocationKind.STORAGE
            )
        )
    )
    got = 0
    for number in numbers:
        serial = found.get(number)
        if serial is None:
            problems.add(ErrorCode.UNKNOWN_SERIAL, f"{product.sku} has no serial {number}", where)
        elif serial.id in plan.serials_taken:
            problems.add(ErrorCode.DUPLICATE_SERIAL, f"serial {number} is named twice", where)
        elif serial.status is not SerialStatus.IN_INVENTORY or serial.location_id not in storage:
            problems.add(
                ErrorCode.SERIAL_NOT_AVAILABLE,
                f"serial {number} is {serial.status}, not in storage here",
                where,
            )
        else:
            _reserve_serial(plan, line, serial)
            got += 1
    return got


def _reserve_serial(plan: _Plan, line: OutboundLine, serial: Serial) -> None:
    assert serial.location_id is not None
    assert serial.received_at is not None
    plan.serials_taken.add(serial.id)
    plan.reservations.append(
        _Reservation(line, serial.location_id, 1, serial.received_at, serial=serial)
    )


def allocation_order(strategy: AllocationStrategy, lot_tracked: bool) -> list[object]:
    """Sort keys for free stock. FEFO: dated lots by expiry, then undated; equal expiry by
    receipt (FIFO); the balance id last so the order is total and repeatable."""
    if lot_tracked and strategy is AllocationStrategy.FEFO:
        return [
            Lot.expiry_date.is_(None),
            Lot.expiry_date,
            StockBalance.received_at,
            StockBalance.id,
        ]
    return [StockBalance.received_at, StockBalance.id]


@functools.cache
def free_stock_query(strategy: AllocationStrategy, lot_tracked: bool) -> Select[StockBalance]:
    """Allocatable balances of a product (`product_id`) in storage in a warehouse
    (`warehouse_id`), best first, at most `limit`; lots on hold or expired by `today` are
    not allocatable. Built once per strategy and kind of tracking (services/queries.py says
    why); the values are bound when it runs."""
    free = StockBalance.quantity - StockBalance.allocated_quantity
    query = (
        select(StockBalance)
        .join(Location, Location.id == StockBalance.location_id)
        .where(
            StockBalance.product_id == bindparam("product_id"),
            StockBalance.warehouse_id == bindparam("warehouse_id"),
            Location.kind == LocationKind.STORAGE,
            free > 0,
        )
    )
    if lot_tracked:
        today = bindparam("today", type_=Date)
        query = query.join(Lot, Lot.id == StockBalance.lot_id).where(
            Lot.on_hold.is_(False),
            (Lot.expiry_date.is_(None)) | (Lot.expiry_date >= today),
        )
    order = allocation_order(strategy, lot_tracked)
    return query.order_by(*order).limit(bindparam("limit"))  # type: ignore[arg-type]


async def _balances(
    session: AsyncSession,
    order: OutboundOrder,
    line: OutboundLine,
    product: Product,
    warehouse: Warehouse,
    today: date,
    wanted: int,
    plan: _Plan,
) -> int:
    # Every balance holds at least one free unit, so `wanted` rows always suffice, plus the
    # rows earlier lines of this request may already have emptied.
    query = free_stock_query(warehouse.allocation_strategy, product.tracking is Tracking.LOT)
    values = {
        "product_id": product.id,
        "warehouse_id": warehouse.id,
        "today": today,
        "limit": wanted + len(plan.taken),
    }
    got = 0
    for balance in await session.scalars(query, values):
        free = balance.quantity - balance.allocated_quantity - plan.taken[balance.id]
        take = min(free, wanted - got)
        if take <= 0:
            continue
        plan.taken[balance.id] += take
        plan.reservations.append(
            _Reservation(line, balance.location_id, take, balance.received_at, balance=balance)
        )
        got += take
        if got == wanted:
            break
    return got


_NEW_PICK_TASKS = insert(PickTask)


async def _reserve(
    session: AsyncSession, order: OutboundOrder, plan: _Plan, actor: str
) -> list[Allocation]:
    document = document_for(order)
    serials = [r.serial for r in plan.reservations if r.serial is not None]
    if serials:
        locked = await lock_serials(session, [s.id for s in serials])
        await apply_event(session, locked, SerialEvent.ALLOCATE, document=document, actor=actor)
    allocations = []
    records = []
    for r in plan.reservations:
        allocation = Allocation(
            order_id=order.id,
            line_id=r.line.id,
            product_id=r.line.product_id,
            location_id=r.location_id,
            serial_id=r.serial.id if r.serial else None,
            lot_id=r.balance.lot_id if r.balance else None,
            stock_balance_id=r.balance.id if r.balance else None,
            received_at=r.received_at,
            quantity=r.quantity,
        )
        allocations.append(allocation)
        r.line.allocated_quantity += r.quantity
        if r.balance is not None:
            r.balance.allocated_quantity += r.quantity
            records.append(
                MovementRecord(
                    MovementKind.ALLOCATE,
                    r.line.product_id,
                    r.quantity,
                    lot_id=r.balance.lot_id,
                    from_location_id=r.location_id,
                    to_location_id=r.location_id,
                )
            )
    # Allocation is all or nothing, so every line is now covered. Picks made before (the
    # order was PICKING or PICKED) keep it PICKING; otherwise it is ALLOCATED.
    picking = order.status in (OutboundOrderStatus.PICKING, OutboundOrderStatus.PICKED)
    order.status = OutboundOrderStatus.PICKING if picking else OutboundOrderStatus.ALLOCATED
    order.updated_at = utc_now()
    session.add_all(allocations)
    await session.flush()
    # The pick tasks are written, not kept: nothing in this transaction reads them back.
    tasks = [
        {"allocation_id": a.id, "order_id": order.id, "location_id": a.location_id}
        for a in allocations
    ]
    await (await session.connection()).execute(_NEW_PICK_TASKS, tasks)
    await record_movements(session, records, document, actor)
    return allocations


# ---------------------------------------------------------------- cancelling


async def cancel_allocation(session: AsyncSession, *, allocation_id: int, actor: str) -> Allocation:
    """Give back what one allocation reserved: ALLOCATED serials go back IN_INVENTORY."""
    allocation = await locked(session, Allocation, allocation_id)
    if allocation is None:
        raise Refused.one(ErrorCode.NOT_FOUND, "no such allocation", "allocationId")
    order = await lock_order(session, allocation.order_id)
    await _release([allocation], order, actor, session)
    await refresh_order_status(session, order)
    return allocation


async def cancel_order(session: AsyncSession, *, order_id: int, actor: str) -> OutboundOrder:
    """Cancel an order and release all it reserved. Picked items must be returned first."""
    order = await lock_order(session, order_id)
    if order.status in CLOSED_ORDER:
        raise Refused.one(
            ErrorCode.ORDER_NOT_OPEN, f"order {order.number} is {order.status}", "orderId"
        )
    allocations = list(
        await session.scalars(
            select(Allocation)
            .where(
                Allocation.order_id == order.id,
                Allocation.status.in_([AllocationStatus.ALLOCATED, AllocationStatus.PICKED]),
            )
            .order_by(Allocation.id)
            .with_for_update()
        )
    )
    if any(a.status is AllocationStatus.PICKED for a in allocations):
        raise Refused.one(
            ErrorCode.ORDER_HAS_PICKED_ITEMS,
            f"order {order.number} has picked items: return them to stock first",
            "orderId",
        )
    await _release(allocations, order, actor, session)
    order.status = OutboundOrderStatus.CANCELLED
    order.updated_at = utc_now()
    await session.flush()
    return order


async def _release(
    allocations: list[Allocation], order: OutboundOrder, actor: str, session: AsyncSession
) -> None:
    for allocation in allocations:
        if allocation.status is not AllocationStatus.ALLOCATED:
            raise Refused.one(
                ErrorCode.ALLOCATION_NOT_CANCELLABLE,
                f"allocation {allocation.id} is {allocation.status}: only an "
                "unpicked allocation can be cancelled",
                "allocationId",
            )
    document = document_for(order)
    serial_ids = [a.serial_id for a in allocations if a.serial_id is not None]
    if serial_ids:
        serials = await lock_serials(session, serial_ids)
        await apply_event(session, serials, SerialEvent.CANCEL, document=document, actor=actor)
    records = []
    for allocation in allocations:
        if allocation.stock_balance_id is not None:
            balance = await locked(session, StockBalance, allocation.stock_balance_id)
            assert balance is not None
            balance.allocated_quantity -= allocation.quantity
            records.append(
                MovementRecord(
                    MovementKind.CANCEL,
                    allocation.product_id,
                    allocation.quantity,
                    lot_id=allocation.lot_id,
                    from_location_id=allocation.location_id,
                    to_location_id=allocation.location_id,
                )
            )
        line = await locked(session, OutboundLine, allocation.line_id)
        assert line is not None
        line.allocated_quantity -= allocation.quantity
        allocation.status = AllocationStatus.CANCELLED
    tasks = await session.scalars(
        select(PickTask).where(PickTask.allocation_id.in_([a.id for a in allocations]))
    )
    for task in tasks:
        task.status = PickTaskStatus.CANCELLED
        task.completed_at = utc_now()
    await record_movements(session, records, document, actor)
    await session.flush()
