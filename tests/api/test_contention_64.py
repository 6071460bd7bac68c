"""Sixty-four clients at once, each over its own connection where the engine has more than
one (PostgreSQL: a pool of 64; SQLite admits one writer, so there they queue), contending
for 100 serials and for one lot's stock: no serial is ever reserved twice, nothing is ever
reserved beyond what is on hand, and every refusal is explained by what others took.

Runs on both engines (the `db` fixture). The clients go through the resolvers, as a request
would after authentication; `_context` is the one place a caller is built.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import func, select

from models import (
    Allocation,
    AllocationStatus,
    OutboundOrder,
    Serial,
    SerialStatus,
    StockBalance,
)
from resolvers.context import Context
from resolvers.outbound import SerialChoiceArgs, allocate_order
from resolvers.outcome import Refusal
from services import outbound
from services.errors import ErrorCode
from services.putaway import Placement
from services.receiving import LineReceipt, LotEntry
from tests.conftest import Database
from tests.services.builders import (
    expect,
    lot_product,
    make_site,
    plan_asn,
    put_away,
    receive_lines,
    serial_product,
)
from trackline.db import Engines, create_engine

CLIENTS = 64
SERIALS = 100
LOT_STOCK = 100


@asynccontextmanager
async def contending_engines(db: Database) -> AsyncIterator[Engines]:
    """PostgreSQL: one engine whose pool lets all 64 clients hold a connection at once.
    SQLite: the application's own engines (one writer connection, a queue before it)."""
    if db.name != "postgresql":
        yield db.engines
        return
    engine = create_engine(db.url, pool_size=CLIENTS, max_overflow=0)
    try:
        yield Engines(engine, engine)
    finally:
        await engine.dispose()


def _context(engines: Engines, worker: int) -> Context:
    """The caller of one client (the one place to add a principal once resolvers ask)."""
    return Context(engines.sessions(), engines.read_sessions(), actor=f"worker-{worker}")


def _allocation(
    engines: Engines, worker: int, serials: list[str] | None = None
) -> Callable[[], Awaitable[object]]:
    """Client `worker` allocating its order SO-<worker> (naming `serials`, if given)."""
    choices = [] if serials is None else [SerialChoiceArgs(line_number=1, serial_numbers=serials)]

    def call() -> Awaitable[object]:
        return allocate_order(
            _context(engines, worker),
            order_gid=None,
            order_number=f"SO-{worker:02d}",
            serials=choices,
        )

    return call


async def _orders(db: Database, warehouse_id: int, product_id: int, quantities: list[int]) -> None:
    async with db.sessions.begin() as session:
        for i, quantity in enumerate(quantities):
            await outbound.create_order(
                session,
                number=f"SO-{i:02d}",
                warehouse_id=warehouse_id,
                lines=[outbound.OrderLineSpec(product_id, quantity)],
            )


async def _all_at_once(calls: list[Callable[[], Awaitable[object]]]) -> list[object]:
    """Start every client, then release them together."""
    gate = asyncio.Event()

    async def run(call: Callable[[], Awaitable[object]]) -> object:
        await gate.wait()
        return await call()

    tasks = [asyncio.create_task(run(call)) for call in calls]
    await asyncio.sleep(0)
    gate.set()
    return list(await asyncio.gather(*tasks))


async def _serial_stock(db: Database) -> tuple[int, int, list[str]]:
    site = await make_site(db)
    product = await serial_product(db)
    numbers = [f"S-{i:03d}" for i in range(SERIALS)]
    asn = await plan_asn(db, site, "ASN-1", expect(product, SERIALS, *numbers))
    receipt = await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=numbers))
    await put_away(db, receipt.putaway_tasks[0].id, Placement(site.a01, SERIALS))
    return site.warehouse_id, product, numbers


async def _reserved_serials(db: Database) -> dict[str, list[str]]:
    """Serial number -> numbers of the orders holding a live allocation of it."""
    async with db.read_sessions() as session:
        rows = await session.execute(
            select(Serial.serial_number, OutboundOrder.number)
            .join(Allocation, Allocation.serial_id == Serial.id)
            .join(OutboundOrder, OutboundOrder.id == Allocation.order_id)
            .where(Allocation.status == AllocationStatus.ALLOCATED)
        )
        held: dict[str, list[str]] = {}
        for serial, order in rows:
            held.setdefault(serial, []).append(order)
        return held


async def _assert_serials_consistent(db: Database, held: dict[str, list[str]]) -> None:
    doubles = {serial: orders for serial, orders in held.items() if len(orders) > 1}
    assert not doubles, f"serials allocated to several orders: {doubles}"
    async with db.read_sessions() as session:
        allocated = set(
            await session.scalars(
                select(Serial.serial_number).where(Serial.status == SerialStatus.ALLOCATED)
            )
        )
        per_serial = list(
            await session.execute(
                select(Allocation.serial_id, func.count())
                .where(Allocation.serial_id.is_not(None))
                .group_by(Allocation.serial_id)
                .having(func.count() > 1)
            )
        )
    assert per_serial == [], "a serial has more than one allocation row"
    assert allocated == set(held), "serial status and allocations disagree"


