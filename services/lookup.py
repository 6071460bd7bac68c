"""Serial number look-up: find serials by any part of their number, in any case, narrowed by
product, status, warehouse and location.

A prefix (the common case: people type the start of a number, or a scanner sends all of
it) is answered from the index on `serial.serial_key` as a range `key >= prefix AND
key < successor(prefix)`. Both engines compare that column in code-point order (SQLite's
BINARY collation, the "C" collation on PostgreSQL), so the strings that start with a prefix
are exactly one contiguous range of the index. A substring search must look at every key.
"""

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from models import Serial, SerialStatus
from services.identifiers import serial_key

# The last code point, and the UTF-16 surrogates that no string may contain.
_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)

# Serials physically here: arrived and not yet shipped.
IN_CUSTODY: tuple[SerialStatus, ...] = (
    SerialStatus.RECEIVED,
    SerialStatus.IN_INVENTORY,
    SerialStatus.ALLOCATED,
    SerialStatus.PICKED,
)


class SerialMatch(enum.StrEnum):
    """How `search` is compared with serial numbers; always ignoring case."""

    PREFIX = "PREFIX"
    CONTAINS = "CONTAINS"
    EXACT = "EXACT"


@dataclass(frozen=True)
class SerialSearch:
    """What to look for. Empty or missing parts do not narrow the search."""

    search: str | None = None
    match: SerialMatch = SerialMatch.PREFIX
    product_id: int | None = None
    statuses: Sequence[SerialStatus] = ()
    warehouse_id: int | None = None
    location_id: int | None = None


def prefix_successor(prefix: str) -> str | None:
    """The least string greater than every string that starts with `prefix`, in code-point
    order; None when there is none (the prefix is all U+10FFFF)."""
    for i in range(len(prefix) - 1, -1, -1):
        code = ord(prefix[i]) + 1
        if code in _SURROGATES:
            code = _SURROGATES.stop
        if code <= _MAX_CODE_POINT:
            return prefix[:i] + chr(code)
    return None


def serial_search_query(search: SerialSearch) -> Select[Any]:
    """The serials matching `search`, as a query the keyset page machinery can order by id."""
    query = select(Serial)
    term = (search.search or "").strip()
    if term:
        key = serial_key(term)
        if search.match is SerialMatch.EXACT:
            query = query.where(Serial.serial_key == key)
        elif search.match is SerialMatch.CONTAINS:
            query = query.where(Serial.serial_key.contains(key, autoescape=True))
        else:
            query = query.where(Serial.serial_key >= key)
            upper = prefix_successor(key)
            if upper is not None:
                query = query.where(Serial.serial_key < upper)
    if search.product_id is not None:
        query = query.where(Serial.product_id == search.product_id)
    if search.statuses:
        query = query.where(Serial.status.in_(search.statuses))
    if search.warehouse_id is not None:
        query = query.where(Serial.warehouse_id == search.warehouse_id)
    if search.location_id is not None:
        query = query.where(Serial.location_id == search.location_id)
    return query
