"""Writing and reading the audit trail."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Movement, MovementKind, SerialStatus
from models.base import utc_now


@dataclass(frozen=True)
class Document:
    """The business document behind a movement, e.g. Document("RECEIVING_ORDER", "ASN-1")."""

    type: str
    number: str


@dataclass(frozen=True)
class MovementRecord:
    kind: MovementKind
    product_id: int
    quantity: int
    serial_id: int | None = None
    lot_id: int | None = None
    from_status: SerialStatus | None = None
    to_status: SerialStatus | None = None
    from_location_id: int | None = None
    to_location_id: int | None = None
    shipment_id: int | None = None


async def record_movements(
    session: AsyncSession, records: Sequence[MovementRecord], document: Document, actor: str
) -> None:
    """Append movement rows in one executemany. Rows are never updated afterwards."""
    if not records:
        return
    now = utc_now()
    await session.execute(
        insert(Movement),
        [
            {
                "kind": r.kind,
                "product_id": r.product_id,
                "serial_id": r.serial_id,
                "lot_id": r.lot_id,
                "quantity": r.quantity,
                "from_status": r.from_status,
                "to_status": r.to_status,
                "from_location_id": r.from_location_id,
                "to_location_id": r.to_location_id,
                "shipment_id": r.shipment_id,
                "document_type": document.type,
                "document_number": document.number,
                "actor": actor,
                "occurred_at": now,
            }
            for r in records
        ],
    )


async def movements_by_serial_ids(
    session: AsyncSession, serial_ids: Sequence[int]
) -> list[list[Movement]]:
    """Each serial's movements, oldest first, in the order of `serial_ids` (one query)."""
    rows = await session.scalars(
        select(Movement).where(Movement.serial_id.in_(serial_ids)).order_by(Movement.id)
    )
    grouped: dict[int, list[Movement]] = {i: [] for i in serial_ids}
    for row in rows:
        assert row.serial_id is not None
        grouped[row.serial_id].append(row)
    return [grouped[i] for i in serial_ids]


async def movements_by_lot_ids(
    session: AsyncSession, lot_ids: Sequence[int]
) -> list[list[Movement]]:
    """Each lot's movements, oldest first, in the order of `lot_ids` (one query)."""
    rows = await session.scalars(
        select(Movement).where(Movement.lot_id.in_(lot_ids)).order_by(Movement.id)
    )
    grouped: dict[int, list[Movement]] = {i: [] for i in lot_ids}
    for row in rows:
        assert row.lot_id is not None
        grouped[row.lot_id].append(row)
    return [grouped[i] for i in lot_ids]
