"""The objects of the warehouse as GraphQL nodes: catalog, inventory, receiving, history."""

import contextlib
from collections.abc import Awaitable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from graphql.pyutils import Undefined, UndefinedType
from strawberry import relay

from models import lifecycle
from resolvers import lookup
from resolvers.context import Context
from schema.enums import (
    AllocationStrategy,
    LocationKind,
    MovementKind,
    PutawayTaskStatus,
    ReceivingLineStatus,
    ReceivingOrderStatus,
    SerialEvent,
    SerialStatus,
    Tracking,
)
from schema.execution import answered_at_once, listed_at_once
from schema.loading import selects_below
from schema.pagination import Connection, connection
from schema.rows import FromRow

if TYPE_CHECKING:
    from schema.stock import StockSummary

Info = strawberry.Info[Context, None]
StockSummaryType = Annotated["StockSummary", strawberry.lazy("schema.stock")]


@strawberry.type(description="A building with its own stock, time zone and picking strategy.")
class Warehouse(FromRow):
    loader_name = "warehouse_by_id"
    id: relay.NodeID[int]
    code: str
    name: str
    time_zone: str = strawberry.field(
        description="IANA zone; decides what 'today' means for expiry."
    )
    allocation_strategy: AllocationStrategy
    created_at: datetime

    @strawberry.field
    async def locations(self, info: Info) -> list["Location"]:
        return Location.many(await info.context.loaders.locations_by_warehouse_id.load(self.id))


@strawberry.type(
    description="A place in a warehouse: receiving dock, storage bin, packing, shipping."
)
class Location(FromRow):
    loader_name = "location_by_id"
    id: relay.NodeID[int]
    code: str
    kind: LocationKind
    warehouse_id: strawberry.Private[int]

    @strawberry.field
    async def warehouse(self, info: Info) -> Warehouse:
        return Warehouse.from_row(
            await info.context.loaders.warehouse_by_id.load(self.warehouse_id)
        )


