"""Stock figures: on hand, allocated and available, per location, for products and lots.

On hand is everything physically here (dock, storage, packing); allocated is what orders
reserved and have not shipped; available is what allocation could still take: free stock in
storage, of lots neither held nor expired.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Location, LocationKind, Lot, Serial, SerialStatus, StockBalance, Warehouse
from models.base import utc_now
from services.outbound import warehouse_today

ON_HAND_SERIAL = (
    SerialStatus.RECEIVED,
    SerialStatus.IN_INVENTORY,
    SerialStatus.ALLOCATED,
    SerialStatus.PICKED,
)


@dataclass(frozen=True)
class StockPosition:
    product_id: int
    warehouse_id: int
    location_id: int
    lot_id: int | None
    on_hand: int
    allocated: int
    available: int


async def positions_by_product(
    session: AsyncSession, product_ids: Sequence[int], now: datetime | None = None
) -> list[list[StockPosition]]:
    """Each product's positions, in the order of `product_ids` (two statements in all)."""
    found = await _positions(session, product_ids, None, now or utc_now())
    grouped: dict[int, list[StockPosition]] = defaultdict(list)
    for position in found:
        grouped[position.product_id].append(position)
    return [grouped[i] for i in product_ids]


async def positions_by_lot(
    session: AsyncSession, lot_ids: Sequence[int], now: datetime | None = None
) -> list[list[StockPosition]]:
    found = await _positions(session, None, lot_ids, now or utc_now())
    grouped: dict[int, list[StockPosition]] = defaultdict(list)
    for position in found:
        assert position.lot_id is not None
        grouped[position.lot_id].append(position)
    return [grouped[i] for i in lot_ids]


async def _positions(
    session: AsyncSession,
    product_ids: Sequence[int] | None,
    lot_ids: Sequence[int] | None,
    now: datetime,
) -> list[StockPosition]:
    todays = {w.id: warehouse_today(w, now) for w in await session.scalars(select(Warehouse))}
    quantities = (
        select(
            StockBalance.product_id,
            StockBalance.warehouse_id,
            StockBalance.location_id,
            StockBalance.lot_id,
            Location.kind,
            Lot.on_hold,
            Lot.expiry_date,
            func.sum(StockBalance.quantity),
            func.sum(StockBalance.allocated_quantity),
        )
        .join(Location, Location.id == StockBalance.location_id)
        .outerjoin(Lot, Lot.id == StockBalance.lot_id)
        .where(StockBalance.quantity > 0)
        .group_by(
            StockBalance.product_id,
            StockBalance.warehouse_id,
            StockBalance.location_id,
            StockBalance.lot_id,
            Location.kind,
            Lot.on_hold,
            Lot.expiry_date,
        )
        .order_by(StockBalance.product_id, StockBalance.location_id, StockBalance.lot_id)
    )
    if product_ids is not None:
        quantities = quantities.where(StockBalance.product_id.in_(product_ids))
    if lot_ids is not None:
        quantities = quantities.where(StockBalance.lot_id.in_(lot_ids))
    positions = []
    for (
        product_id,
        warehouse_id,
        location_id,
        lot_id,
        kind,
        on_hold,
        expiry,
        qty,
        allocated,
    ) in await session.execute(quantities):
        usable = not on_hold and (expiry is None or expiry >= todays[warehouse_id])
        free = qty - allocated if kind is LocationKind.STORAGE and usable else 0
        positions.append(
            StockPosition(product_id, warehouse_id, location_id, lot_id, qty, allocated, free)
        )
    if product_ids is None:
        return positions

    serials = (
        select(
            Serial.product_id,
            Serial.warehouse_id,
            Serial.location_id,
            Location.kind,
            Serial.status,
            func.count(),
        )
        .join(Location, Location.id == Serial.location_id)
        .where(Serial.product_id.in_(product_ids), Serial.status.in_(ON_HAND_SERIAL))
        .group_by(
            Serial.product_id, Serial.warehouse_id, Serial.location_id, Location.kind, Serial.status
        )
    )
    counts: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for product, warehouse, location, kind, status, count in await session.execute(serials):
        assert location is not None  # inner join
        figures = counts[(product, warehouse, location)]
        figures[0] += count
        if status in (SerialStatus.ALLOCATED, SerialStatus.PICKED):
            figures[1] += count
        if status is SerialStatus.IN_INVENTORY and kind is LocationKind.STORAGE:
            figures[2] += count
    positions += [
        StockPosition(product_id, warehouse_id, location_id, None, *figures)
        for (product_id, warehouse_id, location_id), figures in sorted(counts.items())
    ]
    return positions
