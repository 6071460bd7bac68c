"""The movement history is append-only in the database and chained by hash: the triggers
refuse rewriting it, and whatever gets past them (a superuser, the owner of the SQLite
file) is found by `verify_chain` at exactly the first movement it touched."""

import asyncio
import io
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

from models import Movement, MovementKind, Product, StockBalance, Tracking
from models.base import utc_now
from models.movement import GENESIS_HASH
from services import chain
from services.audit import ChainCheck, verify_chain
from services.imports import ImportKind, import_csv
from services.receiving import LineReceipt
from services.stock import lock_products
from tests.conftest import Database
from tests.services.audit_data import movement_ids, past_the_triggers, warehouse_history
from tests.services.builders import (
    allocate,
    expect,
    make_order,
    make_product,
    make_site,
    plan_asn,
    receive_lines,
    stock_plain,
)

# Small chunks, so that every walk crosses chunk boundaries.
CHUNK = 4


async def verify(db: Database) -> ChainCheck:
    async with db.read_sessions() as session:
        return await verify_chain(session, chunk_rows=CHUNK)


# ---------------------------------------------------------------- the triggers


async def test_movements_cannot_be_updated_deleted_or_truncated(db: Database) -> None:
    await warehouse_history(db)
    before = await movement_ids(db)
    statements = ["UPDATE movement SET quantity = quantity + 1", "DELETE FROM movement"]
    if db.name == "postgresql":
        statements.append("TRUNCATE movement CASCADE")
    statements.append(f"UPDATE movement SET actor = 'x' WHERE id = {before[3]}")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.engine.begin() as connection:
                await connection.execute(text(statement))
    assert await movement_ids(db) == before
    assert (await verify(db)).intact


# ---------------------------------------------------------------- an intact chain


async def test_a_whole_warehouse_history_verifies(db: Database) -> None:
    await warehouse_history(db)
    ids = await movement_ids(db)
    kinds = await _kinds(db)
    assert {"RECEIVE", "PUTAWAY", "ALLOCATE", "PICK", "SHIP", "CANCEL", "RETURN"} <= kinds
    assert {"RELEASE", "HOLD", "RELEASE_HOLD", "OPENING_STOCK", "EXPECT"} <= kinds
    result = await verify(db)
    assert result.broken is None
    assert (result.checked, result.last_id) == (len(ids), ids[-1])


async def test_an_empty_history_verifies(db: Database) -> None:
    result = await verify(db)
    assert (result.intact, result.checked, result.last_id) == (True, 0, 0)
    assert result.last_hash == GENESIS_HASH


async def test_one_movement_is_hashed_as_the_chain_format_says(db: Database) -> None:
    """On PostgreSQL a writer's single movement is hashed by the database itself (services/
    chain.py): the hash must be over the very bytes `link` hashes, texts beyond ASCII, a
    time in another zone and absent values included."""
    await warehouse_history(db)
    site = await make_site(db, "WH9")
    product = await make_product(db, "P-Ü")
    oslo = timezone(timedelta(hours=1))
    row: dict[str, Any] = {
        "kind": MovementKind.PUTAWAY,
        "product_id": product,
        "quantity": 3,
        "from_location_id": site.dock,
        "to_location_id": site.a01,
        "document_type": "TEST",
        "document_number": "Lieferschein №7 — 检",
        "actor": "Åsa Øberg 🙂",
        "occurred_at": datetime(2026, 11, 28, 18, 5, 4, 123456, tzinfo=oslo),
    }
    values = [row.get(c) for c in chain.CONTENT[1:]]
    async with db.sessions.begin() as session:
        previous = (await chain.lock_head(session)).last_hash
        [movement_id] = await chain.append(session, [row])

    assert await _hash_of(db, movement_id) == chain.link(previous, [movement_id, *values])
    result = await verify(db)
    assert (result.broken, result.last_id) == (None, movement_id)


async def test_concurrent_writers_keep_one_chain(db: Database) -> None:
    # given stock of eight products, an order for each and an ASN for each
    site = await make_site(db)
    products = [await make_product(db, f"P-{i}") for i in range(8)]
    orders, asns = [], []
    for i, product in enumerate(products):
        await stock_plain(db, site, product, 50)
        orders.append(await make_order(db, site, (product, 5), number=f"SO-{i}"))
        asns.append(await plan_asn(db, site, f"ASN-C{i}", expect(product, 7)))
    written = len(await movement_ids(db))

    # when the eight allocations and the eight receipts run at once, each in its own
    # transaction over its own connection
    await asyncio.gather(
        *(allocate(db, order) for order in orders),
        *(receive_lines(db, asn, LineReceipt(asn.line_ids[0], quantity=7)) for asn in asns),
    )

    # then every movement is on the one chain, in id order
    result = await verify(db)
    assert result.broken is None
    assert result.checked == len(await movement_ids(db)) == written + 16


