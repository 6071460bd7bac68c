"""One movement as one EPCIS 2.0 ObjectEvent (JSON-LD, CBV 2.0 short names).

One event per movement, never several movements merged into one event: the event id is
derived from the movement id, and an event must be the same whichever filter exported
it. Merged events (say, all serials of one receipt) would differ between an export by
order and an export by serial, and partners deduplicating by event id would keep
whichever came first.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from models import MovementKind
from services.epcis_identifiers import (
    ORDER,
    RECEIVING_ORDER,
    UriScheme,
    lot_uri,
    product_uri,
    serial_uri,
)
from services.epcis_mapping import MEANINGS, Action

# CBV business transaction types of our documents. A recall has none in the CBV (`rma`
# authorises a customer's return), and EPCIS lets a business transaction go untyped.
TRANSACTION_TYPES = {RECEIVING_ORDER: "desadv", ORDER: "poc"}
# A customer's own order number, and the carrier's consignment of a dispatch.
CUSTOMER_ORDER = "po"
CONSIGNMENT = "bol"


@dataclass(frozen=True)
class MovementLine:
    """A movement with what its event names: the product's GTIN, the serial or lot, the
    locations with their warehouses, and the customer's reference of an order."""

    movement_id: int
    kind: MovementKind
    occurred_at: datetime
    quantity: int
    document_type: str
    document_number: str
    shipment_id: int | None
    sku: str
    gtin: str | None
    serial_number: str | None
    lot_number: str | None
    expiry_date: date | None
    from_warehouse: str | None
    from_location: str | None
    from_time_zone: str | None
    to_warehouse: str | None
    to_location: str | None
    to_time_zone: str | None
    customer_reference: str | None = None


def event_time(moment: datetime) -> str:
    """ISO 8601 in UTC, to the millisecond."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def time_zone_offset(moment: datetime, time_zone: str | None) -> str:
    """The warehouse's offset from UTC at that instant (summer time included). A movement
    with no location (a lot's hold, which covers it wherever it is) is given UTC."""
    if time_zone is None:
        return "+00:00"
    offset = moment.astimezone(ZoneInfo(time_zone)).utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    hours, rest = divmod(abs(minutes), 60)
    return f"{'-' if minutes < 0 else '+'}{hours:02d}:{rest:02d}"


def object_event(line: MovementLine, uris: UriScheme) -> dict[str, Any]:
    assert line.gtin is not None  # products without one are refused before this
    meaning = MEANINGS[line.kind]
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": event_time(line.occurred_at),
        "eventTimeZoneOffset": time_zone_offset(
            line.occurred_at, line.to_time_zone or line.from_time_zone
        ),
        "eventID": uris.event_id(line.movement_id),
    }
    if line.serial_number is not None:
        event["epcList"] = [serial_uri(line.gtin, line.serial_number)]
    else:
        epc_class = (
            lot_uri(line.gtin, line.lot_number)
            if line.lot_number is not None
            else product_uri(line.gtin)
        )
        # Units are counted in trade items, so no unit of measure.
        element: dict[str, Any] = {"epcClass": epc_class}
        if meaning.counted:
            element["quantity"] = line.quantity
        event["quantityList"] = [element]
    event |= {
        "action": meaning.action.value,
        "bizStep": meaning.biz_step,
        "disposition": meaning.disposition,
    }
    seen = _seen_at(line, uris, meaning.seen_at_source)
    if seen is not None:
        event["readPoint"] = {"id": seen}
    if line.to_location is not None and line.to_warehouse is not None:
        # Where the goods are after the event; a dispatch has none, they have left.
        event["bizLocation"] = {"id": uris.location(line.to_warehouse, line.to_location)}
    event["bizTransactionList"] = business_transactions(line, uris)
    if meaning.action is Action.ADD and line.lot_number is not None:
        event["ilmd"] = _lot_master_data(line.lot_number, line.expiry_date)
    return event


def _seen_at(line: MovementLine, uris: UriScheme, at_source: bool) -> str | None:
    """The location the event was seen at: the destination, else the source (or the other
    way round); none for a movement without locations."""
    places = [(line.to_warehouse, line.to_location), (line.from_warehouse, line.from_location)]
    if at_source:
        places.reverse()
    for warehouse, location in places:
        if warehouse is not None and location is not None:
            return uris.location(warehouse, location)
    return None


def business_transactions(line: MovementLine, uris: UriScheme) -> list[dict[str, str]]:
    document = {"bizTransaction": uris.document(line.document_type, line.document_number)}
    kind = TRANSACTION_TYPES.get(line.document_type)
    transactions = [{"type": kind, **document} if kind else document]
    if line.document_type == ORDER and line.customer_reference:
        transactions.append(
            {
                "type": CUSTOMER_ORDER,
                "bizTransaction": uris.customer_order(
                    line.document_number, line.customer_reference
                ),
            }
        )
    if line.shipment_id is not None:
        transactions.append(
            {"type": CONSIGNMENT, "bizTransaction": uris.shipment(line.shipment_id)}
        )
    return transactions


def _lot_master_data(lot_number: str, expiry: date | None) -> dict[str, str]:
    data = {"cbvmda:lotNumber": lot_number}
    if expiry is not None:
        data["cbvmda:itemExpirationDate"] = expiry.isoformat()
    return data
