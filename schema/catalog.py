"""Catalog mutations: warehouses, locations, products."""

import strawberry
from strawberry import relay

from resolvers import catalog
from resolvers.outcome import Refusal
from schema.enums import AllocationStrategy, LocationKind
from schema.errors import UserError, user_errors
from schema.nodes import Info, Location, Product, Warehouse
from services.catalog import LocationSpec


@strawberry.input
class LocationInput:
    code: str
    kind: LocationKind


@strawberry.input
class CreateWarehouseInput:
    code: str
    name: str
    time_zone: str = strawberry.field(description="IANA time zone, e.g. Europe/Berlin.")
    allocation_strategy: AllocationStrategy = AllocationStrategy.FEFO
    locations: list[LocationInput] = strawberry.field(default_factory=list)


@strawberry.input
class CreateLocationInput:
    warehouse_id: relay.GlobalID
    code: str
    kind: LocationKind


@strawberry.input
class CreateProductInput:
    sku: str
    name: str
    gtin: str | None = None
    serial_tracked: bool = False
    lot_tracked: bool = False


@strawberry.input
class UpdateProductInput:
    id: relay.GlobalID
    name: str | None = None
    gtin: str | None = strawberry.field(default=None, description="An empty string clears it.")
    serial_tracked: bool | None = None
    lot_tracked: bool | None = None


@strawberry.type
class WarehousePayload:
    warehouse: Warehouse | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LocationPayload:
    location: Location | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ProductPayload:
    product: Product | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CatalogMutation:
    @strawberry.mutation
    async def create_warehouse(self, info: Info, input: CreateWarehouseInput) -> WarehousePayload:
        outcome = await catalog.create_warehouse(
            info.context,
            code=input.code,
            name=input.name,
            time_zone=input.time_zone,
            allocation_strategy=input.allocation_strategy,
            locations=[LocationSpec(loc.code, loc.kind) for loc in input.locations],
        )
        if isinstance(outcome, Refusal):
            return WarehousePayload(user_errors=user_errors(outcome))
        return WarehousePayload(warehouse=Warehouse.from_row(outcome))

    @strawberry.mutation
    async def create_location(self, info: Info, input: CreateLocationInput) -> LocationPayload:
        outcome = await catalog.create_location(
            info.context, warehouse_id=input.warehouse_id, code=input.code, kind=input.kind
        )
        if isinstance(outcome, Refusal):
            return LocationPayload(user_errors=user_errors(outcome))
        return LocationPayload(location=Location.from_row(outcome))

    @strawberry.mutation(description="Create a product. Asking for both trackings is refused.")
    async def create_product(self, info: Info, input: CreateProductInput) -> ProductPayload:
        outcome = await catalog.create_product(
            info.context,
            sku=input.sku,
            name=input.name,
            gtin=input.gtin,
            serial_tracked=input.serial_tracked,
            lot_tracked=input.lot_tracked,
        )
        if isinstance(outcome, Refusal):
            return ProductPayload(user_errors=user_errors(outcome))
        return ProductPayload(product=Product.from_row(outcome))

    @strawberry.mutation(
        description="Rename, set the GTIN, or change tracking (only before any stock, serial, "
        "lot or open receipt exists)."
    )
    async def update_product(self, info: Info, input: UpdateProductInput) -> ProductPayload:
        outcome = await catalog.update_product(
            info.context,
            product_id=input.id,
            name=input.name,
            gtin=input.gtin,
            serial_tracked=input.serial_tracked,
            lot_tracked=input.lot_tracked,
        )
        if isinstance(outcome, Refusal):
            return ProductPayload(user_errors=user_errors(outcome))
        return ProductPayload(product=Product.from_row(outcome))
