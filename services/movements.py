"""Writing and reading the audit trail."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Enum, Row, bindparam, select, type_coerce
from sqlalchemy import event as orm_event
from sqlalchemy.ext.asyncio import AsyncSession, async_session
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import KeyedColumnElement
from sqlalchemy.util import await_only

from models import Location, Movement, MovementKind, SerialStatus
from models.base import MembersOnRead, utc_now
from services import chain
from services.events import (
    Event,
    MovementFact,
    collected_events,
    is_recording,
    note_movements,
    with_movement_ids,
)


@dataclass(frozen=True)
class Document:
    """The business document behind a movement, e.g. Document("RECEIVING_ORDER", "ASN-1")."""

    type: str
    number: str


@dataclass(frozen=True)
class MovementRecord:
    kind: MovementKind
    product_id: int
    quantity: int
    serial_id: int | None = None
    lot_id: int | None = None
    from_status: SerialStatus | None = None
    to_status: SerialStatus | None = None
    from_location_id: int | None = None
    to_location_id: int | None = None
    shipment_id: int | None = None
    # This row's own document, instead of the one the whole call names (a recall hold
    # names each lot's own when the caller gives no recall reference).
    document: Document | None = None
    # Known to the caller for serials (their warehouse); otherwise found from the locations
    # when live-update events are built (services/events.py).
    warehouse_id: int | None = None


async def record_movements(
    session: AsyncSession, records: Sequence[MovementRecord], document: Document, actor: str
) -> None:
    """Note movement rows for this transaction. They are written to the hash chain when it
    commits (`write_pending`), all in one executemany, and never updated afterwards.

    Why at commit: a writer of movements holds the chain's head from its insert to its
    commit, and every writer waits for it (services/chain.py). Written at the end, the
    wait covers the insert and the commit only, not the rest of the use case, and nothing
    is locked after the head, so a writer holding it never waits for another row.
    """
    if not records:
        return
    now = utc_now()
    rows: list[dict[str, Any]] = [
        {
            "kind": r.kind,
            "product_id": r.product_id,
            "serial_id": r.serial_id,
            "lot_id": r.lot_id,
            "quantity": r.quantity,
            "from_status": r.from_status,
            "to_status": r.to_status,
            "from_location_id": r.from_location_id,
            "to_location_id": r.to_location_id,
            "shipment_id": r.shipment_id,
            "document_type": (r.document or document).type,
            "document_number": (r.document or document).number,
            "actor": actor,
            "occurred_at": now,
        }
        for r in records
    ]
    pending: _Pending = session.info.setdefault(_PENDING_KEY, _Pending())
    pending.rows.extend(rows)
    pending.records.extend(records)


@dataclass
class _Pending:
    rows: list[dict[str, Any]] = field(default_factory=list)
    records: list[MovementRecord] = field(default_factory=list)
    # Noted for the transaction's events before they had ids (`write_with_events`).
    noted: bool = False


_PENDING_KEY = "trackline.pending_movements"


async def write_pending(session: AsyncSession) -> list[int]:
    """Append the transaction's noted movements to the chain, in the order noted, and
    return their ids. Runs by itself when the transaction commits; `write_with_events`
    runs it a moment earlier, so that the events it publishes can name the movements.

    When the transaction's changes will be published (see services/events.py), each event
    names the movements behind it by the ids the chain gave them."""
    pending: _Pending | None = session.info.pop(_PENDING_KEY, None)
    if pending is None:
        return []
    ids = await chain.append(session, pending.rows)
    if is_recording(session) and not pending.noted:
        note_movements(session, _facts(ids, pending.records))
    return ids


async def write_with_events(session: AsyncSession) -> list[Event]:
    """The transaction's events, then its pending movements appended to the chain, and the
    events naming them by the ids the chain gave. The events are read first (a flush of
    order statuses and, for movements of lots, the warehouses of their locations): from
    the append to the commit every other writer of movements waits for the chain's head,
    and a server busy with other requests takes a while to send each next statement, so
    only the append, the events' NOTIFY and the commit stay in that wait."""
    pending: _Pending | None = session.info.get(_PENDING_KEY)
    provisional: list[int] = []
    if pending is not None and is_recording(session):
        # Negative, ascending in the order noted, as the real ids will be.
        provisional = list(range(-len(pending.records), 0))
        note_movements(session, _facts(provisional, pending.records))
        pending.noted = True
    events = await collected_events(session)
    ids = await write_pending(session)
    if not provisional:  # nothing pending, or nobody recording
        return events
    return with_movement_ids(events, dict(zip(provisional, ids, strict=True)))


def _facts(ids: Sequence[int], records: Sequence[MovementRecord]) -> list[MovementFact]:
    return [
        MovementFact(
            movement_id,
            r.product_id,
            r.serial_id,
            r.lot_id,
            r.from_status,
            r.to_status,
            r.from_location_id,
            r.to_location_id,
            r.warehouse_id,
        )
        for movement_id, r in zip(ids, records, strict=True)
    ]


