"""Live updates: every committed change, pushed over WebSocket (graphql-transport-ws) or
server-sent events (GET or POST /graphql with `Accept: text/event-stream`)."""

from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime

import strawberry
from strawberry import relay

from models.enums import OutboundOrderStatus, ReceivingOrderStatus, SerialStatus
from resolvers import live
from resolvers.ids import decode_optional
from schema.nodes import Info, Lot, Movement, ReceivingOrder, Serial
from schema.outbound import Order
from services.events import DEFAULT_MAX_QUEUE, EventKind

FELL_BEHIND = (
    f"A subscriber more than {DEFAULT_MAX_QUEUE} events behind is closed with the error "
    f"`more than {DEFAULT_MAX_QUEUE} events were waiting for this subscriber`; read the "
    "current state and subscribe again."
)


@strawberry.type(description="A serial changed status in one committed transaction.")
class SerialStatusChange:
    serial: Serial = strawberry.field(
        description="The serial as it is now (read when the change reached this server)."
    )
    from_status: SerialStatus | None = strawberry.field(
        description="Before the transaction; null when it created the serial."
    )
    to_status: SerialStatus = strawberry.field(description="What the transaction left it in.")
    movement: Movement = strawberry.field(description="The movement that made the change.")
    movements: list[Movement] = strawberry.field(
        description="Every movement of this serial in the transaction, oldest first."
    )
    actor: str
    occurred_at: datetime

    @classmethod
    def build(cls, change: live.Change) -> "SerialStatusChange":
        movements = Movement.many(change.movements)
        assert change.event.to_status is not None
        return cls(
            serial=Serial.from_row(change.row),
            from_status=SerialStatus(change.event.from_status)
            if change.event.from_status
            else None,
            to_status=SerialStatus(change.event.to_status),
            movement=movements[-1],
            movements=movements,
            actor=change.event.actor,
            occurred_at=movements[-1].occurred_at,
        )


@strawberry.type(
    description="A lot's stock moved (received, put away, allocated, picked, shipped, "
    "returned) or was held or released, in one committed transaction."
)
class LotStockChange:
    lot: Lot = strawberry.field(description="The lot as it is now, with its `stock`.")
    movement: Movement = strawberry.field(description="The last movement of the change.")
    movements: list[Movement] = strawberry.field(
        description="Every movement of this lot in the transaction, oldest first."
    )
    actor: str
    occurred_at: datetime

    @classmethod
    def build(cls, change: live.Change) -> "LotStockChange":
        movements = Movement.many(change.movements)
        return cls(
            lot=Lot.from_row(change.row),
            movement=movements[-1],
            movements=movements,
            actor=change.event.actor,
            occurred_at=movements[-1].occurred_at,
        )


@strawberry.type(description="A customer order changed status in one committed transaction.")
class OrderStatusChange:
    order: Order = strawberry.field(description="The order as it is now.")
    from_status: OutboundOrderStatus | None = strawberry.field(
        description="Before the transaction; null when it created the order."
    )
    to_status: OutboundOrderStatus
    actor: str

    @classmethod
    def build(cls, change: live.Change) -> "OrderStatusChange":
        before, after = change.event.from_status, change.event.to_status
        assert after is not None
        return cls(
            order=Order.from_row(change.row),
            from_status=OutboundOrderStatus(before) if before else None,
            to_status=OutboundOrderStatus(after),
            actor=change.event.actor,
        )


@strawberry.type(description="An ASN changed status in one committed transaction.")
class ReceivingOrderStatusChange:
    receiving_order: ReceivingOrder = strawberry.field(description="The ASN as it is now.")
    from_status: ReceivingOrderStatus | None = strawberry.field(
        description="Before the transaction; null when it created the ASN."
    )
    to_status: ReceivingOrderStatus
    actor: str

    @classmethod
    def build(cls, change: live.Change) -> "ReceivingOrderStatusChange":
        before, after = change.event.from_status, change.event.to_status
        assert after is not None
        return cls(
            receiving_order=ReceivingOrder.from_row(change.row),
            from_status=ReceivingOrderStatus(before) if before else None,
            to_status=ReceivingOrderStatus(after),
            actor=change.event.actor,
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Serial status changes as they commit. Every argument narrows the "
        "stream: one product, one exact serial number, one warehouse, changes into one of "
        "`statuses`. " + FELL_BEHIND
    )
    async def serial_status_changed(
        self,
        info: Info,
        product_id: relay.GlobalID | None = None,
        serial_number: str | None = None,
        warehouse_id: relay.GlobalID | None = None,
        statuses: list[SerialStatus] | None = None,
    ) -> AsyncGenerator[SerialStatusChange, None]:
        changes = live.serial_status_changes(
            info.context,
            product_id=decode_optional(product_id, "Product", "productId"),
            serial_number=serial_number,
            warehouse_id=decode_optional(warehouse_id, "Warehouse", "warehouseId"),
            statuses=statuses,
        )
        async with aclosing(changes):
            async for change in changes:
                yield change.payload(SerialStatusChange.build)

    @strawberry.subscription(
        description="Lot stock changes as they commit, optionally of one lot, one product "
        "or one warehouse. " + FELL_BEHIND
    )
    async def lot_stock_changed(
        self,
        info: Info,
        lot_id: relay.GlobalID | None = None,
        product_id: relay.GlobalID | None = None,
        warehouse_id: relay.GlobalID | None = None,
    ) -> AsyncGenerator[LotStockChange, None]:
        changes = live.lot_stock_changes(
            info.context,
            lot_id=decode_optional(lot_id, "Lot", "lotId"),
            product_id=decode_optional(product_id, "Product", "productId"),
            warehouse_id=decode_optional(warehouse_id, "Warehouse", "warehouseId"),
        )
        async with aclosing(changes):
            async for change in changes:
                yield change.payload(LotStockChange.build)

    @strawberry.subscription(
        description="Customer order status changes (allocated, picking, picked, packed, "
        "shipped, cancelled), optionally of one order number or one warehouse. " + FELL_BEHIND
    )
    async def order_status_changed(
        self,
        info: Info,
        number: str | None = None,
        warehouse_id: relay.GlobalID | None = None,
    ) -> AsyncGenerator[OrderStatusChange, None]:
        changes = live.order_status_changes(
            info.context,
            EventKind.ORDER,
            number=number,
            warehouse_id=decode_optional(warehouse_id, "Warehouse", "warehouseId"),
        )
        async with aclosing(changes):
            async for change in changes:
                yield change.payload(OrderStatusChange.build)

    @strawberry.subscription(
        description="ASN status changes (receiving, received, closed, cancelled), optionally "
        "of one ASN number or one warehouse. " + FELL_BEHIND
    )
    async def receiving_order_status_changed(
        self,
        info: Info,
        number: str | None = None,
        warehouse_id: relay.GlobalID | None = None,
    ) -> AsyncGenerator[ReceivingOrderStatusChange, None]:
        changes = live.order_status_changes(
            info.context,
            EventKind.RECEIVING_ORDER,
            number=number,
            warehouse_id=decode_optional(warehouse_id, "Warehouse", "warehouseId"),
        )
        async with aclosing(changes):
            async for change in changes:
                yield change.payload(ReceivingOrderStatusChange.build)
