"""Read entry points: nodes by global id, look-ups by natural key, and paged lists."""

import strawberry
from strawberry import relay

from resolvers import catalog, lookup, receiving
from resolvers.ids import decode
from schema.enums import PutawayTaskStatus, ReceivingOrderStatus, SerialStatus
from schema.loading import selects_below
from schema.nodes import Info, Lot, Product, PutawayTask, ReceivingOrder, Serial, Warehouse
from schema.pagination import Connection, connection


@strawberry.type
class CoreQuery:
    node: relay.Node = relay.node(description="Any object by its global id.")
    nodes: list[relay.Node] = relay.node(description="Several objects by global id.")

    @strawberry.field
    async def warehouses(self, info: Info) -> list[Warehouse]:
        return Warehouse.many(await catalog.warehouses(info.context))

    @strawberry.field
    async def warehouse(self, info: Info, code: str) -> Warehouse | None:
        return Warehouse.maybe(await catalog.warehouse_by_code(info.context, code))

    @strawberry.field
    async def product(self, info: Info, sku: str) -> Product | None:
        return Product.maybe(await catalog.product_by_sku(info.context, sku))

    @strawberry.field
    async def products(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[Product]:
        return connection(
            Product, await lookup.page(info.context, lookup.products_query(), first, after)
        )

    @strawberry.field(description="A serial by its product's SKU and its exact number.")
    async def serial(self, info: Info, sku: str, serial_number: str) -> Serial | None:
        history = selects_below(info, ("movements",))
        found = await lookup.serial_by_number(
            info.context, sku, serial_number, with_history=history
        )
        return Serial.maybe(found)

    @strawberry.field(description="Serials, oldest first, optionally of one product and statuses.")
    async def serials(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        product_id: relay.GlobalID | None = None,
        statuses: list[SerialStatus] | None = None,
    ) -> Connection[Serial]:
        pid = decode(product_id, "Product", "productId") if product_id else None
        query = lookup.serials_query(pid, statuses)
        return connection(Serial, await lookup.page(info.context, query, first, after))

    @strawberry.field(description="A lot by its product's SKU and its number, in any case.")
    async def lot(self, info: Info, sku: str, lot_number: str) -> Lot | None:
        return Lot.maybe(await lookup.lot_by_number(info.context, sku, lot_number))

    @strawberry.field
    async def receiving_order(self, info: Info, number: str) -> ReceivingOrder | None:
        return ReceivingOrder.maybe(await receiving.receiving_order_by_number(info.context, number))

    @strawberry.field
    async def receiving_orders(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        statuses: list[ReceivingOrderStatus] | None = None,
    ) -> Connection[ReceivingOrder]:
        query = lookup.receiving_orders_query(statuses)
        return connection(ReceivingOrder, await lookup.page(info.context, query, first, after))

    @strawberry.field(description="Putaway tasks, oldest first; by default the open ones.")
    async def putaway_tasks(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        status: PutawayTaskStatus | None = PutawayTaskStatus.OPEN,
    ) -> Connection[PutawayTask]:
        query = lookup.putaway_tasks_query(status)
        return connection(PutawayTask, await lookup.page(info.context, query, first, after))