@orm_event.listens_for(Session, "before_commit")
def _write_pending_at_commit(session: Session) -> None:
    # Commit runs inside SQLAlchemy's greenlet for an AsyncSession: the async write can be
    # awaited from this synchronous hook.
    if _PENDING_KEY not in session.info:
        return
    proxy = async_session(session)
    if proxy is None:  # a plain synchronous Session: Trackline never writes through one
        raise RuntimeError("movements are written through an AsyncSession")
    await_only(write_pending(proxy))


@orm_event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


# A movement as read for display: the movement table's columns by name. Histories are read
# by the thousand and never changed, so they skip the ORM's identity map and change
# tracking (about half of the cost of reading 10,000 movements).
MovementRow = Row[Any]


def _read_column(column: KeyedColumnElement[Any]) -> ColumnElement[Any]:
    """The column as histories read it: enums through `MembersOnRead`, under their names."""
    if isinstance(column.type, Enum) and column.type.enum_class is not None:
        return type_coerce(column, MembersOnRead(column.type.enum_class)).label(column.name)
    return column


_MOVEMENT_COLUMNS = tuple(map(_read_column, Movement.__table__.columns))
MOVEMENT_COLUMN_NAMES = tuple(column.name for column in _MOVEMENT_COLUMNS)


# Built once (services/queries.py says why): the histories of many serials or lots.
_HISTORIES = {
    key.key: select(*_MOVEMENT_COLUMNS)
    .where(key.in_(bindparam("keys", expanding=True)))
    .order_by(Movement.id)
    for key in (Movement.serial_id, Movement.lot_id)
}


async def movements_by_serial_ids(
    session: AsyncSession, serial_ids: Sequence[int]
) -> list[list[MovementRow]]:
    """Each serial's movements, oldest first, in the order of `serial_ids` (one query)."""
    return await _movements_by(session, Movement.serial_id, serial_ids)


async def movements_by_lot_ids(
    session: AsyncSession, lot_ids: Sequence[int]
) -> list[list[MovementRow]]:
    """Each lot's movements, oldest first, in the order of `lot_ids` (one query)."""
    return await _movements_by(session, Movement.lot_id, lot_ids)


async def _movements_by(
    session: AsyncSession, key: InstrumentedAttribute[Any], keys: Sequence[int]
) -> list[list[MovementRow]]:
    # Through the session's connection, not the ORM: plain columns need none of its
    # per-row processing (a tenth of the time of reading 10,000 movements).
    connection = await session.connection()
    rows = await connection.execute(_HISTORIES[key.key], {"keys": list(keys)})
    grouped: dict[int, list[MovementRow]] = {k: [] for k in keys}
    position = MOVEMENT_COLUMN_NAMES.index(key.key)
    for row in rows:
        grouped[row[position]].append(row)
    return [grouped[k] for k in keys]


# One serial's history with the locations its movements name, in one statement: the look-up
# of a scanned serial shows where each movement went, and a second read for those few
# locations cost a sixth of the look-up (docs/performance.md, B4). Not for many serials:
# there the locations are a handful shared by thousands of movements, and one read of them
# after the history is cheaper than two joins and ten more columns on every row.
_LOCATION_COLUMNS = tuple(Location.__table__.columns)
_LOCATION_COLUMN_NAMES = tuple(column.name for column in _LOCATION_COLUMNS)
_FROM, _TO = (Location.__table__.alias(name) for name in ("from_location", "to_location"))
_HISTORY_WITH_LOCATIONS = (
    select(
        *_MOVEMENT_COLUMNS,
        *(_FROM.c[name].label(f"from_location_{name}") for name in _LOCATION_COLUMN_NAMES),
        *(_TO.c[name].label(f"to_location_{name}") for name in _LOCATION_COLUMN_NAMES),
    )
    .select_from(
        Movement.__table__.outerjoin(_FROM, _FROM.c.id == Movement.from_location_id).outerjoin(
            _TO, _TO.c.id == Movement.to_location_id
        )
    )
    .where(Movement.serial_id == bindparam("serial"))
    .order_by(Movement.id)
)


async def history_with_locations(
    session: AsyncSession, serial_id: int
) -> tuple[list[MovementRow], list[Location]]:
    """A serial's movements, oldest first (rows with the movement table's columns first,
    then the locations'), and each location they name, once."""
    connection = await session.connection()
    rows = (await connection.execute(_HISTORY_WITH_LOCATIONS, {"serial": serial_id})).all()
    width = len(_LOCATION_COLUMNS)
    starts = (len(_MOVEMENT_COLUMNS), len(_MOVEMENT_COLUMNS) + width)
    locations: dict[int, Location] = {}
    for row in rows:
        for start in starts:
            location_id = row[start]
            if location_id is not None and location_id not in locations:
                values = zip(_LOCATION_COLUMN_NAMES, row[start : start + width], strict=True)
                # Not in any session: read-only, like the rows the location loader reads.
                locations[location_id] = Location(**dict(values))
    return list(rows), list(locations.values())
