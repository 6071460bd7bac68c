"""Catalog use cases and look-ups as the API offers them."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from models import AllocationStrategy, Location, LocationKind, Product, Tracking, Warehouse
from resolvers.context import Context
from resolvers.ids import decode
from resolvers.outcome import Refusal, attempt
from services import catalog
from services.catalog import LocationSpec


async def create_warehouse(
    ctx: Context,
    *,
    code: str,
    name: str,
    time_zone: str,
    allocation_strategy: AllocationStrategy,
    locations: list[LocationSpec],
) -> Warehouse | Refusal:
    async def use_case(session: AsyncSession) -> Warehouse:
        return await catalog.create_warehouse(
            session,
            code=code,
            name=name,
            time_zone=time_zone,
            allocation_strategy=allocation_strategy,
            locations=locations,
        )

    return await attempt(ctx, use_case)


async def create_location(
    ctx: Context, *, warehouse_id: relay.GlobalID, code: str, kind: LocationKind
) -> Location | Refusal:
    async def use_case(session: AsyncSession) -> Location:
        return await catalog.create_location(
            session,
            warehouse_id=decode(warehouse_id, "Warehouse", "warehouseId"),
            code=code,
            kind=kind,
        )

    return await attempt(ctx, use_case)


async def create_product(
    ctx: Context,
    *,
    sku: str,
    name: str,
    gtin: str | None,
    serial_tracked: bool,
    lot_tracked: bool,
) -> Product | Refusal:
    async def use_case(session: AsyncSession) -> Product:
        tracking = catalog.tracking_from_flags(serial_tracked, lot_tracked)
        return await catalog.create_product(
            session, sku=sku, name=name, gtin=gtin, tracking=tracking
        )

    return await attempt(ctx, use_case)


async def update_product(
    ctx: Context,
    *,
    product_id: relay.GlobalID,
    name: str | None,
    gtin: str | None,
    serial_tracked: bool | None,
    lot_tracked: bool | None,
) -> Product | Refusal:
    async def use_case(session: AsyncSession) -> Product:
        pid = decode(product_id, "Product", "id")
        tracking: Tracking | None = None
        if serial_tracked is not None or lot_tracked is not None:
            current = await session.get(Product, pid)
            serial = (
                serial_tracked
                if serial_tracked is not None
                else (current is not None and current.tracking is Tracking.SERIAL)
            )
            lot = (
                lot_tracked
                if lot_tracked is not None
                else (current is not None and current.tracking is Tracking.LOT)
            )
            tracking = catalog.tracking_from_flags(serial, lot)
        # An empty string clears the GTIN; null leaves it as it is.
        return await catalog.update_product(
            session, pid, name=name, gtin=gtin or None, clear_gtin=gtin == "", tracking=tracking
        )

    return await attempt(ctx, use_case)


async def warehouses(ctx: Context) -> list[Warehouse]:
    async with ctx.read() as session:
        return list(await session.scalars(select(Warehouse).order_by(Warehouse.code)))


async def warehouse_by_code(ctx: Context, code: str) -> Warehouse | None:
    async with ctx.read() as session:
        return await session.scalar(select(Warehouse).where(Warehouse.code == code.strip()))


async def product_by_sku(ctx: Context, sku: str) -> Product | None:
    async with ctx.read() as session:
        return await session.scalar(select(Product).where(Product.sku == sku.strip()))
