"""What Strawberry alone costs for an answer: the tree document of bench.lookup run against
plain in-memory objects (no database, no dataloaders, no ORM), built from a real answer so
that the result is the same JSON. The difference to the full request is what our resolvers,
loaders and queries add; the difference to the raw endpoint is the price of executing
GraphQL field by field."""

import json
from datetime import datetime

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

from models import MovementKind, SerialStatus
from schema import enums as _enums  # noqa: F401  (registers the enums with Strawberry)


@strawberry.type
class FloorLocation:
    code: str


@strawberry.type
class FloorMovement:
    kind: MovementKind
    from_status: SerialStatus | None
    to_status: SerialStatus | None
    to_location: FloorLocation | None
    document_number: str
    occurred_at: datetime


@strawberry.type
class FloorSerial:
    serial_number: str
    status: SerialStatus
    location: FloorLocation | None
    history: strawberry.Private[list[FloorMovement]]

    @strawberry.field
    def movements(self, last: int | None = None) -> list[FloorMovement]:
        return self.history


@strawberry.type
class FloorPageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class FloorSerialConnection:
    page_info: FloorPageInfo
    nodes: list[FloorSerial]


@strawberry.type
class FloorProduct:
    sku: str
    name: str
    page: strawberry.Private[FloorSerialConnection]

    @strawberry.field
    def serials(self, first: int = 50) -> FloorSerialConnection:
        return self.page


@strawberry.type
class FloorProductConnection:
    nodes: list[FloorProduct]


def _location(data: dict[str, str] | None) -> FloorLocation | None:
    return None if data is None else FloorLocation(code=data["code"])


def objects_from_answer(body: bytes) -> FloorProductConnection:
    """The `products` of an answer to bench.lookup.TREE_QUERY, as plain objects."""
    products = json.loads(body)["data"]["products"]["nodes"]
    return FloorProductConnection(
        nodes=[
            FloorProduct(
                sku=p["sku"],
                name=p["name"],
                page=FloorSerialConnection(
                    page_info=FloorPageInfo(
                        has_next_page=p["serials"]["pageInfo"]["hasNextPage"],
                        end_cursor=p["serials"]["pageInfo"]["endCursor"],
                    ),
                    nodes=[
                        FloorSerial(
                            serial_number=s["serialNumber"],
                            status=SerialStatus(s["status"]),
                            location=_location(s["location"]),
                            history=[
                                FloorMovement(
                                    kind=MovementKind(m["kind"]),
                                    from_status=m["fromStatus"] and SerialStatus(m["fromStatus"]),
                                    to_status=m["toStatus"] and SerialStatus(m["toStatus"]),
                                    to_location=_location(m["toLocation"]),
                                    document_number=m["documentNumber"],
                                    occurred_at=datetime.fromisoformat(m["occurredAt"]),
                                )
                                for m in s["movements"]
                            ],
                        )
                        for s in p["serials"]["nodes"]
                    ],
                ),
            )
            for p in products
        ]
    )


def floor_app(answer: FloorProductConnection) -> Starlette:
    """Strawberry's own ASGI view over `answer`, with the parser and validation caches that
    our schema has: the same HTTP path as ours, minus context, loaders and database."""

    @strawberry.type
    class FloorQuery:
        @strawberry.field
        async def products(self, first: int = 50) -> FloorProductConnection:
            return answer

    schema = strawberry.Schema(
        query=FloorQuery,
        extensions=[lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)],
    )
    return Starlette(routes=[Route("/graphql", GraphQL(schema), methods=["POST"])])
