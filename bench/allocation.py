"""Allocation benchmark: FEFO allocation of a 50-line order over many lots, statements per
order line, and allocations per second with 1 and 8 clients next to a hand-written raw-SQL
allocation transaction measured in the same run.

    python -m bench.allocation --engine postgresql          # full: 10,000 lots
    python -m bench.allocation --engine sqlite --small      # what CI runs
"""

import argparse
import asyncio
import random
from datetime import UTC, date, datetime, timedelta
from itertools import count

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.common import (
    StatementCounter,
    machine,
    print_table,
    scratch_database,
    throughput,
    time_runs,
)
from models import LocationKind, Lot, StockBalance, Tracking
from services import catalog, outbound
from services.catalog import LocationSpec

LINES = 50
UNITS_PER_LOT = 100


class Stock:
    """Seeded catalog: `LINES` deep products (many lots each) and `LINES` shallow ones."""

    def __init__(self, warehouse_id: int, deep: list[int], shallow: list[int]) -> None:
        self.warehouse_id = warehouse_id
        self.deep = deep
        self.shallow = shallow


async def seed(sessions: async_sessionmaker[AsyncSession], lots_per_product: int) -> Stock:
    """Bulk-load stock with Core inserts (the services would take minutes for this)."""
    rng = random.Random(7)
    today = date.today()
    async with sessions.begin() as session:
        warehouse = await catalog.create_warehouse(
            session,
            code="BENCH",
            name="Bench",
            time_zone="UTC",
            locations=[LocationSpec("DOCK", LocationKind.RECEIVING)]
            + [LocationSpec(f"S-{i:03d}", LocationKind.STORAGE) for i in range(LINES)],
        )
        products = [
            (
                await catalog.create_product(
                    session, sku=f"P-{i:03d}", name=f"P{i}", tracking=Tracking.LOT
                )
            ).id
            for i in range(2 * LINES)
        ]
        locations = list(
            await session.scalars(
                text("SELECT id FROM location WHERE kind = 'STORAGE' ORDER BY id")
            )
        )
        received = datetime(2026, 1, 1, tzinfo=UTC)
        lot_rows = []
        for n, product in enumerate(products):
            per_product = lots_per_product if n < LINES else 2
            for i in range(per_product):
                expiry = None if rng.random() < 0.1 else today + timedelta(rng.randint(1, 700))
                number = f"L{n:03d}-{i:05d}"
                lot_rows.append(
                    {
                        "product_id": product,
                        "lot_number": number,
                        "lot_key": number.casefold(),
                        "expiry_date": expiry,
                        "received_at": received + timedelta(minutes=i),
                        "created_at": received,
                        "on_hold": False,
                    }
                )
        await session.execute(insert(Lot), lot_rows)
        lots = (await session.execute(select(Lot.id, Lot.product_id, Lot.received_at))).all()
        await session.execute(
            insert(StockBalance),
            [
                {
                    "product_id": product,
                    "warehouse_id": warehouse.id,
                    "location_id": locations[lot_id % len(locations)],
                    "lot_id": lot_id,
                    "quantity": UNITS_PER_LOT,
                    "allocated_quantity": 0,
                    "received_at": at,
                }
                for lot_id, product, at in lots
            ],
        )
    return Stock(warehouse.id, products[:LINES], products[LINES:])


async def new_order(
    sessions: async_sessionmaker[AsyncSession],
    stock: Stock,
    numbers: "count[int]",
    products: list[int],
    quantity: int,
) -> int:
    async with sessions.begin() as session:
        order = await outbound.create_order(
            session,
            number=f"SO-{next(numbers)}",
            warehouse_id=stock.warehouse_id,
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


async def run(engine_name: str, lots_per_product: int, runs: int, per_client: int) -> None:
    async with scratch_database(engine_name) as engines:
        sessions = engines.sessions()
        engine = engines.write
        stock = await seed(sessions, lots_per_product)
        numbers = count(1)
        total_lots = lots_per_product * LINES + 2 * LINES
        print(f"\nAllocation on {engine_name}: {total_lots:,} lots; {machine()}")

        # FEFO allocation of a 50-line order, 150 units a line (each line spans two lots)
        async def fefo_order(_: int) -> None:
            order = await new_order(sessions, stock, numbers, stock.deep, 150)
            await allocate_with_services(sessions, order)

        async def fefo_order_raw(_: int) -> None:
            order = await new_order(sessions, stock, numbers, stock.deep, 150)
            await allocate_with_raw_sql(engine, order)

        await fefo_order(0)  # warm-up
        ours = await time_runs(runs, fefo_order)
        raw = await time_runs(runs, fefo_order_raw)
        rows = [
            [
                f"50-line FEFO order ({lots_per_product} lots/product)",
                f"{ours.median_ms:.1f}",
                f"{ours.p99_ms:.1f}",
                f"{raw.median_ms:.1f}",
                f"{raw.median_ms / ours.median_ms:.2f}",
            ]
        ]
        print_table(
            "Latency, ms (order creation included in both)",
            ["scenario", "median", "p99", "raw median", "raw/ours"],
            rows,
        )

        # Statements per order line must not grow with the number of lots.
        per_line = []
        for label, products in (("deep", stock.deep), ("shallow", stock.shallow)):
            order = await new_order(sessions, stock, numbers, products, 1)
            with StatementCounter(engines) as counter:
                await allocate_with_services(sessions, order)
            lots = lots_per_product if label == "deep" else 2
            per_line.append(
                [f"{lots} lots per product", str(counter.count), f"{counter.count / LINES:.2f}"]
            )
        print_table(
            "SQL statements allocating a 50-line order",
            ["stock", "statements", "per line"],
            per_line,
        )

        # Throughput: single-line orders spread over the deep products, created beforehand
        # so that only allocation is timed.
        table = []
        for clients in (1, 8):
            total = clients * per_client
            mine = [
                await new_order(sessions, stock, numbers, [stock.deep[i % LINES]], 1)
                for i in range(total)
            ]
            theirs = [
                await new_order(sessions, stock, numbers, [stock.deep[i % LINES]], 1)
                for i in range(total)
            ]

            async def ours_op(c: int, i: int, orders: list[int] = mine) -> None:
                await allocate_with_services(sessions, orders[c * per_client + i])

            async def raw_op(c: int, i: int, orders: list[int] = theirs) -> None:
                await allocate_with_raw_sql(engine, orders[c * per_client + i])

            ours_rate = await throughput(clients, per_client, ours_op)
            raw_rate = await throughput(clients, per_client, raw_op)
            table.append(
                [str(clients), f"{ours_rate:.0f}", f"{raw_rate:.0f}", f"{ours_rate / raw_rate:.2f}"]
            )
        print_table(
            "Allocations per second, single-line orders",
            ["clients", "ours", "raw SQL", "ours/raw"],
            table,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--lots-per-product", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=40)
    parser.add_argument("--small", action="store_true", help="tiny sizes, to prove it works")
    args = parser.parse_args(argv)
    if args.small:
        args.lots_per_product, args.runs, args.per_client = 10, 2, 2
    asyncio.run(run(args.engine, args.lots_per_product, args.runs, args.per_client))


if __name__ == "__main__":
    main()
