"""Picking and shipping an allocated order of lot-tracked stock, for B5: through the
services as a client's mutations would (one transaction each: confirm every pick, pack,
dispatch), and the same written by hand in SQL (one transaction to pick, one to ship).

The raw side moves the picked units to the packing location's balance, marks allocation,
pick task, line and order, ships from packing and writes PICK and SHIP movements, unchained
(an empty chain_hash, no lock on the chain's head) like the raw allocation.
"""

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from models import Allocation, Lot, PickTask, PickTaskStatus
from services import picking, shipping
from services.queries import statement_by_statement

# Deadlocks PostgreSQL broke (and the transaction retried), by side. Both sides take the
# products' locks before the balances' and should have none; a deadlock costs a second
# (deadlock_timeout), so the count is shown next to the figures.
deadlocks: Counter[str] = Counter()


async def retrying(side: str, transaction: Callable[[], Awaitable[None]]) -> None:
    """Run `transaction` again when PostgreSQL chose it as a deadlock's victim, as a
    client would; at most five times."""
    for attempt in range(5):
        try:
            await transaction()
            return
        except DBAPIError as error:
            if "deadlock detected" not in str(error) or attempt == 4:
                raise
            deadlocks[side] += 1


async def pick_and_ship_with_services(
    sessions: async_sessionmaker[AsyncSession],
    read_sessions: async_sessionmaker[AsyncSession],
    order_id: int,
) -> None:
    # The picker's list of tasks is a query, read as the service reads queries: one
    # statement, no transaction around it (services/queries.py).
    async with read_sessions() as session:
        await statement_by_statement(session)
        tasks = (
            await session.execute(
                select(PickTask.id, Lot.lot_number, Allocation.quantity)
                .join(Allocation, Allocation.id == PickTask.allocation_id)
                .join(Lot, Lot.id == Allocation.lot_id)
                .where(PickTask.order_id == order_id, PickTask.status == PickTaskStatus.OPEN)
                .order_by(PickTask.id)
            )
        ).all()
    for task_id, lot_number, quantity in tasks:
        scan = picking.PickConfirmation(lot_number=lot_number, quantity=quantity)

        async def pick(task_id: int = task_id, scan: picking.PickConfirmation = scan) -> None:
            async with sessions.begin() as session:
                await picking.confirm_pick(session, task_id=task_id, scan=scan, actor="bench")

        await retrying("ours", pick)
    shipment_ids: list[int] = []

    async def pack() -> None:
        async with sessions.begin() as session:
            shipment_ids.append((await shipping.create_shipment(session, order_id=order_id)).id)

    async def dispatch() -> None:
        async with sessions.begin() as session:
            await shipping.dispatch_shipment(session, shipment_id=shipment_ids[-1], actor="bench")

    await retrying("ours", pack)
    await retrying("ours", dispatch)


OPEN_PICKS = """
SELECT a.id, a.quantity, a.stock_balance_id, a.product_id, a.lot_id, a.location_id,
       a.received_at, a.line_id, t.id, o.warehouse_id, o.number
FROM allocation a
JOIN pick_task t ON t.allocation_id = a.id
JOIN outbound_order o ON o.id = a.order_id
WHERE a.order_id = :order AND t.status = 'OPEN'
ORDER BY a.id
"""
PACKING = "SELECT id FROM location WHERE warehouse_id = :w AND kind = 'PACKING' ORDER BY id LIMIT 1"
TAKE = """UPDATE stock_balance SET quantity = quantity - :q,
    allocated_quantity = allocated_quantity - :q WHERE id = :id"""
ADD_TO_PACKING = """
UPDATE stock_balance SET quantity = quantity + :q, allocated_quantity = allocated_quantity + :q
WHERE product_id = :p AND lot_id = :lot AND location_id = :loc AND received_at = :r
RETURNING id
"""
NEW_PACKING = """
INSERT INTO stock_balance (product_id, warehouse_id, location_id, lot_id, quantity,
                           allocated_quantity, received_at)
VALUES (:p, :w, :loc, :lot, :q, :q, :r) RETURNING id
"""
PICKED = """UPDATE allocation SET picked_quantity = :q, status = 'PICKED',
    stock_balance_id = :b WHERE id = :id"""
