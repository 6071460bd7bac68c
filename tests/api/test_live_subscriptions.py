"""Subscriptions through the real schema (in-process): the fell-behind policy as a client
sees it, and one load per event however many subscribers receive it."""

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from strawberry.types import ExecutionResult

from resolvers import live
from resolvers.context import Context
from schema import schema
from services.events import Event, EventKind, InProcessBus
from services.receiving import PlannedLine, plan_receiving_order
from tests.conftest import TRUSTED, Database
from tests.services.builders import make_site, serial_product

SERIALS = "subscription { serialStatusChanged { serial { serialNumber status } toStatus actor } }"


async def _subscribe(ctx: Context, document: str) -> AsyncGenerator[ExecutionResult, None]:
    stream = await schema.subscribe(document, context_value=ctx)
    assert isinstance(stream, AsyncGenerator)
    return stream


async def _until_subscribed(bus: InProcessBus, count: int) -> None:
    for _ in range(200):
        if bus.subscriber_count >= count:
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"{count} subscriptions never registered")


async def test_a_subscription_that_falls_behind_ends_with_an_error(db: Database) -> None:
    # given a subscription whose queue holds 5 events
    bus = InProcessBus(max_queue=5)
    stream = await _subscribe(
        Context(db.sessions, db.read_sessions, principal=TRUSTED, bus=bus), SERIALS
    )
    first = asyncio.create_task(anext(stream))
    await _until_subscribed(bus, 1)

    # when 6 events arrive before it reads any
    bus.committed(
        [Event(EventKind.SERIAL_STATUS, i, 1, 1, (i,), None, "EXPECTED", "t") for i in range(6)]
    )

    # then it gets one error, the stream ends, and the bus no longer holds it
    result = await asyncio.wait_for(first, 10)
    assert result.data is None
    assert result.errors is not None
    assert result.errors[0].message == "more than 5 events were waiting for this subscriber"
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert bus.subscriber_count == 0


async def test_each_event_is_loaded_once_for_all_subscribers(db: Database) -> None:
    # given three subscriptions (two on one connection's context, one on another)
    site = await make_site(db)
    laptop = await serial_product(db)
    bus = InProcessBus()
    one = Context(db.sessions, db.read_sessions, principal=TRUSTED, bus=bus)
    other = Context(db.sessions, db.read_sessions, principal=TRUSTED, bus=bus)
    streams = [
        await _subscribe(one, SERIALS),
        await _subscribe(one, SERIALS),
        await _subscribe(other, SERIALS),
    ]
    firsts = [asyncio.create_task(anext(s)) for s in streams]
    await _until_subscribed(bus, 3)

    # when two serials are planned
    writer = Context(db.sessions, db.read_sessions, principal=TRUSTED, actor="planner", bus=bus)
    async with writer.write() as session:
        await plan_receiving_order(
            session,
            number="ASN-1",
            warehouse_id=site.warehouse_id,
            lines=[PlannedLine(laptop, 2, ["SN-1", "SN-2"])],
            actor="planner",
        )

    # then every subscriber gets both changes
    got: list[list[Any]] = []
    for stream, first in zip(streams, firsts, strict=True):
        results = [await asyncio.wait_for(first, 10), await asyncio.wait_for(anext(stream), 10)]
        assert all(r.errors is None and r.data for r in results)
        got.append([r.data["serialStatusChanged"] for r in results if r.data])
        await stream.aclose()
    expected = [
        {"serial": {"serialNumber": n, "status": "EXPECTED"}, "toStatus": "EXPECTED",
         "actor": "planner"}
        for n in ("SN-1", "SN-2")
    ]  # fmt: skip
    assert got == [expected, expected, expected]

    # and the serials and movements were read once, not once per subscriber
    assert live.snapshots(one).loads == 1
    assert bus.subscriber_count == 0
