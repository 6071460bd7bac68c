"""Look-up and report entry points: serial search, scan look-up, inventory reports."""

from datetime import date, datetime

import strawberry
from strawberry import relay

from resolvers import reports, scanning, serial_lookup
from schema.enums import MovementKind, SerialStatus
from schema.nodes import Info, Lot, Movement, Product, Serial
from schema.pagination import CountedConnection, counted_connection
from schema.reports import ExpiringLot, LotStock, SerialInventoryReport
from services.lookup import SerialMatch
from services.scanning import ScanErrorCode, ScanFormat, ScanMatch

strawberry.enum(SerialMatch, description="How a search is compared with serial numbers.")
strawberry.enum(
    ScanFormat,
    description="What a scan was read as: PLAIN (a serial or lot number as printed), GTIN (a "
    "bare EAN/UPC/GTIN), GS1_ELEMENT_STRING (GS1-128, GS1 DataMatrix or GS1 QR data), "
    "GS1_HUMAN_READABLE ((01)…(21)… as printed under a barcode), GS1_DIGITAL_LINK (a URL).",
)
strawberry.enum(ScanErrorCode, description="Why a scan could not be read cleanly.")


@strawberry.type(name="SerialLookupConnection", description="A page of serials found.")
class SerialLookupConnection(CountedConnection[Serial]):
    pass


@strawberry.type(description="A page of lot movements, oldest first.")
class LotMovementConnection(CountedConnection[Movement]):
    pass


@strawberry.type(description="One GS1 application identifier and its data.")
class ScanElement:
    ai: str
    value: str


@strawberry.type(description="What was wrong with a scan.")
class ScanError:
    code: ScanErrorCode
    message: str


@strawberry.type(description="What a scan was read as, and what it matches.")
class ScanResult:
    raw: str = strawberry.field(description="The scan exactly as received.")
    symbology: str | None = strawberry.field(description="AIM symbology identifier, e.g. ]C1.")
    format: ScanFormat
    gtin: str | None = strawberry.field(description="As 14 digits.")
    serial_number: str | None = strawberry.field(description="GS1 AI (21).")
    lot_number: str | None = strawberry.field(description="GS1 AI (10).")
    expiry_date: date | None = strawberry.field(
        description="GS1 AI (17); day 00 means the last day of the month."
    )
    elements: list[ScanElement] = strawberry.field(description="Every GS1 element read.")
    error: ScanError | None = strawberry.field(
        description="Why the scan could not be read cleanly (e.g. a wrong GTIN check digit)."
    )
    found: bool = strawberry.field(description="False when nothing matches.")
    message: str = strawberry.field(description="What was found or missed, for people.")
    product: Product | None
    serials: list[Serial] = strawberry.field(
        description="Serials with that number (exact match), of the scanned product if known."
    )
    lots: list[Lot] = strawberry.field(
        description="Lots with that number (any case), of the scanned product if known."
    )

    @classmethod
    def from_match(cls, match: ScanMatch) -> "ScanResult":
        reading = match.reading
        error = reading.error
        return cls(
            raw=match.scan.raw,
            symbology=match.scan.symbology,
            format=reading.format,
            gtin=reading.gtin,
            serial_number=reading.serial_number,
            lot_number=reading.lot_number,
            expiry_date=reading.expiry_date,
            elements=[ScanElement(ai=e.ai, value=e.value) for e in reading.elements],
            error=ScanError(code=error.code, message=error.message) if error else None,
            found=match.found,
            message=match.message,
            product=Product.maybe(match.product),
            serials=Serial.many(match.serials),
            lots=Lot.many(match.lots),
        )


