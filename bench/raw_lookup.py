"""The baseline of the read scenarios (bench/scenarios/reads.py): the same reads as their
GraphQL documents, written by hand in SQL (one to three statements each) behind plain
Starlette routes, answering the same JSON ({"data": ...}, keys in the documents' order,
encoded as Strawberry encodes it)."""

import base64
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trackline.db import READ_ONLY_OPTION


def _json(data: Any) -> Response:
    # Strawberry's encoding: json.dumps with compact separators (ASCII escapes kept).
    body = json.dumps({"data": data}, separators=(",", ":"))
    return Response(body, media_type="application/json")


def _iso(value: datetime | str | None) -> str | None:
    """Timestamps as GraphQL's DateTime: ISO 8601 in UTC. SQLite hands back text."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()
    return value.astimezone(UTC).isoformat()


def _code(code: str | None) -> dict[str, str] | None:
    return None if code is None else {"code": code}


def _movement(row: Any) -> dict[str, Any]:
    kind, from_status, to_status, from_code, to_code, doc_type, doc_number, actor, at = row
    return {
        "kind": kind,
        "fromStatus": from_status,
        "toStatus": to_status,
        "fromLocation": _code(from_code),
        "toLocation": _code(to_code),
        "documentType": doc_type,
        "documentNumber": doc_number,
        "actor": actor,
        "occurredAt": _iso(at),
    }


def _global_id(type_name: str, row_id: int) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def _cursor(row_id: int) -> str:
    return base64.b64encode(f"after:{row_id}".encode()).decode()


SERIAL = text("""
SELECT s.id, s.serial_number, s.status, s.received_at, p.sku, p.name, l.code
FROM serial s
CROSS JOIN product p
LEFT JOIN location l ON l.id = s.location_id
WHERE p.id = s.product_id AND p.sku = :sku
  AND s.serial_key = :key AND s.serial_number = :number
ORDER BY s.status = 'RELEASED', s.id DESC
LIMIT 1
""")

LAST_MOVEMENTS = text("""
SELECT m.kind, m.from_status, m.to_status, fl.code, tl.code,
       m.document_type, m.document_number, m.actor, m.occurred_at
FROM movement m
LEFT JOIN location fl ON fl.id = m.from_location_id
LEFT JOIN location tl ON tl.id = m.to_location_id
WHERE m.serial_id = :serial
ORDER BY m.id DESC
LIMIT :last
""")

PRODUCTS = text("SELECT id, sku, name FROM product ORDER BY id LIMIT :first")

# The first serials of each product, each product's read from the index on (product_id, id).
SERIAL_PAGES_POSTGRESQL = text("""
SELECT s.id, s.product_id, s.serial_number, s.status, l.code
FROM unnest(CAST(:products AS integer[])) AS p(id)
CROSS JOIN LATERAL (
  SELECT id, product_id, serial_number, status, location_id
  FROM serial WHERE product_id = p.id ORDER BY id LIMIT :first
) s
LEFT JOIN location l ON l.id = s.location_id
ORDER BY s.product_id, s.id
""")

# SQLite has no LATERAL: one UNION ALL branch per product.
SERIAL_PAGE_SQLITE = """
SELECT * FROM (
  SELECT id, product_id, serial_number, status, location_id
  FROM serial WHERE product_id = {} ORDER BY id LIMIT :first
)"""


def _serial_pages_sqlite(products: list[int]) -> Any:
    branches = " UNION ALL ".join(SERIAL_PAGE_SQLITE.format(int(p)) for p in products)
    return text(f"""
SELECT s.id, s.product_id, s.serial_number, s.status, l.code
FROM ({branches}) s
LEFT JOIN location l ON l.id = s.location_id
ORDER BY s.product_id, s.id
""")


MOVEMENTS_OF_SERIALS = text("""
SELECT m.serial_id, m.kind, m.from_status, m.to_status, l.code, m.document_number,
       m.occurred_at
