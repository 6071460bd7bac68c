"""Subscriptions through the real schema (in-process): the fell-behind policy as a client
sees it, one load per event however many subscribers receive it, and one execution per
event for the subscribers asking the same question."""

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from graphql.execution import collect_fields
from graphql.execution import executor as executor_module
from strawberry.types import ExecutionResult

from resolvers import live
from resolvers.context import Context
from schema import schema
from schema.sharing import shared_answers
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


async def _plan(
    db: Database, bus: InProcessBus, warehouse_id: int, product_id: int, numbers: list[str]
) -> None:
    """Plan an ASN of `numbers`, publishing its changes on `bus` when it commits."""
    writer = Context(db.sessions, db.read_sessions, principal=TRUSTED, actor="planner", bus=bus)
    async with writer.write() as session:
        await plan_receiving_order(
            session,
            number="ASN-1",
            warehouse_id=warehouse_id,
            lines=[PlannedLine(product_id, len(numbers), numbers)],
            actor="planner",
        )


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
    await _plan(db, bus, site.warehouse_id, laptop, ["SN-1", "SN-2"])

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


WITH_HISTORY = """
subscription ($last: Int) {
  serialStatusChanged { serial { serialNumber movements(last: $last) { kind } } toStatus }
}
"""


async def test_subscribers_asking_the_same_question_share_one_execution_per_event(
    db: Database,
) -> None:
    # given four subscribers: three ask the same (two with equal variables given apart),
    # one asks with other variables
    site = await make_site(db)
    laptop = await serial_product(db)
    bus = InProcessBus()

    def context() -> Context:
        return Context(db.sessions, db.read_sessions, principal=TRUSTED, bus=bus)

    async def subscribe(variables: dict[str, Any]) -> AsyncGenerator[ExecutionResult, None]:
        stream = await schema.subscribe(WITH_HISTORY, variables, context_value=context())
        assert isinstance(stream, AsyncGenerator)
        return stream

    streams = [
        await subscribe({"last": 1}),
        await subscribe({"last": 1}),
        await subscribe({"last": 1}),
        await subscribe({"last": 0}),
    ]
    firsts = [asyncio.create_task(anext(s)) for s in streams]
    await _until_subscribed(bus, 4)
    executed = shared_answers.executed

    # when one serial is planned
    await _plan(db, bus, site.warehouse_id, laptop, ["SN-1"])
    results = [await asyncio.wait_for(first, 10) for first in firsts]
    for stream in streams:
        await stream.aclose()

    # then each gets the answer to its own question
    assert all(r.errors is None for r in results)
    one = {"serial": {"serialNumber": "SN-1", "movements": [{"kind": "EXPECT"}]}}
    none = {"serial": {"serialNumber": "SN-1", "movements": []}}
    assert [r.data for r in results] == [
        {"serialStatusChanged": {**one, "toStatus": "EXPECTED"}},
    ] * 3 + [{"serialStatusChanged": {**none, "toStatus": "EXPECTED"}}]
    # and the event was executed twice: once per distinct question
    assert shared_answers.executed - executed == 2
    # each result is an object of its own (extensions may replace its errors)
    assert len({id(r) for r in results}) == 4


async def test_a_subscription_plans_its_selection_with_its_first_event_only(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a subscription, with graphql-core's collection of sub-selections counted
    collected: list[str] = []
    collect = collect_fields.collect_subfields  # what graphql-core's executor calls

    def counted(*args: Any, **kwargs: Any) -> Any:
        collected.append(args[4].name)  # the object type whose selection it collects
        return collect(*args, **kwargs)

    monkeypatch.setattr(executor_module, "collect_subfields", counted)
    site = await make_site(db)
    laptop = await serial_product(db)
    bus = InProcessBus()
    stream = await _subscribe(
        Context(db.sessions, db.read_sessions, principal=TRUSTED, bus=bus), SERIALS
    )
    first = asyncio.create_task(anext(stream))
    await _until_subscribed(bus, 1)

    # when three serials are planned, three events
    await _plan(db, bus, site.warehouse_id, laptop, ["SN-1", "SN-2", "SN-3"])
    results = [await asyncio.wait_for(first, 10)]
    after_first = list(collected)
    results += [await asyncio.wait_for(anext(stream), 10) for _ in range(2)]
    await stream.aclose()

    # then each is answered, and only the first event collected the selections below the
    # root: the later ones found them planned, and left nothing more behind
    assert [r.data["serialStatusChanged"]["serial"]["serialNumber"] for r in results if r.data] == [
        "SN-1", "SN-2", "SN-3"
    ]  # fmt: skip
    assert sorted(after_first) == ["Serial", "SerialStatusChange"]
    assert collected == after_first
