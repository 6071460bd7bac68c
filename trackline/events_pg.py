"""Live updates across processes: PostgreSQL LISTEN/NOTIFY.

Every API process sharing one database runs this bus. A write transaction stages its
events with `pg_notify` (ids only; see services/events.py for the payload), which
PostgreSQL delivers on commit and never on rollback, to every listening connection, this
process's own included. So one path serves all subscribers, in commit order, and nothing
but PostgreSQL is shared between processes.

Each process keeps one dedicated asyncpg connection that LISTENs. When it is lost (server
restart, `pg_terminate_backend`, network), the bus reconnects with growing pauses and
LISTENs again; a health query every few seconds finds a connection that died silently.
Delivery is at most once: what commits while no connection listens is not delivered.
"""

import asyncio
import logging
import os
from collections.abc import Sequence
from typing import Any, ClassVar, Final

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.events import (
    CHANNEL,
    DEFAULT_MAX_QUEUE,
    Event,
    EventBus,
    FellBehind,
    InProcessBus,
    decode_notification,
    encode_movement_ranges,
    encode_notifications,
)
from trackline.db import is_sqlite
from trackline.settings import normalize_database_url

log = logging.getLogger(__name__)

# Notifications received but not yet handed to subscribers. If this fills, the process
# is not keeping up: every subscriber is closed as fallen behind (memory stays bounded).
INBOX_LIMIT: Final = 10_000
RECONNECT_FIRST_PAUSE_S: Final = 0.1
RECONNECT_MAX_PAUSE_S: Final = 5.0
HEALTH_CHECK_INTERVAL_S: Final = 5.0
HEALTH_CHECK_TIMEOUT_S: Final = 5.0
NOTIFY = text("SELECT pg_notify(:channel, :payload)")


def asyncpg_dsn(database_url: str) -> str:
    """The plain libpq-style URL asyncpg takes, from any URL Trackline accepts."""
    url = make_url(normalize_database_url(database_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PostgresBus(EventBus):
    transport: ClassVar[str] = "postgresql"

    def __init__(
        self,
        database_url: str,
        read_sessions: async_sessionmaker[AsyncSession],
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
    ) -> None:
        super().__init__(max_queue=max_queue)
        self._dsn = asyncpg_dsn(database_url)
        self._read_sessions = read_sessions
        self._inbox: asyncio.Queue[str] = asyncio.Queue(INBOX_LIMIT)
        self._tasks: list[asyncio.Task[None]] = []
        # Visible in pg_stat_activity, so an operator (or a test) can find the listener.
        self.application_name = f"trackline-listen-{os.getpid()}"
        self.connects = 0
        self.listening = False

    async def stage(self, session: AsyncSession, events: Sequence[Event]) -> None:
        for payload in encode_notifications(events):
            await session.execute(NOTIFY, {"channel": CHANNEL, "payload": payload})

    async def stage_movements(
        self, session: AsyncSession, ranges: Sequence[tuple[int, int]], actor: str
    ) -> None:
        for payload in encode_movement_ranges(ranges, actor):
            await session.execute(NOTIFY, {"channel": CHANNEL, "payload": payload})

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="trackline-listen"),
            asyncio.create_task(self._consume(), name="trackline-deliver"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await super().stop()

    def health(self) -> dict[str, Any]:
        return {**super().health(), "listening": self.listening, "connects": self.connects}

    async def _listen(self) -> None:
        pause = RECONNECT_FIRST_PAUSE_S
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(
                    self._dsn,
                    timeout=10,
                    server_settings={"application_name": self.application_name},
                )
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, self._on_notify)
                self.connects += 1
                self.listening = True
                pause = RECONNECT_FIRST_PAUSE_S
                log.info("listening for events on %s (connection %d)", CHANNEL, self.connects)
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), HEALTH_CHECK_INTERVAL_S)
                    except TimeoutError:
                        await connection.fetchval("SELECT 1", timeout=HEALTH_CHECK_TIMEOUT_S)
                log.warning("the event listener's connection was closed; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("the event listener failed (%s); reconnecting", exc)
            finally:
                self.listening = False
                if connection is not None and not connection.is_closed():
                    connection.terminate()
            await asyncio.sleep(pause)
            pause = min(pause * 2, RECONNECT_MAX_PAUSE_S)

    def _on_notify(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self._inbox.put_nowait(payload)
        except asyncio.QueueFull:
            log.error("event inbox full: closing %d subscribers", self.subscriber_count)
            for subscriber in list(self._subscribers):
                subscriber.fail(FellBehind("the server fell behind the event stream"))

    async def _consume(self) -> None:
        while True:
            payload = await self._inbox.get()
            try:
                notification = decode_notification(payload)
                self.deliver(notification.events)
                await self.deliver_movements(
                    self._read_sessions, notification.movement_ranges, notification.actor
                )
            except Exception:
                log.exception("an event notification could not be delivered")


def create_bus(
    database_url: str,
    read_sessions: async_sessionmaker[AsyncSession],
    listen_url: str | None = None,
) -> EventBus:
    """One process on SQLite: events go from the committing request to the subscribers.
    PostgreSQL may have many API processes: events travel through LISTEN/NOTIFY, heard on
    `listen_url` when set (past a transaction-mode pooler), else on the database's URL."""
    if is_sqlite(database_url):
        return InProcessBus()
    return PostgresBus(listen_url or database_url, read_sessions)
