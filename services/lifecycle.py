"""The one writer of a serial's status.

Callers load the serials with `lock_serials` inside their transaction (row locks in primary
key order on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write lock), then call
`apply_event`, which asks the lifecycle table for each next status and writes one movement
per serial. An illegal pair refuses the whole batch before anything is written.
"""

import enum
from collections.abc import Sequence
from typing import Final, Literal

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import MovementKind, Serial, SerialEvent, SerialStatus
from models.base import utc_now
from models.lifecycle import IllegalTransition, next_status
from services.errors import ErrorCode, Problems
from services.identifiers import serial_key
from services.movements import Document, MovementRecord, record_movements


class _Keep(enum.Enum):
    """Sentinel for "the items stay where they are" (None already means "gone")."""

    LOCATION = 0


KEEP_LOCATION: Final = _Keep.LOCATION


# Built once: a statement's construction costs more than its execution's bookkeeping.
_LOCK_SERIALS = (
    select(Serial)
    .where(Serial.id.in_(bindparam("ids", expanding=True)))
    .order_by(Serial.id)
    .with_for_update()
)


async def lock_serials(session: AsyncSession, serial_ids: Sequence[int]) -> list[Serial]:
    """The serials, locked in id order (so two writers never deadlock); none to lock, no
    statement (a shipment of lots has no serials)."""
    if not serial_ids:
        return []
    return list(await session.scalars(_LOCK_SERIALS, {"ids": sorted(set(serial_ids))}))


async def apply_event(
    session: AsyncSession,
    serials: Sequence[Serial],
    event: SerialEvent,
    *,
    document: Document,
    actor: str,
    to_location_id: int | Literal[_Keep.LOCATION] | None = KEEP_LOCATION,
    field: str | None = None,
    shipment_id: int | None = None,
) -> None:
    """Move every serial through `event`, or refuse all of them with ILLEGAL_TRANSITION.

    `to_location_id` is where the items now are (None: out of the warehouse); left unset,
    they stay where they were.
    """
    problems = Problems()
    targets = []
    for serial in serials:
        try:
            targets.append(next_status(serial.status, event))
        except IllegalTransition as exc:
            problems.add(
                ErrorCode.ILLEGAL_TRANSITION,
                f"serial {serial.serial_number} is {exc.status}: it cannot take {exc.event}",
                field,
            )
    problems.raise_if_any()

    now = utc_now()
    records = []
    for serial, target in zip(serials, targets, strict=True):
        from_location = serial.location_id
        if to_location_id is not KEEP_LOCATION:
            serial.location_id = to_location_id
        records.append(
            MovementRecord(
                kind=MovementKind(event.value),
                product_id=serial.product_id,
                serial_id=serial.id,
                quantity=1,
                from_status=serial.status,
                to_status=target,
                from_location_id=from_location,
                to_location_id=serial.location_id,
                shipment_id=shipment_id,
                warehouse_id=serial.warehouse_id,
            )
        )
        serial.status = target
        serial.updated_at = now
    await session.flush()
    await record_movements(session, records, document, actor)


async def create_serials(
    session: AsyncSession,
    *,
    product_id: int,
    numbers: Sequence[str],
    status: SerialStatus,
    warehouse_id: int,
    location_id: int | None,
    receiving_line_id: int | None,
    document: Document,
    actor: str,
) -> list[Serial]:
    """Bring serials into existence (EXPECTED from an ASN, or RECEIVED with no ASN list),
    each with its first movement. Uniqueness was checked by the caller; the partial unique
    index is the last line of defence."""
    now = utc_now()
    serials = [
        Serial(
            product_id=product_id,
            serial_number=number,
            serial_key=serial_key(number),
            status=status,
            warehouse_id=warehouse_id,
            location_id=location_id,
            receiving_line_id=receiving_line_id,
            received_at=now if status is SerialStatus.RECEIVED else None,
            created_at=now,
            updated_at=now,
        )
        for number in numbers
    ]
    session.add_all(serials)
    await session.flush()
    kind = MovementKind.EXPECT if status is SerialStatus.EXPECTED else MovementKind.RECEIVE
    await record_movements(
        session,
        [
            MovementRecord(
                kind=kind,
                product_id=product_id,
                serial_id=s.id,
                quantity=1,
                to_status=status,
                to_location_id=location_id,
                warehouse_id=warehouse_id,
            )
            for s in serials
        ],
        document,
        actor,
    )
    return serials
