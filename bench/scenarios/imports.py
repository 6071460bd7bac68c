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
from typing import Any

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
SERIAL_COLUMNS = (
    "id, product_id, serial_number, serial_key, status, warehouse_id, location_id, "
    "received_at, created_at, updated_at"
)
MOVEMENT_COLUMNS = (
    "kind, product_id, serial_id, quantity, to_status, to_location_id, document_type, "
    "document_number, actor, occurred_at, chain_hash"
)


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


async def ours(engines: Engines, text: str) -> None:
    report = await import_csv(
        engines.sessions(), ImportKind.OPENING_SERIALS, io.StringIO(text), actor="bench"
    )
    assert report.committed, report.errors[:5]


async def baseline(
    engines: Engines,
    text: str,
    warehouse_id: int,
    product_id: int,
    locations: dict[str, int],
) -> None:
    """The same rows into the same tables, as a hand-written loader would: the file split
    into rows, the driver's own executemany with ready-made values, ids given up front,
    nothing checked."""
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
        await connection.exec_driver_sql(
            _insert("serial", SERIAL_COLUMNS, sqlite),
            [
                (i, product_id, n, serial_key(n), "IN_INVENTORY", warehouse_id, loc, now, now, now)
                for i, (n, loc) in zip(ids, records, strict=True)
            ],
        )
        # Unchained (an empty chain_hash): the baseline stays what it was before the chain.
        await connection.exec_driver_sql(
            _insert("movement", MOVEMENT_COLUMNS, sqlite),
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


async def floor(
    engines: Engines,
    rows: int,
    warehouse_id: int,
    product_id: int,
    locations: dict[str, int],
) -> float:
    """The fastest the same rows get into the same tables, indexes and foreign keys as they
    are: ready-made tuples (built before the clock starts), PostgreSQL's COPY or SQLite's
    executemany, nothing checked, no hash chain. Returns the seconds taken."""
    codes = [f"S-{i % 20:02d}" for i in range(rows)]
    async with engines.sessions().begin() as session:
        connection = await session.connection()
        sqlite = connection.dialect.name == "sqlite"
        now: Any = datetime.now(UTC)
        if sqlite:
            now = now.replace(tzinfo=None).isoformat(" ")
        first = (await session.scalar(select(func.max(Serial.id))) or 0) + 1
        serials = [
            (first + i, product_id, f"SN-{i:08d}", serial_key(f"SN-{i:08d}"), "IN_INVENTORY",
             warehouse_id, locations[codes[i]], now, now, now)
            for i in range(rows)
        ]  # fmt: skip
        movements = [
            ("OPENING_STOCK", product_id, first + i, 1, "IN_INVENTORY", locations[codes[i]],
             "IMPORT", "BENCH", "b", now, "")
            for i in range(rows)
        ]  # fmt: skip
        serial_columns = SERIAL_COLUMNS.split(", ")
        movement_columns = MOVEMENT_COLUMNS.split(", ")
        start = time.perf_counter()
        if sqlite:
            await connection.exec_driver_sql(_insert("serial", SERIAL_COLUMNS, True), serials)
            await connection.exec_driver_sql(_insert("movement", MOVEMENT_COLUMNS, True), movements)
        else:
            raw: Any = (await connection.get_raw_connection()).driver_connection
            await raw.copy_records_to_table("serial", columns=serial_columns, records=serials)
            await raw.copy_records_to_table("movement", columns=movement_columns, records=movements)
    return time.perf_counter() - start


def _insert(table: str, columns: str, sqlite: bool) -> str:
    return f"INSERT INTO {table} ({columns}) VALUES ({_marks(columns.count(',') + 1, sqlite)})"


def _marks(count: int, sqlite: bool) -> str:
    return ", ".join("?" if sqlite else f"${i}" for i in range(1, count + 1))


async def timed(action: Awaitable[None]) -> float:
    start = time.perf_counter()
    await action
    return time.perf_counter() - start


async def run(engine: str, rows: int, runs: int) -> list[Row]:
    ours_s: list[float] = []
    base_s: list[float] = []
    floor_s: list[float] = []
    # Both sides read the same file, made before the clock starts: the import's work
    # begins with a file in hand.
    text = csv_text(rows)
    for _ in range(runs):
        async with scratch_database(engine) as engines:
            await _seed(engines)
            ours_s.append(await timed(ours(engines, text)))
        async with scratch_database(engine) as engines:
            seeded = await _seed(engines)
            base_s.append(await timed(baseline(engines, text, *seeded)))
        async with scratch_database(engine) as engines:
            floor_s.append(await floor(engines, rows, *await _seed(engines)))
    ours_rate = rows / statistics.median(ours_s)
    base_rate = rows / statistics.median(base_s)
    floor_rate = rows / statistics.median(floor_s)
    target = TARGETS[engine]
    how = "sqlite3 executemany" if engine == "sqlite" else "COPY"
    return [
        Row(
            f"B7 import {rows:,} serial rows",
            "rows/s",
            ours_rate,
            None,
            base_rate,
            ours_rate / base_rate,
            # The target is absolute: as a ratio to this run's baseline.
            target / base_rate,
            f">= {target:,} rows/s",
        ),
        # How near the target the database itself comes: the same rows, ready-made,
        # written the fastest way with nothing checked (next to the same baseline).
        Row(
            f"B7 floor: ready rows by {how}",
            "rows/s",
            floor_rate,
            None,
            base_rate,
            floor_rate / base_rate,
            target / base_rate,
            f">= {target:,} rows/s",
        ),
    ]
