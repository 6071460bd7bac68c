"""Recall: hold and release lots, and trace where a lot is and which orders took it."""

from datetime import date, datetime

import strawberry
from strawberry import relay

from resolvers import recall
from resolvers.outcome import Refusal
from resolvers.recall import LotRefArgs
from schema.enums import LocationKind, OutboundOrderStatus, ShipmentStatus
from schema.errors import UserError, user_errors
from schema.nodes import Info, Location, Lot, Product, Warehouse
from schema.outbound import Order, Shipment
from schema.reports import ReportRow


@strawberry.type(description="What is left of a lot at one location.")
class RecallStock(ReportRow):
    warehouse_code: str
    location_code: str
    location_kind: LocationKind
    quantity: int = strawberry.field(description="On hand here.")
    allocated_quantity: int = strawberry.field(
        description="Of it, reserved for orders (in storage, or picked and waiting at packing)."
    )
    warehouse_id: strawberry.Private[int]
    location_id: strawberry.Private[int]

    @strawberry.field
    async def warehouse(self, info: Info) -> Warehouse:
        row = await info.context.loaders.warehouse_by_id.load(self.warehouse_id)
        return Warehouse.from_row(row)

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await Location.load(info, self.location_id)


@strawberry.type(description="A shipment that holds (some of) a lot.")
class RecallShipment(ReportRow):
    carrier: str | None
    tracking_number: str | None
    status: ShipmentStatus
    dispatched_at: datetime | None = strawberry.field(
        description="When it left the warehouse; null while packed."
    )
    quantity: int = strawberry.field(description="Units of the lot in this shipment.")
    shipment_id: strawberry.Private[int]

    @strawberry.field
    async def shipment(self, info: Info) -> Shipment:
        return await Shipment.load(info, self.shipment_id)


@strawberry.type(
    description="An order that took (some of) a lot: reserved it, picked it or shipped it. "
    "Allocations cancelled or returned to stock are not counted."
)
class RecallOrder(ReportRow):
    order_number: str
    customer_reference: str | None
    status: OutboundOrderStatus
    warehouse_code: str
    ordered_at: datetime
    allocated_at: datetime = strawberry.field(
        description="When the lot was first allocated to the order."
    )
    allocated_quantity: int = strawberry.field(
        description="Units of the lot reserved for the order, picked and shipped ones included."
    )
    picked_quantity: int = strawberry.field(description="Of those, picked (shipped included).")
    shipped_quantity: int = strawberry.field(description="Of those, dispatched.")
    shipments: list[RecallShipment]
    order_id: strawberry.Private[int]

    @strawberry.field
    async def order(self, info: Info) -> Order:
        return await Order.load(info, self.order_id)


@strawberry.type(
    description="One lot in a recall: whether it is held, where what is left of it is, "
    "and which orders and shipments took it."
)
class LotRecall(ReportRow):
    lot_number: str
    sku: str
    product_name: str
    expiry_date: date | None
    received_at: datetime = strawberry.field(description="First receipt of the lot.")
    on_hold: bool = strawberry.field(description="On a recall hold: never allocated.")
    hold_reason: str | None
    on_hand: int = strawberry.field(description="Left in the warehouses, all locations.")
    allocated_quantity: int = strawberry.field(description="Of what is left, reserved for orders.")
    shipped_quantity: int = strawberry.field(description="Dispatched to customers.")
    stock: list[RecallStock] = strawberry.field(
        description="Where what is left is, by warehouse and location code."
    )
    orders: list[RecallOrder] = strawberry.field(description="Oldest order first.")
    lot_id: strawberry.Private[int]
    product_id: strawberry.Private[int]

    @strawberry.field
    async def lot(self, info: Info) -> Lot:
        return await Lot.load(info, self.lot_id)

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return await Product.load(info, self.product_id)


# ---------------------------------------------------------------- inputs and payloads


@strawberry.input(description="A lot by its product's SKU and its number, in any case.")
class LotRefInput:
    sku: str
    lot_number: str


@strawberry.input(description="Name the lots by lotIds, by lots, or both.")
class HoldLotsInput:
    lot_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    lots: list[LotRefInput] = strawberry.field(default_factory=list)
    reason: str = strawberry.field(description="Why, 1 to 500 characters; kept while held.")
    reference: str | None = strawberry.field(
        default=None,
        description="The recall's reference, written as the movements' document number "
        "(document type RECALL); without it, HOLD-<lot number>.",
    )


@strawberry.input(description="Name the lots by lotIds, by lots, or both.")
class ReleaseLotsInput:
    lot_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    lots: list[LotRefInput] = strawberry.field(default_factory=list)
    reference: str | None = strawberry.field(
        default=None, description="As for holdLots; without it, HOLD-<lot number>."
    )


@strawberry.type
class LotsPayload:
    lots: list[Lot] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _refs(lots: list[LotRefInput]) -> list[LotRefArgs]:
    return [LotRefArgs(ref.sku, ref.lot_number) for ref in lots]


def _lots(outcome: object) -> LotsPayload:
    if isinstance(outcome, Refusal):
        return LotsPayload(user_errors=user_errors(outcome))
    assert isinstance(outcome, list)
    return LotsPayload(lots=Lot.many(outcome))


@strawberry.type
class RecallMutation:
    @strawberry.mutation(
        description="Put lots on hold, all or none: allocation skips them until released. "
        "Orders that already reserved them keep them (see `recall`). One HOLD movement per "
        "lot; refused with LOT_ALREADY_ON_HOLD for a lot already held."
    )
    async def hold_lots(self, info: Info, input: HoldLotsInput) -> LotsPayload:
        return _lots(
            await recall.hold_lots(
                info.context,
                lot_gids=input.lot_ids,
                lots=_refs(input.lots),
                reason=input.reason,
                reference=input.reference,
            )
        )

    @strawberry.mutation(
        description="Lift the hold of lots, all or none: they can be allocated again. One "
        "RELEASE_HOLD movement per lot; refused with LOT_NOT_ON_HOLD for a lot not held."
    )
    async def release_lots(self, info: Info, input: ReleaseLotsInput) -> LotsPayload:
        return _lots(
            await recall.release_lots(
                info.context,
                lot_gids=input.lot_ids,
                lots=_refs(input.lots),
                reference=input.reference,
            )
        )


@strawberry.type
class RecallQuery:
    @strawberry.field(
        description="For each lot named (by lotIds, lots, or both; each once, in the order "
        "named): its hold, where what is left of it is, and the orders and shipments that "
        "took it. A lot that does not exist is an error."
    )
    async def recall(
        self,
        info: Info,
        lot_ids: list[relay.GlobalID] | None = None,
        lots: list[LotRefInput] | None = None,
    ) -> list[LotRecall]:
        rows = await recall.recall_report(
            info.context, lot_gids=lot_ids or [], lots=_refs(lots or [])
        )
        return [
            LotRecall.from_report(
                row,
                stock=RecallStock.many(row.stock),
                orders=[
                    RecallOrder.from_report(o, shipments=RecallShipment.many(o.shipments))
                    for o in row.orders
                ],
            )
            for row in rows
        ]
