"""Fixtures shared by the service tests."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from services.events import EventBus
from tests.conftest import Database
from trackline.events_pg import create_bus


@pytest.fixture
async def production_bus(db: Database) -> AsyncIterator[EventBus]:
    """The bus `serve` runs on this engine: in-process on SQLite, LISTEN/NOTIFY on
    PostgreSQL."""
    bus = create_bus(db.url, db.read_sessions)
    await bus.start()
    try:
        if db.name == "postgresql":
            for _ in range(100):
                if bus.health()["listening"]:
                    break
                await asyncio.sleep(0.05)
            assert bus.health()["listening"]
        yield bus
    finally:
        await bus.stop()
