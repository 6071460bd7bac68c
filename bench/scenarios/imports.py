"""B7: import of opening-stock serial rows (sku, serial_number, warehouse, location)
through the import service, with every check it makes (cells, products, locations,
duplicates in the file, serials that exist), next to a plain executemany of the same serial
and movement rows into the same tables, nothing checked. Each run gets a fresh database
(both write into empty tables); the two alternate and the median of the runs is taken.
"""

import io
import statistics
import time
from collections.abc import Awaitable
from datetime import UTC, datetime

from sqlalchemy import func, select

from bench.common import scratch_database
from bench.report import Row
from models import Location, LocationKind, Serial, Tracking
from services.catalog import LocationSpec, create_product, create_warehouse
from services.identifiers import serial_key
from services.imports import ImportKind, import_csv
from services.queries import key_values
from trackline.db import Engines

# Absolute targets, rows per second.
TARGETS = {"sqlite": 100_000, "postgresql": 60_000}

SKU = "BENCH-SERIAL"


def csv_text(rows: int) -> str:
    lines = ["sku,serial_number,warehouse,location"]
    lines += [f"{SKU},SN-{i:08d},WH,S-{i % 20:02d}" for i in range(rows)]
    return "\n".join(lines) + "\n"


async def _seed(engines: Engines) -> tuple[int, int, dict[str, int]]:
    sessions = engines.sessions()
    async with sessions.begin() as session:
        warehouse = await create_warehouse(
            session,
            code="WH",
            name="Bench",
            time_zone="UTC",
            locations=[LocationSpec(f"S-{i:02d}", LocationKind.STORAGE) for i in range(20)],
        )
        product = await create_product(session, sku=SKU, name="Bench", tracking=Tracking.SERIAL)
        query = select(Location.code, Location.id).where(Location.warehouse_id == warehouse.id)
        locations = await key_values(session, query)
    return warehouse.id, product.id, locations


async def ours(engines: Engines, rows: int) -> None:
    report = await import_csv(
        engines.sessions(),
        ImportKind.OPENING_SERIALS,
        io.StringIO(csv_text(rows)),
        actor="bench",
    )
    assert report.committed, report.errors[:5]


async def baseline(
    engines: Engines,
    rows: int,
    warehouse_id: int,
    product_id: int,
    locations: dict[str, int],
) -> None:
    """The same rows into the same tables, as a hand-written loader would: the driver's own
    executemany with ready-made values, ids given up front, nothing checked."""
    text = csv_text(rows)
    records = []
    for line in text.splitlines()[1:]:
        _, number, _, location = line.split(",")
        records.append((number, locations[location]))
    async with engines.sessions().begin() as session:
        connection = await session.connection()
        sqlite = connection.dialect.name == "sqlite"
        now: object = datetime.now(UTC)
        if sqlite:  # the text SQLAlchemy stores a UTC time as on SQLite
            now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
        first_id = (await session.scalar(select(func.max(Serial.id))) or 0) + 1
        ids = range(first_id, first_id + len(records))
        serial_columns = (
            "id, product_id, serial_number, serial_key, status, warehouse_id, location_id, "
            "received_at, created_at, updated_at"
        )
        await connection.exec_driver_sql(
            f"INSERT INTO serial ({serial_columns}) VALUES ({_marks(10, sqlite)})",
            [
                (i, product_id, n, serial_key(n), "IN_INVENTORY", warehouse_id, loc, now, now, now)
                for i, (n, loc) in zip(ids, records, strict=True)
            ],
        )
        movement_columns = (
            "kind, product_id, serial_id, quantity, to_status, to_location_id, document_type, "
            "document_number, actor, occurred_at, chain_hash"
        )
        # Unchained (an empty chain_hash): the baseline stays what it was before the chain.
        await connection.exec_driver_sql(
            f"INSERT INTO movement ({movement_columns}) VALUES ({_marks(11, sqlite)})",
            [
                (
                    "OPENING_STOCK",
                    product_id,
                    i,
                    1,
                    "IN_INVENTORY",
                    loc,
                    "IMPORT",
                    "BENCH",
                    "b",
                    now,
                    "",
                )
                for i, (_, loc) in zip(ids, records, strict=True)
            ],
        )


def _marks(count: int, sqlite: bool) -> str:
    return ", ".join("?" if sqlite else f"${i}" for i in range(1, count + 1))


async def timed(action: Awaitable[None]) -> float:
    start = time.perf_counter()
    await action
    return time.perf_counter() - start


async def run(engine: str, rows: int, runs: int) -> Row:
    ours_s: list[float] = []
    base_s: list[float] = []
    for _ in range(runs):
        async with scratch_database(engine) as engines:
            await _seed(engines)
            ours_s.append(await timed(ours(engines, rows)))
        async with scratch_database(engine) as engines:
            seeded = await _seed(engines)
            base_s.append(await timed(baseline(engines, rows, *seeded)))
    ours_rate = rows / statistics.median(ours_s)
    base_rate = rows / statistics.median(base_s)
    target = TARGETS[engine]
    return Row(
        f"B7 import {rows:,} serial rows",
        "rows/s",
        ours_rate,
        None,
        base_rate,
        ours_rate / base_rate,
        # The target is absolute: as a ratio to this run's baseline.
        target / base_rate,
        f">= {target:,} rows/s",
    )