async def test_a_writer_waiting_for_a_product_does_not_hold_the_chain(db: Database) -> None:
    if db.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    site = await make_site(db)
    product = await make_product(db, "P")
    await stock_plain(db, site, product, 5)

    def putaway() -> dict[str, Any]:
        return {
            "kind": MovementKind.PUTAWAY,
            "product_id": product,
            "quantity": 1,
            "from_location_id": site.dock,
            "to_location_id": site.a01,
            "document_type": "TEST",
            "document_number": "T-1",
            "actor": "t",
            "occurred_at": utc_now(),
        }

    async def other_writer() -> None:
        async with db.sessions.begin() as session:
            await chain.append(session, [putaway()])

    # an allocation holds the product, as allocate_order does, while another writer of a
    # movement of that product starts; then the allocation writes its own movements
    async with db.sessions.begin() as allocation:
        await lock_products(allocation, [product])
        other = asyncio.create_task(other_writer())
        await asyncio.sleep(0.5)
        await asyncio.wait_for(chain.append(allocation, [putaway()]), timeout=10)
    await asyncio.wait_for(other, timeout=10)
    assert (await verify(db)).intact


async def test_an_import_chains_while_an_allocation_holds_its_product(db: Database) -> None:
    """An opening-stock import holds the chain's head from its first chunk to its commit;
    its foreign-key checks pass the allocation's lock on the product, so it finishes, and
    the allocation writes its movement after it."""
    if db.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    site = await make_site(db)
    product = await make_product(db, "P", Tracking.SERIAL)
    csv = "sku,serial_number,warehouse,location\nP,SN-1,WH1,A-01\nP,SN-2,WH1,A-02\n"
    async with db.sessions.begin() as allocation:
        await lock_products(allocation, [product])
        report = await asyncio.wait_for(
            import_csv(db.sessions, ImportKind.OPENING_SERIALS, io.StringIO(csv), actor="t"),
            timeout=10,
        )
        assert report.committed
        await asyncio.wait_for(chain.append(allocation, [_movement_of(product, site)]), 10)
    assert (await verify(db)).intact
    assert len(await movement_ids(db)) == 3


async def test_a_dry_run_import_does_not_wait_for_the_chain(db: Database) -> None:
    """A dry run writes nothing, so it neither takes the chain's lock nor ids: it answers
    while another writer holds the head."""
    if db.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    await make_site(db)
    await make_product(db, "P", Tracking.SERIAL)
    csv = "sku,serial_number,warehouse,location\nP,SN-1,WH1,A-01\n"
    async with db.sessions.begin() as writer:
        await chain.lock_head(writer)
        report = await asyncio.wait_for(
            import_csv(
                db.sessions, ImportKind.OPENING_SERIALS, io.StringIO(csv), actor="t", dry_run=True
            ),
            timeout=10,
        )
    assert report.ok
    assert not report.committed
    assert await movement_ids(db) == []


async def test_a_picker_holding_stock_does_not_deadlock_with_an_allocator(db: Database) -> None:
    """An allocation holds its products and then reads their stock; a pick holds a balance
    and then writes a movement of that product, whose references it locks (key share)."""
    if db.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    site = await make_site(db)
    product = await make_product(db, "P")
    await stock_plain(db, site, product, 5)
    async with db.read_sessions() as session:
        balance = await session.scalar(
            select(StockBalance.id).where(
                StockBalance.product_id == product, StockBalance.location_id == site.a01
            )
        )

    def lock_balance() -> Any:
        return select(StockBalance).where(StockBalance.id == balance).with_for_update()

    async def picker() -> None:
        async with db.sessions.begin() as session:
            await session.execute(lock_balance())
            await asyncio.sleep(0.3)  # the allocator now waits for this balance
            await chain.append(session, [_movement_of(product, site)])

    async with db.sessions.begin() as allocation:
        await lock_products(allocation, [product])
        picking = asyncio.create_task(picker())
        await asyncio.sleep(0.1)
        await asyncio.wait_for(allocation.execute(lock_balance()), timeout=10)
    await asyncio.wait_for(picking, timeout=10)
    assert (await verify(db)).intact


def _movement_of(product: int, site: Any) -> dict[str, Any]:
    return {
        "kind": MovementKind.PICK,
        "product_id": product,
        "quantity": 1,
        "from_location_id": site.a01,
        "to_location_id": site.a01,
        "document_type": "TEST",
        "document_number": "T-2",
        "actor": "t",
        "occurred_at": utc_now(),
    }


