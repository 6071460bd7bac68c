"""The migrations build exactly the schema the models describe, on both engines."""

import asyncio
import enum
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Enum, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from models import Base
from models.references import compared_on
from tests.conftest import ENGINES, POSTGRES_ADMIN_URL, Database, _admin
from trackline.db import create_engine
from trackline.migrate import alembic_config
from trackline.settings import normalize_database_url


def _differences(connection: Connection) -> list[object]:
    opts = {"compare_type": True, "include_object": compared_on(connection.dialect.name)}
    context = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_database_matches_the_models(db: Database) -> None:
    async with db.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


def _enum_checks(connection: Connection) -> list[tuple[str, str, type[enum.Enum], str]]:
    """(table, column, enum, the database's CHECK condition) for every enum column."""
    inspector = inspect(connection)
    found = []
    for table in Base.metadata.sorted_tables:
        checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)}
        for column in table.columns:
            if isinstance(column.type, Enum) and column.type.enum_class is not None:
                condition = checks[f"ck_{table.name}_{column.name}_valid"]
                found.append((table.name, column.name, column.type.enum_class, condition))
    return found


async def test_every_enum_check_admits_exactly_its_members(db: Database) -> None:
    async with db.engine.connect() as connection:
        checks = await connection.run_sync(_enum_checks)
        assert len(checks) == 15
        for table, column, members, condition in checks:
            candidates = [*members.__members__, "UNKNOWN", next(iter(members.__members__)).lower()]
            admitted = set()
            for value in candidates:
                holds = await connection.scalar(
                    text(
                        f"SELECT CASE WHEN ({condition}) THEN 1 ELSE 0 END "
                        f"FROM (SELECT CAST(:value AS VARCHAR(32)) AS {column}) AS candidate"
                    ),
                    {"value": value},
                )
                if holds:
                    admitted.add(value)
            assert admitted == set(members.__members__), (table, column, condition)
            if db.name == "sqlite":
                # SQLite builds a temporary index for a constant IN list of more than two
                # values each time a row is written (models.base.one_of).
                assert " IN (" not in condition.upper(), (table, column, condition)


@pytest.fixture(params=ENGINES)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database with no schema at all, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    admin = make_url(normalize_database_url(POSTGRES_ADMIN_URL))
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"trackline_migrations_{request.node.name.encode().hex()[:16]}"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    asyncio.run(_admin(dsn, drop, f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(dsn, drop))


async def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    move = command.downgrade if down else command.upgrade
    await asyncio.to_thread(move, alembic_config(url), revision)


async def _stored(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT sku, tracking FROM product ORDER BY sku"))
            return [(sku, tracking) for sku, tracking in rows]
    finally:
        await engine.dispose()


async def _insert_product(url: str, sku: str, tracking: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO product (sku, name, tracking, created_at) "
                    "VALUES (:sku, :sku, :tracking, CURRENT_TIMESTAMP)"
                ),
                {"sku": sku, "tracking": tracking},
            )
    finally:
        await engine.dispose()


async def test_respelling_the_checks_keeps_the_rows_and_the_rules(empty_database: str) -> None:
    url = empty_database
    await _migrate(url, "0002")
    await _insert_product(url, "A-1", "SERIAL")

    await _migrate(url, "head")
    assert await _stored(url) == [("A-1", "SERIAL")]
    with pytest.raises(IntegrityError):
        await _insert_product(url, "A-2", "SERIALS")
    await _insert_product(url, "A-3", "LOT")

    await _migrate(url, "0002", down=True)
    with pytest.raises(IntegrityError):
        await _insert_product(url, "A-4", "lot")
    await _migrate(url, "head")
    assert await _stored(url) == [("A-1", "SERIAL"), ("A-3", "LOT")]


async def _key_names(url: str) -> set[str]:
    """The foreign-key constraints the database holds on serial and movement."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:

            def read(sync: Connection) -> set[str]:
                inspector = inspect(sync)
                tables = ("serial", "movement")
                return {str(k["name"]) for t in tables for k in inspector.get_foreign_keys(t)}

            return await connection.run_sync(read)
    finally:
        await engine.dispose()


async def test_serial_and_movement_keys_become_triggers_on_postgresql_and_back(
    empty_database: str,
) -> None:
    url = empty_database
    declared = {
        f"fk_{key.parent.table.name}_{key.parent.name}_{key.column.table.name}"
        for table in ("serial", "movement")
        for key in Base.metadata.tables[table].foreign_keys
    }
    await _migrate(url, "0003")
    assert await _key_names(url) == declared
    await _migrate(url, "head")
    postgresql = make_url(url).get_backend_name() == "postgresql"
    assert await _key_names(url) == (set() if postgresql else declared)
    await _migrate(url, "0003", down=True)
    assert await _key_names(url) == declared


def _normal(condition: str) -> str:
    """A WHERE as both spellings compare: PostgreSQL adds casts and parentheses."""
    bare = condition.lower().replace("::text", "")
    return "".join(c for c in bare if c.isalnum() or c in "<>=_'")


async def test_partial_indexes_hold_the_rows_the_models_say(db: Database) -> None:
    """Alembic compares an index's columns, not its WHERE: this compares the WHERE."""
    async with db.engine.connect() as connection:
        if db.name == "postgresql":
            query = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        else:
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        rows = (await connection.execute(text(query))).all()
    stored: dict[str, str] = {row[0]: row[1] for row in rows}
    checked = 0
    for table in Base.metadata.sorted_tables:
        for index in table.indexes:
            where = index.dialect_options[db.name]["where"]
            definition = stored[str(index.name)]
            _, _, stored_where = definition.partition(" WHERE ")
            assert _normal(stored_where) == _normal(str(where) if where is not None else ""), (
                index.name,
                definition,
            )
            checked += where is not None
    assert checked == 4  # the unique serial number and the three optional keys
