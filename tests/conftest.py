"""Every test that takes `db` runs twice: on the embedded SQLite default and on PostgreSQL.

PostgreSQL comes from TRACKLINE_TEST_POSTGRES_URL (default: the local server with trust
auth). Each run creates its own database and drops it at the end, so runs never see each
other's rows. Without a reachable server the PostgreSQL half is skipped with a message;
under CI (CI=true) that is a failure instead, so a green CI always means both engines.
"""

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models import Base, MovementChain
from models.movement import GENESIS_HASH
from services.access import system
from services.events import EventBus
from trackline.db import Engines, create_engines
from trackline.events_pg import create_bus
from trackline.migrate import upgrade_to_head
from trackline.settings import normalize_database_url

# In-process callers in tests act as the system: every right, like the command line.
TRUSTED = system("tester")

POSTGRES_ADMIN_URL = os.environ.get(
    "TRACKLINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ENGINES = [e for e in os.environ.get("TRACKLINE_TEST_ENGINES", "sqlite,postgresql").split(",") if e]
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@dataclass
class Database:
    """What a test needs of one database: its engine and the two session factories."""

    name: str
    url: str
    engines: Engines
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]

    @property
    def engine(self) -> AsyncEngine:
        return self.engines.write

    def count_statements(self) -> "StatementCounter":
        return StatementCounter(*self.engines.distinct)


class StatementCounter:
    """Counts the SQL statements run while it is open (transaction control excluded)."""

    def __init__(self, *engines: AsyncEngine) -> None:
        self.engines = engines
        self.statements: list[str] = []

    def _on_execute(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __enter__(self) -> "StatementCounter":
        for engine in self.engines:
            event.listen(engine.sync_engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *_: object) -> None:
        for engine in self.engines:
            event.remove(engine.sync_engine, "before_cursor_execute", self._on_execute)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy, which is far faster than migrating."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    return path


async def _admin(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated database for this run (created on a loop of its own, as this runs
    before the tests' loop is needed)."""
    admin = make_url(normalize_database_url(POSTGRES_ADMIN_URL))
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"trackline_test_{os.getpid()}"
    try:
        asyncio.run(_admin(dsn, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        message = f"PostgreSQL is not reachable at {admin.host}:{admin.port} ({exc})"
        if UNDER_CI:
            pytest.fail(f"{message}; under CI both engines must run", pytrace=False)
        pytest.skip(f"{message}: PostgreSQL tests skipped")
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(url)
        yield url
    finally:
        asyncio.run(_admin(dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_all(engine: AsyncEngine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        # Movements refuse TRUNCATE by trigger; replica mode, open to the superuser the tests
        # connect as, skips triggers for this transaction. The chain starts again at genesis.
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await conn.execute(insert(MovementChain).values(id=1, last_id=0, last_hash=GENESIS_HASH))


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database on one engine (sync: set-up runs its own loop)."""
    if request.param == "sqlite":
        path = tmp_path / "trackline.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    engines = create_engines(database_url)
    name = engines.write.dialect.name
    try:
        yield Database(name, database_url, engines, engines.sessions(), engines.read_sessions())
    finally:
        if name == "postgresql":
            await _truncate_all(engines.write)
        await engines.dispose()


@pytest.fixture
async def production_bus(db: Database) -> AsyncIterator[EventBus]:
    """The bus `serve` runs on this engine: in-process on SQLite, LISTEN/NOTIFY on
    PostgreSQL."""
    bus = create_bus(db.url, db.read_sessions)
    await bus.start()
    try:
        if db.name == "postgresql":
            for _ in range(100):
                if bus.health()["listening"]:
                    break
                await asyncio.sleep(0.05)
            assert bus.health()["listening"]
        yield bus
    finally:
        await bus.stop()
