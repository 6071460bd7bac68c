"""B8: delivery latency of one serial status change to many GraphQL subscriptions.

The subscriptions are opened with `schema.subscribe` (the real schema, resolvers and
`Context`, as tests/api/test_live_subscriptions.py does), ten to a context as ten to a
WebSocket connection would be; no WebSocket framing. The bus is the one the app uses on the
engine: in-process on SQLite, LISTEN/NOTIFY on PostgreSQL. Each round plans an ASN of one
serial through a writer `Context` (which publishes on commit) and times from just before
that write transaction starts until each subscriber has its result, so the write's own
time is included.
"""

import asyncio
import time
from collections.abc import AsyncGenerator
from itertools import count

from strawberry.types import ExecutionResult

from bench import access
from bench.common import timing
from bench.report import Row
from bench.scenarios import Bench
from resolvers.context import Context
from schema import schema
from services.events import EventBus, InProcessBus
from services.receiving import PlannedLine, plan_receiving_order
from trackline.events_pg import PostgresBus

DOCUMENT = "subscription { serialStatusChanged { serial { serialNumber status } toStatus actor } }"
PER_CONTEXT = 10
TARGET_P99_MS = 250.0


async def subscribe(ctx: Context, document: str) -> AsyncGenerator[ExecutionResult, None]:
    stream = await schema.subscribe(document, context_value=ctx)
    assert isinstance(stream, AsyncGenerator), stream
    return stream


async def received(stream: AsyncGenerator[ExecutionResult, None]) -> float:
    result = await anext(stream)
    if result.errors or not result.data:
        raise AssertionError(f"B8: subscription answered {result}")
    return time.perf_counter()


async def run(bench: Bench, subscribers: int, rounds: int, *, distinct: bool = False) -> Row:
    """`distinct`: every subscriber sends a document of its own (the same selection, told
    apart by a comment), so none shares another's execution of an event
    (schema/sharing.py); otherwise all send the same one, as copies of one dashboard do."""
    engines = bench.engines
    read_sessions = engines.read_sessions()
    bus: EventBus = (
        InProcessBus() if bench.engine == "sqlite" else PostgresBus(bench.url, read_sessions)
    )
    await bus.start()
    sessions = engines.sessions()
    contexts = [
        Context(sessions, read_sessions, bus=bus, principal=access.principal())
        for _ in range(-(-subscribers // PER_CONTEXT))
    ]
    streams = [
        await subscribe(contexts[i // PER_CONTEXT], f"{DOCUMENT} # {i}" if distinct else DOCUMENT)
        for i in range(subscribers)
    ]
    writer = Context(sessions, read_sessions, actor="bench", bus=bus, principal=access.principal())
    product = bench.seeded.serial_products[-1]
    numbers = count(1)
    latencies: list[float] = []
    waiting: list[asyncio.Task[float]] = []
    name = "B8D" if distinct else "B8"  # each run its own ASNs and serials
    try:
        for r in range(rounds + 1):  # round 0 is the warm-up
            waiting = [asyncio.create_task(received(s)) for s in streams]
            # A subscription registers with the bus when its generator first runs.
            for _ in range(1000):
                if bus.subscriber_count >= subscribers:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # every task waiting on its queue
            start = time.perf_counter()
            async with writer.write() as session:
                n = next(numbers)
                await plan_receiving_order(
                    session,
                    number=f"ASN-{name}-{n}",
                    warehouse_id=bench.seeded.warehouse_id,
                    lines=[PlannedLine(product, 1, [f"{name}-{n}"])],
                    actor="bench",
                )
            stamps = await asyncio.wait_for(asyncio.gather(*waiting), 60)
            if r:
                latencies += [(t - start) * 1000 for t in stamps]
    finally:
        for task in waiting:  # a failed round leaves subscribers waiting
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        for stream in streams:
            await stream.aclose()
        await bus.stop()
    result = timing(latencies)
    transport = "in-process bus" if bench.engine == "sqlite" else "LISTEN/NOTIFY bus"
    return Row(
        f"B8 {subscribers:,} subscribers, {'each its own' if distinct else 'one'} document "
        f"(schema.subscribe, {transport}), p50",
        "ms",
        result.median_ms,
        result.p99_ms,
        None,
        TARGET_P99_MS / result.p99_ms,
        1.0,
        "p99 < 250 ms",
    )
