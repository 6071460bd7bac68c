"""The suite's data set, bulk-loaded straight into the real tables (the services would take
hours for a million movements): products, lots with stock, serials and a hash-chained
movement history that `trackline audit verify` accepts.

Half the products are serial-tracked, half lot-tracked. Serials go round-robin over the
serial products, so every product's first serials have the smallest ids (the pages the
read scenarios ask for); lots likewise over the lot products. Movements: two per lot
(received, put away), `LONG_HISTORY` for the last `LONG_SERIALS` serials (the look-up of
B4) and the rest spread evenly over the other serials, the first ones getting one more.
"""

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models import LocationKind, Lot, Movement, MovementChain, Product, Serial, StockBalance
from models.movement import CHAIN_HEAD_ID, GENESIS_HASH
from services import catalog, chain
from services.audit import verify_chain
from services.catalog import LocationSpec
from services.chain import Head
from services.identifiers import serial_key
from trackline.db import Engines

STORAGE_BINS = 50
LONG_SERIALS, LONG_HISTORY = 100, 41
UNITS_PER_LOT = 100
CHUNK = 20_000
# Serial numbers "SN" + 7 digits scattered over 10**7 (not in id order), as scanners send.
NUMBER_SPACE, SCATTER = 10**7, 7_777_777  # coprime, so i -> i * SCATTER % 10**7 is 1:1
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Size:
    name: str
    products: int
    lots: int
    serials: int
    movements: int


SIZES = {
    "S": Size("S", 100, 1_000, 10_000, 100_000),
    "M": Size("M", 1_000, 10_000, 100_000, 1_000_000),
}


@dataclass(frozen=True)
class Seeded:
    size: Size
    warehouse_id: int
    serial_products: list[int]  # ids, in sku order
    lot_products: list[int]
    long_history: list[tuple[str, str]]  # (sku, serial number) with LONG_HISTORY movements
    last_serial_product_id: int  # products(after:) past it lists the lot products
    movements: int
    seconds: float
    verified: int  # movements `verify_chain` recomputed


def serial_number(i: int) -> str:
    return f"SN{i * SCATTER % NUMBER_SPACE:07d}"


def sku(p: int) -> str:
    return f"P-{p:04d}"


async def seed(engines: Engines, size: Size) -> Seeded:
    started = time.perf_counter()
    async with engines.sessions().begin() as session:
        warehouse = await catalog.create_warehouse(
            session,
            code="BENCH",
            name="Bench",
            time_zone="UTC",
            locations=[
                LocationSpec("DOCK", LocationKind.RECEIVING),
                LocationSpec("PACK", LocationKind.PACKING),
            ]
            + [LocationSpec(f"S-{i:03d}", LocationKind.STORAGE) for i in range(STORAGE_BINS)],
        )
        warehouse_id = warehouse.id
    half = size.products // 2
    async with engines.write.begin() as conn:
        found = await conn.execute(text("SELECT code, id FROM location ORDER BY id"))
        locations: dict[str, int] = {row.code: row.id for row in found}
        bins = [locations[f"S-{i:03d}"] for i in range(STORAGE_BINS)]
        await conn.execute(
            insert(Product),
            [
                {
                    "sku": sku(p),
                    "name": f"Product {p}",
                    "tracking": "SERIAL" if p < half else "LOT",
                    "created_at": BASE,
                }
                for p in range(size.products)
            ],
        )
        ids = list((await conn.execute(select(Product.id).order_by(Product.sku))).scalars())
        serial_products, lot_products = ids[:half], ids[half:]
        lots = await _lots(conn, size, lot_products, warehouse_id, bins)
        await _serials(conn, size, serial_products, warehouse_id, bins)
        count = await _movements(conn, size, serial_products, lots, locations)
    if engines.write.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load; without statistics the planner guesses.
        async with engines.write.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
    # The chain must be one `trackline audit verify` accepts: check it the same way.
    async with engines.read_sessions()() as session:
        check = await verify_chain(session)
    if not check.intact or check.checked != count:
        raise AssertionError(f"seeded chain does not verify: {check}")
    long_ones = range(size.serials - LONG_SERIALS, size.serials)
    return Seeded(
        size,
        warehouse_id,
        serial_products,
        lot_products,
        [(sku(i % half), serial_number(i)) for i in long_ones],
        serial_products[-1],
        count,
        time.perf_counter() - started,
        check.checked,
    )


async def _lots(
    conn: AsyncConnection, size: Size, products: list[int], warehouse_id: int, bins: list[int]
) -> list[tuple[int, int, int]]:
    """Lots with one stock balance each; (lot id, product id, bin) in id order."""
    today = date.today()
    rows = []
    for i in range(size.lots):
        number = f"L{i:06d}"
        rows.append(
            {
                "product_id": products[i % len(products)],
                "lot_number": number,
                "lot_key": number.casefold(),
                # Every tenth undated; the others expire over the next two years, scattered.
                "expiry_date": None if i % 10 == 3 else today + timedelta(1 + i * 37 % 700),
                "received_at": BASE + timedelta(minutes=i),
                "created_at": BASE,
                "on_hold": False,
            }
        )
    await conn.execute(insert(Lot), rows)
    found = (await conn.execute(select(Lot.id, Lot.product_id).order_by(Lot.id))).all()
    lots = [(lot, product, bins[lot % len(bins)]) for lot, product in found]
    await conn.execute(
        insert(StockBalance),
        [
            {
                "product_id": product,
                "warehouse_id": warehouse_id,
                "location_id": where,
                "lot_id": lot,
                "quantity": UNITS_PER_LOT,
                "allocated_quantity": 0,
                "received_at": BASE,
            }
            for lot, product, where in lots
        ],
    )
    return lots