@strawberry.type(description="A product; serial-tracked or lot-tracked, never both.")
class Product(FromRow):
    loader_name = "product_by_id"
    id: relay.NodeID[int]
    sku: str
    name: str
    gtin: str | None = strawberry.field(description="GTIN-14, check digit validated.")
    tracking: Tracking
    created_at: datetime

    @strawberry.field(description="Every unit carries its own serial number.")
    def serial_tracked(self) -> bool:
        return self.tracking is Tracking.SERIAL

    @strawberry.field(description="Units are received and picked by lot, with optional expiry.")
    def lot_tracked(self) -> bool:
        return self.tracking is Tracking.LOT

    @strawberry.field(description="This product's serials, oldest first.")
    async def serials(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        statuses: list[SerialStatus] | None = None,
    ) -> Connection["Serial"]:
        page = await lookup.serials_of_product(info.context, self.id, first, after, statuses)
        if selects_below(info, ("nodes", "movements"), ("edges", "node", "movements")):
            await _histories_loaded(info.context, [serial.id for serial in page.rows])
        return connection(Serial, page)

    @strawberry.field(description="On hand, allocated and available, by location and lot.")
    async def stock(self, info: Info) -> StockSummaryType:
        from schema.stock import summarize

        return summarize(await info.context.loaders.stock_by_product_id.load(self.id))

    @strawberry.field(description="This product's lots, in order of first receipt.")
    async def lots(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection["Lot"]:
        return connection(Lot, await lookup.lots_of_product(info.context, self.id, first, after))


@strawberry.type(description="One physical item. Its number is exact-match and never reused.")
class Serial(FromRow):
    loader_name = "serial_by_id"
    id: relay.NodeID[int]
    serial_number: str
    status: SerialStatus
    received_at: datetime | None
    created_at: datetime
    updated_at: datetime
    product_id: strawberry.Private[int]
    warehouse_id: strawberry.Private[int]
    location_id: strawberry.Private[int | None]
    receiving_line_id: strawberry.Private[int | None]

    @strawberry.field(description="The events this serial can take now, from the lifecycle table.")
    def allowed_events(self) -> list[SerialEvent]:
        return lifecycle.allowed_events(self.status)

    @strawberry.field
    @answered_at_once(lambda row, ctx: Product.at_once(ctx, row.product_id))
    async def product(self, info: Info) -> Product:
        return await Product.load(info, self.product_id)

    @strawberry.field
    async def warehouse(self, info: Info) -> Warehouse:
        return Warehouse.from_row(
            await info.context.loaders.warehouse_by_id.load(self.warehouse_id)
        )

    @strawberry.field(description="Where the item is now; null before arrival and after shipping.")
    @answered_at_once(lambda serial, ctx: Location.at_once(ctx, serial.location_id))
    async def location(self, info: Info) -> Location | None:
        return await Location.load_optional(info, self.location_id)

    @strawberry.field(description="The ASN line it was expected or received on.")
    async def receiving_line(self, info: Info) -> "ReceivingLine | None":
        if self.receiving_line_id is None:
            return None
        row = await info.context.loaders.receiving_line_by_id.load(self.receiving_line_id)
        return ReceivingLine.maybe(row)

    @strawberry.field(
        description="The complete audit trail, oldest first; with `last`, only the newest "
        "`last` movements (still oldest first)."
    )
    @listed_at_once(lambda serial, context, last=None: _history_at_once(context, serial.id, last))
    def movements(self, info: Info, last: int | None = None) -> list["Movement"]:
        # At once when this request has loaded the history (see _histories_loaded), else
        # an awaitable, which graphql-core awaits.
        if last is not None and last < 0:
            raise lookup.ArgumentError("last must not be negative")
        loader = info.context.loaders.movements_by_serial_id
        loaded = loader.done(self.id)
        if loaded is not None:
            return _newest(loaded.result(), last)
        return cast(list["Movement"], _newest_later(loader.load(self.id), last))


def _history_at_once(context: Context, serial_id: int, last: int | None) -> Any:
    """A serial's history when this request has read it already and `last` is fine; else
    Undefined, and the resolver reads it or reports the problem."""
    loaded = context.loaders.movements_by_serial_id.done(serial_id)
    if loaded is None or (last is not None and last < 0):
        return Undefined
    return _newest(loaded.result(), last)


async def _histories_loaded(context: Context, serial_ids: list[int]) -> None:
    """Load a page of serials' movements before the serials' fields are answered. Each
    serial's `movements` is then answered at once, where loading them serial by serial
    costs a coroutine and a task per serial (docs/performance.md, B2). A failed read is
    kept by the loader and reported at the serials' `movements` fields, as it would have
    been without this (tests/api/test_history_prefetch.py)."""
    with contextlib.suppress(Exception):
        await context.loaders.movements_by_serial_id.load_many(serial_ids)


def _newest(rows: list[Any], last: int | None) -> list["Movement"]:
    if last is not None:
        rows = rows[max(len(rows) - last, 0) :]
    return Movement.many(rows)


async def _newest_later(load: Awaitable[list[Any]], last: int | None) -> list["Movement"]:
    return _newest(await load, last)


@strawberry.type(
    description="A batch of one product. Numbers match case-insensitively and "
    "keep the case first entered."
)
class Lot(FromRow):
    loader_name = "lot_by_id"
    id: relay.NodeID[int]
    lot_number: str
    expiry_date: date | None
    received_at: datetime = strawberry.field(description="When this lot was first received.")
    on_hold: bool = strawberry.field(description="A held lot is never allocated.")
    hold_reason: str | None
    product_id: strawberry.Private[int]

    @strawberry.field
    @answered_at_once(lambda row, ctx: Product.at_once(ctx, row.product_id))
    async def product(self, info: Info) -> Product:
        return await Product.load(info, self.product_id)

    @strawberry.field(description="On hand, allocated and available, by location.")
    async def stock(self, info: Info) -> StockSummaryType:
        from schema.stock import summarize

        return summarize(await info.context.loaders.stock_by_lot_id.load(self.id))

    @strawberry.field(description="Every receipt and move of this lot, oldest first.")
    async def movements(self, info: Info) -> list["Movement"]:
        return Movement.many(await info.context.loaders.movements_by_lot_id.load(self.id))


@strawberry.type(description="One immutable line of the audit trail.")
class Movement(FromRow):
    loader_name = "movement_by_id"
    id: relay.NodeID[int]
    kind: MovementKind
    quantity: int
    from_status: SerialStatus | None
    to_status: SerialStatus | None
    document_type: str
    document_number: str
    actor: str
    occurred_at: datetime
    product_id: strawberry.Private[int]
    serial_id: strawberry.Private[int | None]
    lot_id: strawberry.Private[int | None]
    from_location_id: strawberry.Private[int | None]
    to_location_id: strawberry.Private[int | None]

    @strawberry.field
    @answered_at_once(lambda row, ctx: Product.at_once(ctx, row.product_id))
    async def product(self, info: Info) -> Product:
        return await Product.load(info, self.product_id)

    @strawberry.field
    async def serial(self, info: Info) -> Serial | None:
        return await Serial.load_optional(info, self.serial_id)

    @strawberry.field
    async def lot(self, info: Info) -> Lot | None:
        return await Lot.load_optional(info, self.lot_id)

    # Not `async def`: a long history names the same few locations thousands of times, and
    # once loaded they are answered at once (see _location_now_or_later).
    @strawberry.field(graphql_type=Location | None)
    @answered_at_once(lambda movement, ctx: Location.at_once(ctx, movement.from_location_id))
    def from_location(self, info: Info) -> Any:
        return _location_now_or_later(info, self.from_location_id)

    @strawberry.field(graphql_type=Location | None)
    @answered_at_once(lambda movement, ctx: Location.at_once(ctx, movement.to_location_id))
    def to_location(self, info: Info) -> Any:
        return _location_now_or_later(info, self.to_location_id)


def _location_now_or_later(
    info: Info, location_id: int | None
) -> Location | Awaitable[Location | None] | None:
    """The location at once when this request has loaded it already, else an awaitable
    (graphql-core awaits a resolver's answer when it is one). An `async def` resolver costs
    a coroutine and a task per field even when the value is at hand."""
    if location_id is None:
        return None
    found = Location.at_once(info.context, location_id)
    if isinstance(found, UndefinedType):
        return _location_later(info.context.loaders.location_by_id.load(location_id))
    return found


async def _location_later(load: Awaitable[Any]) -> Location | None:
    return Location.maybe(await load)


@strawberry.type(description="An advance shipping notice: what a supplier will deliver.")
class ReceivingOrder(FromRow):
    loader_name = "receiving_order_by_id"
    id: relay.NodeID[int]
    number: str
    supplier: str | None
    status: ReceivingOrderStatus
    created_at: datetime
    updated_at: datetime
    warehouse_id: strawberry.Private[int]

    @strawberry.field
    async def warehouse(self, info: Info) -> Warehouse:
        return Warehouse.from_row(
            await info.context.loaders.warehouse_by_id.load(self.warehouse_id)
        )

    @strawberry.field
    async def lines(self, info: Info) -> list["ReceivingLine"]:
        return ReceivingLine.many(await info.context.loaders.lines_by_order_id.load(self.id))


@strawberry.type
class ReceivingLine(FromRow):
    loader_name = "receiving_line_by_id"
    id: relay.NodeID[int]
    line_number: int
    expected_quantity: int
    received_quantity: int
    status: ReceivingLineStatus
    product_id: strawberry.Private[int]
    order_id: strawberry.Private[int]

    @strawberry.field
    def remaining_quantity(self) -> int:
        return self.expected_quantity - self.received_quantity

    @strawberry.field
    @answered_at_once(lambda row, ctx: Product.at_once(ctx, row.product_id))
    async def product(self, info: Info) -> Product:
        return await Product.load(info, self.product_id)

    @strawberry.field
    async def order(self, info: Info) -> ReceivingOrder:
        row = await info.context.loaders.receiving_order_by_id.load(self.order_id)
        return ReceivingOrder.from_row(row)

    @strawberry.field(description="Serials planned or received on this line.")
    async def serials(self, info: Info) -> list[Serial]:
        return Serial.many(await info.context.loaders.serials_by_receiving_line_id.load(self.id))

    @strawberry.field
    async def putaway_tasks(self, info: Info) -> list["PutawayTask"]:
        rows = await info.context.loaders.putaway_tasks_by_receiving_line_id.load(self.id)
        return PutawayTask.many(rows)


@strawberry.type(description="Move what a receipt staged on the dock into storage.")
class PutawayTask(FromRow):
    loader_name = "putaway_task_by_id"
    id: relay.NodeID[int]
    status: PutawayTaskStatus
    quantity: int
    received_at: datetime
    created_at: datetime
    completed_at: datetime | None
    product_id: strawberry.Private[int]
    lot_id: strawberry.Private[int | None]
    from_location_id: strawberry.Private[int]
    receiving_line_id: strawberry.Private[int]

    @strawberry.field
    @answered_at_once(lambda row, ctx: Product.at_once(ctx, row.product_id))
    async def product(self, info: Info) -> Product:
        return await Product.load(info, self.product_id)

    @strawberry.field
    async def lot(self, info: Info) -> Lot | None:
        return await Lot.load_optional(info, self.lot_id)

    @strawberry.field
    async def from_location(self, info: Info) -> Location:
        row = await info.context.loaders.location_by_id.load(self.from_location_id)
        return Location.from_row(row)

    @strawberry.field
    async def receiving_line(self, info: Info) -> ReceivingLine:
        row = await info.context.loaders.receiving_line_by_id.load(self.receiving_line_id)
        return ReceivingLine.from_row(row)

    @strawberry.field(description="The serials to put away (serial-tracked products).")
    async def serials(self, info: Info) -> list[Serial]:
        return Serial.many(await info.context.loaders.serials_by_putaway_task_id.load(self.id))
