"""Report rows as GraphQL types: flat columns (as in the CSV downloads) plus the objects they
describe, for drilling down."""

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Self

import strawberry

from resolvers import reports
from schema.enums import LocationKind, SerialStatus
from schema.nodes import Info, Location, Lot, Product, Warehouse


class ReportRow:
    """Builds a row type from a service's report dataclass by field name."""

    @classmethod
    def from_report(cls, row: Any, **given: Any) -> Self:
        """Fields named in `given` (nested rows, say) are taken from there instead."""
        names = [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
        return cls(**{name: getattr(row, name) for name in names if name not in given}, **given)

    @classmethod
    def many(cls, rows: Iterable[Any]) -> list[Self]:
        return [cls.from_report(row) for row in rows]


@strawberry.type(description="Serials of one product in one status in one warehouse.")
class SerialCount(ReportRow):
    sku: str
    product_name: str
    warehouse_code: str
    status: SerialStatus
    count: int
    product_id: strawberry.Private[int]
    warehouse_id: strawberry.Private[int]

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return await Product.load(info, self.product_id)

    @strawberry.field
    async def warehouse(self, info: Info) -> Warehouse:
        row = await info.context.loaders.warehouse_by_id.load(self.warehouse_id)
        return Warehouse.from_row(row)


@strawberry.type(description="Serials of one product in one status at one location.")
class SerialLocationCount(SerialCount):
    location_code: str
    location_kind: LocationKind
    location_id: strawberry.Private[int]

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await Location.load(info, self.location_id)


@strawberry.type(
    description="Serial counts. Numbers released from cancelled ASNs are not counted; "
    "by location counts only serials physically here (received, not shipped)."
)
class SerialInventoryReport:
    product_id: strawberry.Private[int | None]
    warehouse_id: strawberry.Private[int | None]

    @strawberry.field(description="By product, warehouse and status.")
    async def by_warehouse(self, info: Info) -> list[SerialCount]:
        rows = await reports.serial_inventory(
            info.context,
            product_id=self.product_id,
            warehouse_id=self.warehouse_id,
            by_location=False,
        )
        return SerialCount.many(rows)

    @strawberry.field(description="By product, location and status.")
    async def by_location(self, info: Info) -> list[SerialLocationCount]:
        rows = await reports.serial_inventory(
            info.context,
            product_id=self.product_id,
            warehouse_id=self.warehouse_id,
            by_location=True,
        )
        return SerialLocationCount.many(rows)


@strawberry.type(description="On-hand stock of one lot at one location.")
class LotStock(ReportRow):
    sku: str
    product_name: str
    warehouse_code: str
    location_code: str
    location_kind: LocationKind
    lot_number: str
    expiry_date: date | None
    lot_received_at: datetime = strawberry.field(description="First receipt of the lot.")
    on_hold: bool = strawberry.field(description="On a recall hold: never allocated.")
    hold_reason: str | None
    quantity: int
    allocated_quantity: int
    available_quantity: int
    days_to_expiry: int | None = strawberry.field(
        description="Days from today in the warehouse's time zone; negative once expired, "
        "0 on the expiry day; null without an expiry date."
    )
    expired: bool = strawberry.field(
        description="The expiry date is before today; on the expiry day itself it is not."
    )
    lot_id: strawberry.Private[int]
    location_id: strawberry.Private[int]

    @strawberry.field
    async def lot(self, info: Info) -> Lot:
        return await Lot.load(info, self.lot_id)

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await Location.load(info, self.location_id)


@strawberry.type(description="A lot on hand in one warehouse that expires soon, or has.")
class ExpiringLot(ReportRow):
    sku: str
    product_name: str
    warehouse_code: str
    lot_number: str
    expiry_date: date
    lot_received_at: datetime
    on_hold: bool = strawberry.field(description="On a recall hold: never allocated.")
    hold_reason: str | None
    days_to_expiry: int = strawberry.field(
        description="Days from today in the warehouse's time zone; negative once expired."
    )
    expired: bool
    quantity: int = strawberry.field(description="On hand in the warehouse, all locations.")
    allocated_quantity: int
    available_quantity: int
    location_codes: list[str] = strawberry.field(description="Where it is, in location order.")
    lot_id: strawberry.Private[int]

    @strawberry.field
    async def lot(self, info: Info) -> Lot:
        return await Lot.load(info, self.lot_id)
