"""Alembic environment: runs migrations over the async engine Trackline uses."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from models import Base
from models.references import compared_on
from trackline.db import create_engine, is_sqlite

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=is_sqlite(str(connection.engine.url)),
        compare_type=True,
        include_object=compared_on(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "the database URL is set by trackline.migrate"
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; run `trackline migrate`")
asyncio.run(_run_online())
