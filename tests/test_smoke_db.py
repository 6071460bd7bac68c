import gc

from sqlalchemy import select

from models import Warehouse
from tests.conftest import Database
from trackline.app import create_app


async def test_write_then_read(db: Database) -> None:
    async with db.sessions.begin() as session:
        session.add(Warehouse(code="W1", name="Main", time_zone="UTC"))
    async with db.read_sessions() as session:
        assert (await session.scalars(select(Warehouse.code))).all() == ["W1"]


async def test_a_started_app_leaves_what_it_holds_to_the_permanent_generation(
    db: Database,
) -> None:
    app = create_app(db.url)
    async with app.router.lifespan_context(app):
        # Frozen by this start-up or by an earlier one in this process: never walked by
        # the collector again (trackline/runtime.py).
        assert gc.get_freeze_count() > 100_000
        frozen = gc.get_freeze_count()
    async with app.router.lifespan_context(app):
        # Once per process: nothing more is frozen (frozen objects can still be freed).
        assert gc.get_freeze_count() <= frozen
