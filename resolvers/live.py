"""Subscriptions: which committed events a subscriber wants, and the state each one reports.

The bus delivers one `Event` object to every subscriber of this process that wants it.
Each subscriber reads what has arrived in batches; the rows an event reports (the serial,
lot or order as it is now, and the movements behind the change) are loaded once per event
per process and shared by every subscriber that receives it (`Snapshots`).
"""

import asyncio
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import AsyncGenerator, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Lot, Movement, OutboundOrder, ReceivingOrder, Serial, SerialStatus
from resolvers.context import Context
from services.events import Event, EventBus, EventKind
from services.queries import rows_by_ids

T = TypeVar("T")

# Events whose rows stay remembered (so that late subscribers of a burst share the load).
SNAPSHOT_MEMORY: Final = 4096
# How many waiting events a subscriber takes (and loads) at a time.
BATCH: Final = 100

_MODELS: Final[dict[EventKind, Any]] = {
    EventKind.SERIAL_STATUS: Serial,
    EventKind.LOT_STOCK: Lot,
    EventKind.ORDER: OutboundOrder,
    EventKind.RECEIVING_ORDER: ReceivingOrder,
}


@dataclass(frozen=True)
class Change:
    """An event with what it reports: `row` is the object as it is now (read when the event
    was first delivered in this process), `movements` the rows the change wrote."""

    event: Event
    row: Any
    movements: list[Movement]
    # What the subscription types built from it, by builder (see `payload`).
    built: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def payload(self, build: Callable[["Change"], T]) -> T:
        """`build(self)`, made once however many subscribers receive this change: every
        subscriber then yields the same object, and subscribers asking the same question
        of it share one execution (schema/sharing.py)."""
        try:
            found: T = self.built[build]
        except KeyError:
            found = self.built[build] = build(self)
        return found


class Snapshots:
    """Each event's rows, loaded once per process however many subscribers receive it.

    Keyed by the event object itself: the bus hands the same object to all subscribers,
    and two equal-looking events (an order allocated twice) must not share a snapshot.
    """

    def __init__(self, read_sessions: async_sessionmaker[AsyncSession]) -> None:
        self._read_sessions = read_sessions
        self._memory: OrderedDict[int, tuple[Event, asyncio.Future[Change | None]]] = OrderedDict()
        self._loads: set[asyncio.Task[None]] = set()
        self.loads = 0

    async def changes(self, events: Sequence[Event]) -> list[Change | None]:
        missing = [e for e in events if id(e) not in self._memory]
        if missing:
            loop = asyncio.get_running_loop()
            futures = {id(e): loop.create_future() for e in missing}
            for event in missing:
                self._memory[id(event)] = (event, futures[id(event)])
            # A task of its own: a subscriber that leaves mid-load must not leave the
            # other subscribers waiting on futures nobody fills.
            task = asyncio.create_task(self._load(missing, futures))
            self._loads.add(task)
            task.add_done_callback(self._loads.discard)
        waiting = [self._memory[id(e)][1] for e in events]
        self._forget_oldest()
        return [await asyncio.shield(f) for f in waiting]

    def _forget_oldest(self) -> None:
        while len(self._memory) > SNAPSHOT_MEMORY:
            _event, future = next(iter(self._memory.values()))
            if not future.done():
                break
            self._memory.popitem(last=False)

    async def _load(
        self, events: Sequence[Event], futures: dict[int, asyncio.Future[Change | None]]
    ) -> None:
        self.loads += 1
        try:
            ids: dict[EventKind, list[int]] = defaultdict(list)
            for event in events:
                ids[event.kind].append(event.subject_id)
            movement_ids = sorted({i for e in events for i in e.movement_ids})
            async with self._read_sessions() as session:
                rows: dict[tuple[EventKind, int], Any] = {}
                for kind, subject_ids in ids.items():
                    unique = sorted(set(subject_ids))
                    found = await rows_by_ids(session, _MODELS[kind], unique)
                    rows.update(((kind, i), row) for i, row in zip(unique, found, strict=True))
                movements = (
                    {m.id: m for m in await rows_by_ids(session, Movement, movement_ids) if m}
                    if movement_ids
                    else {}
                )
            for event in events:
                row = rows.get((event.kind, event.subject_id))
                change = (
                    None
                    if row is None
                    else Change(
                        event, row, [movements[i] for i in event.movement_ids if i in movements]
                    )
                )
                futures[id(event)].set_result(change)
        except BaseException as exc:
            for event in events:
                self._memory.pop(id(event), None)
                if not futures[id(event)].done():
                    futures[id(event)].set_exception(exc)
            if not isinstance(exc, Exception):
                raise


_snapshots: "weakref.WeakKeyDictionary[EventBus, Snapshots]" = weakref.WeakKeyDictionary()


def snapshots(ctx: Context) -> Snapshots:
    """The shared snapshots of this context's bus (one bus: one database)."""
    found = _snapshots.get(ctx.bus)
    if found is None:
        found = _snapshots[ctx.bus] = Snapshots(ctx.read_sessions)
    return found


async def changes(
    ctx: Context,
    kind: EventKind,
    accepts: Callable[[Event], bool],
    matches: Callable[[Change], bool] = lambda _change: True,
) -> AsyncGenerator[Change, None]:
    """Changes of `kind` as they commit: `accepts` filters events before anything is loaded,
    `matches` filters on the loaded rows. Raises services.events.FellBehind if the
    subscriber's queue overflowed."""
    shared = snapshots(ctx)
    with ctx.bus.subscribe({kind}, accepts) as subscriber:
        async for batch in subscriber.batches(BATCH):
            for change in await shared.changes(batch):
                if change is None or not matches(change):
                    continue
                if change.event.movement_ids and not change.movements:
                    continue
                ctx.fresh_loaders()
                yield change


def serial_status_changes(
    ctx: Context,
    *,
    product_id: int | None,
    serial_number: str | None,
    warehouse_id: int | None,
    statuses: Collection[SerialStatus] | None,
) -> AsyncGenerator[Change, None]:
    wanted = {str(s) for s in statuses or ()}

    def accepts(event: Event) -> bool:
        return (
            (product_id is None or event.product_id == product_id)
            and (warehouse_id is None or event.warehouse_id == warehouse_id)
            and (not wanted or event.to_status in wanted)
        )

    def matches(change: Change) -> bool:
        return serial_number is None or change.row.serial_number == serial_number

    return changes(ctx, EventKind.SERIAL_STATUS, accepts, matches)


def lot_stock_changes(
    ctx: Context, *, lot_id: int | None, product_id: int | None, warehouse_id: int | None
) -> AsyncGenerator[Change, None]:
    def accepts(event: Event) -> bool:
        return (
            (lot_id is None or event.subject_id == lot_id)
            and (product_id is None or event.product_id == product_id)
            and (warehouse_id is None or event.warehouse_id == warehouse_id)
        )

    return changes(ctx, EventKind.LOT_STOCK, accepts)


def order_status_changes(
    ctx: Context, kind: EventKind, *, number: str | None, warehouse_id: int | None
) -> AsyncGenerator[Change, None]:
    """Outbound (`EventKind.ORDER`) or receiving order status changes."""

    def accepts(event: Event) -> bool:
        return warehouse_id is None or event.warehouse_id == warehouse_id

    def matches(change: Change) -> bool:
        return number is None or change.row.number == number

    return changes(ctx, kind, accepts, matches)
