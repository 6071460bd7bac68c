"""EPCIS 2.0 export: the movement history as a GS1 EPCIS document for trading partners."""

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from resolvers import epcis
from resolvers.outcome import Refusal
from schema.errors import UserError, user_errors
from schema.nodes import Info
from services.epcis import MAX_EVENTS


@strawberry.input(
    description="Which movements to export. Every field given narrows the export; at least "
    "one must be given."
)
class EpcisFilter:
    sku: str | None = strawberry.field(default=None, description="One product.")
    serial_number: str | None = strawberry.field(
        default=None, description="Exact; of any product unless `sku` is given."
    )
    lot_number: str | None = strawberry.field(
        default=None, description="In any case; of any product unless `sku` is given."
    )
    order_number: str | None = strawberry.field(
        default=None, description="A customer order: its picks, returns and dispatch."
    )
    receiving_order_number: str | None = strawberry.field(
        default=None, description="An ASN: its receipts and putaways."
    )
    shipment_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A shipment: its dispatch."
    )
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="From this instant, inclusive."
    )
    to: datetime | None = strawberry.field(
        default=None, description="Until this instant, exclusive."
    )


@strawberry.type(description="One page of an EPCIS export, or why it was refused.")
class EpcisExportResult:
    document: JSON | None = strawberry.field(
        default=None,
        description="A GS1 EPCIS 2.0 EPCISDocument (JSON-LD), events oldest first; null "
        "when refused.",
    )
    event_count: int = 0
    has_next_page: bool = False
    end_cursor: str | None = strawberry.field(
        default=None, description="Give it as `after` for the next page."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class EpcisQuery:
    @strawberry.field(
        description="The movement history the filter selects as GS1 EPCIS 2.0 events, one "
        f"ObjectEvent per movement, at most `first` ({MAX_EVENTS} at most) a page. Refused "
        "with NOT_FOUND for what does not exist, INVALID_VALUE for an empty filter or a bad "
        "time range, GTIN_REQUIRED for products without a GTIN and NOT_GS1_ENCODABLE for "
        "serial or lot numbers GS1 cannot carry. Mapping and URIs: docs/epcis.md."
    )
    async def epcis_events(
        self,
        info: Info,
        filter: EpcisFilter,
        first: int = MAX_EVENTS,
        after: str | None = None,
    ) -> EpcisExportResult:
        outcome = await epcis.epcis_events(
            info.context,
            sku=filter.sku,
            serial_number=filter.serial_number,
            lot_number=filter.lot_number,
            order_number=filter.order_number,
            receiving_order_number=filter.receiving_order_number,
            shipment_id=filter.shipment_id,
            start=filter.from_,
            end=filter.to,
            first=first,
            after=after,
        )
        if isinstance(outcome, Refusal):
            return EpcisExportResult(user_errors=user_errors(outcome))
        return EpcisExportResult(
            document=JSON(outcome.document),
            event_count=outcome.event_count,
            has_next_page=outcome.next_page_token is not None,
            end_cursor=outcome.next_page_token,
        )
