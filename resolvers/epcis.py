"""The EPCIS export as the API offers it: a shipment by global id, refusals as userErrors
naming the GraphQL input paths."""

from dataclasses import replace
from datetime import datetime

from strawberry import relay

from models.base import utc_now
from resolvers.context import Context
from resolvers.ids import decode
from resolvers.outcome import Refusal
from services import epcis
from services.epcis import EpcisExport, EpcisFilter
from services.errors import Refused

# The service names its fields as the HTTP route does; these are the GraphQL paths.
FIELDS = {
    "product": "filter.sku",
    "serial": "filter.serialNumber",
    "lot": "filter.lotNumber",
    "order": "filter.orderNumber",
    "receivingOrder": "filter.receivingOrderNumber",
    "shipment": "filter.shipmentId",
    "from": "filter.from",
    "to": "filter.to",
    epcis.PER_PAGE: "first",
    epcis.PAGE_TOKEN: "after",
    None: "filter",
}


async def epcis_events(
    ctx: Context,
    *,
    sku: str | None,
    serial_number: str | None,
    lot_number: str | None,
    order_number: str | None,
    receiving_order_number: str | None,
    shipment_id: relay.GlobalID | None,
    start: datetime | None,
    end: datetime | None,
    first: int,
    after: str | None,
) -> EpcisExport | Refusal:
    try:
        where = EpcisFilter(
            sku=sku,
            serial_number=serial_number,
            lot_number=lot_number,
            order_number=order_number,
            receiving_order_number=receiving_order_number,
            shipment_id=(
                decode(shipment_id, "Shipment", "shipment") if shipment_id is not None else None
            ),
            start=start,
            end=end,
        )
        async with ctx.read() as session:
            return await epcis.export_events(
                session,
                where,
                uris=ctx.epcis_uris,
                now=utc_now(),
                per_page=first,
                page_token=after,
            )
    except Refused as refused:
        return Refusal([replace(p, field=FIELDS.get(p.field, p.field)) for p in refused.problems])
