"""Taking goods out of a balance and adding them to one, each in one statement or through
the object the session already holds; a take below zero is refused and changes nothing."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import StockBalance
from services.stock import add_stock, take_from_balance
from tests.conftest import Database
from tests.services.builders import balances, lot_product, make_site, stock_lot


async def _one_balance(db: Database) -> StockBalance:
    site = await make_site(db)
    product = await lot_product(db)
    await stock_lot(db, site, product, "L-1", 10)
    [balance] = await balances(db, product)
    return balance


async def _figures(db: Database, balance_id: int) -> tuple[int, int]:
    async with db.read_sessions() as session:
        found = await session.get(StockBalance, balance_id)
        assert found is not None
        return found.quantity, found.allocated_quantity


async def test_one_statement_takes_the_goods_and_names_the_location(db: Database) -> None:
    balance = await _one_balance(db)
    async with db.sessions.begin() as session:
        location = await take_from_balance(session, balance.id, quantity=4, reserved=0)
    assert location == balance.location_id
    assert await _figures(db, balance.id) == (6, 0)


async def test_a_balance_the_session_holds_is_changed_through_its_object(db: Database) -> None:
    balance = await _one_balance(db)
    async with db.sessions.begin() as session:
        held = await session.scalar(select(StockBalance).where(StockBalance.id == balance.id))
        assert held is not None
        held.quantity -= 1  # a change not yet flushed must not be lost
        location = await take_from_balance(session, balance.id, quantity=4, reserved=0)
        assert (held.quantity, location) == (5, balance.location_id)
    assert await _figures(db, balance.id) == (5, 0)


async def test_taking_more_than_is_there_is_refused_and_changes_nothing(db: Database) -> None:
    balance = await _one_balance(db)
    with pytest.raises(IntegrityError):
        async with db.sessions.begin() as session:
            await take_from_balance(session, balance.id, quantity=11, reserved=0)
    assert await _figures(db, balance.id) == (10, 0)


async def _add(
    db: Database, balance: StockBalance, quantity: int, location_id: int | None = None
) -> int:
    """Add to the goods of `balance`, at its location or at `location_id`, 1 reserved."""
    async with db.sessions.begin() as session:
        with db.count_statements() as counter:
            found = await add_stock(
                session,
                product_id=balance.product_id,
                lot_id=balance.lot_id,
                warehouse_id=balance.warehouse_id,
                location_id=location_id or balance.location_id,
                received_at=balance.received_at,
                quantity=quantity,
                reserved=1,
            )
        assert counter.count == (1 if found == balance.id else 2)  # + the new row's INSERT
        return found


async def test_one_statement_adds_to_the_balance_of_the_same_goods(db: Database) -> None:
    balance = await _one_balance(db)
    assert await _add(db, balance, 3) == balance.id
    assert await _figures(db, balance.id) == (13, 1)


async def test_goods_elsewhere_get_a_balance_of_their_own(db: Database) -> None:
    site = await make_site(db)
    product = await lot_product(db)
    await stock_lot(db, site, product, "L-1", 10)
    [balance] = await balances(db, product)
    new = await _add(db, balance, 3, location_id=site.a02)
    assert new != balance.id
    assert await _figures(db, new) == (3, 1)
    assert await _figures(db, balance.id) == (10, 0)


async def test_an_addition_to_a_balance_the_session_holds_shows_in_its_object(
    db: Database,
) -> None:
    balance = await _one_balance(db)
    async with db.sessions.begin() as session:
        held = await session.scalar(select(StockBalance).where(StockBalance.id == balance.id))
        assert held is not None
        held.quantity -= 1  # a change not yet flushed must not be lost
        found = await add_stock(
            session,
            product_id=balance.product_id,
            lot_id=balance.lot_id,
            warehouse_id=balance.warehouse_id,
            location_id=balance.location_id,
            received_at=balance.received_at,
            quantity=5,
            reserved=2,
        )
        assert (found, held.quantity, held.allocated_quantity) == (balance.id, 14, 2)
    assert await _figures(db, balance.id) == (14, 2)
