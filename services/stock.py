"""On-hand quantities of lot-tracked and untracked goods, by location and receipt time."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, Integer, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models import Product, StockBalance
from services.queries import loaded


def _same_goods(with_lot: bool) -> tuple[ColumnElement[bool], ...]:
    """What identifies a balance: product, lot, location and receipt time, bound as
    `b_<column>` (an UPDATE reserves the plain names for its SET). Goods without lots have
    lot_id NULL, which `=` never matches, hence a statement with and one without a lot."""
    return (
        StockBalance.product_id == bindparam("b_product_id"),
        StockBalance.lot_id == bindparam("b_lot_id") if with_lot else StockBalance.lot_id.is_(None),
        StockBalance.location_id == bindparam("b_location_id"),
        StockBalance.received_at == bindparam("b_received_at"),
    )


# Built once (services/queries.py says why), with and without a lot.
_BALANCE = {
    with_lot: select(StockBalance).where(*_same_goods(with_lot)).with_for_update()
    for with_lot in (False, True)
}


def _goods(
    product_id: int, lot_id: int | None, location_id: int, received_at: datetime
) -> dict[str, object]:
    """The values `_same_goods` binds."""
    return {
        "b_product_id": product_id,
        "b_lot_id": lot_id,
        "b_location_id": location_id,
        "b_received_at": received_at,
    }


async def _locked_balance(
    session: AsyncSession,
    product_id: int,
    lot_id: int | None,
    location_id: int,
    received_at: datetime,
) -> StockBalance | None:
    """The balance of a product (and lot) at a location received at one time, locked."""
    values = _goods(product_id, lot_id, location_id, received_at)
    return await session.scalar(_BALANCE[lot_id is not None], values)


# A balance's quantities raised, found by what identifies it: one statement that locks the
# row as it changes it (with and without a lot, as `_BALANCE`). Reading the row locked and
# writing it back cost two.
_ADD = {
    with_lot: update(StockBalance)
    .where(*_same_goods(with_lot))
    .values(
        quantity=StockBalance.quantity + bindparam("added", type_=Integer),
        allocated_quantity=StockBalance.allocated_quantity + bindparam("reserved", type_=Integer),
    )
    .returning(StockBalance.id, StockBalance.quantity, StockBalance.allocated_quantity)
    for with_lot in (False, True)
}
_NEW_BALANCE = insert(StockBalance).returning(StockBalance.id)


async def add_stock(
    session: AsyncSession,
    *,
    product_id: int,
    lot_id: int | None,
    warehouse_id: int,
    location_id: int,
    received_at: datetime,
    quantity: int,
    reserved: int = 0,
) -> int:
    """Add `quantity` to a location's balance, `reserved` of it already allocated (picked
    goods waiting at packing stay reserved for their order); returns the balance's id."""
    # Written through the connection: the flush leaves nothing of the session unwritten
    # that this could overtake, and an object the session holds of the row is given the
    # new quantities.
    await session.flush()
    connection = await session.connection()
    where = _goods(product_id, lot_id, location_id, received_at)
    added = {"added": quantity, "reserved": reserved}
    row = (await connection.execute(_ADD[lot_id is not None], where | added)).first()
    if row is None:
        new = {
            "product_id": product_id,
            "warehouse_id": warehouse_id,
            "location_id": location_id,
            "lot_id": lot_id,
            "quantity": quantity,
            "allocated_quantity": reserved,
            "received_at": received_at,
        }
        balance_id: int = (await connection.execute(_NEW_BALANCE, new)).scalar_one()
        return balance_id
    held = loaded(session, StockBalance, row.id)
    if held is not None:
        set_committed_value(held, "quantity", row.quantity)
        set_committed_value(held, "allocated_quantity", row.allocated_quantity)
    found_id: int = row.id
    return found_id


async def take_stock(
    session: AsyncSession,
    *,
    product_id: int,
    lot_id: int | None,
    location_id: int,
    received_at: datetime,
    quantity: int,
) -> None:
    """Remove an unreserved quantity the caller knows is there; CHECK constraints back it up."""
    balance = await _locked_balance(session, product_id, lot_id, location_id, received_at)
    assert balance is not None, "stock to take must exist"
    await remove_from_balance(session, balance, quantity=quantity, reserved=0)


async def remove_from_balance(
    session: AsyncSession, balance: StockBalance, *, quantity: int, reserved: int
) -> None:
    """Take `quantity` out of a balance and release `reserved` of its reservation. An emptied
    row stays (allocations refer to it); stock queries look at quantity > 0."""
    balance.quantity -= quantity
    balance.allocated_quantity -= reserved
    await session.flush()


_TAKE = (
    update(StockBalance)
    .where(StockBalance.id == bindparam("balance_id"))
    .values(
        quantity=StockBalance.quantity - bindparam("taken", type_=Integer),
        allocated_quantity=StockBalance.allocated_quantity - bindparam("reserved", type_=Integer),
    )
    .returning(StockBalance.location_id)
)


async def take_from_balance(
    session: AsyncSession, balance_id: int, *, quantity: int, reserved: int
) -> int:
    """Take `quantity` out of a balance and release `reserved` of its reservation; returns
    the balance's location. One statement, which locks the row as it changes it, where
    reading the row first and writing it back costs two and an object; when the session
    already holds the balance, through that object instead. CHECK constraints refuse a
    balance taken below zero, as they would at a flush."""
    held = loaded(session, StockBalance, balance_id)
    if held is not None:
        await remove_from_balance(session, held, quantity=quantity, reserved=reserved)
        return held.location_id
    values = {"balance_id": balance_id, "taken": quantity, "reserved": reserved}
    location_id: int = (await (await session.connection()).execute(_TAKE, values)).scalar_one()
    return location_id


async def lock_products(session: AsyncSession, product_ids: Iterable[int]) -> dict[int, Product]:
    """Serialise everyone who reserves stock of these products, and return them.

    Allocation reads what is free and then reserves it; two allocators of one product must
    not both read the same free stock. On PostgreSQL the product rows are locked in id order
    (so two orders never deadlock); on SQLite BEGIN IMMEDIATE already made this the only
    writer and the lock compiles to nothing.

    The lock is FOR NO KEY UPDATE: allocators exclude each other, but the key-share locks
    of foreign-key checks (every movement names its product) pass. With FOR UPDATE a pick
    holding a stock balance and writing its movement would wait for the product while the
    allocator holding the product waited for that balance: a deadlock.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    rows = await session.scalars(_LOCK_PRODUCTS, {"ids": ids})
    return {product.id: product for product in rows}


_LOCK_PRODUCTS = (
    select(Product)
    .where(Product.id.in_(bindparam("ids", expanding=True)))
    .order_by(Product.id)
    .with_for_update(key_share=True)
)
