"""Batch reads for dataloaders and keyset pages for connections: one statement each."""

import functools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.orm.util import identity_key

from models import Base

M = TypeVar("M", bound=Base)
K = TypeVar("K")
V = TypeVar("V")

MAX_PAGE_SIZE = 100
# The execution option `statement_by_statement` sets on SQLite (trackline/db.py reads it).
STATEMENT_BY_STATEMENT = "trackline_statement_by_statement"


async def statement_by_statement(session: AsyncSession) -> None:
    """Let this read session run each statement on its own, with no transaction around them
    (PostgreSQL: autocommit; SQLite: no BEGIN). One statement reads one consistent snapshot
    on both engines, so a read that is one statement, as every dataloader batch is, needs
    nothing more; the transaction cost it two more round trips on PostgreSQL and three
    driver calls on SQLite, each a hop to the driver's thread (docs/performance.md, B4)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    else:
        await session.connection(execution_options={STATEMENT_BY_STATEMENT: True})


# Statements that differ only in their values are built once and bound at each execution:
# building a statement and computing its cache key cost 50-100 µs each time, which is a
# tenth of a look-up (docs/performance.md, B4). A built statement keeps its cache key.
@functools.cache
def _rows_with_ids(model: type[Base]) -> Select[Any]:
    id_column: InstrumentedAttribute[int] = model.id  # type: ignore[attr-defined]
    return select(model).where(id_column.in_(bindparam("ids", expanding=True)))


@functools.cache
def _row_locked(model: type[Base]) -> Select[Any]:
    id_column: InstrumentedAttribute[int] = model.id  # type: ignore[attr-defined]
    return select(model).where(id_column == bindparam("id")).with_for_update()


def loaded(session: AsyncSession, model: type[M], row_id: int) -> M | None:
    """The object for the row of `model` with `row_id` this session holds, if any: a write
    through the connection must not go past it (its changes would be lost, or it would
    go on showing the old values)."""
    found: M | None = session.sync_session.identity_map.get(identity_key(model, row_id))
    return found


async def locked(session: AsyncSession, model: type[M], row_id: int) -> M | None:
    """The row of `model` with `row_id`, locked until the transaction ends (FOR UPDATE on
    PostgreSQL; SQLite's writer holds the database already), or None. As
    `session.get(model, row_id, with_for_update=True)`, from a statement built once."""
    found: M | None = await session.scalar(_row_locked(model), {"id": row_id})
    return found


async def rows_by_ids(session: AsyncSession, model: type[M], ids: Sequence[int]) -> list[M | None]:
    """Rows of `model` in the order of `ids`, None where a row does not exist."""
    rows = await session.scalars(_rows_with_ids(model), {"ids": list(ids)})
    found = {row.id: row for row in rows}
    return [found.get(i) for i in ids]


async def rows_grouped_by(
    session: AsyncSession,
    model: type[M],
    key: InstrumentedAttribute[Any],
    keys: Sequence[Any],
    order_by: Sequence[Any] = (),
) -> list[list[M]]:
    """Rows whose `key` is in `keys`, grouped per key in the order of `keys`."""
    id_column = model.id  # type: ignore[attr-defined]
    query = select(model).where(key.in_(keys)).order_by(*order_by, id_column)
    grouped: dict[Any, list[M]] = defaultdict(list)
    for row in await session.scalars(query):
        grouped[getattr(row, key.key)].append(row)
    return [grouped.get(k, []) for k in keys]


async def key_values(session: AsyncSession, query: Select[K, V]) -> dict[K, V]:
    """A two-column query as a dict of first column to second."""
    # Not dict(result): a Result has keys() (its column names), so dict() would misread it.
    return dict((await session.execute(query)).all())


async def keyset_page(
    session: AsyncSession, query: Select[Any], *, first: int, after: int | None
) -> tuple[list[Any], bool]:
    """One page of a query ordered by primary key: rows with id > `after`, and whether more
    follow. Keyset, not offset, so pages neither skip nor repeat rows while rows are added."""
    entity = query.column_descriptions[0]["entity"]
    if after is not None:
        query = query.where(entity.id > after)
    rows = list(await session.scalars(query.order_by(entity.id).limit(first + 1)))
    return rows[:first], len(rows) > first


async def keyset_pages_by_group(
    session: AsyncSession,
    model: type[M],
    group: InstrumentedAttribute[Any],
    group_keys: Sequence[Any],
    *,
    first: int,
    after: int | None,
    conditions: Sequence[ColumnElement[bool]] = (),
) -> list[tuple[list[M], bool]]:
    """The same keyset page (`first` rows after id `after`) of many groups in one statement,
    e.g. the first 50 serials of each of 20 products: one `ORDER BY id LIMIT first + 1`
    branch per group, joined by UNION ALL. Each branch reads only its page from the index on
    (group, id), however many rows the group holds (a window function numbering each
    group's rows would read all of them: 200,000 serials for 20 products of 10,000)."""
    id_column = model.id  # type: ignore[attr-defined]
    keys = list(dict.fromkeys(group_keys))
    if not keys:
        return []
    where = list(conditions)
    if after is not None:
        where.append(id_column > after)
    branches = [
        # Each branch is a subquery: SQLite allows no ORDER BY / LIMIT on compound members.
        select(
            select(model)
            .where(group == key, *where)
            .order_by(id_column)
            .limit(first + 1)
            .subquery()
        )
        for key in keys
    ]
    pages = union_all(*branches).subquery() if len(branches) > 1 else branches[0].subquery()
    row = aliased(model, pages)
    query = select(row).order_by(pages.c[group.key], pages.c.id)
    grouped: dict[Any, list[M]] = defaultdict(list)
    for item in await session.scalars(query):
        grouped[getattr(item, group.key)].append(item)
    return [(grouped[key][:first], len(grouped[key]) > first) for key in group_keys]


async def count_rows(session: AsyncSession, query: Select[Any]) -> int:
    """How many rows `query` returns (its order, if any, dropped)."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    return (await session.scalar(counted)) or 0