FROM (
  SELECT id, serial_id, kind, from_status, to_status, to_location_id, document_number,
         occurred_at, row_number() OVER (PARTITION BY serial_id ORDER BY id DESC) AS back
  FROM movement WHERE serial_id IN :serials
) m
LEFT JOIN location l ON l.id = m.to_location_id
WHERE m.back <= :last
ORDER BY m.serial_id, m.id
""").bindparams(bindparam("serials", expanding=True))


def create_raw_app(engine: AsyncEngine) -> Starlette:
    """Routes reading through `engine` (a deferred BEGIN on SQLite, as GraphQL's reads)."""
    reader = engine.execution_options(**{READ_ONLY_OPTION: True})

    async def serial(request: Request) -> Response:
        sku, number = request.query_params["sku"], request.query_params["number"]
        async with reader.connect() as conn:
            found = (
                await conn.execute(SERIAL, {"sku": sku, "key": number.casefold(), "number": number})
            ).first()
            if found is None:
                return _json({"serial": None})
            moves = (await conn.execute(LAST_MOVEMENTS, {"serial": found[0], "last": 10})).all()
        sid, serial_number, status, received_at, p_sku, p_name, code = found
        return _json(
            {
                "serial": {
                    "id": _global_id("Serial", sid),
                    "serialNumber": serial_number,
                    "status": status,
                    "receivedAt": _iso(received_at),
                    "product": {"sku": p_sku, "name": p_name},
                    "location": _code(code),
                    "movements": [_movement(row) for row in reversed(moves)],
                }
            }
        )

    async def tree(request: Request) -> Response:
        first_products = int(request.query_params["products"])
        first_serials = int(request.query_params["serials"])
        async with reader.connect() as conn:
            products = (await conn.execute(PRODUCTS, {"first": first_products})).all()
            serials = await _serial_pages(conn, [p[0] for p in products], first_serials + 1)
            shown = [s[0] for rows in serials.values() for s in rows[:first_serials]]
            moves: dict[int, list[dict[str, Any]]] = {s: [] for s in shown}
            if shown:
                result = await conn.execute(MOVEMENTS_OF_SERIALS, {"serials": shown, "last": 10})
                for serial_id, kind, from_status, to_status, code, doc, at in result:
                    moves[serial_id].append(
                        {
                            "kind": kind,
                            "fromStatus": from_status,
                            "toStatus": to_status,
                            "toLocation": _code(code),
                            "documentNumber": doc,
                            "occurredAt": _iso(at),
                        }
                    )
        nodes = []
        for product_id, sku, name in products:
            rows = serials.get(product_id, [])
            page = rows[:first_serials]
            nodes.append(
                {
                    "sku": sku,
                    "name": name,
                    "serials": {
                        "pageInfo": {
                            "hasNextPage": len(rows) > first_serials,
                            "endCursor": _cursor(page[-1][0]) if page else None,
                        },
                        "nodes": [
                            {
                                "serialNumber": number,
                                "status": status,
                                "location": _code(code),
                                "movements": moves[sid],
                            }
                            for sid, number, status, code in page
                        ],
                    },
                }
            )
        return _json({"products": {"nodes": nodes}})

    async def typename(_request: Request) -> Response:
        return _json({"__typename": "Query"})

    return Starlette(
        routes=[
            Route("/serial", serial),
            Route("/tree", tree),
            Route("/typename", typename),
        ]
    )


async def _serial_pages(
    conn: AsyncConnection, products: list[int], first: int
) -> dict[int, list[tuple[int, str, str, str | None]]]:
    """The first `first` serials of each product, by id."""
    pages: dict[int, list[tuple[int, str, str, str | None]]] = {}
    if not products:
        return pages
    if conn.dialect.name == "postgresql":
        query = SERIAL_PAGES_POSTGRESQL
    else:
        query = _serial_pages_sqlite(products)
    result = await conn.execute(query, {"products": products, "first": first})
    for sid, product_id, number, status, code in result:
        pages.setdefault(product_id, []).append((sid, number, status, code))
    return pages