@strawberry.type
class LookupQuery:
    @strawberry.field(
        description="Find serials by number, in any case: by default those starting with "
        "`search` (served by an index); `match: CONTAINS` finds it anywhere in the number "
        "(reads every serial). Newest last; `first` is at most 100."
    )
    async def serial_lookup(
        self,
        info: Info,
        search: str | None = None,
        match: SerialMatch = SerialMatch.PREFIX,
        product_id: relay.GlobalID | None = None,
        statuses: list[SerialStatus] | None = None,
        warehouse_id: relay.GlobalID | None = None,
        location_id: relay.GlobalID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> SerialLookupConnection:
        page, count = await serial_lookup.serial_lookup(
            info.context,
            search=search,
            match=match,
            product_id=product_id,
            statuses=statuses,
            warehouse_id=warehouse_id,
            location_id=location_id,
            first=first,
            after=after,
        )
        return counted_connection(SerialLookupConnection, Serial, page, count)

    @strawberry.field(
        description="Whatever a scanner sent (a serial or lot number, a GTIN, GS1-128 / "
        "DataMatrix data, (01)…(21)… text or a GS1 Digital Link URL): what it is and what "
        "it matches."
    )
    async def scan(self, info: Info, code: str) -> ScanResult:
        return ScanResult.from_match(await scanning.scan(info.context, code))

    @strawberry.field(description="Serial counts by product, warehouse, location and status.")
    def serial_inventory(
        self, product_id: relay.GlobalID | None = None, warehouse_id: relay.GlobalID | None = None
    ) -> SerialInventoryReport:
        pid, wid = reports.serial_inventory_scope(product_id, warehouse_id)
        return SerialInventoryReport(product_id=pid, warehouse_id=wid)

    @strawberry.field(
        description="Where each serial physically here is (received, not yet shipped), "
        "oldest first; `first` is at most 100."
    )
    async def serial_locations(
        self,
        info: Info,
        product_id: relay.GlobalID | None = None,
        warehouse_id: relay.GlobalID | None = None,
        location_id: relay.GlobalID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> SerialLookupConnection:
        page, count = await serial_lookup.serial_locations(
            info.context,
            product_id=product_id,
            warehouse_id=warehouse_id,
            location_id=location_id,
            first=first,
            after=after,
        )
        return counted_connection(SerialLookupConnection, Serial, page, count)

    @strawberry.field(
        description="On-hand stock of lot-tracked products by product, warehouse, lot and "
        "location, in FEFO order: dated lots by expiry, then undated ones; lots of one "
        "expiry by first receipt."
    )
    async def lot_inventory(
        self,
        info: Info,
        product_id: relay.GlobalID | None = None,
        warehouse_id: relay.GlobalID | None = None,
    ) -> list[LotStock]:
        rows = await reports.lot_inventory(
            info.context, product_id=product_id, warehouse_id=warehouse_id
        )
        return LotStock.many(rows)

    @strawberry.field(
        description="Lots on hand that expire within `days` days (0: today), and those "
        "already expired but still here; soonest first. `days` is 0 to 3660."
    )
    async def expiring_lots(
        self,
        info: Info,
        days: int = 30,
        product_id: relay.GlobalID | None = None,
        warehouse_id: relay.GlobalID | None = None,
    ) -> list[ExpiringLot]:
        rows = await reports.expiring_lots(
            info.context, days=days, product_id=product_id, warehouse_id=warehouse_id
        )
        return ExpiringLot.many(rows)

    @strawberry.field(
        description="Movement history of lots, oldest first: of one lot, a product's lots, "
        "or all; `since` inclusive, `until` exclusive. `first` is at most 100."
    )
    async def lot_movements(
        self,
        info: Info,
        lot_id: relay.GlobalID | None = None,
        product_id: relay.GlobalID | None = None,
        warehouse_id: relay.GlobalID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: list[MovementKind] | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> LotMovementConnection:
        page, count = await reports.lot_movements(
            info.context,
            lot_id=lot_id,
            product_id=product_id,
            warehouse_id=warehouse_id,
            since=since,
            until=until,
            kinds=kinds,
            first=first,
            after=after,
        )
        return counted_connection(LotMovementConnection, Movement, page, count)
