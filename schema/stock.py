"""Stock figures shown on products and lots."""

import strawberry

from schema.nodes import Info, Location, Lot, Warehouse
from services.stock_levels import StockPosition as Position


@strawberry.type(description="Stock of one product (and lot) at one location.")
class StockPosition:
    on_hand: int = strawberry.field(description="Physically here: dock, storage or packing.")
    allocated: int = strawberry.field(description="Reserved by orders and not yet shipped.")
    available: int = strawberry.field(
        description="What allocation could still take: free, in storage, not held or expired."
    )
    warehouse_id: strawberry.Private[int]
    location_id: strawberry.Private[int]
    lot_id: strawberry.Private[int | None]

    @strawberry.field
    async def warehouse(self, info: Info) -> Warehouse:
        return Warehouse.from_row(
            await info.context.loaders.warehouse_by_id.load(self.warehouse_id)
        )

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await Location.load(info, self.location_id)

    @strawberry.field
    async def lot(self, info: Info) -> Lot | None:
        return await Lot.load_optional(info, self.lot_id)


@strawberry.type
class StockSummary:
    on_hand: int
    allocated: int
    available: int
    by_location: list[StockPosition]


def summarize(positions: list[Position]) -> StockSummary:
    return StockSummary(
        on_hand=sum(p.on_hand for p in positions),
        allocated=sum(p.allocated for p in positions),
        available=sum(p.available for p in positions),
        by_location=[
            StockPosition(
                on_hand=p.on_hand,
                allocated=p.allocated,
                available=p.available,
                warehouse_id=p.warehouse_id,
                location_id=p.location_id,
                lot_id=p.lot_id,
            )
            for p in positions
        ],
    )
