"""An import's movements, added to the hash chain without leaving the set-based path.

The movements are still written by one INSERT … SELECT from the staging tables. Before it,
the same SELECT is read back in chunks of staged rows, in file order, to give each row its
id and chain_hash (services/chain.py); those are staged too, and the INSERT joins them in.
Python sees each movement once, as a tuple, and sends back only its id and hash.
"""

from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Movement
from services import chain
from services.imports import staging

CHUNK_ROWS = 10_000


async def insert_movements(
    session: AsyncSession, source: Select[Any], row: ColumnElement[int]
) -> None:
    """Write one movement per row of `source`, whose columns are labelled with movement
    column names (any of the hashed ones but id), at the end of the chain in the order of
    `row`, the staged row number."""
    seals = staging.movement_seals
    names = [c.name for c in source.selected_columns]
    # Literal columns (kind, document, actor, time) are the same on every row: only the
    # others are read back, in hash order, and each row's hash encodes only those.
    template: list[Any] = [None] * len(chain.CONTENT)
    varying: dict[int, ColumnElement[Any]] = {}
    for column in source.selected_columns:
        place = chain.CONTENT.index(column.name)
        element = getattr(column, "element", None)
        if isinstance(element, BindParameter):
            template[place] = element.value
        else:
            varying[place] = column
    places = sorted(varying)
    shared = chain.Shared(template, [0, *places])
    read_back = source.with_only_columns(*(varying[p] for p in places), row)
    await staging.create(session, seals)
    head = await chain.lock_head(session)
    after = 0  # file rows count from 1
    while rows := (
        await session.execute(read_back.where(row > after).order_by(row).limit(CHUNK_ROWS))
    ).all():
        ids = await chain.take_ids(session, head, len(rows))
        sealed = []
        last_hash = head.last_hash
        for movement_id, values in zip(ids, rows, strict=True):
            last_hash = shared.link(last_hash, (movement_id, *values[:-1]))
            sealed.append((values[-1], movement_id, last_hash))
        head.last_id, head.last_hash = ids[-1], last_hash
        await staging.insert(session, seals, sealed)
        after = rows[-1][-1]
    with_seals = source.add_columns(seals.c.id, seals.c.chain_hash).join(seals, seals.c.row == row)
    await session.execute(
        insert(Movement).from_select([*names, "id", "chain_hash"], with_seals.order_by(row))
    )
    await chain.advance(session, head)
    await staging.drop(session, seals)
