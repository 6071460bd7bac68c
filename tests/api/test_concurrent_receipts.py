"""Integrators retry and scanners double-submit: concurrent receipts of one ASN line must
never receive more than was expected, on either engine."""

import asyncio

from sqlalchemy import select

from models import LocationKind, ReceivingLine, StockBalance, Tracking
from resolvers.context import Context
from resolvers.outcome import Refusal
from resolvers.receiving import LineReceiptArgs, receive_items
from services import catalog, receiving
from services.catalog import LocationSpec
from services.errors import ErrorCode
from tests.conftest import TRUSTED, Database


async def test_twenty_concurrent_receipts_never_over_receive(db: Database) -> None:
    # given a line expecting 20 boxes
    async with db.sessions.begin() as session:
        warehouse = await catalog.create_warehouse(
            session,
            code="W",
            name="W",
            time_zone="UTC",
            locations=[LocationSpec("DOCK", LocationKind.RECEIVING)],
        )
        boxes = await catalog.create_product(session, sku="BOX", name="Box", tracking=Tracking.NONE)
        await receiving.plan_receiving_order(
            session,
            number="ASN-1",
            warehouse_id=warehouse.id,
            actor="t",
            lines=[receiving.PlannedLine(boxes.id, 20)],
        )

    # when twenty clients each receive 5 at once, over their own connections
    async def one_client() -> object:
        context = Context(db.sessions, db.read_sessions, principal=TRUSTED)
        return await receive_items(
            context,
            order_id=None,
            order_number="ASN-1",
            lines=[LineReceiptArgs(None, 1, 5, [], [])],
        )

    outcomes = await asyncio.gather(*(one_client() for _ in range(20)))

    # then exactly four succeed and the others are refused with a clear code
    refused = [o for o in outcomes if isinstance(o, Refusal)]
    assert len(outcomes) - len(refused) == 4
    codes = {p.code for r in refused for p in r.problems}
    assert codes <= {ErrorCode.OVER_RECEIPT, ErrorCode.LINE_NOT_OPEN, ErrorCode.ORDER_NOT_OPEN}
    async with db.read_sessions() as session:
        line = await session.scalar(select(ReceivingLine))
        assert line is not None
        assert line.received_quantity == 20
        stock = await session.scalars(select(StockBalance.quantity))
        assert sum(stock) == 20
