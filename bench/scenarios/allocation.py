"""B5 and B6: allocation through the services next to the same transaction written by hand
in SQL (lock the order and its products, one FEFO query per line, reserve, insert
allocation, pick task and movement, update line and order), on the same engine and pool.

B5 is single-line orders allocated, picked and shipped per second (bench/scenarios/
fulfilment.py) with 1 and 8 concurrent clients; B6 the
latency of allocating a 50-line order over the seeded lots (order creation included on both
sides). Orders are created with the services on both sides; the lots are the seeded ones.
"""

from datetime import UTC, datetime
from itertools import count

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.common import StatementCounter, throughput_interleaved, time_interleaved
from bench.report import Row
from bench.scenarios import Bench
from bench.scenarios.fulfilment import (
    deadlocks,
    pick_and_ship_with_raw_sql,
    pick_and_ship_with_services,
    retrying,
)
from services import outbound

LINES = 50
# Units per line of the B6 order: most lines take two lots (100 units each) or one.
B6_UNITS = 50


async def new_order(bench: Bench, numbers: "count[int]", products: list[int], quantity: int) -> int:
    async with bench.engines.sessions().begin() as session:
        order = await outbound.create_order(
            session,
            number=f"SO-{next(numbers)}",
            warehouse_id=bench.seeded.warehouse_id,
            lines=[outbound.OrderLineSpec(p, quantity) for p in products],
        )
        return order.id


async def allocate_with_services(sessions: async_sessionmaker[AsyncSession], order_id: int) -> None:
    async with sessions.begin() as session:
        await outbound.allocate_order(session, order_id=order_id, actor="bench")


RAW_FEFO = """
SELECT b.id, b.quantity - b.allocated_quantity, b.location_id, b.lot_id, b.received_at
FROM stock_balance b
JOIN location l ON l.id = b.location_id
JOIN lot ON lot.id = b.lot_id
WHERE b.product_id = :product AND b.warehouse_id = :warehouse AND l.kind = 'STORAGE'
  AND b.quantity - b.allocated_quantity > 0 AND NOT lot.on_hold
  AND (lot.expiry_date IS NULL OR lot.expiry_date >= :today)
ORDER BY lot.expiry_date IS NULL, lot.expiry_date, b.received_at, b.id
LIMIT :wanted
"""


RAW_LINES = """
SELECT ol.id, ol.product_id, ol.quantity - ol.allocated_quantity, o.warehouse_id, o.number
FROM outbound_line ol JOIN outbound_order o ON o.id = ol.order_id
WHERE o.id = :order ORDER BY ol.product_id
"""
RAW_LOCK_ORDER = "SELECT id FROM outbound_order WHERE id = :order FOR UPDATE"
RAW_LOCK_PRODUCTS = "SELECT id FROM product WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"
RAW_RESERVE = "UPDATE stock_balance SET allocated_quantity = allocated_quantity + :q WHERE id = :id"
RAW_ALLOCATION = """
INSERT INTO allocation (order_id, line_id, product_id, location_id, lot_id, stock_balance_id,
                        received_at, quantity, picked_quantity, status, created_at)
VALUES (:o, :l, :p, :loc, :lot, :b, :r, :q, 0, 'ALLOCATED', :now) RETURNING id
"""
RAW_PICK_TASK = """
INSERT INTO pick_task (allocation_id, order_id, location_id, status, created_at)
VALUES (:a, :o, :loc, 'OPEN', :now)
"""
# The baseline leaves the hash chain out (an empty chain_hash), so that it stays the same
# reference it was before movements were chained: ours/raw shows what the chain costs.
RAW_MOVEMENT = """
INSERT INTO movement (kind, product_id, lot_id, quantity, from_location_id, to_location_id,
                      document_type, document_number, actor, occurred_at, chain_hash)
VALUES ('ALLOCATE', :p, :lot, :q, :loc, :loc, 'ORDER', :n, 'bench', :now, '')
"""
RAW_LINE_DONE = "UPDATE outbound_line SET allocated_quantity = quantity WHERE id = :id"
RAW_ORDER_DONE = "UPDATE outbound_order SET status = 'ALLOCATED', updated_at = :now WHERE id = :id"


