"""On-hand quantities of lot-tracked and untracked goods, by location and receipt time."""

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import StockBalance


def _balance_query(
    product_id: int, lot_id: int | None, location_id: int, received_at: datetime
) -> Select[StockBalance]:
    lot_match = StockBalance.lot_id.is_(None) if lot_id is None else StockBalance.lot_id == lot_id
    return select(StockBalance).where(
        StockBalance.product_id == product_id,
        lot_match,
        StockBalance.location_id == location_id,
        StockBalance.received_at == received_at,
    )


async def add_stock(
    session: AsyncSession,
    *,
    product_id: int,
    lot_id: int | None,
    warehouse_id: int,
    location_id: int,
    received_at: datetime,
    quantity: int,
) -> None:
    balance = await session.scalar(
        _balance_query(product_id, lot_id, location_id, received_at).with_for_update()
    )
    if balance is None:
        session.add(
            StockBalance(
                product_id=product_id,
                warehouse_id=warehouse_id,
                location_id=location_id,
                lot_id=lot_id,
                quantity=quantity,
                allocated_quantity=0,
                received_at=received_at,
            )
        )
    else:
        balance.quantity += quantity
    await session.flush()


async def take_stock(
    session: AsyncSession,
    *,
    product_id: int,
    lot_id: int | None,
    location_id: int,
    received_at: datetime,
    quantity: int,
) -> None:
    """Remove a quantity the caller knows is there; the CHECK constraint backs that up."""
    balance = await session.scalar(
        _balance_query(product_id, lot_id, location_id, received_at).with_for_update()
    )
    assert balance is not None, "stock to take must exist"
    balance.quantity -= quantity
    if balance.quantity == 0 and balance.allocated_quantity == 0:
        await session.delete(balance)
    await session.flush()
