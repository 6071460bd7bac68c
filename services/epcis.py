"""EPCIS 2.0 export of the movement history, for trading partners.

The movements one filter selects become one EPCISDocument (JSON-LD), one ObjectEvent per
movement (services/epcis_events.py), oldest first. The JSON-LD context is only named,
never fetched: the document is plain JSON to us.

A document holds at most MAX_EVENTS events; a longer history comes in pages, each naming
the next with a token. Reading only, an export never changes anything.
"""

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    Location,
    Lot,
    Movement,
    OutboundOrder,
    Product,
    ReceivingOrder,
    Serial,
    Shipment,
    Warehouse,
)
from services.epcis_events import MovementLine, event_time, object_event
from services.epcis_identifiers import ORDER, RECEIVING_ORDER, UriScheme, is_gs1_value
from services.epcis_mapping import EXPORTED_KINDS
from services.errors import ErrorCode, Problems, Refused
from services.identifiers import lot_key, serial_key

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
# Large enough for a day of a busy warehouse, small enough to build in memory (a few MB).
MAX_EVENTS = 10_000
# Numbers that cannot be GS1 values are listed up to this many in the refusal.
LISTED_AT_MOST = 20


@dataclass(frozen=True)
class EpcisFilter:
    """What to export: every criterion given narrows the selection, and one at least must
    be given. Numbers are natural keys; `start` is inclusive, `end` exclusive."""

    sku: str | None = None
    serial_number: str | None = None  # exact; of any product unless `sku` narrows it
    lot_number: str | None = None  # in any case; of any product unless `sku` narrows it
    order_number: str | None = None  # a customer order
    receiving_order_number: str | None = None  # an ASN
    shipment_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None


# Field names in refusals, as the HTTP route names its parameters; GraphQL maps them to
# its input paths.
FIELDS = {
    "sku": "product",
    "serial_number": "serial",
    "lot_number": "lot",
    "order_number": "order",
    "receiving_order_number": "receivingOrder",
    "shipment_id": "shipment",
    "start": "from",
    "end": "to",
}
PER_PAGE = "perPage"
PAGE_TOKEN = "nextPageToken"


@dataclass(frozen=True)
class EpcisExport:
    document: dict[str, Any]
    event_count: int
    # Give it back to read the next page; None on the last page.
    next_page_token: str | None


def epcis_document(events: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": event_time(now),
        "epcisBody": {"eventList": events},
    }


async def export_events(
    session: AsyncSession,
    where: EpcisFilter,
    *,
    uris: UriScheme,
    now: datetime,
    per_page: int = MAX_EVENTS,
    page_token: str | None = None,
) -> EpcisExport:
    """The page of events the filter selects after `page_token` (from the start without).

    Refused with NOT_FOUND for a product, serial, lot, order, ASN or shipment that does not
    exist, INVALID_VALUE for no criterion at all, a range that does not end after it starts
    or a bad page size or token, GTIN_REQUIRED when a product selected has no GTIN (listing
    them all), and NOT_GS1_ENCODABLE for serial or lot numbers of this page that GS1 cannot
    carry.
    """
    problems = Problems()
    if not 1 <= per_page <= MAX_EVENTS:
        problems.add(ErrorCode.INVALID_VALUE, f"a page holds 1 to {MAX_EVENTS} events", PER_PAGE)
    after = _read_token(page_token, problems)
    conditions = await _conditions(session, where, problems)
    problems.raise_if_any()
    await _refuse_products_without_gtin(session, conditions)

    query = _movement_lines().where(*conditions)
    if after is not None:
        moment, movement_id = after
        query = query.where(
            or_(
                Movement.occurred_at > moment,
                and_(Movement.occurred_at == moment, Movement.id > movement_id),
            )
        )
    rows = (
        await session.execute(query.order_by(Movement.occurred_at, Movement.id).limit(per_page + 1))
    ).all()
    lines = [MovementLine(*row) for row in rows[:per_page]]
    lines = await _with_customer_references(session, lines)
    _refuse_numbers_gs1_cannot_carry(lines)
    events = [object_event(line, uris) for line in lines]
    token = _token(lines[-1]) if len(rows) > per_page else None
    return EpcisExport(epcis_document(events, now), len(events), token)


# ---------------------------------------------------------------- the filter


def _cleaned(where: EpcisFilter) -> EpcisFilter:
    """Blank numbers mean not given (an empty query parameter, say)."""
    return replace(
        where,
        **{
            f.name: getattr(where, f.name).strip() or None
            for f in fields(where)
            if isinstance(getattr(where, f.name), str)
        },
    )


