"""The hash chain over movements: how a row is hashed, and how writers extend the chain.

Each movement's `chain_hash` is SHA-256 over the previous movement's `chain_hash` (64
lowercase hex digits, the genesis hash of 64 zeros for the first) followed by the row's
content (see `content`). Movements are chained in id order, so a writer must know the ids
of its rows before it hashes them: it locks the chain's head (the one row of
`movement_chain`), takes ids above every id written before, hashes its rows in id order
and moves the head to its last row, all in its own transaction (on PostgreSQL, for a
single row, in one statement that hashes with the database's sha256). Writers of
movements are serialised by that lock from the moment they take it to their commit (use
cases take it at commit, services/movements.py); on SQLite the write lock already
serialises them. The format is documented in docs/audit.md.
"""

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, Text, bindparam, cast, func, insert, select, update
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


class Shared:
    """`link` for many rows whose content differs only at `places` (ascending positions in
    `CONTENT`, the id's among them, the time's not): the rest, taken from `template`, is
    encoded once, and each row's ids and nulls are written without the JSON encoder. An
    import links a hundred thousand rows this way in under half the time `link` takes."""

    def __init__(self, template: Sequence[Any], places: Sequence[int]) -> None:
        last = len(CONTENT) - 1
        if list(places) != sorted(set(places)) or last in places:
            raise ValueError(f"places must ascend and leave out the time: {places}")
        encoded = [_encode(v) for v in template[:last]] + [_encode(_instant(template[last]))]
        pieces, piece = [], "["
        for place, text in enumerate(encoded):
            piece += "," if place else ""
            if place in places:
                pieces.append(piece)
                piece = ""
            else:
                piece += text
        pieces.append(piece + "]")
        self._format = "%s".join(p.replace("%", "%%") for p in pieces)

    def link(self, previous: str, values: Sequence[Any]) -> str:
        """`link(previous, row)` for the row that holds `values` at `places`."""
        text = self._format % tuple([str(v) if type(v) is int else _encode(v) for v in values])
        return hashlib.sha256((previous + text).encode()).hexdigest()

    def link_ids(self, previous: str, ids: tuple[int, ...]) -> str:
        """`link` for values that are all ids: ints (never bools or None), which `%s`
        writes as JSON does."""
        return hashlib.sha256((previous + self._format % ids).encode()).hexdigest()


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


def content_after_id(values: Sequence[Any]) -> str:
    """`content` of a row without its opening `[` and id (`values[0]`, ignored): what
    PostgreSQL appends to the id it chooses when it hashes the row (`_APPEND_ONE`)."""
    return "," + _encode([*values[1:-1], _instant(values[-1])])[1:]


# Every column a writer may give, all bound (as null where a row has no value): one
# statement for every set of columns. None has a default: occurred_at is always given.
_COLUMNS_BUT_ID = [c for c in Movement.__table__.c if c.name not in ("id", "chain_hash")]


def _append_one_query() -> Any:
    """PostgreSQL: one movement row appended to the chain by one statement, a round trip
    and a statement fewer than reading the head first; its lock is held from this statement
    to the commit. The head is locked and read as `lock_head` reads it; the row's id
    follows it, and its hash is SHA-256 over the previous hash, `[`, the id and the rest of
    the row's encoding (bound as `rest`, made in Python by `content_after_id`): the bytes
    `link` hashes. The row (its columns bound as `m_<column>`) is inserted and the head
    moved on, with the id sequence, in the same statement, which returns the row's id."""
    highest = select(func.max(Movement.id)).scalar_subquery()
    head = (
        select(
            (func.greatest(MovementChain.last_id, func.coalesce(highest, 0)) + 1).label("id"),
            MovementChain.last_hash.label("previous"),
        )
        .where(MovementChain.id == CHAIN_HEAD_ID)
        .with_for_update(of=MovementChain)
        .cte("head")
    )
    encoded = head.c.previous + "[" + cast(head.c.id, Text) + bindparam("rest", type_=Text)
    digest = func.encode(func.sha256(func.convert_to(encoded, "UTF8")), "hex")
    linked = select(head.c.id, digest.label("hash")).cte("linked")
    row = insert(Movement).from_select(
        [*_COLUMNS_BUT_ID, "id", "chain_hash"],
        select(
            *(bindparam(f"m_{c.name}", type_=c.type) for c in _COLUMNS_BUT_ID),
            linked.c.id,
            linked.c.hash,
        ),
    )
    return (
        update(MovementChain)
        .where(MovementChain.id == CHAIN_HEAD_ID)
        .values(
            last_id=func.setval("movement_id_seq", select(linked.c.id).scalar_subquery()),
            last_hash=select(linked.c.hash).scalar_subquery(),
        )
        .add_cte(row.cte("moved"))
        .returning(MovementChain.last_id)
    )


_APPEND_ONE = _append_one_query()


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
        _remember(session, head.last_id + 1, head.last_id + count)
    return list(range(head.last_id + 1, head.last_id + count + 1))


def _remember(session: AsyncSession, first: int, last: int) -> None:
    ranges: list[tuple[int, int]] = session.info.setdefault(_TAKEN_KEY, [])
    if ranges and ranges[-1][1] + 1 == first:  # a bulk writer takes ids chunk by chunk
        first = ranges.pop()[0]
    ranges.append((first, last))


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
    connection = await session.connection()
    if len(rows) == 1 and connection.dialect.name == "postgresql":
        # Most writers write one movement (an order line's pick, say).
        [row] = rows
        values = {f"m_{c.name}": row.get(c.name) for c in _COLUMNS_BUT_ID}
        values["rest"] = content_after_id([None, *(row.get(c) for c in CONTENT[1:])])
        row["id"] = (await connection.execute(_APPEND_ONE, values)).scalar_one()
        _remember(session, row["id"], row["id"])
        return [row["id"]]
    head = await lock_head(session)
    ids = await take_ids(session, head, len(rows))
    for movement_id, row in zip(ids, rows, strict=True):
        row["id"] = movement_id
        row["chain_hash"] = head.last_hash = link(head.last_hash, [row.get(c) for c in CONTENT])
    head.last_id = ids[-1]
    # Through the connection, as `advance`: movements never become objects of the session.
    by_columns: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(frozenset(row), []).append(row)
    for same in by_columns.values():
        await connection.execute(_INSERT, same)
    await advance(session, head)
    return ids
