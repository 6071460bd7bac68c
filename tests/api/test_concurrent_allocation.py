"""Never more than on hand: many clients allocating the same stock at once, each over its
own connection, never oversell — on SQLite (BEGIN IMMEDIATE) and PostgreSQL (row locks)."""

import asyncio

from sqlalchemy import func, select

from models import Allocation, AllocationStatus, Serial, SerialStatus, StockBalance
from resolvers.context import Context
from resolvers.outbound import allocate_order
from resolvers.outcome import Refusal
from services import outbound
from services.errors import ErrorCode
from services.putaway import Placement
from services.receiving import LineReceipt, LotEntry
from tests.conftest import TRUSTED, Database
from tests.services.builders import (
    expect,
    lot_product,
    make_site,
    plan_asn,
    put_away,
    receive_lines,
    serial_product,
)

CLIENTS = 25
STOCK = 10


async def _orders(db: Database, warehouse_id: int, product_id: int, prefix: str) -> list[str]:
    numbers = [f"{prefix}-{i:02d}" for i in range(CLIENTS)]
    async with db.sessions.begin() as session:
        for number in numbers:
            await outbound.create_order(
                session,
                number=number,
                warehouse_id=warehouse_id,
                lines=[outbound.OrderLineSpec(product_id, 1)],
            )
    return numbers


async def _allocate_all_at_once(db: Database, numbers: list[str]) -> list[object]:
    async def one_client(number: str) -> object:
        context = Context(db.sessions, db.read_sessions, principal=TRUSTED)
        return await allocate_order(context, order_gid=None, order_number=number, serials=[])

    return await asyncio.gather(*(one_client(n) for n in numbers))


def _assert_exactly_stock_won(outcomes: list[object]) -> None:
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    assert len(outcomes) - len(refused) == STOCK
    assert {p.code for r in refused for p in r.problems} == {ErrorCode.INSUFFICIENT_STOCK}


async def test_concurrent_serial_allocations_never_oversell(db: Database) -> None:
    # given ten serials in storage and twenty-five orders for one each
    site = await make_site(db)
    product = await serial_product(db)
    serials = [f"S-{i:02d}" for i in range(STOCK)]
    asn = await plan_asn(db, site, "ASN-1", expect(product, STOCK, *serials))
    receipt = await receive_lines(db, asn, LineReceipt(asn.line_ids[0], serial_numbers=serials))
    await put_away(db, receipt.putaway_tasks[0].id, Placement(site.a01, STOCK))
    numbers = await _orders(db, site.warehouse_id, product, "SO")

    # when all allocate at once
    outcomes = await _allocate_all_at_once(db, numbers)

    # then exactly ten win, each serial is reserved once
    _assert_exactly_stock_won(outcomes)
    async with db.read_sessions() as session:
        allocated = await session.scalar(
            select(func.count()).select_from(Serial).where(Serial.status == SerialStatus.ALLOCATED)
        )
        reserved = list(await session.scalars(select(Allocation.serial_id)))
    assert allocated == STOCK
    assert len(reserved) == len(set(reserved)) == STOCK


async def test_concurrent_lot_allocations_never_oversell(db: Database) -> None:
    # given ten units of one lot in storage and twenty-five orders for one each
    site = await make_site(db)
    product = await lot_product(db)
    asn = await plan_asn(db, site, "ASN-1", expect(product, STOCK))
    receipt = await receive_lines(
        db, asn, LineReceipt(asn.line_ids[0], lots=[LotEntry("L-1", STOCK)])
    )
    await put_away(db, receipt.putaway_tasks[0].id, Placement(site.a01, STOCK))
    numbers = await _orders(db, site.warehouse_id, product, "SO")

    outcomes = await _allocate_all_at_once(db, numbers)

    _assert_exactly_stock_won(outcomes)
    async with db.read_sessions() as session:
        reserved = await session.scalar(
            select(func.sum(StockBalance.allocated_quantity)).where(
                StockBalance.location_id == site.a01
            )
        )
        allocations = await session.scalar(
            select(func.count())
            .select_from(Allocation)
            .where(Allocation.status == AllocationStatus.ALLOCATED)
        )
    assert reserved == STOCK
    assert allocations == STOCK