async def _conditions(
    session: AsyncSession, where: EpcisFilter, problems: Problems
) -> list[ColumnElement[bool]]:
    """The filter as conditions on movements, each natural key checked to exist."""
    where = _cleaned(where)
    if all(getattr(where, f.name) is None for f in fields(where)):
        problems.add(
            ErrorCode.INVALID_VALUE,
            "name what to export: a product, serial, lot, order, receiving order, shipment "
            "or a time range",
        )
        return []
    return [
        Movement.kind.in_(EXPORTED_KINDS),
        *await _what(session, where, problems),
        *await _documents(session, where, problems),
        *_time_range(where.start, where.end, problems),
    ]


async def _what(
    session: AsyncSession, where: EpcisFilter, problems: Problems
) -> list[ColumnElement[bool]]:
    """The product, serial and lot: a serial or lot of any product unless one is named."""
    conditions = []
    product_id = None
    if where.sku is not None:
        product_id = await session.scalar(select(Product.id).where(Product.sku == where.sku))
        if product_id is None:
            problems.add(ErrorCode.NOT_FOUND, f"no product {where.sku!r}", FIELDS["sku"])
        conditions.append(Movement.product_id == product_id)
    of = f" of {where.sku}" if where.sku else ""
    if where.serial_number is not None:
        # The number's search key finds it through its index; the number itself matches.
        serials = select(Serial.id).where(
            Serial.serial_key == serial_key(where.serial_number),
            Serial.serial_number == where.serial_number,
        )
        if product_id is not None:
            serials = serials.where(Serial.product_id == product_id)
        serial_ids = list(await session.scalars(serials))
        if not serial_ids:
            problems.add(
                ErrorCode.NOT_FOUND,
                f"no serial {where.serial_number!r}{of}",
                FIELDS["serial_number"],
            )
        conditions.append(Movement.serial_id.in_(serial_ids))
    if where.lot_number is not None:
        lots = select(Lot.id).where(Lot.lot_key == lot_key(where.lot_number))
        if product_id is not None:
            lots = lots.where(Lot.product_id == product_id)
        lot_ids = list(await session.scalars(lots))
        if not lot_ids:
            problems.add(
                ErrorCode.NOT_FOUND, f"no lot {where.lot_number!r}{of}", FIELDS["lot_number"]
            )
        conditions.append(Movement.lot_id.in_(lot_ids))
    return conditions


async def _documents(
    session: AsyncSession, where: EpcisFilter, problems: Problems
) -> list[ColumnElement[bool]]:
    """The customer order, the ASN and the shipment."""
    conditions = []
    if where.order_number is not None:
        if not await _exists(session, OutboundOrder.number == where.order_number):
            problems.add(
                ErrorCode.NOT_FOUND, f"no order {where.order_number!r}", FIELDS["order_number"]
            )
        conditions += _document(ORDER, where.order_number)
    if where.receiving_order_number is not None:
        if not await _exists(session, ReceivingOrder.number == where.receiving_order_number):
            problems.add(
                ErrorCode.NOT_FOUND,
                f"no receiving order {where.receiving_order_number!r}",
                FIELDS["receiving_order_number"],
            )
        conditions += _document(RECEIVING_ORDER, where.receiving_order_number)
    if where.shipment_id is not None:
        if not await _exists(session, Shipment.id == where.shipment_id):
            problems.add(ErrorCode.NOT_FOUND, "no such shipment", FIELDS["shipment_id"])
        conditions.append(Movement.shipment_id == where.shipment_id)
    return conditions


async def _exists(session: AsyncSession, condition: ColumnElement[bool]) -> bool:
    return bool(await session.scalar(select(exists().where(condition))))


def _document(document_type: str, number: str) -> list[ColumnElement[bool]]:
    return [Movement.document_type == document_type, Movement.document_number == number]


def _time_range(
    start: datetime | None, end: datetime | None, problems: Problems
) -> list[ColumnElement[bool]]:
    conditions = []
    for name, moment in (("start", start), ("end", end)):
        if moment is not None and moment.tzinfo is None:
            problems.add(
                ErrorCode.INVALID_VALUE,
                f"{FIELDS[name]} needs a time zone offset, e.g. 2026-01-31T00:00:00Z",
                FIELDS[name],
            )
            return []
    if start is not None and end is not None and start >= end:
        problems.add(
            ErrorCode.INVALID_VALUE,
            f"the time range ends ({end.isoformat()}) before it starts ({start.isoformat()}); "
            "`to` is exclusive",
            FIELDS["end"],
        )
    if start is not None:
        conditions.append(Movement.occurred_at >= start)
    if end is not None:
        conditions.append(Movement.occurred_at < end)
    return conditions