async def allocate_with_raw_sql(engine: AsyncEngine, order_id: int) -> None:
    """The same transaction written by hand: lock, pick FEFO stock, reserve, record."""
    async with engine.begin() as conn:
        lines = (await conn.execute(text(RAW_LINES), {"order": order_id})).all()
        if conn.dialect.name == "postgresql":
            await conn.execute(text(RAW_LOCK_ORDER), {"order": order_id})
            await conn.execute(text(RAW_LOCK_PRODUCTS), {"ids": [line[1] for line in lines]})
        now = datetime.now(UTC)
        for line_id, product, wanted, warehouse, number in lines:
            rows = await conn.execute(
                text(RAW_FEFO),
                {"product": product, "warehouse": warehouse, "today": now.date(), "wanted": wanted},
            )
            for balance, free, location, lot, received_at in rows.all():
                take = min(free, wanted)
                wanted -= take
                await conn.execute(text(RAW_RESERVE), {"q": take, "id": balance})
                allocation = await conn.scalar(
                    text(RAW_ALLOCATION),
                    {
                        "o": order_id,
                        "l": line_id,
                        "p": product,
                        "loc": location,
                        "lot": lot,
                        "b": balance,
                        "r": received_at,
                        "q": take,
                        "now": now,
                    },
                )
                await conn.execute(
                    text(RAW_PICK_TASK),
                    {"a": allocation, "o": order_id, "loc": location, "now": now},
                )
                await conn.execute(
                    text(RAW_MOVEMENT),
                    {
                        "p": product,
                        "lot": lot,
                        "q": take,
                        "loc": location,
                        "n": number,
                        "now": now,
                    },
                )
                if wanted == 0:
                    break
            await conn.execute(text(RAW_LINE_DONE), {"id": line_id})
        await conn.execute(text(RAW_ORDER_DONE), {"now": now, "id": order_id})


async def run(bench: Bench, only: set[str]) -> list[Row]:
    sessions, engine = bench.engines.sessions(), bench.engines.write
    numbers = count(1)
    products = bench.seeded.lot_products[:LINES]
    rows = []
    if "B6" in only:

        async def ours(_: int) -> None:
            await allocate_with_services(
                sessions, await new_order(bench, numbers, products, B6_UNITS)
            )

        async def raw(_: int) -> None:
            await allocate_with_raw_sql(engine, await new_order(bench, numbers, products, B6_UNITS))

        await ours(0)  # warm-up
        await raw(0)
        order = await new_order(bench, numbers, products, 1)
        with StatementCounter(bench.engines) as counter:
            await allocate_with_services(sessions, order)
        mine, base = await time_interleaved(2 * bench.reps, ours, raw)
        rows.append(
            Row(
                f"B6 FEFO 50-line order, {bench.seeded.size.lots:,} lots",
                "ms",
                mine.median_ms,
                mine.p99_ms,
                base.median_ms,
                base.median_ms / mine.median_ms,
                None,
                "(absolute)",
                f"{counter.count} (50 lines)",
            )
        )
    if "B5" in only:
        # Each side's rate is the median of `reps` rounds, the sides taking turns.
        rounds, per_client = bench.reps, 8
        counts = []
        for fulfil in (_ours, _raw):
            order = await new_order(bench, numbers, [products[0]], 1)
            with StatementCounter(bench.engines) as counter:
                await fulfil(bench, order)
            counts.append(counter.count)
        for clients in (1, 8):
            per_round = clients * per_client
            total = rounds * per_round
            orders = {
                side: [
                    await new_order(bench, numbers, [products[i % LINES]], 1) for i in range(total)
                ]
                for side in ("ours", "raw")
            }

            def nth(r: int, c: int, i: int, per_round: int = per_round) -> int:
                return r * per_round + c * per_client + i

            async def ours_op(r: int, c: int, i: int, mine: list[int] = orders["ours"]) -> None:
                await _ours(bench, mine[nth(r, c, i)])

            async def raw_op(r: int, c: int, i: int, theirs: list[int] = orders["raw"]) -> None:
                await _raw(bench, theirs[nth(r, c, i)])

            deadlocks.clear()
            ours_rate, raw_rate = await throughput_interleaved(
                rounds, clients, per_client, ours_op, raw_op
            )
            postgresql = bench.engine == "postgresql"
            retried = (
                f", deadlocks retried {deadlocks['ours']}/{deadlocks['raw']}" if deadlocks else ""
            )
            rows.append(
                Row(
                    f"B5 allocate+pick+ship, {clients} client{'s' if clients > 1 else ''}{retried}",
                    "orders/s",
                    ours_rate,
                    None,
                    raw_rate,
                    ours_rate / raw_rate,
                    0.5 if postgresql else None,
                    ">= 0.50" if postgresql else "(PostgreSQL only)",
                    f"{counts[0]} / {counts[1]}",
                )
            )
    return rows


async def _ours(bench: Bench, order: int) -> None:
    sessions = bench.engines.sessions()
    await retrying("ours", lambda: allocate_with_services(sessions, order))
    await pick_and_ship_with_services(sessions, bench.engines.read_sessions(), order)


async def _raw(bench: Bench, order: int) -> None:
    await retrying("raw", lambda: allocate_with_raw_sql(bench.engines.write, order))
    await pick_and_ship_with_raw_sql(bench.engines.write, order)