# ---------------------------------------------------------------- tampering found


async def test_a_changed_quantity_breaks_the_chain_at_that_movement(db: Database) -> None:
    await warehouse_history(db)
    ids = await movement_ids(db)
    target = ids[len(ids) // 2]
    stored = await _hash_of(db, target)
    async with past_the_triggers(db) as connection:
        await connection.execute(
            text("UPDATE movement SET quantity = quantity + 1 WHERE id = :id"), {"id": target}
        )
    result = await verify(db)
    assert result.broken is not None
    assert result.broken.movement_id == target
    assert result.broken.found == stored
    assert result.broken.expected != stored
    assert result.checked == ids.index(target)


async def test_a_deleted_movement_breaks_the_chain_at_the_next_one(db: Database) -> None:
    await warehouse_history(db)
    ids = await movement_ids(db)
    target = ids[7]
    async with past_the_triggers(db) as connection:
        await connection.execute(text("DELETE FROM movement WHERE id = :id"), {"id": target})
    result = await verify(db)
    assert result.broken is not None
    assert result.broken.movement_id == ids[8]
    assert result.checked == 7


async def test_deleting_the_newest_movements_is_found_at_the_head(db: Database) -> None:
    await warehouse_history(db)
    ids = await movement_ids(db)
    newest = await _hash_of(db, ids[-1])
    async with past_the_triggers(db) as connection:
        await connection.execute(text("DELETE FROM movement WHERE id >= :id"), {"id": ids[-2]})
    result = await verify(db)
    assert result.broken is not None
    assert (result.broken.movement_id, result.broken.expected) == (ids[-1], newest)
    assert result.broken.found == "missing"
    assert result.checked == len(ids) - 2


async def test_a_forged_movement_is_found_even_when_its_hash_links_on(db: Database) -> None:
    await warehouse_history(db)
    ids = await movement_ids(db)
    last = await _hash_of(db, ids[-1])
    # a forger who knows the encoding appends a row that links to the last one
    forged: dict[str, Any] = {
        "id": ids[-1] + 1,
        "kind": "PUTAWAY",
        "product_id": await _any_product(db),
        "quantity": 1,
        "document_type": "FORGED",
        "document_number": "X",
        "actor": "mallory",
    }
    async with past_the_triggers(db) as connection:
        forged["occurred_at"] = (
            await connection.execute(select(func.max(Movement.occurred_at)))
        ).scalar_one()
        forged["chain_hash"] = chain.link(last, [forged.get(c) for c in chain.CONTENT])
        await connection.execute(insert(Movement), forged)
    result = await verify(db)
    assert result.broken is not None
    assert result.broken.movement_id == ids[-1] + 1
    assert result.checked == len(ids)


async def test_writers_go_on_after_a_row_added_behind_the_chain(db: Database) -> None:
    await warehouse_history(db)
    ids = await movement_ids(db)
    async with past_the_triggers(db) as connection:
        await connection.execute(
            text(
                # an ordinary INSERT: the id comes from the engine, as for any writer
                "INSERT INTO movement (kind, product_id, quantity, document_type, "
                "document_number, actor, occurred_at, chain_hash) SELECT kind, product_id, "
                "quantity, document_type, document_number, actor, occurred_at, chain_hash "
                "FROM movement WHERE id = :id"
            ),
            {"id": ids[-1]},
        )
    [added] = (await movement_ids(db))[len(ids) :]
    site = await make_site(db, "WH9")
    asn = await plan_asn(db, site, "ASN-AFTER", expect(await _any_product(db), 2))
    await receive_lines(db, asn, LineReceipt(asn.line_ids[0], quantity=2))
    result = await verify(db)
    assert result.broken is not None
    assert result.broken.movement_id == added
    assert len(await movement_ids(db)) == len(ids) + 2


# ---------------------------------------------------------------- helpers


async def _kinds(db: Database) -> set[str]:
    async with db.read_sessions() as session:
        return {str(k) for k in await session.scalars(select(Movement.kind).distinct())}


async def _hash_of(db: Database, movement_id: int) -> str:
    async with db.read_sessions() as session:
        found = await session.scalar(select(Movement.chain_hash).where(Movement.id == movement_id))
    assert found is not None
    return found


async def _any_product(db: Database) -> int:
    """An untracked product."""
    query = select(func.min(Product.id)).where(Product.tracking == Tracking.NONE)
    async with db.read_sessions() as session:
        found = await session.scalar(query)
    assert found is not None
    return found