SERIAL_COLUMNS = (
    "id",
    "product_id",
    "serial_number",
    "serial_key",
    "status",
    "warehouse_id",
    "location_id",
    "received_at",
    "created_at",
    "updated_at",
)


async def _serials(
    conn: AsyncConnection, size: Size, products: list[int], warehouse_id: int, bins: list[int]
) -> None:
    def rows() -> Iterator[tuple[Any, ...]]:
        for i in range(size.serials):
            number, at = serial_number(i), BASE + timedelta(seconds=i)
            product, where = products[i % len(products)], bins[i % STORAGE_BINS]
            key = serial_key(number)
            yield (i + 1, product, number, key, "IN_INVENTORY", warehouse_id, where, at, at, at)

    await bulk_insert(conn, Serial.__table__, SERIAL_COLUMNS, rows())
    if conn.dialect.name == "postgresql":
        await conn.execute(
            text("SELECT setval(pg_get_serial_sequence('serial', 'id'), :n)"), {"n": size.serials}
        )


def _serial_steps(n: int, storage: int, dock: int, pack: int) -> list[tuple[Any, ...]]:
    """`n` plausible movements of one serial: expected, received, put away, then allocations
    cancelled and picks returned; (kind, from, to, from location, to location, document)."""
    steps: list[tuple[Any, ...]] = [
        ("EXPECT", None, "EXPECTED", None, None, "RECEIVING_ORDER", "ASN-1"),
        ("RECEIVE", "EXPECTED", "RECEIVED", None, dock, "RECEIVING_ORDER", "ASN-1"),
        ("PUTAWAY", "RECEIVED", "IN_INVENTORY", dock, storage, "RECEIVING_ORDER", "ASN-1"),
    ]
    order = 0
    while len(steps) < n:
        order += 1
        so = f"SO-{order}"
        steps.append(("ALLOCATE", "IN_INVENTORY", "ALLOCATED", storage, storage, "ORDER", so))
        if order % 2:
            steps.append(("CANCEL", "ALLOCATED", "IN_INVENTORY", storage, storage, "ORDER", so))
        else:
            steps.append(("PICK", "ALLOCATED", "PICKED", storage, pack, "ORDER", so))
            steps.append(("RETURN", "PICKED", "IN_INVENTORY", pack, storage, "ORDER", so))
    return steps[:n]


def history_lengths(size: Size) -> list[int]:
    """Movements per serial, so that the data set has exactly `size.movements`."""
    left = size.movements - 2 * size.lots - LONG_SERIALS * LONG_HISTORY
    short = size.serials - LONG_SERIALS
    each, extra = divmod(left, short)
    return [each + (i < extra) for i in range(short)] + [LONG_HISTORY] * LONG_SERIALS


async def _movements(
    conn: AsyncConnection,
    size: Size,
    products: list[int],
    lots: list[tuple[int, int, int]],
    locations: dict[str, int],
) -> int:
    """Every movement with its id and chain_hash (services/chain.py), in id order; then the
    chain's head is moved to the last one, as `chain.append` does."""
    dock, pack = locations["DOCK"], locations["PACK"]
    head = Head(0, GENESIS_HASH)

    def contents() -> Iterator[list[Any]]:
        # In chain.CONTENT order: id, kind, product, serial, lot, quantity, from/to status,
        # from/to location, document type and number, shipment, actor, occurred_at.
        for lot, product, where in lots:
            at = BASE + timedelta(minutes=lot)
            yield ["RECEIVE", product, None, lot, UNITS_PER_LOT, None, None, None, dock]
            yield ["RECEIVING_ORDER", "ASN-L", None, "bench", at]
            yield ["PUTAWAY", product, None, lot, UNITS_PER_LOT, None, None, dock, where]
            yield ["RECEIVING_ORDER", "ASN-L", None, "bench", at + timedelta(minutes=1)]
        for i, n in enumerate(history_lengths(size)):
            storage = locations[f"S-{i % STORAGE_BINS:03d}"]
            at = BASE + timedelta(seconds=i)
            product = products[i % len(products)]
            for step, (kind, from_s, to_s, from_l, to_l, doc_type, doc) in enumerate(
                _serial_steps(n, storage, dock, pack)
            ):
                yield [kind, product, i + 1, None, 1, from_s, to_s, from_l, to_l]
                when = at + timedelta(minutes=step, microseconds=step * 1001)
                yield [doc_type, doc, None, "bench", when]

    def rows() -> Iterator[tuple[Any, ...]]:
        it = contents()
        for first in it:
            values = [head.last_id + 1, *first, *next(it)]
            head.last_id, head.last_hash = values[0], chain.link(head.last_hash, values)
            yield (*values, head.last_hash)

    await bulk_insert(conn, Movement.__table__, (*chain.CONTENT, "chain_hash"), rows())
    await conn.execute(
        update(MovementChain)
        .where(MovementChain.id == CHAIN_HEAD_ID)
        .values(last_id=head.last_id, last_hash=head.last_hash)
    )
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT setval('movement_id_seq', :n)"), {"n": head.last_id})
    return head.last_id


async def bulk_insert(
    conn: AsyncConnection, table: Any, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]
) -> None:
    """COPY on PostgreSQL; Core executemany in chunks on SQLite."""
    chunk: list[tuple[Any, ...]] = []
    postgresql = conn.dialect.name == "postgresql"

    async def flush() -> None:
        if not chunk:
            return
        if postgresql:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.copy_records_to_table(table.name, records=chunk, columns=list(columns))
        else:
            await conn.execute(insert(table), [dict(zip(columns, r, strict=True)) for r in chunk])
        chunk.clear()

    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            await flush()
    await flush()
