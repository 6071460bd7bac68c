"""Per-request dataloaders. Each batch opens its own short read session: one AsyncSession
must never be used by two concurrent tasks, and batches of different loaders run together."""

from asyncio import Future
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
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
from services.movements import MovementRow, movements_by_lot_ids, movements_by_serial_ids
from services.queries import keyset_pages_by_group, rows_by_ids, rows_grouped_by
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

    async def batch_load_fn(self, keys: list[K]) -> list[V]:
        async with self._sessions() as session:
            if session.get_bind().dialect.name == "postgresql":
                # A batch is one read. At READ COMMITTED each statement takes its own
                # snapshot anyway, so a transaction around it only added a BEGIN and a
                # ROLLBACK: two round trips more per batch.
                await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            return list(await self._batch(session, keys))

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


def _pages(
    sessions: async_sessionmaker[AsyncSession], model: type[M], group: Any, status: Any = None
) -> "SessionLoader[PageKey, Page[M]]":
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

    return SessionLoader(sessions, batch)


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


@dataclass
class Loaders:
    """Named `<Target>By<Key>`; built fresh for every request so nothing leaks between them."""

    warehouse_by_id: SessionLoader[int, Warehouse | None]
    location_by_id: SessionLoader[int, Location | None]
    product_by_id: SessionLoader[int, Product | None]
    lot_by_id: SessionLoader[int, Lot | None]
    serial_by_id: SessionLoader[int, Serial | None]
    receiving_order_by_id: SessionLoader[int, ReceivingOrder | None]
    receiving_line_by_id: SessionLoader[int, ReceivingLine | None]
    putaway_task_by_id: SessionLoader[int, PutawayTask | None]
    movement_by_id: SessionLoader[int, Movement | None]
    movements_by_serial_id: SessionLoader[int, list[MovementRow]]
    movements_by_lot_id: SessionLoader[int, list[MovementRow]]
    lines_by_order_id: SessionLoader[int, list[ReceivingLine]]
    locations_by_warehouse_id: SessionLoader[int, list[Location]]
    serials_by_receiving_line_id: SessionLoader[int, list[Serial]]
    serials_by_putaway_task_id: SessionLoader[int, list[Serial]]
    putaway_tasks_by_receiving_line_id: SessionLoader[int, list[PutawayTask]]
    serial_pages_by_product_id: SessionLoader[PageKey, Page[Serial]]
    lot_pages_by_product_id: SessionLoader[PageKey, Page[Lot]]
    order_by_id: SessionLoader[int, OutboundOrder | None]
    order_line_by_id: SessionLoader[int, OutboundLine | None]
    allocation_by_id: SessionLoader[int, Allocation | None]
    pick_task_by_id: SessionLoader[int, PickTask | None]
    shipment_by_id: SessionLoader[int, Shipment | None]
    lines_by_outbound_order_id: SessionLoader[int, list[OutboundLine]]
    allocations_by_order_line_id: SessionLoader[int, list[Allocation]]
    allocations_by_shipment_id: SessionLoader[int, list[Allocation]]
    pick_tasks_by_order_id: SessionLoader[int, list[PickTask]]
    pick_task_by_allocation_id: SessionLoader[int, list[PickTask]]
    shipments_by_order_id: SessionLoader[int, list[Shipment]]
    stock_by_product_id: SessionLoader[int, list[StockPosition]]
    stock_by_lot_id: SessionLoader[int, list[StockPosition]]

    @classmethod
    def create(cls, sessions: async_sessionmaker[AsyncSession]) -> "Loaders":
        return cls(
            warehouse_by_id=_by_id(sessions, Warehouse),
            location_by_id=_by_id(sessions, Location),
            product_by_id=_by_id(sessions, Product),
            lot_by_id=_by_id(sessions, Lot),
            serial_by_id=_by_id(sessions, Serial),
            receiving_order_by_id=_by_id(sessions, ReceivingOrder),
            receiving_line_by_id=_by_id(sessions, ReceivingLine),
            putaway_task_by_id=_by_id(sessions, PutawayTask),
            movement_by_id=_by_id(sessions, Movement),
            movements_by_serial_id=SessionLoader(sessions, movements_by_serial_ids),
            movements_by_lot_id=SessionLoader(sessions, movements_by_lot_ids),
            lines_by_order_id=_grouped(
                sessions, ReceivingLine, ReceivingLine.order_id, [ReceivingLine.line_number]
            ),
            locations_by_warehouse_id=_grouped(
                sessions, Location, Location.warehouse_id, [Location.code]
            ),
            serials_by_receiving_line_id=_grouped(
                sessions, Serial, Serial.receiving_line_id, [Serial.serial_number]
            ),
            serials_by_putaway_task_id=_grouped(
                sessions, Serial, Serial.putaway_task_id, [Serial.serial_number]
            ),
            putaway_tasks_by_receiving_line_id=_grouped(
                sessions, PutawayTask, PutawayTask.receiving_line_id
            ),
            serial_pages_by_product_id=_pages(sessions, Serial, Serial.product_id, Serial.status),
            lot_pages_by_product_id=_pages(sessions, Lot, Lot.product_id),
            order_by_id=_by_id(sessions, OutboundOrder),
            order_line_by_id=_by_id(sessions, OutboundLine),
            allocation_by_id=_by_id(sessions, Allocation),
            pick_task_by_id=_by_id(sessions, PickTask),
            shipment_by_id=_by_id(sessions, Shipment),
            lines_by_outbound_order_id=_grouped(
                sessions, OutboundLine, OutboundLine.order_id, [OutboundLine.line_number]
            ),
            allocations_by_order_line_id=_grouped(sessions, Allocation, Allocation.line_id),
            allocations_by_shipment_id=_grouped(sessions, Allocation, Allocation.shipment_id),
            pick_tasks_by_order_id=_grouped(sessions, PickTask, PickTask.order_id),
            pick_task_by_allocation_id=_grouped(sessions, PickTask, PickTask.allocation_id),
            shipments_by_order_id=_grouped(sessions, Shipment, Shipment.order_id),
            stock_by_product_id=SessionLoader(sessions, positions_by_product),
            stock_by_lot_id=SessionLoader(sessions, positions_by_lot),
        )