TASK_DONE = "UPDATE pick_task SET status = 'DONE', completed_at = :now WHERE id = :id"
LINE_PICKED = "UPDATE outbound_line SET picked_quantity = picked_quantity + :q WHERE id = :id"
ORDER_STATUS = "UPDATE outbound_order SET status = :s, updated_at = :now WHERE id = :id"
MOVEMENT = """
INSERT INTO movement (kind, product_id, lot_id, quantity, from_location_id, to_location_id,
                      document_type, document_number, shipment_id, actor, occurred_at,
                      chain_hash)
VALUES (:kind, :p, :lot, :q, :f, :t, 'ORDER', :n, :s, 'bench', :now, '')
"""
SHIPMENT = """INSERT INTO shipment (order_id, status, created_at, dispatched_at)
VALUES (:o, 'DISPATCHED', :now, :now) RETURNING id"""
SHIPPED = """
UPDATE allocation SET shipment_id = :s, status = 'SHIPPED'
WHERE order_id = :o AND status = 'PICKED'
RETURNING stock_balance_id, picked_quantity, product_id, lot_id, line_id, location_id
"""
# PostgreSQL: the products' key-share locks first, as the services take them before the
# chain's (services/chain.py). Without them the movement insert's foreign-key check takes
# them after the balance's row lock, and deadlocks with an allocation holding the product
# FOR UPDATE and waiting for that balance.
HOLD_PRODUCTS = """
SELECT id FROM product WHERE id IN (SELECT product_id FROM allocation WHERE order_id = :o)
ORDER BY id FOR KEY SHARE
"""
LINE_SHIPPED = "UPDATE outbound_line SET shipped_quantity = shipped_quantity + :q WHERE id = :id"


async def pick_and_ship_with_raw_sql(engine: AsyncEngine, order_id: int) -> None:
    picked: list[tuple[int, str]] = []

    async def pick() -> None:
        async with engine.begin() as conn:
            picked.append(await _pick(conn, order_id))

    async def ship() -> None:
        async with engine.begin() as conn:
            await _ship(conn, order_id, *picked[-1])

    await retrying("raw", pick)
    await retrying("raw", ship)


async def _pick(conn: AsyncConnection, order_id: int) -> tuple[int, str]:
    now = datetime.now(UTC)
    if conn.dialect.name == "postgresql":
        await conn.execute(text(HOLD_PRODUCTS), {"o": order_id})
    picks = (await conn.execute(text(OPEN_PICKS), {"order": order_id})).all()
    packing, number = 0, ""
    for alloc, q, source, product, lot, location, received, line, task, wh, number in picks:
        packing = (await conn.execute(text(PACKING), {"w": wh})).scalar_one()
        await conn.execute(text(TAKE), {"q": q, "id": source})
        where = {"p": product, "lot": lot, "loc": packing, "r": received, "q": q}
        target = (await conn.execute(text(ADD_TO_PACKING), where)).scalar()
        if target is None:
            target = (await conn.execute(text(NEW_PACKING), {**where, "w": wh})).scalar_one()
        await conn.execute(text(PICKED), {"q": q, "b": target, "id": alloc})
        await conn.execute(text(TASK_DONE), {"now": now, "id": task})
        await conn.execute(text(LINE_PICKED), {"q": q, "id": line})
        await conn.execute(
            text(MOVEMENT),
            {"kind": "PICK", "p": product, "lot": lot, "q": q, "f": location, "t": packing}
            | {"n": number, "s": None, "now": now},
        )
    await conn.execute(text(ORDER_STATUS), {"s": "PICKED", "now": now, "id": order_id})
    return packing, number


async def _ship(conn: AsyncConnection, order_id: int, packing: int, number: str) -> None:
    now = datetime.now(UTC)
    if conn.dialect.name == "postgresql":
        await conn.execute(text(HOLD_PRODUCTS), {"o": order_id})
    shipment = (await conn.execute(text(SHIPMENT), {"o": order_id, "now": now})).scalar_one()
    shipped = (await conn.execute(text(SHIPPED), {"s": shipment, "o": order_id})).all()
    for balance, q, product, lot, line, _location in shipped:
        await conn.execute(text(TAKE), {"q": q, "id": balance})
        await conn.execute(text(LINE_SHIPPED), {"q": q, "id": line})
        await conn.execute(
            text(MOVEMENT),
            {"kind": "SHIP", "p": product, "lot": lot, "q": q, "f": packing, "t": None}
            | {"n": number, "s": shipment, "now": now},
        )
    await conn.execute(text(ORDER_STATUS), {"s": "SHIPPED", "now": now, "id": order_id})
