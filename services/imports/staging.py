"""Staging tables: the rows of a file, checked cell by cell, parked inside the import's
transaction so that everything that needs the database is checked with a few set-based
queries, and the real tables are filled with INSERT … SELECT.

They are temporary tables, private to the import's connection and gone with its transaction
(PostgreSQL drops them at commit; on SQLite the import drops them itself). PostgreSQL fills
them with COPY, SQLite with one executemany per chunk.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Date, Index, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import CreateIndex, CreateTable

from models.inventory import NUMBER_MAX_LENGTH, SEARCH_KEY

_metadata = MetaData()  # not the models' metadata: migrations never see these tables

serial_rows = Table(
    "import_serial",
    _metadata,
    Column("row", Integer, primary_key=True, autoincrement=False),
    Column("product_id", Integer, nullable=False),
    Column("serial_number", String(NUMBER_MAX_LENGTH), nullable=False),
    Column("serial_key", SEARCH_KEY, nullable=False),
    Column("warehouse_id", Integer, nullable=False),
    Column("location_id", Integer),
    Column("receiving_line_id", Integer),
    # Opening stock is chained as it is read (services/imports/chained.py): the id the
    # row's serial will have, and its movement's id and chain_hash.
    Column("serial_id", Integer),
    Column("movement_id", BigInteger),
    Column("chain_hash", String(64)),
    Index("ix_import_serial_number", "product_id", "serial_number", "row"),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)

lot_rows = Table(
    "import_lot",
    _metadata,
    Column("row", Integer, primary_key=True, autoincrement=False),
    Column("product_id", Integer, nullable=False),
    Column("lot_number", String(NUMBER_MAX_LENGTH), nullable=False),
    Column("lot_key", String(NUMBER_MAX_LENGTH * 3), nullable=False),
    Column("expiry_date", Date),
    Column("quantity", Integer, nullable=False),
    Column("warehouse_id", Integer, nullable=False),
    Column("location_id", Integer, nullable=False),
    Index("ix_import_lot_key", "product_id", "lot_key", "row"),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)

# The id and chain_hash each staged row's movement will have (services/imports/chained.py).
movement_seals = Table(
    "import_movement_seal",
    _metadata,
    Column("row", Integer, primary_key=True, autoincrement=False),
    Column("id", BigInteger, nullable=False),
    Column("chain_hash", String(64), nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


async def create(session: AsyncSession, table: Table) -> None:
    """The table without its indexes (`index` adds them once it is filled). On PostgreSQL,
    also no JIT for the rest of the import's transaction: its statements over the whole set
    are estimated above `jit_above_cost`, and compiling the existing-serial check for
    100,000 rows took about 110 ms of its 240 ms. Each statement runs once; nothing repays
    the compiling. The threshold is raised rather than `jit` set off: asyncpg sets `jit`
    for the whole session while it looks up a type it meets for the first time and then
    puts back the value it found, which would leave "off" behind after the import."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql("SET LOCAL jit_above_cost = -1")
    await drop(session, table)  # a dry run on this SQLite connection may have left one
    await connection.execute(CreateTable(table))


async def index(session: AsyncSession, table: Table) -> None:
    """Index a filled table for the set-based checks: building an index from all the rows
    at once, by sorting them, is cheaper than keeping it up to date row by row (a fifth of
    the staging time for 100,000 serials in no particular order)."""
    connection = await session.connection()
    for table_index in table.indexes:
        await connection.execute(CreateIndex(table_index))


async def drop(session: AsyncSession, table: Table) -> None:
    connection = await session.connection()
    await connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")


async def insert(session: AsyncSession, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
    """Add rows, given as tuples in the table's column order."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection  # asyncpg's connection, for COPY
        await driver.copy_records_to_table(
            table.name, columns=[c.name for c in table.columns], records=rows
        )
        return
    # The driver's own executemany: no per-row parameter processing on the way.
    dates = [i for i, c in enumerate(table.columns) if isinstance(c.type, Date)]
    if dates:
        rows = [_iso_dates(row, dates) for row in rows]
    marks = ", ".join("?" for _ in table.columns)
    await connection.exec_driver_sql(f"INSERT INTO {table.name} VALUES ({marks})", list(rows))


def _iso_dates(row: tuple[Any, ...], positions: list[int]) -> tuple[Any, ...]:
    """SQLite stores dates as ISO text, which is what SQLAlchemy reads back."""
    values = list(row)
    for i in positions:
        if values[i] is not None:
            values[i] = values[i].isoformat()
    return tuple(values)
