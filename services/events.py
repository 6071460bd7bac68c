"""Live updates: what a write changed, recorded during its transaction and published after
it commits.

A use case never publishes. While a write transaction runs, `record_movements` notes each
movement it wrote and an after-flush hook notes order status changes, on the session
(`session.info`). `Context.write()` turns the notes into `Event`s just before commit, lets
the bus stage them inside the transaction (PostgreSQL: `pg_notify`, delivered only on
commit) and, once committed, hands them over (in-process: straight to the subscribers). A
refusal or error rolls back and publishes nothing.

Events are small and carry ids only; subscribers load the current state themselves.
Every subscriber has a bounded queue: one that falls behind is closed with `FellBehind`
rather than allowed to grow without limit (the policy is in docs/architecture.md).
"""

import asyncio
import enum
import json
import logging
from collections import defaultdict
from collections.abc import (
    AsyncGenerator,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Final

from sqlalchemy import event as orm_event
from sqlalchemy import inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from models import Location, Movement, OutboundOrder, ReceivingOrder, Serial, SerialStatus
from services.queries import key_values

log = logging.getLogger(__name__)

# Where a write transaction keeps its notes (`Session.info` is the AsyncSession's too).
_NOTES_KEY: Final = "trackline.events"
DEFAULT_MAX_QUEUE: Final = 1000
DEFAULT_MAX_SUBSCRIBERS: Final = 10_000
# Movements read back at a time when a bulk write's events are delivered.
RANGE_SLICE: Final = 10_000


class EventKind(enum.StrEnum):
    SERIAL_STATUS = "SERIAL_STATUS"
    LOT_STOCK = "LOT_STOCK"
    RECEIVING_ORDER = "RECEIVING_ORDER"
    ORDER = "ORDER"


@dataclass(frozen=True, slots=True)
class Event:
    """One object changed by one committed transaction.

    `subject_id` is the serial, lot, receiving order or (outbound) order; `movement_ids` the
    movement rows the transaction wrote for it, oldest first (none for order events);
    statuses are the object's status before and after the transaction (serials and orders).
    """

    kind: EventKind
    subject_id: int
    warehouse_id: int | None = None
    product_id: int | None = None
    movement_ids: tuple[int, ...] = ()
    from_status: str | None = None
    to_status: str | None = None
    actor: str = ""


# ---------------------------------------------------------------------------------------
# Recording during the transaction


@dataclass(frozen=True, slots=True)
class MovementFact:
    """What an event needs to know of one movement row."""

    id: int
    product_id: int
    serial_id: int | None
    lot_id: int | None
    from_status: SerialStatus | None
    to_status: SerialStatus | None
    from_location_id: int | None
    to_location_id: int | None
    warehouse_id: int | None = None


@dataclass
class _Notes:
    actor: str = ""
    movements: list[MovementFact] = field(default_factory=list)
    # (kind, order id) -> [warehouse id, status before the transaction, status now]
    orders: dict[tuple[EventKind, int], list[Any]] = field(default_factory=dict)


def start_recording(session: AsyncSession, actor: str) -> None:
    """Note this transaction's changes from now on (called by `Context.write()`)."""
    session.info[_NOTES_KEY] = _Notes(actor)


def is_recording(session: AsyncSession) -> bool:
    """Whether anyone will publish this transaction's changes; without a bus, use cases
    skip the small extra work of noting them."""
    return _NOTES_KEY in session.info


def note_movements(session: AsyncSession, facts: Iterable[MovementFact]) -> None:
    notes: _Notes | None = session.info.get(_NOTES_KEY)
    if notes is not None:
        notes.movements.extend(facts)


_ORDER_KINDS: Final = {ReceivingOrder: EventKind.RECEIVING_ORDER, OutboundOrder: EventKind.ORDER}


@orm_event.listens_for(Session, "after_flush")
def _note_order_statuses(session: Session, _flush_context: Any) -> None:
    """Order statuses are set in many places; the flush sees every change of them."""
    notes: _Notes | None = session.info.get(_NOTES_KEY)
    if notes is None:
        return
    for obj in (*session.new, *session.dirty):
        kind = _ORDER_KINDS.get(type(obj))
        if kind is None:
            continue
        # Read from the instance's dict: nothing here may trigger a load mid-flush.
        state = inspect(obj)
        history = state.attrs.status.history
        status, warehouse_id = state.dict.get("status"), state.dict.get("warehouse_id")
        key = (kind, state.dict["id"])
        if obj in session.new:
            notes.orders.setdefault(key, [warehouse_id, None, status])[2] = status
        elif history.added:
            before = history.deleted[0] if history.deleted else None
            notes.orders.setdefault(key, [warehouse_id, before, status])[2] = status


def note_order_status(
    session: AsyncSession, order_id: int, warehouse_id: int, before: object, after: object
) -> None:
    """An order's status written by a statement of its own, which the flush does not see."""
    notes: _Notes | None = session.info.get(_NOTES_KEY)
    if notes is not None:
        key = (EventKind.ORDER, order_id)
        notes.orders.setdefault(key, [warehouse_id, before, after])[2] = after


async def collected_events(session: AsyncSession) -> list[Event]:
    """The events of this transaction, read just before it commits (and then forgotten)."""
    if _NOTES_KEY not in session.info:
        return []
    await session.flush()  # order statuses set since the last flush
    notes: _Notes = session.info.pop(_NOTES_KEY)
    events = await events_from_movements(session, notes.movements, notes.actor)
    for (kind, order_id), (warehouse_id, before, after) in notes.orders.items():
        if before != after:
            events.append(
                Event(
                    kind,
                    order_id,
                    warehouse_id,
                    from_status=None if before is None else str(before),
                    to_status=None if after is None else str(after),
                    actor=notes.actor,
                )
            )
    return events


def with_movement_ids(events: Sequence[Event], ids: Mapping[int, int]) -> list[Event]:
    """`events` with the movement ids `ids` maps replaced by what they map to."""
    if not ids:
        return list(events)
    return [
        replace(e, movement_ids=tuple(ids.get(i, i) for i in e.movement_ids))
        if e.movement_ids
        else e
        for e in events
    ]


async def events_from_movements(
    session: AsyncSession, facts: Sequence[MovementFact], actor: str
) -> list[Event]:
    """One event per serial and per lot that the movements touched, in movement order.

    A serial's event spans all its movements of the transaction (status before the first,
    after the last); a lot's event lists every move of it (a putaway split over two bins is
    two movements). Untracked quantities have no event of their own.
    """
    wanted = {
        location_id
        for f in facts
        if f.warehouse_id is None
        for location_id in (f.from_location_id, f.to_location_id)
        if location_id is not None
    }
    warehouse_of: dict[int, int] = {}
    if wanted:
        warehouse_of = await key_values(
            session,
            select(Location.id, Location.warehouse_id).where(Location.id.in_(sorted(wanted))),
        )

    groups: dict[tuple[EventKind, int], list[MovementFact]] = defaultdict(list)
    for fact in sorted(facts, key=lambda f: f.id):
        if fact.serial_id is not None:
            groups[(EventKind.SERIAL_STATUS, fact.serial_id)].append(fact)
        elif fact.lot_id is not None:
            groups[(EventKind.LOT_STOCK, fact.lot_id)].append(fact)

    events = []
    for (kind, subject_id), group in groups.items():
        first, last = group[0], group[-1]
        warehouse_id = next(
            (
                w
                for f in group
                for w in (
                    f.warehouse_id,
                    warehouse_of.get(f.to_location_id or 0),
                    warehouse_of.get(f.from_location_id or 0),
                )
                if w is not None
            ),
            None,
        )
        serial = kind is EventKind.SERIAL_STATUS
        events.append(
            Event(
                kind,
                subject_id,
                warehouse_id,
                last.product_id,
                tuple(f.id for f in group),
                from_status=str(first.from_status) if serial and first.from_status else None,
                to_status=str(last.to_status) if serial and last.to_status else None,
                actor=actor,
            )
        )
    return events


# ---------------------------------------------------------------------------------------
# Subscribers and the bus


class FellBehind(Exception):
    """The subscriber did not keep up: its queue filled, so it was closed (and its queued
    events dropped) rather than allowed to hold unbounded memory. Re-read and subscribe
    again."""


class TooManySubscribers(Exception):
    """The process already serves its maximum number of subscriptions."""


Accepts = Callable[[Event], bool]


class Subscriber:
    """One subscription's bounded queue. Use as a context manager: leaving it unsubscribes."""

    def __init__(
        self, bus: "EventBus", kinds: frozenset[EventKind], accepts: Accepts, max_queue: int
    ) -> None:
        self._bus = bus
        self.kinds = kinds
        self.accepts = accepts
        self.max_queue = max_queue
        # None wakes the reader: closed, or fallen behind (then `_error` is set).
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(max_queue + 1)
        self._error: FellBehind | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def offer(self, event: Event) -> None:
        """Queue `event` if this subscriber wants it; never blocks the publisher."""
        if self._closed or not self.accepts(event):
            return
        if self._queue.qsize() >= self.max_queue:
            self.fail(
                FellBehind(f"more than {self.max_queue} events were waiting for this subscriber")
            )
            return
        self._queue.put_nowait(event)

    def fail(self, error: FellBehind) -> None:
        """Close this subscriber; its reader gets `error` once it has read what it had."""
        if self._closed:
            return
        self._error = error
        self._bus.dropped_subscribers += 1
        self.close()

    def close(self) -> None:
        """Stop delivery, free the queue and wake the reader."""
        if self._closed:
            return
        self._closed = True
        self._bus._unsubscribe(self)
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def batches(self, limit: int = 100) -> AsyncGenerator[list[Event], None]:
        """What has arrived, up to `limit` at a time, as it arrives; ends when the
        subscriber is closed, and raises `FellBehind` if it was closed for falling behind."""
        while True:
            first = await self._queue.get()
            batch = []
            item = first
            while item is not None:
                batch.append(item)
                if len(batch) >= limit or self._queue.empty():
                    break
                item = self._queue.get_nowait()
            if batch:
                yield batch
            if item is None:
                if self._error is not None:
                    raise self._error
                return

    def __enter__(self) -> "Subscriber":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class EventBus:
    """Fan-out of committed events to subscribers of this process. Subclasses decide how
    events reach it: straight from the committing request, or through PostgreSQL."""

    transport: ClassVar[str] = "in-process"
    enabled: ClassVar[bool] = True

    def __init__(
        self,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        max_subscribers: int = DEFAULT_MAX_SUBSCRIBERS,
    ) -> None:
        self.max_queue = max_queue
        self.max_subscribers = max_subscribers
        self._by_kind: dict[EventKind, set[Subscriber]] = {kind: set() for kind in EventKind}
        self._subscribers: set[Subscriber] = set()
        self.delivered_events = 0
        self.dropped_subscribers = 0

    # -- subscribing -----------------------------------------------------------------------

    def subscribe(
        self,
        kinds: Collection[EventKind],
        accepts: Accepts | None = None,
        *,
        max_queue: int | None = None,
    ) -> Subscriber:
        if len(self._subscribers) >= self.max_subscribers:
            raise TooManySubscribers(
                f"this server already serves {self.max_subscribers} subscriptions"
            )
        subscriber = Subscriber(
            self, frozenset(kinds), accepts or _everything, max_queue or self.max_queue
        )
        self._subscribers.add(subscriber)
        for kind in subscriber.kinds:
            self._by_kind[kind].add(subscriber)
        return subscriber

    def _unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        for kind in subscriber.kinds:
            self._by_kind[kind].discard(subscriber)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def deliver(self, events: Iterable[Event]) -> None:
        """Offer committed events to this process's subscribers, in order."""
        for event in events:
            self.delivered_events += 1
            for subscriber in list(self._by_kind[event.kind]):
                subscriber.offer(event)

    # -- publishing ------------------------------------------------------------------------

    async def stage(self, session: AsyncSession, events: Sequence[Event]) -> None:
        """Called inside the write transaction, just before it commits."""

    def committed(self, events: Sequence[Event]) -> None:
        """Called once the transaction that produced `events` has committed."""

    # Bulk writes (imports) name their movements by id ranges: an import of a million
    # serials must not build a million events inside its transaction, nor hold them in memory.

    async def stage_movements(
        self, session: AsyncSession, ranges: Sequence[tuple[int, int]], actor: str
    ) -> None:
        """Called inside a bulk write transaction, just before it commits."""

    async def movements_committed(
        self,
        read_sessions: async_sessionmaker[AsyncSession],
        ranges: Sequence[tuple[int, int]],
        actor: str,
    ) -> None:
        """Called once the bulk write that wrote the movements in `ranges` has committed."""

    async def deliver_movements(
        self,
        read_sessions: async_sessionmaker[AsyncSession],
        ranges: Sequence[tuple[int, int]],
        actor: str,
    ) -> None:
        """Offer the events of committed movements, read back a slice of ids at a time. A
        serial or lot whose movements straddle two slices is reported twice; subscribers
        load its current state either way. Nothing is read while nobody listens for it."""
        for part in slice_ranges(ranges, RANGE_SLICE):
            if not (self._by_kind[EventKind.SERIAL_STATUS] or self._by_kind[EventKind.LOT_STOCK]):
                return
            async with read_sessions() as session:
                self.deliver(await events_for_movement_ranges(session, part, actor))

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        for subscriber in list(self._subscribers):
            subscriber.close()

    def health(self) -> dict[str, Any]:
        return {
            "transport": self.transport,
            "subscribers": self.subscriber_count,
            "deliveredEvents": self.delivered_events,
            "droppedSubscribers": self.dropped_subscribers,
        }


def _everything(_event: Event) -> bool:
    return True


class NullBus(EventBus):
    """No live updates: writes record nothing and subscriptions never receive anything."""

    transport: ClassVar[str] = "none"
    enabled: ClassVar[bool] = False


NULL_BUS: Final = NullBus()


class InProcessBus(EventBus):
    """One process (the SQLite default): committed events go straight to the subscribers."""

    def committed(self, events: Sequence[Event]) -> None:
        self.deliver(events)

    async def movements_committed(
        self,
        read_sessions: async_sessionmaker[AsyncSession],
        ranges: Sequence[tuple[int, int]],
        actor: str,
    ) -> None:
        await self.deliver_movements(read_sessions, ranges, actor)


# ---------------------------------------------------------------------------------------
# Events as PostgreSQL NOTIFY payloads (ids only; the payload must stay under 8000 bytes)

CHANNEL: Final = "trackline_events"
MAX_PAYLOAD_BYTES: Final = 7500
# Beyond this many notifications' worth of events, a commit sends a summary instead: the
# ranges of its movement ids, which the listeners read back from the movement table.
MAX_FULL_NOTIFICATIONS: Final = 4
_KIND_CODES: Final = {
    EventKind.SERIAL_STATUS: "S",
    EventKind.LOT_STOCK: "L",
    EventKind.RECEIVING_ORDER: "R",
    EventKind.ORDER: "O",
}
_KINDS_BY_CODE: Final = {code: kind for kind, code in _KIND_CODES.items()}


def _encode(event: Event) -> list[Any]:
    return [
        _KIND_CODES[event.kind],
        event.subject_id,
        event.warehouse_id,
        event.product_id,
        list(event.movement_ids),
        event.from_status,
        event.to_status,
    ]


def _decode(item: list[Any], actor: str) -> Event:
    code, subject_id, warehouse_id, product_id, movement_ids, from_status, to_status = item
    return Event(
        _KINDS_BY_CODE[code],
        subject_id,
        warehouse_id,
        product_id,
        tuple(movement_ids),
        from_status,
        to_status,
        actor,
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _chunks(head: dict[str, Any], key: str, items: Sequence[Any]) -> list[str]:
    """`head` plus as many of `items` under `key` as fit in one payload, as often as needed."""
    payloads: list[str] = []
    base = len(_dumps({**head, key: []}).encode())
    chunk: list[Any] = []
    size = base
    for item in items:
        item_size = len(_dumps(item).encode()) + 1
        if chunk and size + item_size > MAX_PAYLOAD_BYTES:
            payloads.append(_dumps({**head, key: chunk}))
            chunk, size = [], base
        chunk.append(item)
        size += item_size
    if chunk:
        payloads.append(_dumps({**head, key: chunk}))
    return payloads


def slice_ranges(ranges: Sequence[tuple[int, int]], size: int) -> Iterator[list[tuple[int, int]]]:
    """`ranges` cut into parts of at most `size` ids each, in order."""
    part: list[tuple[int, int]] = []
    room = size
    for lo, hi in ranges:
        while lo <= hi:
            upto = min(hi, lo + room - 1)
            part.append((lo, upto))
            room -= upto - lo + 1
            lo = upto + 1
            if room == 0:
                yield part
                part, room = [], size
    if part:
        yield part


def id_ranges(ids: Iterable[int]) -> list[list[int]]:
    """[[first, last], ...] covering exactly `ids` (ids of one insert are mostly consecutive)."""
    ranges: list[list[int]] = []
    for i in sorted(set(ids)):
        if ranges and ranges[-1][1] == i - 1:
            ranges[-1][1] = i
        else:
            ranges.append([i, i])
    return ranges


def encode_notifications(events: Sequence[Event]) -> list[str]:
    """NOTIFY payloads for one commit's events: the events themselves while they fit in a
    few notifications; otherwise a summary of movement id ranges plus the order events."""
    if not events:
        return []
    head = {"v": 1, "a": events[0].actor}
    full = _chunks(head, "e", [_encode(e) for e in events])
    if len(full) <= MAX_FULL_NOTIFICATIONS:
        return full
    orders = [_encode(e) for e in events if not e.movement_ids]
    ranges = id_ranges(i for e in events for i in e.movement_ids)
    return _chunks(head, "e", orders) + _chunks(head, "m", ranges)


def encode_movement_ranges(ranges: Sequence[tuple[int, int]], actor: str) -> list[str]:
    """NOTIFY payloads naming a bulk write's movements by id ranges (a summary)."""
    return _chunks({"v": 1, "a": actor}, "m", [[lo, hi] for lo, hi in ranges])


@dataclass(frozen=True)
class Notification:
    """A decoded payload: events, or movement id ranges still to be read (a summary)."""

    actor: str
    events: list[Event]
    movement_ranges: list[tuple[int, int]]


def decode_notification(payload: str) -> Notification:
    data = json.loads(payload)
    actor = str(data.get("a", ""))
    return Notification(
        actor,
        [_decode(item, actor) for item in data.get("e", [])],
        [(int(lo), int(hi)) for lo, hi in data.get("m", [])],
    )


async def events_for_movement_ranges(
    session: AsyncSession, ranges: Sequence[tuple[int, int]], actor: str
) -> list[Event]:
    """Rebuild a summarised commit's events from its movement rows."""
    if not ranges:
        return []
    rows = await session.execute(
        select(Movement, Serial.warehouse_id)
        .outerjoin(Serial, Serial.id == Movement.serial_id)
        .where(or_(*(Movement.id.between(lo, hi) for lo, hi in ranges)))
        .order_by(Movement.id)
    )
    facts = [
        MovementFact(
            m.id,
            m.product_id,
            m.serial_id,
            m.lot_id,
            m.from_status,
            m.to_status,
            m.from_location_id,
            m.to_location_id,
            warehouse_id,
        )
        for m, warehouse_id in rows
    ]
    return await events_from_movements(session, facts, actor)
