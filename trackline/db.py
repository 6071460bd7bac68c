"""Engines for the two supported databases.

SQLite follows SQLAlchemy's documented aiosqlite recipe: the driver's own transaction
handling is switched off and every transaction starts with BEGIN IMMEDIATE, so two writers
can never interleave a read-then-write (a deferred BEGIN fails them with "database is
locked" or lets them race).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from services.queries import STATEMENT_BY_STATEMENT
from trackline.settings import normalize_database_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY_OPTION = "trackline_read_only"
# How long a write may queue for the single SQLite writer connection before failing.
SQLITE_WRITE_QUEUE_S = 60


def is_sqlite(url: str) -> bool:
    return make_url(normalize_database_url(url)).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalize_database_url(url)
    if not is_sqlite(url):
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
        return create_async_engine(url, **kwargs)

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Readers take a deferred BEGIN so that, under WAL, they never wait for a writer; a
        # read of single statements takes none (services/queries.py). Writers never skip it.
        options = connection.get_execution_options()
        if not options.get(READ_ONLY_OPTION, False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif not options.get(STATEMENT_BY_STATEMENT, False):
            connection.exec_driver_sql("BEGIN")

    _roll_back_only_open_transactions(engine)
    return engine


def _roll_back_only_open_transactions(engine: AsyncEngine) -> None:
    """SQLAlchemy rolls a connection back when its work ends, whether or not the database
    has a transaction open; through aiosqlite that is a hop to the driver's thread and back
    (about 70 µs on a 2-core machine) even when there is nothing to undo, as after a read
    without BEGIN. The driver knows whether a transaction is open (`in_transaction`, read
    without a hop), so roll back only then. This covers the pool's reset on return too."""
    dialect: Any = engine.sync_engine.dialect
    roll_back = dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        if dbapi_connection.driver_connection.in_transaction:
            roll_back(dbapi_connection)

    dialect.do_rollback = do_rollback


@dataclass(frozen=True)
class Engines:
    """Where writes and reads go. On SQLite, writes share one connection: SQLite admits one
    writer at a time, and writers queueing here wait on an asyncio pool, while writers
    queueing in SQLite's busy handler sleep in growing steps (measured: a third of the
    throughput with 8 clients, see docs/performance.md). Reads get their own pool, so
    they never wait for writers (WAL). On PostgreSQL both are one engine."""

    write: AsyncEngine
    read: AsyncEngine

    @property
    def distinct(self) -> tuple[AsyncEngine, ...]:
        return (self.write,) if self.read is self.write else (self.write, self.read)

    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return create_sessionmaker(self.write)

    def read_sessions(self) -> async_sessionmaker[AsyncSession]:
        return create_read_sessionmaker(self.read)

    async def dispose(self) -> None:
        for engine in self.distinct:
            await engine.dispose()


def create_engines(url: str) -> Engines:
    if not is_sqlite(url):
        engine = create_engine(url)
        return Engines(engine, engine)
    return Engines(
        create_engine(url, pool_size=1, max_overflow=0, pool_timeout=SQLITE_WRITE_QUEUE_S),
        create_engine(url),
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for use cases that write: on SQLite they begin with BEGIN IMMEDIATE."""
    return async_sessionmaker(engine, expire_on_commit=False)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for queries and dataloader batches: a deferred BEGIN on SQLite."""
    return async_sessionmaker(
        engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False
    )
