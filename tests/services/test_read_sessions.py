"""Reads of single statements run without a transaction around them, and no connection goes
back to the pool with a transaction open (trackline/db.py, services/queries.py)."""

import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Warehouse
from services.queries import statement_by_statement
from tests.conftest import Database
from trackline.db import create_engines


@contextmanager
def sql_sent(*engines: AsyncEngine) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(" ".join(statement.split()).upper())

    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture
async def sqlite_db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """These rules are SQLite's own: its BEGIN is ours to send, where PostgreSQL's
    autocommit is the driver's and its READ COMMITTED gives each statement a snapshot."""
    path = tmp_path / "trackline.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    engines = create_engines(url)
    try:
        yield Database("sqlite", url, engines, engines.sessions(), engines.read_sessions())
    finally:
        await engines.dispose()


async def _add_warehouse(db: Database, code: str) -> None:
    async with db.sessions.begin() as session:
        session.add(Warehouse(code=code, name=code, time_zone="UTC"))


async def test_each_statement_sees_what_committed_before_it(db: Database) -> None:
    await _add_warehouse(db, "W1")
    async with db.read_sessions() as session:
        await statement_by_statement(session)
        first = (await session.scalars(select(Warehouse.code))).all()
        await _add_warehouse(db, "W2")
        second = (await session.scalars(select(Warehouse.code).order_by(Warehouse.code))).all()
    assert first == ["W1"]
    assert second == ["W1", "W2"]


async def test_sqlite_reads_one_snapshot_unless_statement_by_statement(sqlite_db: Database) -> None:
    await _add_warehouse(sqlite_db, "W1")
    with sql_sent(*sqlite_db.engines.distinct) as sent:
        async with sqlite_db.read_sessions() as session:
            first = (await session.scalars(select(Warehouse.code))).all()
            await _add_warehouse(sqlite_db, "W2")
            second = (await session.scalars(select(Warehouse.code))).all()
    # The ordinary read session began a transaction, so its second statement still reads
    # the snapshot of its first; statement_by_statement (above) sees W2.
    assert first == second == ["W1"]
    assert sent[0] == "BEGIN"


async def test_sqlite_sends_no_begin_for_a_statement_by_statement_read(sqlite_db: Database) -> None:
    with sql_sent(sqlite_db.engines.read) as sent:
        async with sqlite_db.read_sessions() as session:
            await statement_by_statement(session)
            await session.scalars(select(Warehouse.code))
    assert [statement.split()[0] for statement in sent] == ["SELECT"]


async def test_a_writer_always_begins_immediate(sqlite_db: Database) -> None:
    with sql_sent(sqlite_db.engines.write) as sent:
        async with sqlite_db.sessions.begin() as session:
            # Asked for statement by statement, a writer still takes its transaction: the
            # option is honoured on read-only sessions only.
            await statement_by_statement(session)
            session.add(Warehouse(code="W1", name="W1", time_zone="UTC"))
    assert sent[0] == "BEGIN IMMEDIATE"
    assert sent[1].startswith("INSERT INTO WAREHOUSE")


async def _insert_then_fail(db: Database) -> None:
    async with db.sessions.begin() as session:
        session.add(Warehouse(code="W1", name="W1", time_zone="UTC"))
        await session.flush()
        raise RuntimeError("refused after the insert")


async def test_a_failed_write_is_rolled_back(db: Database) -> None:
    with pytest.raises(RuntimeError, match="refused after the insert"):
        await _insert_then_fail(db)
    async with db.read_sessions() as session:
        assert (await session.scalars(select(Warehouse.code))).all() == []
    # The single writer connection came back clean: the next write commits on its own.
    await _add_warehouse(db, "W2")
    async with db.read_sessions() as session:
        assert (await session.scalars(select(Warehouse.code))).all() == ["W2"]


async def test_connections_return_to_the_pool_with_no_transaction_open(sqlite_db: Database) -> None:
    await _add_warehouse(sqlite_db, "W1")
    async with sqlite_db.read_sessions() as session:
        await session.scalars(select(Warehouse.code))  # inside BEGIN ... (a read snapshot)
        raw = await (await session.connection()).get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        assert driver.in_transaction
    assert not driver.in_transaction
    # A snapshot left open would hide this commit from the next reader of that connection.
    await _add_warehouse(sqlite_db, "W2")
    async with sqlite_db.read_sessions() as session:
        assert len((await session.scalars(select(Warehouse.code))).all()) == 2
