"""Reports as the API offers them: global ids in, report rows out."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from strawberry import relay

from models import MovementKind
from models.base import utc_now
from resolvers.context import Context
from resolvers.counted import counted_page
from resolvers.ids import decode_optional
from resolvers.lookup import ArgumentError, Page
from services import reports
from services.reports import ExpiringLot, LotStock, MovementFilter, SerialCount


def serial_inventory_scope(
    product_id: relay.GlobalID | None, warehouse_id: relay.GlobalID | None
) -> tuple[int | None, int | None]:
    """The product and warehouse ids a serial inventory is narrowed to, checked up front."""
    return (
        decode_optional(product_id, "Product", "productId"),
        decode_optional(warehouse_id, "Warehouse", "warehouseId"),
    )


async def serial_inventory(
    ctx: Context, *, product_id: int | None, warehouse_id: int | None, by_location: bool
) -> list[SerialCount]:
    report = reports.serial_inventory_by_location if by_location else reports.serial_inventory
    async with ctx.read() as session:
        return await report(session, product_id=product_id, warehouse_id=warehouse_id)


async def lot_inventory(
    ctx: Context, *, product_id: relay.GlobalID | None, warehouse_id: relay.GlobalID | None
) -> list[LotStock]:
    pid = decode_optional(product_id, "Product", "productId")
    wid = decode_optional(warehouse_id, "Warehouse", "warehouseId")
    async with ctx.read() as session:
        return await reports.lot_inventory(session, now=utc_now(), product_id=pid, warehouse_id=wid)


async def expiring_lots(
    ctx: Context,
    *,
    days: int,
    product_id: relay.GlobalID | None,
    warehouse_id: relay.GlobalID | None,
) -> list[ExpiringLot]:
    reports.check_expiry_window(days)
    pid = decode_optional(product_id, "Product", "productId")
    wid = decode_optional(warehouse_id, "Warehouse", "warehouseId")
    async with ctx.read() as session:
        return await reports.expiring_lots(
            session, now=utc_now(), days=days, product_id=pid, warehouse_id=wid
        )


async def lot_movements(
    ctx: Context,
    *,
    lot_id: relay.GlobalID | None,
    product_id: relay.GlobalID | None,
    warehouse_id: relay.GlobalID | None,
    since: datetime | None,
    until: datetime | None,
    kinds: list[MovementKind] | None,
    first: int,
    after: str | None,
) -> tuple[Page[Any], Callable[[], Awaitable[int]]]:
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise ArgumentError(f"{name} needs a time zone offset, e.g. 2026-01-31T00:00:00Z")
    where = MovementFilter(
        product_id=decode_optional(product_id, "Product", "productId"),
        lot_id=decode_optional(lot_id, "Lot", "lotId"),
        warehouse_id=decode_optional(warehouse_id, "Warehouse", "warehouseId"),
        since=since,
        until=until,
        kinds=tuple(kinds or ()),
    )
    return await counted_page(ctx, reports.lot_movements_query(where), first, after)