async def test_64_clients_taking_the_oldest_of_100_serials(db: Database) -> None:
    # given 100 serials in storage and 64 orders for two each (128 wanted)
    warehouse, product, _ = await _serial_stock(db)
    await _orders(db, warehouse, product, [2] * CLIENTS)

    # when all 64 allocate at once
    async with contending_engines(db) as engines:
        outcomes = await _all_at_once([_allocation(engines, i) for i in range(CLIENTS)])

    # then exactly 50 orders win two serials each; no serial is held twice
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    assert len(outcomes) - len(refused) == SERIALS // 2
    assert {p.code for r in refused for p in r.problems} == {ErrorCode.INSUFFICIENT_STOCK}
    held = await _reserved_serials(db)
    await _assert_serials_consistent(db, held)
    assert len(held) == SERIALS


async def test_64_clients_naming_overlapping_serials(db: Database) -> None:
    # given 100 serials and 64 orders of three each, every client naming three serials
    # that overlap its neighbours' (client i names i*2, i*2+1, i*2+2 modulo 100)
    warehouse, product, numbers = await _serial_stock(db)
    await _orders(db, warehouse, product, [3] * CLIENTS)
    named = {i: [numbers[(i * 2 + k) % SERIALS] for k in range(3)] for i in range(CLIENTS)}

    async with contending_engines(db) as engines:
        outcomes = await _all_at_once([_allocation(engines, i, named[i]) for i in range(CLIENTS)])

    held = await _reserved_serials(db)
    await _assert_serials_consistent(db, held)
    winners = {i for i, o in enumerate(outcomes) if not isinstance(o, Refusal)}
    assert winners, "someone must win"
    for i, outcome in enumerate(outcomes):
        mine = {n for n, orders in held.items() if orders == [f"SO-{i:02d}"]}
        if i in winners:
            assert mine == set(named[i]), (i, mine)
        else:
            # all or nothing, and refused only because another order holds one of them
            assert isinstance(outcome, Refusal)
            assert mine == set()
            assert {p.code for p in outcome.problems} == {ErrorCode.SERIAL_NOT_AVAILABLE}
            assert any(n in held for n in named[i]), (i, named[i])


async def test_64_clients_contending_for_one_lot(db: Database) -> None:
    # given 100 units of one lot, split over two locations, and 64 orders of 1 to 4 units
    site = await make_site(db)
    product = await lot_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(product, LOT_STOCK))
    receipt = await receive_lines(
        db, asn, LineReceipt(asn.line_ids[0], lots=[LotEntry("L-1", LOT_STOCK)])
    )
    await put_away(
        db, receipt.putaway_tasks[0].id, Placement(site.a01, 60), Placement(site.a02, 40)
    )
    quantities = [1 + i % 4 for i in range(CLIENTS)]  # 160 wanted in all
    await _orders(db, site.warehouse_id, product, quantities)

    async with contending_engines(db) as engines:
        outcomes = await _all_at_once([_allocation(engines, i) for i in range(CLIENTS)])

    won = sum(q for q, o in zip(quantities, outcomes, strict=True) if not isinstance(o, Refusal))
    async with db.read_sessions() as session:
        balances = list(
            await session.execute(
                select(
                    StockBalance.id, StockBalance.quantity, StockBalance.allocated_quantity
                ).where(StockBalance.product_id == product)
            )
        )
        sums = await session.execute(
            select(Allocation.stock_balance_id, func.sum(Allocation.quantity))
            .where(Allocation.status == AllocationStatus.ALLOCATED)
            .group_by(Allocation.stock_balance_id)
        )
        by_balance: dict[int | None, int] = dict(sums.all())
    for balance_id, quantity, allocated in balances:
        assert 0 <= allocated <= quantity, (balance_id, quantity, allocated)
        assert allocated == by_balance.get(balance_id, 0), balance_id
    reserved = sum(allocated for _, _, allocated in balances)
    on_hand = sum(quantity for _, quantity, _ in balances)
    assert on_hand == LOT_STOCK
    assert reserved == won <= LOT_STOCK
    free = on_hand - reserved
    for quantity, outcome in zip(quantities, outcomes, strict=True):
        if isinstance(outcome, Refusal):
            # refused only for want of stock, and what is left still would not do
            assert {p.code for p in outcome.problems} == {ErrorCode.INSUFFICIENT_STOCK}
            assert free < quantity, (free, quantity)
