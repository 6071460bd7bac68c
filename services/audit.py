"""Verifying the movement history: recompute the hash chain (services/chain.py) in id
order, a chunk at a time, and say where it first breaks."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Movement, MovementChain
from models.movement import CHAIN_HEAD_ID, GENESIS_HASH
from services import chain

CHUNK_ROWS = 10_000


@dataclass(frozen=True)
class Break:
    """Where the chain first fails: the movement, and the hash it should have had next to
    the one it has. A movement missing at the end of the chain is `found` "missing"."""

    movement_id: int
    expected: str
    found: str
    reason: str


@dataclass(frozen=True)
class ChainCheck:
    checked: int  # movements whose hash was recomputed and found right
    last_id: int  # where the chain ends (0 before the first movement)
    last_hash: str
    broken: Break | None

    @property
    def intact(self) -> bool:
        return self.broken is None


async def verify_chain(session: AsyncSession, chunk_rows: int = CHUNK_ROWS) -> ChainCheck:
    """Walk every movement in id order with constant memory and recompute its hash.

    `session` must not have run a statement yet: on PostgreSQL its transaction is made
    REPEATABLE READ, so the head and every chunk come from one snapshot while writers go
    on (on SQLite a read transaction is one snapshot already)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    head = (
        await session.execute(
            select(MovementChain.last_id, MovementChain.last_hash).where(
                MovementChain.id == CHAIN_HEAD_ID
            )
        )
    ).one()
    checked, last_id, previous = 0, 0, GENESIS_HASH
    columns = (*chain.CONTENT_COLUMNS, Movement.chain_hash)
    while rows := (
        await session.execute(
            select(*columns).where(Movement.id > last_id).order_by(Movement.id).limit(chunk_rows)
        )
    ).all():
        for row in rows:
            broken = _check(row, previous, head.last_id)
            if broken is not None:
                return ChainCheck(checked, last_id, previous, broken)
            checked, last_id, previous = checked + 1, row.id, row.chain_hash
    if (last_id, previous) != (head.last_id, head.last_hash):
        reason = f"the chain ends at movement {last_id}; its head names movement {head.last_id}"
        return ChainCheck(
            checked, last_id, previous, Break(head.last_id, head.last_hash, "missing", reason)
        )
    return ChainCheck(checked, last_id, previous, None)


def _check(row: Row[Any], previous: str, head_id: int) -> Break | None:
    """What is wrong with a movement whose predecessor's chain_hash is `previous`."""
    if row.id > head_id:
        # Written after the head's last movement, so not by a writer that kept the chain.
        reason = f"movement {row.id} comes after the chain's head, movement {head_id}"
        return Break(row.id, "no movement", row.chain_hash, reason)
    expected = chain.link(previous, row[:-1])
    if row.chain_hash != expected:
        reason = "its content or its place in the chain differs from when it was written"
        return Break(row.id, expected, row.chain_hash, reason)
    return None
