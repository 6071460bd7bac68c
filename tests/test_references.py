"""Every key of `serial` and `movement` refuses a row naming what does not exist, and a row
they name cannot go: foreign-key constraints on SQLite, triggers that check a whole statement
at once on PostgreSQL (migration 0004). The same tests hold on both."""

import asyncio
import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from models import (
    Location,
    LocationKind,
    Lot,
    OutboundOrder,
    Product,
    PutawayTask,
    ReceivingLine,
    ReceivingOrder,
    Serial,
    Shipment,
    Tracking,
    Warehouse,
)
from models.movement import Movement
from tests.conftest import Database

VERSIONS = Path(__file__).parent.parent / "trackline" / "migrations" / "versions"
MISSING = 987_654_321
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

# (table, column, referenced table) of every foreign key the models give the two tables.
KEYS = sorted(
    (key.parent.table.name, key.parent.name, key.column.table.name)
    for table in (Serial.__table__, Movement.__table__)
    for key in table.foreign_keys
)


async def _parents(db: Database) -> dict[str, int]:
    """One row of every table a serial or movement names, plus locations and a product
    that only the test's own rows will name. Returns ids by name."""
    async with db.sessions.begin() as session:
        warehouse = Warehouse(code="WH", name="Main", time_zone="UTC")
        session.add(warehouse)
        await session.flush()
        locations = {
            code: Location(warehouse_id=warehouse.id, code=code, kind=LocationKind.STORAGE)
            for code in ("DOCK", "ONLY-SERIAL", "ONLY-MOVEMENT", "SPARE")
        }
        product = Product(sku="P-1", name="Widget", tracking=Tracking.SERIAL)
        lone_product = Product(sku="P-2", name="Gadget", tracking=Tracking.SERIAL)
        session.add_all([*locations.values(), product, lone_product])
        await session.flush()
        lot = Lot(product_id=product.id, lot_number="L-1", lot_key="l-1")
        receipt = ReceivingOrder(number="ASN-1", warehouse_id=warehouse.id)
        outbound = OutboundOrder(number="SO-1", warehouse_id=warehouse.id)
        session.add_all([lot, receipt, outbound])
        await session.flush()
        line = ReceivingLine(
            order_id=receipt.id, line_number=1, product_id=product.id, expected_quantity=1
        )
        shipment = Shipment(order_id=outbound.id)
        session.add_all([line, shipment])
        await session.flush()
        task = PutawayTask(
            warehouse_id=warehouse.id,
            receiving_line_id=line.id,
            product_id=product.id,
            quantity=1,
            from_location_id=locations["DOCK"].id,
            received_at=NOW,
        )
        session.add(task)
        await session.flush()
        ids = {
            "warehouse": warehouse.id,
            "product": product.id,
            "lone_product": lone_product.id,
            "lot": lot.id,
            "receiving_line": line.id,
            "putaway_task": task.id,
            "shipment": shipment.id,
        }
        ids |= {code: location.id for code, location in locations.items()}
    ids["location"] = ids["DOCK"]
    async with db.engine.begin() as connection:
        await connection.execute(_INSERT_SERIAL, _serial(ids, "SN-PARENT"))
        ids["serial"] = await _scalar(connection, "SELECT max(id) FROM serial")
    return ids


def _serial(ids: dict[str, int], number: str, **keys: int | None) -> dict[str, Any]:
    """A serial naming a row of every table it can name; `keys` overrides columns."""
    row: dict[str, Any] = {
        "serial_number": number,
        "serial_key": number.casefold(),
        "status": "IN_INVENTORY",
        "created_at": NOW,
        "updated_at": NOW,
    }
    row |= {column: ids[parent] for table, column, parent in KEYS if table == "serial"}
    return row | keys


def _movement(ids: dict[str, int], **keys: int | None) -> dict[str, Any]:
    """A movement naming a row of every table it can name; `keys` overrides columns."""
    row: dict[str, Any] = {
        "kind": "PUTAWAY",
        "quantity": 1,
        "document_type": "TEST",
        "document_number": "T-1",
        "actor": "test",
        "occurred_at": NOW,
        "chain_hash": "",
    }
    row |= {column: ids[parent] for table, column, parent in KEYS if table == "movement"}
    return row | keys


