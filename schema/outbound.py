"""Outbound: orders, allocation, picking by scan, returns, packing and dispatch."""

from datetime import datetime

import strawberry
from strawberry import relay

from models.enums import AllocationStatus, OutboundOrderStatus, PickTaskStatus, ShipmentStatus
from resolvers import lookup, outbound
from resolvers.outbound import OrderLineArgs, SerialChoiceArgs
from resolvers.outcome import Refusal
from schema.errors import UserError, user_errors
from schema.nodes import Info, Location, Lot, Product, Serial, Warehouse
from schema.pagination import Connection, connection
from schema.rows import FromRow
from services.picking import PickConfirmation


@strawberry.type(description="A customer order to fulfil from one warehouse.")
class Order(FromRow):
    loader_name = "order_by_id"
    id: relay.NodeID[int]
    number: str
    customer_reference: str | None
    status: OutboundOrderStatus
    created_at: datetime
    updated_at: datetime
    warehouse_id: strawberry.Private[int]

    @strawberry.field
    async def warehouse(self, info: Info) -> Warehouse:
        return Warehouse.from_row(
            await info.context.loaders.warehouse_by_id.load(self.warehouse_id)
        )

    @strawberry.field
    async def lines(self, info: Info) -> list["OrderLine"]:
        return OrderLine.many(await info.context.loaders.lines_by_outbound_order_id.load(self.id))

    @strawberry.field(description="The pick list: where to go and what to take.")
    async def pick_tasks(self, info: Info) -> list["PickTask"]:
        return PickTask.many(await info.context.loaders.pick_tasks_by_order_id.load(self.id))

    @strawberry.field
    async def shipments(self, info: Info) -> list["Shipment"]:
        return Shipment.many(await info.context.loaders.shipments_by_order_id.load(self.id))


@strawberry.type
class OrderLine(FromRow):
    loader_name = "order_line_by_id"
    id: relay.NodeID[int]
    line_number: int
    quantity: int
    allocated_quantity: int
    picked_quantity: int
    shipped_quantity: int
    product_id: strawberry.Private[int]
    order_id: strawberry.Private[int]

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return await Product.load(info, self.product_id)

    @strawberry.field
    async def order(self, info: Info) -> Order:
        return await Order.load(info, self.order_id)

    @strawberry.field
    async def allocations(self, info: Info) -> list["Allocation"]:
        return Allocation.many(
            await info.context.loaders.allocations_by_order_line_id.load(self.id)
        )


@strawberry.type(
    description="Stock reserved for an order line: one serial, or a quantity of "
    "one lot (or untracked goods) at one location."
)
class Allocation(FromRow):
    loader_name = "allocation_by_id"
    id: relay.NodeID[int]
    quantity: int
    picked_quantity: int
    status: AllocationStatus
    received_at: datetime
    created_at: datetime
    order_id: strawberry.Private[int]
    line_id: strawberry.Private[int]
    product_id: strawberry.Private[int]
    location_id: strawberry.Private[int]
    serial_id: strawberry.Private[int | None]
    lot_id: strawberry.Private[int | None]
    shipment_id: strawberry.Private[int | None]

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return await Product.load(info, self.product_id)

    @strawberry.field(description="Where the reserved stock was taken from.")
    async def location(self, info: Info) -> Location:
        return await Location.load(info, self.location_id)

    @strawberry.field
    async def serial(self, info: Info) -> Serial | None:
        return await Serial.load_optional(info, self.serial_id)

    @strawberry.field
    async def lot(self, info: Info) -> Lot | None:
        return await Lot.load_optional(info, self.lot_id)

    @strawberry.field
    async def order(self, info: Info) -> Order:
        return await Order.load(info, self.order_id)

    @strawberry.field
    async def line(self, info: Info) -> OrderLine:
        return await OrderLine.load(info, self.line_id)

    @strawberry.field
    async def shipment(self, info: Info) -> "Shipment | None":
        return await Shipment.load_optional(info, self.shipment_id)


