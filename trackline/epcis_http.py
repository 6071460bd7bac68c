"""The EPCIS export over plain HTTP, for trading partners' systems that fetch documents.

GET /epcis/events with one filter or more by natural key: `product` (SKU), `serial`, `lot`,
`order`, `receivingOrder` (ASN number), `shipment` (its GraphQL id), `from` / `to` (ISO
8601 instants, `to` exclusive); `perPage` (at most 10,000) and `nextPageToken` for pages,
the next one named in a `Link: <…>; rel="next"` header as the EPCIS 2.0 REST binding does.
The answer is the EPCISDocument as application/ld+json. A refusal is JSON
{code, message, errors: [{code, message, field}]}: 404 when something named does not
exist, 422 when what was selected cannot be said in GS1 terms (a product without a GTIN),
400 for anything else wrong with the request. docs/epcis.md has the rest.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry import relay

from models.base import utc_now
from resolvers.ids import decode
from services import epcis
from services.access import Role
from services.epcis import EpcisFilter
from services.epcis_identifiers import UriScheme
from services.errors import ErrorCode, Problem, Problems, Refused
from trackline.authentication import require

MEDIA_TYPE = "application/ld+json"
# The versions the document follows, as EPCIS 2.0 REST servers announce them.
VERSIONS = {"GS1-EPCIS-Version": "2.0", "GS1-CBV-Version": "2.0"}
# What the request asked for is fine, but the data cannot be expressed in GS1 terms.
UNEXPRESSIBLE = (ErrorCode.GTIN_REQUIRED, ErrorCode.NOT_GS1_ENCODABLE)


def _instant(request: Request, name: str, problems: Problems) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        problems.add(ErrorCode.INVALID_VALUE, f"{name} must be an ISO 8601 instant", name)
        return None


def _shipment(request: Request, problems: Problems) -> int | None:
    raw = request.query_params.get("shipment")
    if not raw:
        return None
    try:
        return decode(relay.GlobalID.from_id(raw), "Shipment", "shipment")
    except ValueError:
        problems.add(ErrorCode.NOT_FOUND, f"{raw!r} is not the id of a Shipment", "shipment")
    except Refused as refused:
        problems.items += refused.problems
    return None


def _per_page(request: Request, problems: Problems) -> int:
    raw = request.query_params.get(epcis.PER_PAGE)
    if not raw:
        return epcis.MAX_EVENTS
    try:
        return int(raw)
    except ValueError:
        problems.add(
            ErrorCode.INVALID_VALUE, f"{epcis.PER_PAGE} must be a whole number", epcis.PER_PAGE
        )
        return epcis.MAX_EVENTS


def _refusal(problems: list[Problem]) -> Response:
    if all(p.code is ErrorCode.NOT_FOUND for p in problems):
        status = 404
    elif any(p.code in UNEXPRESSIBLE for p in problems):
        status = 422
    else:
        status = 400
    return JSONResponse(
        {
            "code": problems[0].code.value,
            "message": "; ".join(p.message for p in problems),
            "errors": [
                {"code": p.code.value, "message": p.message, "field": p.field} for p in problems
            ],
        },
        status_code=status,
    )


def epcis_routes(sessions: async_sessionmaker[AsyncSession], uris: UriScheme) -> Route:
    """GET /epcis/events, reading through `sessions` (read-only sessions)."""

    async def events(request: Request) -> Response:
        params = request.query_params
        problems = Problems()
        where = EpcisFilter(
            sku=params.get("product"),
            serial_number=params.get("serial"),
            lot_number=params.get("lot"),
            order_number=params.get("order"),
            receiving_order_number=params.get("receivingOrder"),
            shipment_id=_shipment(request, problems),
            start=_instant(request, "from", problems),
            end=_instant(request, "to", problems),
        )
        per_page = _per_page(request, problems)
        if problems:
            return _refusal(problems.items)
        try:
            async with sessions() as session:
                export = await epcis.export_events(
                    session,
                    where,
                    uris=uris,
                    now=utc_now(),
                    per_page=per_page,
                    page_token=params.get(epcis.PAGE_TOKEN),
                )
        except Refused as refused:
            return _refusal(refused.problems)
        headers = dict(VERSIONS)
        if export.next_page_token is not None:
            following = request.url.include_query_params(
                **{epcis.PAGE_TOKEN: export.next_page_token}
            )
            headers["Link"] = f'<{following}>; rel="next"'
        return JSONResponse(export.document, media_type=MEDIA_TYPE, headers=headers)

    return Route("/epcis/events", require(Role.VIEWER, events), methods=["GET"])
