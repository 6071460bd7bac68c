"""The inventory reports as CSV downloads, for spreadsheets and scheduled exports.

GET /reports/<name>.csv with optional filters by natural key: `sku`, `warehouse` (code),
`location` (code, with `warehouse`), `lot` (number, with `sku`); `days` for expiring lots;
`since` / `until` (ISO 8601 instants) for lot movements. Columns: docs/reports.md.
An unknown key answers 404, a malformed parameter 400, each with a line of text.
"""

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from models.base import utc_now
from services import reports
from services.access import Role
from services.errors import ErrorCode, Refused
from services.reports import MovementFilter, ReportScope
from trackline.authentication import require

Sessions = async_sessionmaker[AsyncSession]
Column = tuple[str, Callable[[Any], Any]]
# Text a spreadsheet would run as a formula: neutralised with a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DEFAULT_EXPIRY_WINDOW_DAYS = 30


def _attribute(name: str) -> Callable[[Any], Any]:
    return lambda row: getattr(row, name)


SERIAL_INVENTORY = [
    ("sku", _attribute("sku")),
    ("product_name", _attribute("product_name")),
    ("warehouse", _attribute("warehouse_code")),
    ("status", _attribute("status")),
    ("count", _attribute("count")),
]
SERIAL_INVENTORY_BY_LOCATION = [
    *SERIAL_INVENTORY[:3],
    ("location", _attribute("location_code")),
    ("location_kind", _attribute("location_kind")),
    *SERIAL_INVENTORY[3:],
]
SERIAL_LOCATIONS = [
    ("warehouse", _attribute("warehouse_code")),
    ("location", _attribute("location_code")),
    ("location_kind", _attribute("location_kind")),
    ("sku", _attribute("sku")),
    ("product_name", _attribute("product_name")),
    ("serial_number", _attribute("serial_number")),
    ("status", _attribute("status")),
    ("received_at", _attribute("received_at")),
]
LOT_INVENTORY = [
    ("sku", _attribute("sku")),
    ("product_name", _attribute("product_name")),
    ("warehouse", _attribute("warehouse_code")),
    ("location", _attribute("location_code")),
    ("location_kind", _attribute("location_kind")),
    ("lot_number", _attribute("lot_number")),
    ("expiry_date", _attribute("expiry_date")),
    ("days_to_expiry", _attribute("days_to_expiry")),
    ("expired", _attribute("expired")),
    ("on_hold", _attribute("on_hold")),
    ("hold_reason", _attribute("hold_reason")),
    ("quantity", _attribute("quantity")),
    ("allocated_quantity", _attribute("allocated_quantity")),
    ("available_quantity", _attribute("available_quantity")),
    ("lot_received_at", _attribute("lot_received_at")),
]
EXPIRING_LOTS = [
    ("expiry_date", _attribute("expiry_date")),
    ("days_to_expiry", _attribute("days_to_expiry")),
    ("expired", _attribute("expired")),
    ("sku", _attribute("sku")),
    ("product_name", _attribute("product_name")),
    ("warehouse", _attribute("warehouse_code")),
    ("lot_number", _attribute("lot_number")),
    ("on_hold", _attribute("on_hold")),
    ("hold_reason", _attribute("hold_reason")),
    ("quantity", _attribute("quantity")),
    ("allocated_quantity", _attribute("allocated_quantity")),
    ("available_quantity", _attribute("available_quantity")),
    ("locations", lambda row: " ".join(row.location_codes)),
    ("lot_received_at", _attribute("lot_received_at")),
]
LOT_MOVEMENTS = [
    ("occurred_at", _attribute("occurred_at")),
    ("sku", _attribute("sku")),
    ("lot_number", _attribute("lot_number")),
    ("expiry_date", _attribute("expiry_date")),
    ("kind", _attribute("kind")),
    ("quantity", _attribute("quantity")),
    ("from_location", _attribute("from_location_code")),
    ("to_location", _attribute("to_location_code")),
    ("document_type", _attribute("document_type")),
    ("document_number", _attribute("document_number")),
    ("actor", _attribute("actor")),
]


