"""Serial number look-up and the serial location report, as keyset pages."""

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry import relay

from models import SerialStatus
from resolvers.context import Context
from resolvers.counted import counted_page
from resolvers.ids import decode_optional
from resolvers.lookup import Page
from services.lookup import IN_CUSTODY, SerialMatch, SerialSearch, serial_search_query


async def serial_lookup(
    ctx: Context,
    *,
    search: str | None,
    match: SerialMatch,
    product_id: relay.GlobalID | None,
    statuses: list[SerialStatus] | None,
    warehouse_id: relay.GlobalID | None,
    location_id: relay.GlobalID | None,
    first: int,
    after: str | None,
) -> tuple[Page[Any], Callable[[], Awaitable[int]]]:
    query = serial_search_query(
        SerialSearch(
            search=search,
            match=match,
            product_id=decode_optional(product_id, "Product", "productId"),
            statuses=tuple(statuses or ()),
            warehouse_id=decode_optional(warehouse_id, "Warehouse", "warehouseId"),
            location_id=decode_optional(location_id, "Location", "locationId"),
        )
    )
    return await counted_page(ctx, query, first, after)


async def serial_locations(
    ctx: Context,
    *,
    product_id: relay.GlobalID | None,
    warehouse_id: relay.GlobalID | None,
    location_id: relay.GlobalID | None,
    first: int,
    after: str | None,
) -> tuple[Page[Any], Callable[[], Awaitable[int]]]:
    """Serials physically in the warehouse (received, not yet shipped), oldest first."""
    return await serial_lookup(
        ctx,
        search=None,
        match=SerialMatch.PREFIX,
        product_id=product_id,
        statuses=list(IN_CUSTODY),
        warehouse_id=warehouse_id,
        location_id=location_id,
        first=first,
        after=after,
    )
