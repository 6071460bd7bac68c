"""An import's movements, added to the hash chain without leaving the set-based path.

Opening stock of serials is chained as it is read: each chunk of staged rows takes its
serials' ids, its movements' ids and their hashes (`Sealer`) before it is staged, so the
movements are written by one INSERT … SELECT with nothing read back. The chain's head is
held from the first chunk to the commit (a real import only; a dry run records nothing).

Other imports (expected serials, lots), whose movements name rows that exist only once
the import writes them, read back the SELECT that writes their movements, in chunks of
staged rows in file order, to give each row its id and chain_hash (`insert_movements`);
those are staged too, and the INSERT joins them in. Python sees each movement once, as a
tuple, and sends back only its id and hash.
"""

from collections.abc import Sequence
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
    sealer = Sealer(template, places)
    read_back = source.with_only_columns(*(varying[p] for p in places), row)
    await staging.create(session, seals)
    after = 0  # file rows count from 1
    while rows := (
        await session.execute(read_back.where(row > after).order_by(row).limit(CHUNK_ROWS))
    ).all():
        sealed = await sealer.seal(session, [values[:-1] for values in rows])
        await staging.insert(
            session,
            seals,
            [(values[-1], *seal) for values, seal in zip(rows, sealed, strict=True)],
        )
        after = rows[-1][-1]
    with_seals = source.add_columns(seals.c.id, seals.c.chain_hash).join(seals, seals.c.row == row)
    await session.execute(
        insert(Movement).from_select([*names, "id", "chain_hash"], with_seals.order_by(row))
    )
    await sealer.close(session)
    await staging.drop(session, seals)


class Sealer:
    """Ids and chain hashes for movements that differ only at `places` (positions in
    `chain.CONTENT` after the id's) and are otherwise `template`, given a chunk at a time
    in chain order. The chain's head is locked from the first chunk to the commit, and
    `close` moves it on past the last."""

    def __init__(
        self, template: Sequence[Any], places: Sequence[int], *, ids_only: bool = False
    ) -> None:
        """`ids_only`: every varying value is an id (an int, never None)."""
        shared = chain.Shared(template, [0, *places])
        self._link = shared.link_ids if ids_only else shared.link
        self._head: chain.Head | None = None

    async def seal(
        self, session: AsyncSession, rows: Sequence[Sequence[Any]]
    ) -> list[tuple[int, str]]:
        """(id, chain_hash) of the movements holding each row's values at `places`."""
        if self._head is None:
            self._head = await chain.lock_head(session)
        head = self._head
        ids = await chain.take_ids(session, head, len(rows))
        sealed = []
        last_hash = head.last_hash
        for movement_id, values in zip(ids, rows, strict=True):
            last_hash = self._link(last_hash, (movement_id, *values))
            sealed.append((movement_id, last_hash))
        if ids:
            head.last_id, head.last_hash = ids[-1], last_hash
        return sealed

    async def close(self, session: AsyncSession) -> None:
        if self._head is not None:
            await chain.advance(session, self._head)
