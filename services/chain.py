"""The hash chain over movements: how a row is hashed, and how writers extend the chain.

Each movement's `chain_hash` is SHA-256 over the previous movement's `chain_hash` (64
lowercase hex digits, the genesis hash of 64 zeros for the first) followed by the row's
content (see `content`). Movements are chained in id order, so a writer must know the ids
of its rows before it hashes them: it locks the chain's head (the one row of
`movement_chain`), takes ids above every id written before, hashes its rows in id order
and moves the head to its last row, all in its own transaction. Writers of movements are
serialised by that lock from the moment they take it to their commit (use cases take it at
commit, services/movements.py); on SQLite the write lock already serialises them. The
format is documented in docs/audit.md.
"""

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Movement, MovementChain
from models.movement import CHAIN_HEAD_ID

# Where a transaction keeps the ranges of movement ids it has taken.
_TAKEN_KEY = "trackline.chain.taken"

# The movement columns a hash covers, in the order they are encoded.
CONTENT = (
    "id",
    "kind",
    "product_id",
    "serial_id",
    "lot_id",
    "quantity",
    "from_status",
    "to_status",
    "from_location_id",
    "to_location_id",
    "document_type",
    "document_number",
    "shipment_id",
    "actor",
    "occurred_at",
)
CONTENT_COLUMNS = tuple(Movement.__table__.c[name] for name in CONTENT)


# One encoder for every row: json.dumps with options builds a new one per call.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@functools.lru_cache(maxsize=64)
def _instant(value: datetime) -> str:
    """Rows written together share their time: each distinct one is formatted once."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def content(values: Sequence[Any]) -> bytes:
    """A row's canonical encoding, from its `CONTENT` values in order: a JSON array without
    spaces, UTF-8, non-ASCII characters unescaped; ids and quantities as numbers, enums by
    name, absent values as null, the time (last) as ISO 8601 UTC with microseconds and `Z`."""
    return _encode([*values[:-1], _instant(values[-1])]).encode()


def link(previous: str, values: Sequence[Any]) -> str:
    """The chain_hash of a row whose predecessor's chain_hash is `previous`."""
    return hashlib.sha256(previous.encode("ascii") + content(values)).hexdigest()


@dataclass
class Head:
    """The chain's end as this transaction sees it while holding the lock."""

    last_id: int
    last_hash: str


def _head_query(postgresql: bool) -> Any:
    head = select(MovementChain.last_id, MovementChain.last_hash).where(
        MovementChain.id == CHAIN_HEAD_ID
    )
    # Ids continue after the largest of the head's and the table's: a row ever added behind
    # the chain's back (which `audit verify` then reports) cannot make them collide.
    highest = select(func.max(Movement.id)).scalar_subquery()
    head = head.add_columns(highest.label("highest"))
    return head.with_for_update(of=MovementChain) if postgresql else head


# Built once, by engine: every writer of movements runs these (services/queries.py says why).
_LOCK_HEAD = {postgresql: _head_query(postgresql) for postgresql in (False, True)}
_ADVANCE = {
    postgresql: update(MovementChain)
    .where(MovementChain.id == CHAIN_HEAD_ID)
    .values(
        # On PostgreSQL the id sequence is moved along in the same statement, so that an
        # INSERT that leaves the id to the table still gets a new one.
        last_id=func.setval("movement_id_seq", bindparam("last_id", type_=Integer))
        if postgresql
        else bindparam("last_id"),
        last_hash=bindparam("last_hash"),
    )
    for postgresql in (False, True)
}


_INSERT = insert(Movement)


@functools.cache
def _insert_one_and_advance(columns: frozenset[str]) -> Any:
    """One movement row (bound as `m_<column>`) inserted, in a data-modifying WITH, by the
    statement that moves the head: built once per set of columns. (A multi-row VALUES
    cannot be kept in SQLAlchemy's cache of compiled statements, so several rows go by
    executemany.)"""
    row = insert(Movement).values({c: bindparam(f"m_{c}") for c in sorted(columns)})
    return _ADVANCE[True].add_cte(row.cte("moved"))


async def _on_postgresql(session: AsyncSession) -> bool:
    return (await session.connection()).dialect.name == "postgresql"


async def lock_head(session: AsyncSession) -> Head:
    """Lock the chain's head until commit (a no-op lock on SQLite, whose writers hold the
    database's write lock already) and read it."""
    row = (await session.execute(_LOCK_HEAD[await _on_postgresql(session)])).one()
    return Head(max(row.last_id, row.highest or 0), row.last_hash)


async def take_ids(session: AsyncSession, head: Head, count: int) -> list[int]:
    """`count` new movement ids, ascending, after the head's: only the holder of the head's
    lock takes ids, so each writer's ids are above those of every writer before it. (Ids
    from the table's sequence would cost a round trip more on PostgreSQL.) The transaction
    remembers them as a range (`taken`)."""
    if count:
        ranges: list[tuple[int, int]] = session.info.setdefault(_TAKEN_KEY, [])
        first, last = head.last_id + 1, head.last_id + count
        if ranges and ranges[-1][1] + 1 == first:  # a bulk writer takes ids chunk by chunk
            first = ranges.pop()[0]
        ranges.append((first, last))
    return list(range(head.last_id + 1, head.last_id + count + 1))


def taken(session: AsyncSession) -> list[tuple[int, int]]:
    """The movement ids this transaction has taken so far, as [first, last] ranges: how a
    bulk writer names what it wrote without holding a list of ids."""
    return list(session.info.get(_TAKEN_KEY, ()))


async def advance(session: AsyncSession, head: Head) -> None:
    """Move the stored head to where this transaction's rows end."""
    # Through the connection: the ORM's bulk UPDATE would rebuild the statement each time,
    # and nothing in the session holds the head.
    connection = await session.connection()
    await connection.execute(
        _ADVANCE[connection.dialect.name == "postgresql"],
        {"last_id": head.last_id, "last_hash": head.last_hash},
    )


async def append(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """Insert movement rows (column values by name, without id and chain_hash, but with
    occurred_at: a default filled in later would not be the time hashed) at the end of the
    chain, in the order given, with one executemany (one per set of columns, when rows
    name different ones); a single row on PostgreSQL by the statement that moves the head.
    Returns their ids."""
    head = await lock_head(session)
    ids = await take_ids(session, head, len(rows))
    for movement_id, row in zip(ids, rows, strict=True):
        row["id"] = movement_id
        row["chain_hash"] = head.last_hash = link(head.last_hash, [row.get(c) for c in CONTENT])
    head.last_id = ids[-1]
    # Through the connection, as `advance`: movements never become objects of the session.
    connection = await session.connection()
    if len(rows) == 1 and connection.dialect.name == "postgresql":
        # Most writers write one movement (an order line's pick, say): on PostgreSQL it is
        # inserted by the statement that moves the head, a round trip less.
        values = {f"m_{c}": v for c, v in rows[0].items()}
        values.update(last_id=head.last_id, last_hash=head.last_hash)
        await connection.execute(_insert_one_and_advance(frozenset(rows[0])), values)
        return ids
    by_columns: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(frozenset(row), []).append(row)
    for same in by_columns.values():
        await connection.execute(_INSERT, same)
    await advance(session, head)
    return ids
