"""Finding serials and lots by their numbers, and keyset pages of growing lists."""

import base64
import contextlib
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, bindparam, select

from models import (
    Location,
    Lot,
    OutboundOrder,
    OutboundOrderStatus,
    Product,
    PutawayTask,
    PutawayTaskStatus,
    ReceivingOrder,
    ReceivingOrderStatus,
    Serial,
    SerialStatus,
)
from resolvers.context import Context
from resolvers.loaders import PageKey
from services.identifiers import lot_key, serial_key
from services.queries import MAX_PAGE_SIZE, keyset_page

T = TypeVar("T")
CURSOR_PREFIX = "after:"
PAGE_SIZE_OUT_OF_RANGE = "PAGE_SIZE_OUT_OF_RANGE"


class ArgumentError(ValueError):
    """An argument the client got wrong; its message is written for the client and reported
    as a GraphQL error on the field with `code` in its extensions (other exceptions are
    masked)."""

    code = "INVALID_ARGUMENT"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class PageRequestError(ArgumentError):
    """A page argument out of bounds."""

    code = "INVALID_PAGE_REQUEST"


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    has_next_page: bool
    has_previous_page: bool


def encode_cursor(row_id: int) -> str:
    return base64.b64encode(f"{CURSOR_PREFIX}{row_id}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except ValueError:
        raise PageRequestError(f"{cursor!r} is not a cursor of this list") from None
    if not text.startswith(CURSOR_PREFIX) or not text[len(CURSOR_PREFIX) :].isdigit():
        raise PageRequestError(f"{cursor!r} is not a cursor of this list")
    return int(text[len(CURSOR_PREFIX) :])


def _check_first(first: int) -> None:
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise PageRequestError(
            f"first must be between 0 and {MAX_PAGE_SIZE}", PAGE_SIZE_OUT_OF_RANGE
        )


async def page(ctx: Context, query: Select[Any], first: int, after: str | None) -> Page[Any]:
    _check_first(first)
    after_id = decode_cursor(after) if after else None
    async with ctx.read() as session:
        rows, more = await keyset_page(session, query, first=first, after=after_id)
    return Page(rows, more, after_id is not None)


# Built once (services/queries.py says why); see serial_by_number.
_SERIAL_BY_NUMBER = (
    select(Serial, Product, Location)
    .join(Product, Product.id == Serial.product_id + 0)
    .outerjoin(Location, Location.id == Serial.location_id)
    .where(
        Product.sku == bindparam("sku"),
        Serial.serial_key == bindparam("key"),
        Serial.serial_number == bindparam("number"),
    )
    .order_by((Serial.status == SerialStatus.RELEASED).asc(), Serial.id.desc())
    .limit(1)
)


async def serial_by_number(
    ctx: Context, sku: str, serial_number: str, *, with_history: bool = False
) -> Serial | None:
    """Exact match. A number released from a cancelled ASN and expected again resolves to
    the live serial.

    The unique index on (product, number) is partial (RELEASED excepted), so neither engine
    may use it for a query that also wants released rows; the number's search key (which
    the number implies) finds it through the index on `serial_key` instead. `+ 0` keeps
    SQLite, which has no statistics, from walking all of the product's serials instead.

    The product and the current location come in the same statement and are handed to the
    request's loaders: a look-up almost always shows them, and each would otherwise be a
    statement (and a read session) of its own. `with_history` (the look-up shows the
    serial's movements) reads the history in the same session too, and the locations it
    names in the history's own statement when those are shown: one session and two
    statements where the movements' own batch would open a second session for two. Each
    statement still reads on its own, as the two sessions did: a change committed in
    between can show in the history before it shows in the serial. If that read fails, the
    serial is still answered and its `movements` field reads the history again, reporting
    what goes wrong there.
    """
    number = serial_number.strip()
    values = {"sku": sku.strip(), "key": serial_key(number), "number": number}
    async with ctx.read(one_statement=True) as session:
        found = (await session.execute(_SERIAL_BY_NUMBER, values)).first()
        if found is not None and with_history:
            with contextlib.suppress(Exception):
                await ctx.loaders.history_in(session, found[0].id)
    if found is None:
        return None
    serial, product, location = found
    ctx.loaders.product_by_id.prime(product.id, product)
    if location is not None:
        ctx.loaders.location_by_id.prime(location.id, location)
    return serial


async def lot_by_number(ctx: Context, sku: str, lot_number: str) -> Lot | None:
    """Case-insensitive, as lot numbers are."""
    async with ctx.read() as session:
        return await session.scalar(
            select(Lot)
            .join(Product, Product.id == Lot.product_id)
            .where(Product.sku == sku.strip(), Lot.lot_key == lot_key(lot_number.strip()))
        )


def serials_query(product_id: int | None, statuses: list[SerialStatus] | None) -> Select[Any]:
    query = select(Serial)
    if product_id is not None:
        query = query.where(Serial.product_id == product_id)
    if statuses:
        query = query.where(Serial.status.in_(statuses))
    return query


def products_query() -> Select[Any]:
    return select(Product)


def receiving_orders_query(statuses: list[ReceivingOrderStatus] | None) -> Select[Any]:
    query = select(ReceivingOrder)
    return query.where(ReceivingOrder.status.in_(statuses)) if statuses else query


def putaway_tasks_query(status: PutawayTaskStatus | None) -> Select[Any]:
    query = select(PutawayTask)
    return query.where(PutawayTask.status == status) if status else query


async def serials_of_product(
    ctx: Context,
    product_id: int,
    first: int,
    after: str | None,
    statuses: list[SerialStatus] | None,
) -> Page[Serial]:
    """A product's serials page, batched with the pages of the other products in the query."""
    _check_first(first)
    after_id = decode_cursor(after) if after else None
    key = PageKey(product_id, first, after_id, tuple(statuses or ()))
    rows, more = await ctx.loaders.serial_pages_by_product_id.load(key)
    return Page(rows, more, after_id is not None)


async def lots_of_product(
    ctx: Context, product_id: int, first: int, after: str | None
) -> Page[Lot]:
    _check_first(first)
    after_id = decode_cursor(after) if after else None
    rows, more = await ctx.loaders.lot_pages_by_product_id.load(
        PageKey(product_id, first, after_id)
    )
    return Page(rows, more, after_id is not None)


def orders_query(statuses: list[OutboundOrderStatus] | None) -> Select[Any]:
    query = select(OutboundOrder)
    return query.where(OutboundOrder.status.in_(statuses)) if statuses else query
