"""Per-request dataloaders. Each batch opens its own short read session: one AsyncSession
must never be used by two concurrent tasks, and batches of different loaders run together."""

import operator
from asyncio import Future
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    Allocation,
    Base,
    Location,
    Lot,
    Movement,
    OutboundLine,
    OutboundOrder,
    PickTask,
    Product,
    PutawayTask,
    ReceivingLine,
    ReceivingOrder,
    Serial,
    SerialStatus,
    Shipment,
    Warehouse,
)
from services.movements import (
    MOVEMENT_COLUMN_NAMES,
    MovementRow,
    history_with_locations,
    movements_by_lot_ids,
    movements_by_serial_ids,
)
from services.queries import (
    keyset_pages_by_group,
    rows_by_ids,
    rows_grouped_by,
    statement_by_statement,
)
from services.stock_levels import StockPosition, positions_by_lot, positions_by_product

K = TypeVar("K")
V = TypeVar("V")
M = TypeVar("M", bound=Base)


class SessionLoader(DataLoader[K, V]):
    """A DataLoader whose batch function gets a fresh read session."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        batch: Callable[[AsyncSession, Sequence[K]], Awaitable[Sequence[V]]],
    ) -> None:
        super().__init__()
        self._sessions = sessions
        self._batch = batch
        # GraphQL objects built from loaded rows, by key: a large answer names the same few
        # locations or products thousands of times (schema/rows.py, `FromRow.at_once`).
        self.built: dict[K, Any] = {}

    async def batch_load_fn(self, keys: list[K]) -> list[V]:
        async with self._sessions() as session:
            # A batch is one read (or, for pages of different shapes, independent ones).
            await statement_by_statement(session)
            return list(await self._batch(session, keys))

    async def load_in(self, session: AsyncSession, keys: Sequence[K]) -> None:
        """Load `keys` with a read session the caller already holds, and keep the answers as
        if they had been loaded: a look-up that knows it will need them saves a session and
        a round of the event loop. Keys already loaded are not read again."""
        wanted = [key for key in keys if key not in self._cache]
        if wanted:
            for key, value in zip(wanted, await self._batch(session, wanted), strict=True):
                self.prime(key, value)

    def done(self, key: K) -> "Future[V] | None":
        """The finished load of `key` in this request, if there is one (`result()` is the
        value): a resolver can answer from it at once, where awaiting even a finished load
        costs a coroutine and a task per field (thousands in a large answer)."""
        future = self._cache.get(key)
        if future is None or not future.done() or future.cancelled() or future.exception():
            return None
        return future


@dataclass(frozen=True)
class PageKey:
    """One group's page: e.g. serials of product `group_id`, `first` after id `after`,
    restricted to `statuses` (empty: all)."""

    group_id: int
    first: int
    after: int | None = None
    statuses: tuple[SerialStatus, ...] = ()


Page = tuple[list[M], bool]


def _page_batch(
    model: type[M], group: Any, status: Any = None
) -> Callable[[AsyncSession, Sequence[PageKey]], Awaitable[list[Page[M]]]]:
    """Pages of many groups in one statement per distinct (first, after, statuses)."""

    async def batch(session: AsyncSession, keys: Sequence[PageKey]) -> list[Page[M]]:
        shapes: dict[tuple[int, int | None, tuple[SerialStatus, ...]], list[int]] = {}
        for key in keys:
            shapes.setdefault((key.first, key.after, key.statuses), []).append(key.group_id)
        answers: dict[PageKey, Page[M]] = {}
        for (first, after, statuses), group_ids in shapes.items():
            conditions = [status.in_(statuses)] if statuses else []
            pages = await keyset_pages_by_group(
                session, model, group, group_ids, first=first, after=after, conditions=conditions
            )
            for group_id, found in zip(group_ids, pages, strict=True):
                answers[PageKey(group_id, first, after, statuses)] = found
        return [answers[key] for key in keys]

    return batch


def _by_id(
    sessions: async_sessionmaker[AsyncSession], model: type[M]
) -> "SessionLoader[int, M | None]":
    async def batch(session: AsyncSession, ids: Sequence[int]) -> list[M | None]:
        return await rows_by_ids(session, model, ids)

    return SessionLoader(sessions, batch)


def _grouped(
    sessions: async_sessionmaker[AsyncSession],
    model: type[M],
    key: Any,
    order_by: Sequence[Any] = (),
) -> "SessionLoader[int, list[M]]":
    async def batch(session: AsyncSession, keys: Sequence[int]) -> list[list[M]]:
        return await rows_grouped_by(session, model, key, keys, order_by)

    return SessionLoader(sessions, batch)


class Loaders:
    """Named `<Target>By<Key>`; made fresh for every request so nothing leaks between them.

    Each loader is made on first use: a query or a subscription event touches a few of
    them, and making all thirty for every event of every subscriber was most of the cost of
    delivering it (docs/performance.md, B8)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], selected: frozenset[str] = frozenset()
    ) -> None:
        self.sessions = sessions
        # The names of the fields the operation selects (set from its document by
        # schema/loading.py). When it shows where serials are (`location`) or where
        # movements went (`fromLocation`, `toLocation`), the batches that read serials or
        # movements also read the locations those name, in the same session. Every location
        # is then at hand when the serials' and movements' fields are answered: no round of
        # loads, and no awaitable per serial or movement, for it (docs/performance.md, B2).
        self.selected = selected

    @classmethod
    def create(
        cls, sessions: async_sessionmaker[AsyncSession], selected: frozenset[str] = frozenset()
    ) -> "Loaders":
        return cls(sessions, selected)

    def _bringing_locations(
        self,
        batch: Callable[[AsyncSession, Sequence[K]], Awaitable[Sequence[V]]],
        location_ids: Callable[[Sequence[V]], Iterable[int | None]],
        shown_by: frozenset[str],
    ) -> Callable[[AsyncSession, Sequence[K]], Awaitable[Sequence[V]]]:
        """`batch`, then, if the operation selects any of `shown_by`, the locations its
        rows name."""

        async def load(session: AsyncSession, keys: Sequence[K]) -> Sequence[V]:
            found = await batch(session, keys)
            if not shown_by.isdisjoint(self.selected):
                await self._read_locations(session, location_ids(found))
            return found

        return load

    async def history_in(self, session: AsyncSession, serial_id: int) -> None:
        """Load one serial's history with a read session the caller holds (the look-up of
        one serial), and, if the operation shows where its movements went, the locations
        they name in the same statement."""
        if MOVEMENT_LOCATIONS.isdisjoint(self.selected):
            await self.movements_by_serial_id.load_in(session, [serial_id])
            return
        movements, locations = await history_with_locations(session, serial_id)
        self.movements_by_serial_id.prime(serial_id, movements)
        for location in locations:
            self.location_by_id.prime(location.id, location)  # keeps one already loaded

    async def _read_locations(self, session: AsyncSession, ids: Iterable[int | None]) -> None:
        """The locations among `ids` this request has not loaded, read into its loader."""
        loader = self.location_by_id
        wanted = sorted(i for i in set(ids) if i is not None and loader.done(i) is None)
        if wanted:
            found = await rows_by_ids(session, Location, wanted)
            for location_id, location in zip(wanted, found, strict=True):
                loader.prime(location_id, location)

    @cached_property
    def warehouse_by_id(self) -> SessionLoader[int, Warehouse | None]:
        return _by_id(self.sessions, Warehouse)

    @cached_property
    def location_by_id(self) -> SessionLoader[int, Location | None]:
        return _by_id(self.sessions, Location)

    @cached_property
    def product_by_id(self) -> SessionLoader[int, Product | None]:
        return _by_id(self.sessions, Product)

    @cached_property
    def lot_by_id(self) -> SessionLoader[int, Lot | None]:
        return _by_id(self.sessions, Lot)

    @cached_property
    def serial_by_id(self) -> SessionLoader[int, Serial | None]:
        return _by_id(self.sessions, Serial)

    @cached_property
    def receiving_order_by_id(self) -> SessionLoader[int, ReceivingOrder | None]:
        return _by_id(self.sessions, ReceivingOrder)

    @cached_property
    def receiving_line_by_id(self) -> SessionLoader[int, ReceivingLine | None]:
        return _by_id(self.sessions, ReceivingLine)

    @cached_property
    def putaway_task_by_id(self) -> SessionLoader[int, PutawayTask | None]:
        return _by_id(self.sessions, PutawayTask)

    @cached_property
    def movement_by_id(self) -> SessionLoader[int, Movement | None]:
        return _by_id(self.sessions, Movement)

    @cached_property
    def movements_by_serial_id(self) -> SessionLoader[int, list[MovementRow]]:
        batch = self._bringing_locations(
            movements_by_serial_ids, _movement_location_ids, MOVEMENT_LOCATIONS
        )
        return SessionLoader(self.sessions, batch)

    @cached_property
    def movements_by_lot_id(self) -> SessionLoader[int, list[MovementRow]]:
        batch = self._bringing_locations(
            movements_by_lot_ids, _movement_location_ids, MOVEMENT_LOCATIONS
        )
        return SessionLoader(self.sessions, batch)

    @cached_property
    def lines_by_order_id(self) -> SessionLoader[int, list[ReceivingLine]]:
        return _grouped(
            self.sessions, ReceivingLine, ReceivingLine.order_id, [ReceivingLine.line_number]
        )

    @cached_property
    def locations_by_warehouse_id(self) -> SessionLoader[int, list[Location]]:
        return _grouped(self.sessions, Location, Location.warehouse_id, [Location.code])

    @cached_property
    def serials_by_receiving_line_id(self) -> SessionLoader[int, list[Serial]]:
        return _grouped(self.sessions, Serial, Serial.receiving_line_id, [Serial.serial_number])

    @cached_property
    def serials_by_putaway_task_id(self) -> SessionLoader[int, list[Serial]]:
        return _grouped(self.sessions, Serial, Serial.putaway_task_id, [Serial.serial_number])

    @cached_property
    def putaway_tasks_by_receiving_line_id(self) -> SessionLoader[int, list[PutawayTask]]:
        return _grouped(self.sessions, PutawayTask, PutawayTask.receiving_line_id)

    @cached_property
    def serial_pages_by_product_id(self) -> SessionLoader[PageKey, Page[Serial]]:
        batch = _page_batch(Serial, Serial.product_id, Serial.status)
        return SessionLoader(
            self.sessions, self._bringing_locations(batch, _serial_location_ids, SERIAL_LOCATION)
        )

    @cached_property
    def lot_pages_by_product_id(self) -> SessionLoader[PageKey, Page[Lot]]:
        return SessionLoader(self.sessions, _page_batch(Lot, Lot.product_id))

    @cached_property
    def order_by_id(self) -> SessionLoader[int, OutboundOrder | None]:
        return _by_id(self.sessions, OutboundOrder)

    @cached_property
    def order_line_by_id(self) -> SessionLoader[int, OutboundLine | None]:
        return _by_id(self.sessions, OutboundLine)

    @cached_property
    def allocation_by_id(self) -> SessionLoader[int, Allocation | None]:
        return _by_id(self.sessions, Allocation)

    @cached_property
    def pick_task_by_id(self) -> SessionLoader[int, PickTask | None]:
        return _by_id(self.sessions, PickTask)

    @cached_property
    def shipment_by_id(self) -> SessionLoader[int, Shipment | None]:
        return _by_id(self.sessions, Shipment)

    @cached_property
    def lines_by_outbound_order_id(self) -> SessionLoader[int, list[OutboundLine]]:
        return _grouped(
            self.sessions, OutboundLine, OutboundLine.order_id, [OutboundLine.line_number]
        )

    @cached_property
    def allocations_by_order_line_id(self) -> SessionLoader[int, list[Allocation]]:
        return _grouped(self.sessions, Allocation, Allocation.line_id)

    @cached_property
    def allocations_by_shipment_id(self) -> SessionLoader[int, list[Allocation]]:
        return _grouped(self.sessions, Allocation, Allocation.shipment_id)

    @cached_property
    def pick_tasks_by_order_id(self) -> SessionLoader[int, list[PickTask]]:
        return _grouped(self.sessions, PickTask, PickTask.order_id)

    @cached_property
    def pick_task_by_allocation_id(self) -> SessionLoader[int, list[PickTask]]:
        return _grouped(self.sessions, PickTask, PickTask.allocation_id)

    @cached_property
    def shipments_by_order_id(self) -> SessionLoader[int, list[Shipment]]:
        return _grouped(self.sessions, Shipment, Shipment.order_id)

    @cached_property
    def stock_by_product_id(self) -> SessionLoader[int, list[StockPosition]]:
        return SessionLoader(self.sessions, positions_by_product)

    @cached_property
    def stock_by_lot_id(self) -> SessionLoader[int, list[StockPosition]]:
        return SessionLoader(self.sessions, positions_by_lot)


_FROM_AND_TO_LOCATION = operator.itemgetter(
    MOVEMENT_COLUMN_NAMES.index("from_location_id"), MOVEMENT_COLUMN_NAMES.index("to_location_id")
)
MOVEMENT_LOCATIONS = frozenset({"fromLocation", "toLocation"})
SERIAL_LOCATION = frozenset({"location"})


def _movement_location_ids(histories: Sequence[list[MovementRow]]) -> Iterable[int | None]:
    # By position: ten thousand movements' attributes by name cost more than the read.
    movements = chain.from_iterable(histories)
    return set(chain.from_iterable(map(_FROM_AND_TO_LOCATION, movements)))


def _serial_location_ids(pages: Sequence[Page[Serial]]) -> Iterable[int | None]:
    return (serial.location_id for serials, _ in pages for serial in serials)