def _insert(table: str, columns: list[str]) -> Any:
    return text(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + column for column in columns)})"
    )


_INSERT_SERIAL = _insert(
    "serial",
    ["serial_number", "serial_key", "status", "created_at", "updated_at"]
    + [column for table, column, _ in KEYS if table == "serial"],
)


async def _scalar(connection: AsyncConnection, sql: str, **params: Any) -> Any:
    return (await connection.execute(text(sql), params)).scalar_one()


async def _count(db: Database, table: str) -> int:
    async with db.engine.connect() as connection:
        return int(await _scalar(connection, f"SELECT count(*) FROM {table}"))


async def _write(db: Database, sql: str, rows: Any = None) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text(sql), rows)


def test_migration_0004_checks_every_key_the_models_declare() -> None:
    """A key added to the models must be added to the triggers by a migration, too."""
    path = VERSIONS / "0004_references_checked_per_statement.py"
    spec = importlib.util.spec_from_file_location("migration_0004", path)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert sorted(migration.REFERENCES) == KEYS


async def test_rows_naming_what_exists_are_written(db: Database) -> None:
    ids = await _parents(db)
    async with db.engine.begin() as connection:
        await connection.execute(_INSERT_SERIAL, [_serial(ids, f"SN-{i}") for i in range(3)])
        movement = _movement(ids)
        await connection.execute(_insert("movement", list(movement)), movement)
    assert await _count(db, "serial") == 4
    assert await _count(db, "movement") == 1


@pytest.mark.parametrize(("table", "column", "parent"), KEYS)
async def test_a_row_naming_a_missing_parent_is_refused(
    db: Database, table: str, column: str, parent: str
) -> None:
    ids = await _parents(db)
    before = await _count(db, table)
    row = _serial(ids, "SN-NEW") if table == "serial" else _movement(ids)
    row[column] = MISSING
    with pytest.raises(IntegrityError) as refused:
        async with db.engine.begin() as connection:
            await connection.execute(_insert(table, list(row)), row)
    # SQLite's constraint, or the trigger's refusal naming the missing parent.
    said = str(refused.value.orig)
    assert "FOREIGN KEY constraint failed" in said or f"names a missing {parent}" in said
    assert await _count(db, table) == before


async def test_one_row_naming_nothing_refuses_its_whole_statement(db: Database) -> None:
    ids = await _parents(db)
    rows = [_serial(ids, f"SN-{i}") for i in range(3)]
    rows[1]["location_id"] = MISSING
    values = ", ".join(
        f"('SN-{i}', 'sn-{i}', 'IN_INVENTORY', :p, :w, {':bad' if i == 1 else ':l'}, :t, :t)"
        for i in range(3)
    )
    statement = (
        "INSERT INTO serial (serial_number, serial_key, status, product_id, warehouse_id, "
        f"location_id, created_at, updated_at) VALUES {values}"
    )
    named = {"p": ids["product"], "w": ids["warehouse"], "l": ids["DOCK"], "t": NOW}
    with pytest.raises(IntegrityError):
        await _write(db, statement, named | {"bad": MISSING})
    assert await _count(db, "serial") == 1

    await _write(db, statement, named | {"bad": ids["SPARE"]})
    assert await _count(db, "serial") == 4


async def test_a_serial_moves_only_to_a_location_that_exists(db: Database) -> None:
    ids = await _parents(db)
    move = "UPDATE serial SET location_id = :to WHERE id = :id"
    with pytest.raises(IntegrityError):
        await _write(db, move, {"to": MISSING, "id": ids["serial"]})
    await _write(db, move, {"to": ids["SPARE"], "id": ids["serial"]})
    # A change that leaves the keys alone is not checked again, and goes through.
    await _write(db, "UPDATE serial SET status = 'ALLOCATED' WHERE id = :id", {"id": ids["serial"]})
    async with db.engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT location_id, status FROM serial WHERE id = :id"), {"id": ids["serial"]}
            )
        ).one()
    assert tuple(row) == (ids["SPARE"], "ALLOCATED")