# ---------------------------------------------------------------- reading the movements


def _movement_lines() -> Select[*tuple[Any, ...]]:
    source, target = aliased(Location), aliased(Location)
    source_site, target_site = aliased(Warehouse), aliased(Warehouse)
    return (
        select(
            Movement.id,
            Movement.kind,
            Movement.occurred_at,
            Movement.quantity,
            Movement.document_type,
            Movement.document_number,
            Movement.shipment_id,
            Product.sku,
            Product.gtin,
            Serial.serial_number,
            Lot.lot_number,
            Lot.expiry_date,
            source_site.code,
            source.code,
            source_site.time_zone,
            target_site.code,
            target.code,
            target_site.time_zone,
        )
        .join(Product, Product.id == Movement.product_id)
        .outerjoin(Serial, Serial.id == Movement.serial_id)
        .outerjoin(Lot, Lot.id == Movement.lot_id)
        .outerjoin(source, source.id == Movement.from_location_id)
        .outerjoin(source_site, source_site.id == source.warehouse_id)
        .outerjoin(target, target.id == Movement.to_location_id)
        .outerjoin(target_site, target_site.id == target.warehouse_id)
    )


async def _with_customer_references(
    session: AsyncSession, lines: list[MovementLine]
) -> list[MovementLine]:
    """Each order movement with its customer's reference (their purchase order)."""
    numbers = {line.document_number for line in lines if line.document_type == ORDER}
    if not numbers:
        return lines
    references = dict(
        (
            await session.execute(
                select(OutboundOrder.number, OutboundOrder.customer_reference).where(
                    OutboundOrder.number.in_(numbers)
                )
            )
        ).all()
    )
    return [
        replace(line, customer_reference=references.get(line.document_number))
        if line.document_type == ORDER
        else line
        for line in lines
    ]


# ---------------------------------------------------------------- what GS1 cannot carry


async def _refuse_products_without_gtin(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]]
) -> None:
    """Every product of the whole selection, not only of this page: a partner paging
    through an export should not be refused half way."""
    skus = list(
        await session.scalars(
            select(Product.sku)
            .distinct()
            .join(Movement, Movement.product_id == Product.id)
            .where(Product.gtin.is_(None), *conditions)
            .order_by(Product.sku)
        )
    )
    if skus:
        raise Refused.one(
            ErrorCode.GTIN_REQUIRED,
            "EPCIS names products by GTIN, and these have none: "
            f"{', '.join(skus)}; give them one (updateProduct) or narrow the export",
        )


def _refuse_numbers_gs1_cannot_carry(lines: list[MovementLine]) -> None:
    bad = sorted(
        {
            (line.sku, what, number)
            for line in lines
            for what, number in (("serial", line.serial_number), ("lot", line.lot_number))
            if number is not None and not is_gs1_value(number)
        }
    )
    if bad:
        listed = ", ".join(
            f"{what} {number!r} of {sku}" for sku, what, number in bad[:LISTED_AT_MOST]
        )
        more = f" and {len(bad) - LISTED_AT_MOST} more" if len(bad) > LISTED_AT_MOST else ""
        raise Refused.one(
            ErrorCode.NOT_GS1_ENCODABLE,
            "GS1 serial and lot numbers are up to 20 characters of GS1 character set 82 "
            f"(letters, digits and !\"%&'()*+,-./:;<=>?_): {listed}{more}",
        )


# ---------------------------------------------------------------- pages


def _token(line: MovementLine) -> str:
    """Where the next page starts: after this movement in (time, id) order."""
    raw = f"{line.occurred_at.isoformat()}|{line.movement_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _read_token(token: str | None, problems: Problems) -> tuple[datetime, int] | None:
    if not token:
        return None
    try:
        moment, movement_id = base64.urlsafe_b64decode(token.encode()).decode().split("|")
        after = (datetime.fromisoformat(moment), int(movement_id))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        after = None
    if after is None or after[0].tzinfo is None:
        problems.add(ErrorCode.INVALID_VALUE, "not a page token of an EPCIS export", PAGE_TOKEN)
        return None
    return after
