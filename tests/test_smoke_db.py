from sqlalchemy import select

from models import Warehouse
from tests.conftest import Database


async def test_write_then_read(db: Database) -> None:
    async with db.sessions.begin() as session:
        session.add(Warehouse(code="W1", name="Main", time_zone="UTC"))
    async with db.read_sessions() as session:
        assert (await session.scalars(select(Warehouse.code))).all() == ["W1"]