async def _name_the_lone_rows(db: Database, ids: dict[str, int]) -> None:
    """ONLY-SERIAL and the second product named by a serial alone; ONLY-MOVEMENT by a
    movement alone (no other table names them)."""
    serial = _serial(ids, "SN-LONE", location_id=ids["ONLY-SERIAL"], product_id=ids["lone_product"])
    serial |= {"receiving_line_id": None, "putaway_task_id": None}
    movement = _movement(ids, from_location_id=ids["ONLY-MOVEMENT"], to_location_id=None)
    async with db.engine.begin() as connection:
        await connection.execute(_INSERT_SERIAL, serial)
        await connection.execute(_insert("movement", list(movement)), movement)


@pytest.mark.parametrize(
    ("table", "name"),
    [("location", "ONLY-SERIAL"), ("location", "ONLY-MOVEMENT"), ("product", "lone_product")],
)
async def test_a_named_row_can_neither_go_nor_change_its_id(
    db: Database, table: str, name: str
) -> None:
    ids = await _parents(db)
    await _name_the_lone_rows(db, ids)
    with pytest.raises(IntegrityError):
        await _write(db, f"DELETE FROM {table} WHERE id = :id", {"id": ids[name]})
    with pytest.raises(IntegrityError):
        await _write(
            db, f"UPDATE {table} SET id = :new WHERE id = :id", {"id": ids[name], "new": MISSING}
        )
    async with db.engine.connect() as connection:
        assert (
            await _scalar(connection, f"SELECT count(*) FROM {table} WHERE id = :id", id=ids[name])
            == 1
        )


async def test_a_row_nothing_names_can_go(db: Database) -> None:
    ids = await _parents(db)
    await _write(db, "DELETE FROM location WHERE id = :id", {"id": ids["SPARE"]})
    async with db.engine.connect() as connection:
        assert await _scalar(connection, "SELECT count(*) FROM location") == 3


async def test_a_named_table_cannot_be_truncated(db: Database) -> None:
    if db.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    ids = await _parents(db)
    await _name_the_lone_rows(db, ids)
    # CASCADE empties every table whose constraints name location; serial and movement have
    # none on PostgreSQL, so only the trigger stands between them and orphaned rows.
    with pytest.raises(IntegrityError, match="names its rows"):
        await _write(db, "TRUNCATE location CASCADE")
    assert await _count(db, "location") == 4


async def _waits(task: "asyncio.Task[Any]") -> bool:
    done, _ = await asyncio.wait({task}, timeout=0.5)
    return not done


@pytest.mark.parametrize("first", ["insert", "delete"])
async def test_an_insert_and_the_delete_of_its_parent_wait_for_each_other(
    db: Database, first: str
) -> None:
    """Whichever comes first holds the location; the other waits for its commit and is
    then refused."""
    if db.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    ids = await _parents(db)
    spare = ids["SPARE"]
    async with db.engine.connect() as writer, db.engine.connect() as deleter:
        steps = {
            "insert": (writer, _INSERT_SERIAL, _serial(ids, "SN-NEW", location_id=spare)),
            "delete": (deleter, text("DELETE FROM location WHERE id = :id"), {"id": spare}),
        }
        then = "delete" if first == "insert" else "insert"
        holder, statement, params = steps[first]
        waiter, waiting_statement, waiting_params = steps[then]
        await holder.begin()
        await holder.execute(statement, params)
        await waiter.begin()
        waiting = asyncio.ensure_future(waiter.execute(waiting_statement, waiting_params))
        assert await _waits(waiting), f"the {then} did not wait for the {first}"
        await holder.commit()
        with pytest.raises(IntegrityError):
            await waiting
        await waiter.rollback()
    expected = (4, 2) if first == "insert" else (3, 1)
    assert (await _count(db, "location"), await _count(db, "serial")) == expected