@strawberry.type(description="Go to a location and take what one allocation reserved.")
class PickTask(FromRow):
    loader_name = "pick_task_by_id"
    id: relay.NodeID[int]
    status: PickTaskStatus
    created_at: datetime
    completed_at: datetime | None
    allocation_id: strawberry.Private[int]
    location_id: strawberry.Private[int]
    order_id: strawberry.Private[int]

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await Location.load(info, self.location_id)

    @strawberry.field(description="What to take: the serial, or the lot and quantity.")
    async def allocation(self, info: Info) -> Allocation:
        row = await info.context.loaders.allocation_by_id.load(self.allocation_id)
        return Allocation.from_row(row)

    @strawberry.field
    async def order(self, info: Info) -> Order:
        return await Order.load(info, self.order_id)


@strawberry.type
class Shipment(FromRow):
    loader_name = "shipment_by_id"
    id: relay.NodeID[int]
    carrier: str | None
    tracking_number: str | None
    status: ShipmentStatus
    created_at: datetime
    dispatched_at: datetime | None
    order_id: strawberry.Private[int]

    @strawberry.field
    async def order(self, info: Info) -> Order:
        return await Order.load(info, self.order_id)

    @strawberry.field
    async def allocations(self, info: Info) -> list[Allocation]:
        return Allocation.many(await info.context.loaders.allocations_by_shipment_id.load(self.id))


# ---------------------------------------------------------------- inputs and payloads


@strawberry.input
class OrderLineInput:
    product_id: relay.GlobalID | None = None
    product_sku: str | None = strawberry.field(default=None, description="Instead of productId.")
    quantity: int


@strawberry.input
class CreateOrderInput:
    number: str
    warehouse_id: relay.GlobalID | None = None
    warehouse_code: str | None = strawberry.field(
        default=None, description="Instead of warehouseId."
    )
    customer_reference: str | None = None
    lines: list[OrderLineInput]


@strawberry.input(description="Allocate exactly these serials to a serial-tracked line.")
class SerialChoiceInput:
    line_number: int
    serial_numbers: list[str]


@strawberry.input(description="The order is named by orderId or orderNumber.")
class AllocateOrderInput:
    order_id: relay.GlobalID | None = None
    order_number: str | None = None
    serials: list[SerialChoiceInput] = strawberry.field(default_factory=list)


@strawberry.input(description="The order is named by orderId or orderNumber.")
class OrderRefInput:
    order_id: relay.GlobalID | None = None
    order_number: str | None = None


@strawberry.input
class CancelAllocationInput:
    allocation_id: relay.GlobalID


@strawberry.input(
    description="What the picker scanned: the serial number, or the lot number "
    "(lot-tracked) and the quantity taken. Less than allocated is a short pick."
)
class ConfirmPickInput:
    task_id: relay.GlobalID
    serial_number: str | None = strawberry.field(
        default=None,
        description="The serial number, or a raw scan of the item's GS1 label, whose GTIN must "
        "be the pick's product.",
    )
    lot_number: str | None = strawberry.field(
        default=None,
        description="The lot number in any case, or a raw scan of the lot's GS1 label, whose "
        "GTIN must be the pick's product and expiry (17) the lot's.",
    )
    quantity: int | None = None


@strawberry.input(description="Put picked goods back into a storage location.")
class ReturnToStockInput:
    allocation_id: relay.GlobalID
    location_id: relay.GlobalID | None = None
    location_code: str | None = None


@strawberry.input
class CreateShipmentInput:
    order_id: relay.GlobalID | None = None
    order_number: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None


@strawberry.input
class DispatchShipmentInput:
    shipment_id: relay.GlobalID


@strawberry.type
class OrderPayload:
    order: Order | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AllocationPayload:
    allocation: Allocation | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PickTaskPayload:
    pick_task: PickTask | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ShipmentPayload:
    shipment: Shipment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _order(outcome: object) -> OrderPayload:
    if isinstance(outcome, Refusal):
        return OrderPayload(user_errors=user_errors(outcome))
    return OrderPayload(order=Order.from_row(outcome))


def _allocation(outcome: object) -> AllocationPayload:
    if isinstance(outcome, Refusal):
        return AllocationPayload(user_errors=user_errors(outcome))
    return AllocationPayload(allocation=Allocation.from_row(outcome))


