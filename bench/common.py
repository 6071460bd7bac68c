"""What every scenario shares: a throw-away database, a statement counter, timing."""

import asyncio
import gc
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url

from trackline.db import Engines, create_engines
from trackline.migrate import upgrade_to_head_async
from trackline.settings import normalize_database_url

POSTGRES_ADMIN_URL = os.environ.get(
    "TRACKLINE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


_numbers = itertools.count(1)


@asynccontextmanager
async def scratch_database(engine_name: str) -> AsyncIterator[Engines]:
    """A new, migrated database on `engine_name`, dropped afterwards."""
    if engine_name == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
            await upgrade_to_head_async(url)
            engines = create_engines(url)
            try:
                yield engines
            finally:
                await engines.dispose()
        return
    admin = make_url(normalize_database_url(POSTGRES_ADMIN_URL))
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    # Unique within the process too: B7 opens databases of its own next to the main one.
    name = f"trackline_bench_{os.getpid()}_{next(_numbers)}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
        url = admin.set(database=name).render_as_string(hide_password=False)
        await upgrade_to_head_async(url)
        engines = create_engines(url)
        try:
            yield engines
        finally:
            await engines.dispose()
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


class StatementCounter:
    """Counts statements sent to the database (transaction control and PRAGMAs excluded)."""

    def __init__(self, engines: Engines) -> None:
        self.engines = engines.distinct
        self.count = 0

    def _on_execute(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA"):
            self.count += 1

    def __enter__(self) -> "StatementCounter":
        for engine in self.engines:
            event.listen(engine.sync_engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *_: object) -> None:
        for engine in self.engines:
            event.remove(engine.sync_engine, "before_cursor_execute", self._on_execute)


@dataclass(frozen=True)
class Timing:
    median_ms: float
    p99_ms: float
    runs: int


def timing(samples: list[float]) -> Timing:
    samples = sorted(samples)
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    return Timing(statistics.median(samples), p99, len(samples))


async def time_interleaved(runs: int, *actions: Callable[[int], Awaitable[object]]) -> list[Timing]:
    """Run i of every action, then run i + 1 of every action, ...: a machine that speeds up
    or slows down during the run (this one is a shared VM) affects them alike.

    The garbage collector is emptied before each timed run (not timed), so that each side
    pays for the collections its own allocations set off: otherwise a pause set off by one
    side's garbage lands on whichever request happens to be running, and a change that
    allocates less moved pauses onto the baseline's requests (docs/performance.md)."""
    samples: list[list[float]] = [[] for _ in actions]
    for i in range(runs):
        for action, times in zip(actions, samples, strict=True):
            gc.collect()
            start = time.perf_counter()
            await action(i)
            times.append((time.perf_counter() - start) * 1000)
    return [timing(times) for times in samples]


async def throughput_interleaved(
    rounds: int,
    clients: int,
    per_client: int,
    *actions: Callable[[int, int, int], Awaitable[object]],
) -> list[float]:
    """Operations per second of each action, the median of `rounds` rounds: in each round
    every action in turn has `clients` concurrent tasks do `per_client` operations each
    (action(round, client, i)). Alternating rounds, as `time_interleaved`, so that a shared
    machine's slow seconds fall on both sides alike rather than on one side's only run."""

    async def client(action: Callable[[int, int, int], Awaitable[object]], r: int, c: int) -> None:
        for i in range(per_client):
            await action(r, c, i)

    rates: list[list[float]] = [[] for _ in actions]
    for r in range(rounds):
        for action, side in zip(actions, rates, strict=True):
            gc.collect()
            start = time.perf_counter()
            await asyncio.gather(*(client(action, r, c) for c in range(clients)))
            side.append(clients * per_client / (time.perf_counter() - start))
    return [statistics.median(side) for side in rates]
