"""B3: SQL statements per request for the nested shapes front ends ask for, each at two
sizes N: a constant count means the loaders batch every level (no N+1)."""

import base64
import json
from typing import Any

import httpx

from bench import access
from bench.common import StatementCounter
from bench.report import Row
from bench.scenarios import Bench
from bench.scenarios.reads import client
from services import outbound
from trackline.app import create_app

SIZES = (2, 8)
ORDERS, LINES, UNITS = 10, 2, 3

SHAPES = {
    "products>serials>movements": """
query S($n: Int!) { products(first: $n) { nodes { sku
  serials(first: $n) { nodes { serialNumber movements { kind occurredAt } } } } } }""",
    "products>lots>movements": """
query L($n: Int!, $after: String) { products(first: $n, after: $after) { nodes { sku
  lots(first: $n) { nodes { lotNumber movements { kind quantity } } } } } }""",
    "orders>lines>allocations>serials": """
query O($n: Int!) { orders(first: $n) { nodes { number
  lines { allocations { quantity serial { serialNumber movements { kind } } } } } } }""",
}


async def allocated_orders(bench: Bench) -> None:
    """Orders of serial products that the read scenarios do not show (the last ones),
    allocated through the services: allocations exist only where orders were allocated."""
    products = bench.seeded.serial_products[-LINES * ORDERS :]
    sessions = bench.engines.sessions()
    for o in range(ORDERS):
        async with sessions.begin() as session:
            order = await outbound.create_order(
                session,
                number=f"B3-{o}",
                warehouse_id=bench.seeded.warehouse_id,
                lines=[
                    outbound.OrderLineSpec(products[o * LINES + k], UNITS) for k in range(LINES)
                ],
            )
            await outbound.allocate_order(session, order_id=order.id, actor="bench")


async def count(bench: Bench, http: httpx.AsyncClient, query: str, n: int) -> int:
    after = base64.b64encode(f"after:{bench.seeded.last_serial_product_id}".encode()).decode()
    variables: dict[str, Any] = {"n": n}
    if "$after" in query:
        variables["after"] = after
    body = {"query": query, "variables": variables}
    await http.post("/graphql", json=body)  # warm-up: parser and validation caches
    with StatementCounter(bench.engines) as counter:
        response = await http.post("/graphql", json=body)
    answer = json.loads(response.content)
    if "errors" in answer or not _leaves(answer["data"]):
        raise AssertionError(f"B3 N={n}: empty or wrong answer {response.content[:400]!r}")
    return counter.count


def _leaves(data: Any) -> int:
    """How many movements (or allocations' serials) the answer holds: it must not be empty."""
    if isinstance(data, dict):
        return sum(_leaves(v) for v in data.values()) + ("kind" in data)
    if isinstance(data, list):
        return sum(_leaves(v) for v in data)
    return 0


async def run(bench: Bench) -> list[Row]:
    await allocated_orders(bench)
    rows = []
    token = await access.headers(bench.engines)
    async with client(create_app(bench.url, bench.engines), token) as http:
        for label, query in SHAPES.items():
            small, large = [await count(bench, http, query, n) for n in SIZES]
            rows.append(
                Row(
                    f"B3 {label}",
                    f"SQL N={SIZES[0]}/{SIZES[1]}",
                    small,
                    None,
                    large,
                    small / large,
                    1.0,
                    "constant in N",
                    f"{small} / {large}",
                )
            )
    return rows