def cell(value: Any) -> str:
    """One CSV cell: ISO dates and instants, true/false, enum values, empty for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return str(value)


def _line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


async def _csv_lines(rows: AsyncIterator[Any], columns: Sequence[Column]) -> AsyncIterator[str]:
    yield _line(name for name, _ in columns)
    async for row in rows:
        yield _line(cell(get(row)) for _, get in columns)


class BadRequest(Exception):
    pass


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number") from None


def _instant(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 instant") from None
    if moment.tzinfo is None:
        raise BadRequest(f"{name} needs a time zone offset, e.g. 2026-01-31T00:00:00Z")
    return moment


# A report, given the request and its scope (checked first, so that a mistake is a clean
# 400/404 rather than a broken download), says how to read its rows from a session.
RowSource = Callable[[AsyncSession], AsyncIterator[Any]]
Prepare = Callable[[Request, ReportScope], RowSource]


def _route(sessions: Sessions, path: str, columns: Sequence[Column], prepare: Prepare) -> Route:
    async def endpoint(request: Request) -> Response:
        params = request.query_params
        try:
            async with sessions() as session:
                scope = await reports.report_scope(
                    session,
                    sku=params.get("sku"),
                    warehouse_code=params.get("warehouse"),
                    location_code=params.get("location"),
                    lot_number=params.get("lot"),
                )
            rows = prepare(request, scope)
        except Refused as refused:
            status = 404 if all(p.code is ErrorCode.NOT_FOUND for p in refused.problems) else 400
            return PlainTextResponse(str(refused), status_code=status)
        except BadRequest as bad:
            return PlainTextResponse(str(bad), status_code=400)

        async def body() -> AsyncIterator[str]:
            # The rows stream from a session of their own, open only while they are sent.
            async with sessions() as session:
                async for line in _csv_lines(rows(session), columns):
                    yield line

        return StreamingResponse(
            body(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{path.lstrip("/")}"'},
        )

    return Route(path, require(Role.VIEWER, endpoint), methods=["GET"])


def _listed(read: Callable[[AsyncSession], Awaitable[Iterable[Any]]]) -> RowSource:
    async def rows(session: AsyncSession) -> AsyncIterator[Any]:
        for row in await read(session):
            yield row

    return rows


def _serial_inventory(by_location: bool) -> Prepare:
    report = reports.serial_inventory_by_location if by_location else reports.serial_inventory

    def prepare(_request: Request, scope: ReportScope) -> RowSource:
        return _listed(
            lambda session: report(
                session, product_id=scope.product_id, warehouse_id=scope.warehouse_id
            )
        )

    return prepare


def _serial_locations(_request: Request, scope: ReportScope) -> RowSource:
    return lambda session: reports.serial_locations(
        session,
        product_id=scope.product_id,
        warehouse_id=scope.warehouse_id,
        location_id=scope.location_id,
    )


def _lot_inventory(_request: Request, scope: ReportScope) -> RowSource:
    now = utc_now()
    return _listed(
        lambda session: reports.lot_inventory(
            session, now=now, product_id=scope.product_id, warehouse_id=scope.warehouse_id
        )
    )


def _expiring_lots(request: Request, scope: ReportScope) -> RowSource:
    days = _int(request, "days", DEFAULT_EXPIRY_WINDOW_DAYS)
    reports.check_expiry_window(days)
    now = utc_now()
    return _listed(
        lambda session: reports.expiring_lots(
            session,
            now=now,
            days=days,
            product_id=scope.product_id,
            warehouse_id=scope.warehouse_id,
        )
    )


def _lot_movements(request: Request, scope: ReportScope) -> RowSource:
    where = MovementFilter(
        product_id=scope.product_id,
        lot_id=scope.lot_id,
        warehouse_id=scope.warehouse_id,
        since=_instant(request, "since"),
        until=_instant(request, "until"),
    )
    return lambda session: reports.lot_movement_lines(session, where)


def report_routes(sessions: Sessions) -> Mount:
    """The CSV routes under /reports, reading through `sessions` (read-only sessions)."""
    return Mount(
        "/reports",
        routes=[
            _route(sessions, "/serial-inventory.csv", SERIAL_INVENTORY, _serial_inventory(False)),
            _route(
                sessions,
                "/serial-inventory-by-location.csv",
                SERIAL_INVENTORY_BY_LOCATION,
                _serial_inventory(True),
            ),
            _route(sessions, "/serial-locations.csv", SERIAL_LOCATIONS, _serial_locations),
            _route(sessions, "/lot-inventory.csv", LOT_INVENTORY, _lot_inventory),
            _route(sessions, "/expiring-lots.csv", EXPIRING_LOTS, _expiring_lots),
            _route(sessions, "/lot-movements.csv", LOT_MOVEMENTS, _lot_movements),
        ],
    )
