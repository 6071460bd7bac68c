"""Picking by scan, and returning picked goods to stock.

A pick task is confirmed by what the picker scans. The allocated serial is picked; another
IN_INVENTORY serial of the same product from the same location swaps places with it (both
recorded); anything else is refused with a code saying what was wrong. Lots are confirmed
by lot number (any case) and quantity; less than allocated is a short pick, whose remainder
is released. Picked goods move to the warehouse's packing location when it has one.

The serial or lot number may be a raw GS1 scan (`services.scanning.read_label`): its GTIN
must be the pick's product, and a lot label's expiry the allocated lot's.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Allocation,
    AllocationStatus,
    Location,
    LocationKind,
    Lot,
    MovementKind,
    OutboundLine,
    OutboundOrder,
    PickTask,
    PickTaskStatus,
    Product,
    Serial,
    SerialEvent,
    SerialStatus,
    StockBalance,
)
from models.base import utc_now
from services.errors import ErrorCode, Problems, Refused
from services.identifiers import clean_number, lot_key
from services.lifecycle import apply_event, lock_serials
from services.movements import MovementRecord, record_movements
from services.outbound import document_for, lock_order, refresh_order_status
from services.queries import locked
from services.scanning import Label, NumberKind, gtin_owners, label_problems, read_label
from services.stock import add_stock, lock_products, remove_from_balance, take_from_balance


@dataclass(frozen=True)
class PickConfirmation:
    """What the picker scanned: a serial number, or a lot number (lots) and a quantity."""

    serial_number: str | None = None
    lot_number: str | None = None
    quantity: int | None = None


# The order's warehouse's packing location (the first, if it has several).
_PACKING = (
    select(Location.id)
    .where(
        Location.warehouse_id == OutboundOrder.warehouse_id, Location.kind == LocationKind.PACKING
    )
    .order_by(Location.id)
    .limit(1)
    .scalar_subquery()
)
# A pick task with all its confirmation reads, in one statement built once (services/
# queries.py says why): its allocation, order and order line, locked with it until the
# transaction ends; the allocation's lot; the packing location. Six statements before.
_TASK = (
    select(
        PickTask,
        Allocation,
        OutboundOrder,
        OutboundLine,
        Lot,
        _PACKING.label("packing"),
    )
    .join(Allocation, Allocation.id == PickTask.allocation_id)
    .join(OutboundOrder, OutboundOrder.id == PickTask.order_id)
    .join(OutboundLine, OutboundLine.id == Allocation.line_id)
    .outerjoin(Lot, Lot.id == Allocation.lot_id)
    .where(PickTask.id == bindparam("task_id"))
    .with_for_update(of=[PickTask, Allocation, OutboundOrder, OutboundLine])
)


@dataclass
class _OpenTask:
    task: PickTask
    allocation: Allocation
    order: OutboundOrder
    line: OutboundLine
    lot: Lot | None
    packing: int | None


async def _open_task(session: AsyncSession, task_id: int) -> _OpenTask:
    found = (await session.execute(_TASK, {"task_id": task_id})).first()
    if found is None:
        raise Refused.one(ErrorCode.NOT_FOUND, "no such pick task", "taskId")
    task, allocation, order, line, lot, packing = found
    if task.status is not PickTaskStatus.OPEN:
        code = (
            ErrorCode.ALREADY_PICKED
            if task.status is not PickTaskStatus.CANCELLED
            else (ErrorCode.TASK_NOT_OPEN)
        )
        raise Refused.one(code, f"pick task {task.id} is {task.status}", "taskId")
    return _OpenTask(task, allocation, order, line, lot, packing)


async def confirm_pick(
    session: AsyncSession, *, task_id: int, scan: PickConfirmation, actor: str
) -> PickTask:
    pick = await _open_task(session, task_id)
    task, allocation, order, line = pick.task, pick.allocation, pick.order, pick.line
    if allocation.serial_id is not None:
        await _pick_serial(session, order, task, allocation, scan, pick.packing, actor)
        picked = 1
    else:
        picked = await _pick_quantity(session, pick, scan, actor)
        line.allocated_quantity -= allocation.quantity - picked
    line.picked_quantity += picked
    allocation.picked_quantity = picked
    allocation.status = AllocationStatus.PICKED if picked else AllocationStatus.CANCELLED
    task.status = PickTaskStatus.DONE if picked == allocation.quantity else PickTaskStatus.SHORT
    task.completed_at = utc_now()
    await refresh_order_status(session, order)
    return task


async def _pick_serial(
    session: AsyncSession,
    order: OutboundOrder,
    task: PickTask,
    allocation: Allocation,
    scan: PickConfirmation,
    packing: int | None,
    actor: str,
) -> None:
    if not scan.serial_number:
        raise Refused.one(
            ErrorCode.SCAN_REQUIRED, "scan the serial number of the item", "serialNumber"
        )
    allocated = await session.get(Serial, allocation.serial_id)
    assert allocated is not None
    label = read_label(scan.serial_number)
    await _refuse_label(session, label, "serial", allocation.product_id, "serialNumber")
    text = label.number("serial")
    assert text is not None  # a label without a serial number was refused
    problems = Problems()
    number = clean_number(text, problems, "serialNumber", kind="serial")
    problems.raise_if_any()
    assert number is not None
    document = document_for(order)
    destination = packing if packing is not None else task.location_id
    if number == allocated.serial_number:
        [serial] = await lock_serials(session, [allocated.id])
        await apply_event(
            session,
            [serial],
            SerialEvent.PICK,
            document=document,
            actor=actor,
            to_location_id=destination,
        )
        return
    scanned = await _scanned_serial(session, order, task, allocation, number)
    # Swap: the scanned item takes the allocation, the allocated one goes back to stock.
    await lock_products(session, [allocation.product_id])
    locked = {s.id: s for s in await lock_serials(session, [allocated.id, scanned.id])}
    original, replacement = locked[allocated.id], locked[scanned.id]
    await apply_event(session, [original], SerialEvent.CANCEL, document=document, actor=actor)
    await apply_event(session, [replacement], SerialEvent.ALLOCATE, document=document, actor=actor)
    await apply_event(
        session,
        [replacement],
        SerialEvent.PICK,
        document=document,
        actor=actor,
        to_location_id=destination,
    )
    allocation.serial_id = replacement.id
    assert replacement.received_at is not None
    allocation.received_at = replacement.received_at


async def _scanned_serial(
    session: AsyncSession,
    order: OutboundOrder,
    task: PickTask,
    allocation: Allocation,
    number: str,
) -> Serial:
    """The serial a picker scanned instead of the allocated one, if it may take its place."""
    candidates = list(
        await session.scalars(
            select(Serial).where(
                Serial.serial_number == number,
                Serial.warehouse_id == order.warehouse_id,
                Serial.status != SerialStatus.RELEASED,
            )
        )
    )
    if not candidates:
        raise Refused.one(
            ErrorCode.UNKNOWN_SERIAL, f"no serial {number} in this warehouse", "serialNumber"
        )
    same_product = [s for s in candidates if s.product_id == allocation.product_id]
    if not same_product:
        sku = await session.scalar(
            select(Product.sku).where(Product.id == candidates[0].product_id)
        )
        raise Refused.one(
            ErrorCode.WRONG_PRODUCT,
            f"serial {number} is a {sku}, not the product of this pick",
            "serialNumber",
        )
    [serial] = same_product
    if serial.status is SerialStatus.ALLOCATED:
        other = await session.scalar(
            select(OutboundOrder.number)
            .join(Allocation, Allocation.order_id == OutboundOrder.id)
            .where(
                Allocation.serial_id == serial.id, Allocation.status == AllocationStatus.ALLOCATED
            )
        )
        if other == order.number:
            raise Refused.one(
                ErrorCode.SERIAL_ON_OTHER_TASK,
                f"serial {number} belongs to another pick task of this order: confirm it there",
                "serialNumber",
            )
        raise Refused.one(
            ErrorCode.WRONG_ORDER, f"serial {number} is reserved for order {other}", "serialNumber"
        )
    if serial.status in (SerialStatus.PICKED, SerialStatus.SHIPPED):
        raise Refused.one(
            ErrorCode.ALREADY_PICKED, f"serial {number} is already {serial.status}", "serialNumber"
        )
    if serial.status is not SerialStatus.IN_INVENTORY:
        raise Refused.one(
            ErrorCode.SERIAL_NOT_AVAILABLE, f"serial {number} is {serial.status}", "serialNumber"
        )
    if serial.location_id != task.location_id:
        raise Refused.one(
            ErrorCode.WRONG_LOCATION,
            f"serial {number} is stored elsewhere: pick from this task's location",
            "serialNumber",
        )
    return serial


async def _refuse_label(
    session: AsyncSession,
    label: Label,
    kind: NumberKind,
    product_id: int,
    field: str,
    *,
    expiry_date: date | None = None,
) -> None:
    """Refuse a scanned label that is unreadable, of the wrong kind or of another product."""
    if not label.is_gs1:
        return
    product = await session.get(Product, product_id)
    assert product is not None
    owners = await gtin_owners(session, product, [label])
    problems = label_problems(
        label,
        kind,
        sku=product.sku,
        gtin=product.gtin,
        expiry_date=expiry_date,
        gtin_owners=owners,
        field=field,
    )
    if problems:
        raise Refused(problems)


async def _pick_quantity(
    session: AsyncSession, pick: _OpenTask, scan: PickConfirmation, actor: str
) -> int:
    """Pick (part of) a lot or untracked allocation; returns the quantity picked."""
    order, allocation, packing, lot = pick.order, pick.allocation, pick.packing, pick.lot
    if lot is not None:
        if not scan.lot_number:
            raise Refused.one(
                ErrorCode.SCAN_REQUIRED, f"scan or type lot {lot.lot_number}", "lotNumber"
            )
        label = read_label(scan.lot_number)
        number = label.number("lot")
        same_lot = number is not None and lot_key(number) == lot.lot_key
        # A label of another lot is the wrong lot, whatever its expiry says.
        expiry = lot.expiry_date if same_lot else None
        await _refuse_label(
            session, label, "lot", allocation.product_id, "lotNumber", expiry_date=expiry
        )
        if not same_lot:
            raise Refused.one(
                ErrorCode.WRONG_LOT, f"this pick is lot {lot.lot_number}, not {number}", "lotNumber"
            )
    elif scan.lot_number:
        raise Refused.one(
            ErrorCode.LOTS_NOT_ALLOWED, "this product is not lot-tracked", "lotNumber"
        )
    quantity = allocation.quantity if scan.quantity is None else scan.quantity
    if not 0 <= quantity <= allocation.quantity:
        raise Refused.one(
            ErrorCode.INVALID_VALUE, f"pick between 0 and {allocation.quantity}", "quantity"
        )
    assert allocation.stock_balance_id is not None
    short = allocation.quantity - quantity
    document = document_for(order)
    records = []
    if packing is not None and quantity:
        await take_from_balance(
            session,
            allocation.stock_balance_id,
            quantity=quantity,
            reserved=allocation.quantity,
        )
        allocation.stock_balance_id = await add_stock(
            session,
            product_id=allocation.product_id,
            lot_id=allocation.lot_id,
            warehouse_id=order.warehouse_id,
            location_id=packing,
            received_at=allocation.received_at,
            quantity=quantity,
            reserved=quantity,
        )
    else:
        source = await locked(session, StockBalance, allocation.stock_balance_id)
        assert source is not None
        source.allocated_quantity -= short
    if quantity:
        records.append(
            MovementRecord(
                MovementKind.PICK,
                allocation.product_id,
                quantity,
                lot_id=allocation.lot_id,
                from_location_id=allocation.location_id,
                to_location_id=packing if packing is not None else allocation.location_id,
            )
        )
    if short:
        # The part not found is released, and the short pick stays on record.
        records.append(
            MovementRecord(
                MovementKind.CANCEL,
                allocation.product_id,
                short,
                lot_id=allocation.lot_id,
                from_location_id=allocation.location_id,
                to_location_id=allocation.location_id,
            )
        )
    await record_movements(session, records, document, actor)
    return quantity


# ---------------------------------------------------------------- returns


async def return_to_stock(
    session: AsyncSession, *, allocation_id: int, location_id: int, actor: str
) -> Allocation:
    """Put picked, not yet shipped goods back into a storage location the operator names:
    PICKED serials go IN_INVENTORY there; quantities move back from packing."""
    allocation = await locked(session, Allocation, allocation_id)
    if allocation is None:
        raise Refused.one(ErrorCode.NOT_FOUND, "no such allocation", "allocationId")
    if allocation.status is not AllocationStatus.PICKED or allocation.shipment_id is not None:
        state = "packed" if allocation.shipment_id is not None else str(allocation.status)
        raise Refused.one(
            ErrorCode.NOT_RETURNABLE,
            f"allocation {allocation.id} is {state}: only picked, unpacked goods "
            "can be returned to stock",
            "allocationId",
        )
    order = await lock_order(session, allocation.order_id)
    location = await session.get(Location, location_id)
    if location is None or location.warehouse_id != order.warehouse_id:
        raise Refused.one(ErrorCode.NOT_FOUND, "no such location in this warehouse", "locationId")
    if location.kind is not LocationKind.STORAGE:
        raise Refused.one(
            ErrorCode.LOCATION_NOT_STORAGE,
            f"{location.code} is a {location.kind} location, not storage",
            "locationId",
        )
    document = document_for(order)
    picked = allocation.picked_quantity
    if allocation.serial_id is not None:
        serials = await lock_serials(session, [allocation.serial_id])
        await apply_event(
            session,
            serials,
            SerialEvent.RETURN,
            document=document,
            actor=actor,
            to_location_id=location.id,
        )
    else:
        assert allocation.stock_balance_id is not None
        held = await locked(session, StockBalance, allocation.stock_balance_id)
        assert held is not None
        await remove_from_balance(session, held, quantity=picked, reserved=picked)
        await add_stock(
            session,
            product_id=allocation.product_id,
            lot_id=allocation.lot_id,
            warehouse_id=order.warehouse_id,
            location_id=location.id,
            received_at=allocation.received_at,
            quantity=picked,
        )
        await record_movements(
            session,
            [
                MovementRecord(
                    MovementKind.RETURN,
                    allocation.product_id,
                    picked,
                    lot_id=allocation.lot_id,
                    from_location_id=held.location_id,
                    to_location_id=location.id,
                )
            ],
            document,
            actor,
        )
    line = await locked(session, OutboundLine, allocation.line_id)
    assert line is not None
    line.picked_quantity -= picked
    line.allocated_quantity -= picked
    allocation.status = AllocationStatus.RETURNED
    await session.flush()
    await refresh_order_status(session, order)
    return allocation
