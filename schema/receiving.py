"""Inbound mutations: plan, receive, cancel and close receiving orders; put away."""

from datetime import date

import strawberry
from strawberry import relay

from resolvers import receiving
from resolvers.outcome import Refusal
from resolvers.receiving import LineReceiptArgs, PlacementArgs, PlannedLineArgs
from schema.errors import UserError, user_errors
from schema.nodes import Info, Lot, PutawayTask, ReceivingOrder, Serial
from services.receiving import LotEntry


@strawberry.input
class PlannedLineInput:
    product_id: relay.GlobalID | None = None
    product_sku: str | None = strawberry.field(default=None, description="Instead of productId.")
    expected_quantity: int
    expected_serial_numbers: list[str] = strawberry.field(
        default_factory=list,
        description="Serial-tracked lines only: exactly expectedQuantity numbers, which become "
        "EXPECTED serials. Only these may then be received on the line.",
    )


@strawberry.input
class PlanReceivingOrderInput:
    number: str
    warehouse_id: relay.GlobalID | None = None
    warehouse_code: str | None = strawberry.field(
        default=None, description="Instead of warehouseId."
    )
    supplier: str | None = None
    lines: list[PlannedLineInput]


@strawberry.input(description="One lot of a lot-tracked line: number, optional expiry, quantity.")
class LotLineInput:
    lot_number: str = strawberry.field(
        description="The lot number, or a raw scan of the lot label (GS1-128, GS1 DataMatrix "
        "or QR data, the (01)…(10)… text, a GS1 Digital Link URL): its GTIN must be the "
        "line's product and its expiry (17) the one given or recorded."
    )
    quantity: int
    expiry_date: date | None = strawberry.field(
        default=None, description="Taken from a scanned label's expiry (17) when not given."
    )


@strawberry.input(description="One ASN line, named by lineId or lineNumber.")
class ReceiveLineInput:
    line_id: relay.GlobalID | None = None
    line_number: int | None = None
    quantity: int | None = strawberry.field(
        default=None,
        description="Untracked: required. Serial-tracked: the number of serials. "
        "Lot-tracked: the sum of the lots.",
    )
    serial_numbers: list[str] = strawberry.field(
        default_factory=list,
        description="One per unit: the serial number, or a raw scan of the unit's GS1 label "
        "(its GTIN must be the line's product). A refused entry is named by its index, "
        "e.g. lines.0.serialNumbers.3.",
    )
    lots: list[LotLineInput] = strawberry.field(default_factory=list)


@strawberry.input(description="The order is named by orderId or orderNumber.")
class ReceiveItemsInput:
    order_id: relay.GlobalID | None = None
    order_number: str | None = None
    lines: list[ReceiveLineInput]


@strawberry.input(description="The order is named by orderId or orderNumber.")
class ReceivingOrderRefInput:
    order_id: relay.GlobalID | None = None
    order_number: str | None = None


@strawberry.input(description="Where part of a task goes: locationId or locationCode.")
class PlacementInput:
    location_id: relay.GlobalID | None = None
    location_code: str | None = None
    quantity: int
    serial_numbers: list[str] = strawberry.field(
        default_factory=list,
        description="Which serials go here, by number or raw scan of their GS1 labels; "
        "unnamed ones are taken in serial-number order.",
    )


@strawberry.input
class CompletePutawayInput:
    task_id: relay.GlobalID
    placements: list[PlacementInput]


@strawberry.type
class ReceivingOrderPayload:
    receiving_order: ReceivingOrder | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ReceiveItemsPayload:
    receiving_order: ReceivingOrder | None = None
    putaway_tasks: list[PutawayTask] = strawberry.field(default_factory=list)
    serials: list[Serial] = strawberry.field(default_factory=list)
    lots: list[Lot] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CompletePutawayPayload:
    putaway_task: PutawayTask | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _order_payload(outcome: object) -> ReceivingOrderPayload:
    if isinstance(outcome, Refusal):
        return ReceivingOrderPayload(user_errors=user_errors(outcome))
    return ReceivingOrderPayload(receiving_order=ReceivingOrder.from_row(outcome))


@strawberry.type
class ReceivingMutation:
    @strawberry.mutation(description="Plan an ASN; expected serials are created as EXPECTED.")
    async def plan_receiving_order(
        self, info: Info, input: PlanReceivingOrderInput
    ) -> ReceivingOrderPayload:
        outcome = await receiving.plan_receiving_order(
            info.context,
            number=input.number,
            warehouse_id=input.warehouse_id,
            warehouse_code=input.warehouse_code,
            supplier=input.supplier,
            lines=[
                PlannedLineArgs(
                    line.product_id,
                    line.product_sku,
                    line.expected_quantity,
                    line.expected_serial_numbers,
                )
                for line in input.lines
            ],
        )
        return _order_payload(outcome)

    @strawberry.mutation(
        description="Receive any lines of an order in one call, all or nothing. Goods land on "
        "the receiving dock and putaway tasks are created."
    )
    async def receive_items(self, info: Info, input: ReceiveItemsInput) -> ReceiveItemsPayload:
        outcome = await receiving.receive_items(
            info.context,
            order_id=input.order_id,
            order_number=input.order_number,
            lines=[
                LineReceiptArgs(
                    line.line_id,
                    line.line_number,
                    line.quantity,
                    line.serial_numbers,
                    [LotEntry(lot.lot_number, lot.quantity, lot.expiry_date) for lot in line.lots],
                )
                for line in input.lines
            ],
        )
        if isinstance(outcome, Refusal):
            return ReceiveItemsPayload(user_errors=user_errors(outcome))
        return ReceiveItemsPayload(
            receiving_order=ReceivingOrder.from_row(outcome.order),
            putaway_tasks=PutawayTask.many(outcome.putaway_tasks),
            serials=Serial.many(outcome.serials),
            lots=Lot.many(dict.fromkeys(outcome.lots)),
        )

    @strawberry.mutation(
        description="Cancel a planned order before anything arrived; its expected serials are "
        "released."
    )
    async def cancel_receiving_order(
        self, info: Info, input: ReceivingOrderRefInput
    ) -> ReceivingOrderPayload:
        return _order_payload(
            await receiving.cancel_receiving_order(info.context, input.order_id, input.order_number)
        )

    @strawberry.mutation(
        description="Close an order that received goods, accepting a short receipt; serials "
        "still expected are released."
    )
    async def close_receiving_order(
        self, info: Info, input: ReceivingOrderRefInput
    ) -> ReceivingOrderPayload:
        return _order_payload(
            await receiving.close_receiving_order(info.context, input.order_id, input.order_number)
        )

    @strawberry.mutation(description="Put a task's goods into one or more storage locations.")
    async def complete_putaway(
        self, info: Info, input: CompletePutawayInput
    ) -> CompletePutawayPayload:
        outcome = await receiving.complete_putaway(
            info.context,
            task_id=input.task_id,
            placements=[
                PlacementArgs(p.location_id, p.location_code, p.quantity, p.serial_numbers)
                for p in input.placements
            ],
        )
        if isinstance(outcome, Refusal):
            return CompletePutawayPayload(user_errors=user_errors(outcome))
        return CompletePutawayPayload(putaway_task=PutawayTask.from_row(outcome))
