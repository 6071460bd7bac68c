"""Putaway: move what a receipt staged on the dock into storage, whole or split.

Serials may be named by raw GS1 scans (`services.scanning.read_label`) of their labels.
"""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Location,
    LocationKind,
    MovementKind,
    PutawayTask,
    PutawayTaskStatus,
    ReceivingLine,
    ReceivingOrder,
    Serial,
    SerialEvent,
)
from models.base import utc_now
from services.errors import ErrorCode, Problems, Refused
from services.identifiers import clean_number
from services.lifecycle import apply_event, lock_serials
from services.movements import Document, MovementRecord, record_movements
from services.queries import locked
from services.scanning import scanned_serials
from services.stock import add_stock, take_stock


@dataclass(frozen=True)
class Placement:
    """Part of a task going to one storage location. For serial-tracked goods the serials
    may be named; unnamed ones are taken in serial-number order."""

    location_id: int
    quantity: int
    serial_numbers: list[str] = field(default_factory=list)


async def complete_putaway(
    session: AsyncSession, *, task_id: int, placements: list[Placement], actor: str
) -> PutawayTask:
    task = await locked(session, PutawayTask, task_id)
    if task is None:
        raise Refused.one(ErrorCode.NOT_FOUND, "no such putaway task", "taskId")
    if task.status is not PutawayTaskStatus.OPEN:
        raise Refused.one(
            ErrorCode.TASK_NOT_OPEN, f"putaway task {task.id} is already done", "taskId"
        )
    serials = await lock_serials(
        session,
        list(await session.scalars(select(Serial.id).where(Serial.putaway_task_id == task.id))),
    )
    assignment = await _validate(session, task, placements, serials)

    document = await _document(session, task)
    if serials:
        for location_id, placed in assignment.items():
            await apply_event(
                session,
                placed,
                SerialEvent.PUTAWAY,
                document=document,
                actor=actor,
                to_location_id=location_id,
            )
    else:
        records = []
        for placement in placements:
            await take_stock(
                session,
                product_id=task.product_id,
                lot_id=task.lot_id,
                location_id=task.from_location_id,
                received_at=task.received_at,
                quantity=placement.quantity,
            )
            await add_stock(
                session,
                product_id=task.product_id,
                lot_id=task.lot_id,
                warehouse_id=task.warehouse_id,
                location_id=placement.location_id,
                received_at=task.received_at,
                quantity=placement.quantity,
            )
            records.append(
                MovementRecord(
                    MovementKind.PUTAWAY,
                    task.product_id,
                    placement.quantity,
                    lot_id=task.lot_id,
                    from_location_id=task.from_location_id,
                    to_location_id=placement.location_id,
                )
            )
        await record_movements(session, records, document, actor)
    task.status = PutawayTaskStatus.DONE
    task.completed_at = utc_now()
    await session.flush()
    return task


async def _validate(
    session: AsyncSession, task: PutawayTask, placements: list[Placement], serials: list[Serial]
) -> dict[int, list[Serial]]:
    """Check the placements; for serial tasks, say which serials go where."""
    problems = Problems()
    if not placements:
        raise Refused.one(ErrorCode.INVALID_VALUE, "say where the goods go", "placements")
    ids = {p.location_id for p in placements}
    locations = {
        loc.id: loc for loc in await session.scalars(select(Location).where(Location.id.in_(ids)))
    }
    for i, placement in enumerate(placements):
        at = f"placements.{i}"
        location = locations.get(placement.location_id)
        if location is None or location.warehouse_id != task.warehouse_id:
            problems.add(
                ErrorCode.NOT_FOUND, "no such location in this warehouse", f"{at}.locationId"
            )
        elif location.kind is not LocationKind.STORAGE:
            problems.add(
                ErrorCode.LOCATION_NOT_STORAGE,
                f"{location.code} is a {location.kind} location, not storage",
                f"{at}.locationId",
            )
        if placement.quantity <= 0:
            problems.add(
                ErrorCode.QUANTITY_NOT_POSITIVE, "the quantity must be positive", f"{at}.quantity"
            )
        if placement.serial_numbers and len(placement.serial_numbers) != placement.quantity:
            problems.add(
                ErrorCode.SERIAL_COUNT_MISMATCH,
                f"quantity {placement.quantity} but {len(placement.serial_numbers)} serial numbers",
                f"{at}.serialNumbers",
            )
        if placement.serial_numbers and not serials:
            problems.add(
                ErrorCode.SERIALS_NOT_ALLOWED, "this task carries no serials", f"{at}.serialNumbers"
            )
    total = sum(p.quantity for p in placements)
    if total != task.quantity:
        problems.add(
            ErrorCode.PUTAWAY_QUANTITY_MISMATCH,
            f"the placements add up to {total} but the task holds {task.quantity}",
            "placements",
        )
    problems.raise_if_any()
    if not serials:
        return {}

    by_number = {s.serial_number: s for s in serials}
    unplaced = dict(sorted(by_number.items()))
    assignment: dict[int, list[Serial]] = {}
    for i, placement in enumerate(placements):
        at = f"placements.{i}.serialNumbers"
        entries = placement.serial_numbers
        for text in await scanned_serials(session, task.product_id, entries, problems, at):
            number = clean_number(text, problems, at, kind="serial")
            if number is None:
                continue
            if number not in by_number:
                problems.add(
                    ErrorCode.SERIAL_NOT_ON_TASK,
                    f"serial {number} is not on putaway task {task.id}",
                    at,
                )
            elif number not in unplaced:
                problems.add(ErrorCode.DUPLICATE_SERIAL, f"serial {number} is placed twice", at)
            else:
                assignment.setdefault(placement.location_id, []).append(unplaced.pop(number))
    problems.raise_if_any()
    remaining = iter(list(unplaced.values()))
    for placement in placements:
        if not placement.serial_numbers:
            assignment.setdefault(placement.location_id, []).extend(
                next(remaining) for _ in range(placement.quantity)
            )
    return assignment


async def _document(session: AsyncSession, task: PutawayTask) -> Document:
    number = await session.scalar(
        select(ReceivingOrder.number)
        .join(ReceivingLine, ReceivingLine.order_id == ReceivingOrder.id)
        .where(ReceivingLine.id == task.receiving_line_id)
    )
    assert number is not None
    return Document("RECEIVING_ORDER", number)