def _shipment(outcome: object) -> ShipmentPayload:
    if isinstance(outcome, Refusal):
        return ShipmentPayload(user_errors=user_errors(outcome))
    return ShipmentPayload(shipment=Shipment.from_row(outcome))


@strawberry.type
class OutboundMutation:
    @strawberry.mutation
    async def create_order(self, info: Info, input: CreateOrderInput) -> OrderPayload:
        return _order(
            await outbound.create_order(
                info.context,
                number=input.number,
                warehouse_gid=input.warehouse_id,
                warehouse_code=input.warehouse_code,
                customer_reference=input.customer_reference,
                lines=[
                    OrderLineArgs(line.product_id, line.product_sku, line.quantity)
                    for line in input.lines
                ],
            )
        )

    @strawberry.mutation(
        description="Reserve stock for every line still short, all or nothing; "
        "a shortfall answers INSUFFICIENT_STOCK per line."
    )
    async def allocate_order(self, info: Info, input: AllocateOrderInput) -> OrderPayload:
        return _order(
            await outbound.allocate_order(
                info.context,
                order_gid=input.order_id,
                order_number=input.order_number,
                serials=[SerialChoiceArgs(c.line_number, c.serial_numbers) for c in input.serials],
            )
        )

    @strawberry.mutation(description="Cancel an order and release everything it reserved.")
    async def cancel_order(self, info: Info, input: OrderRefInput) -> OrderPayload:
        return _order(
            await outbound.cancel_order(
                info.context, order_gid=input.order_id, order_number=input.order_number
            )
        )

    @strawberry.mutation(description="Release one unpicked allocation: ALLOCATED → IN_INVENTORY.")
    async def cancel_allocation(
        self, info: Info, input: CancelAllocationInput
    ) -> AllocationPayload:
        return _allocation(await outbound.cancel_allocation(info.context, input.allocation_id))

    @strawberry.mutation(description="Confirm a pick task with what was scanned.")
    async def confirm_pick(self, info: Info, input: ConfirmPickInput) -> PickTaskPayload:
        outcome = await outbound.confirm_pick(
            info.context,
            task_gid=input.task_id,
            scan=PickConfirmation(input.serial_number, input.lot_number, input.quantity),
        )
        if isinstance(outcome, Refusal):
            return PickTaskPayload(user_errors=user_errors(outcome))
        return PickTaskPayload(pick_task=PickTask.from_row(outcome))

    @strawberry.mutation(description="Return picked goods to stock: PICKED → IN_INVENTORY.")
    async def return_to_stock(self, info: Info, input: ReturnToStockInput) -> AllocationPayload:
        return _allocation(
            await outbound.return_to_stock(
                info.context,
                allocation_gid=input.allocation_id,
                location_gid=input.location_id,
                location_code=input.location_code,
            )
        )

    @strawberry.mutation(description="Pack a fully picked order into a shipment.")
    async def create_shipment(self, info: Info, input: CreateShipmentInput) -> ShipmentPayload:
        return _shipment(
            await outbound.create_shipment(
                info.context,
                order_gid=input.order_id,
                order_number=input.order_number,
                carrier=input.carrier,
                tracking_number=input.tracking_number,
            )
        )

    @strawberry.mutation(
        description="Dispatch a shipment: PICKED → SHIPPED. Refused if a lot in it has expired."
    )
    async def dispatch_shipment(self, info: Info, input: DispatchShipmentInput) -> ShipmentPayload:
        return _shipment(await outbound.dispatch_shipment(info.context, input.shipment_id))


@strawberry.type
class OutboundQuery:
    @strawberry.field
    async def order(self, info: Info, number: str) -> Order | None:
        return Order.maybe(await outbound.order_by_number(info.context, number))

    @strawberry.field
    async def orders(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        statuses: list[OutboundOrderStatus] | None = None,
    ) -> Connection[Order]:
        page = await lookup.page(info.context, lookup.orders_query(statuses), first, after)
        return connection(Order, page)
