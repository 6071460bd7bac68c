"""Several `trackline serve` processes against one PostgreSQL: read throughput with 1, 2
and 4 processes, and how much disk a million movements take (docs/scaling.md).

    .venv/bin/python -m bench.scaling [--size S|M] [--seconds 10] [--clients 16]

Each process is a real server (uvicorn, the PostgreSQL event bus with its LISTEN
connection). The clients spread their requests over the processes round robin, as a load
balancer would, and send the dashboard page (B1) and the serial look-up (B4) for
`--seconds` each after a warm-up. B5 has 8 clients each take single-line lot orders
through the mutations a floor client sends (create, allocate, confirm the pick, pack,
dispatch), every request to the next process in turn.
"""

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench import access
from bench.common import scratch_database
from bench.scenarios.reads import SERIAL_QUERY, TREE_QUERY
from bench.seed import SIZES, Seeded, seed
from trackline.db import Engines

TRACKLINE = Path(sys.executable).parent / "trackline"
PROCESSES = (1, 2, 4)
FLOOR_CLIENTS = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def servers(url: str, count: int) -> AsyncIterator[list[str]]:
    ports = [_free_port() for _ in range(count)]
    processes = [
        await asyncio.create_subprocess_exec(
            str(TRACKLINE),
            "serve",
            "--port",
            str(port),
            env={**os.environ, "DATABASE_URL": url},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for port in ports
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        async with httpx.AsyncClient() as probe:
            for base in bases:
                for _ in range(300):
                    with contextlib.suppress(httpx.TransportError):
                        if (await probe.get(f"{base}/readyz")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await process.wait()


async def load(
    bases: list[str],
    headers: dict[str, str],
    body: Callable[[int], dict[str, Any]],
    clients: int,
    seconds: float,
) -> tuple[float, float, float]:
    """(requests per second, p50 ms, p99 ms) of `clients` looping for `seconds`."""
    latencies: list[float] = []
    deadline = 0.0

    async def client(n: int) -> None:
        async with httpx.AsyncClient(headers=headers, timeout=60) as http:
            i = n
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await http.post(f"{bases[i % len(bases)]}/graphql", json=body(i))
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)
                i += clients

    deadline = time.perf_counter() + 2  # warm-up: connections, caches, plans
    await asyncio.gather(*(client(n) for n in range(clients)))
    latencies.clear()
    began = time.perf_counter()
    deadline = began + seconds
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000


async def lot_skus(engines: Engines, seeded: Seeded) -> list[str]:
    async with engines.read.connect() as conn:
        found = await conn.execute(
            text("SELECT sku FROM product WHERE id = ANY(:ids) ORDER BY sku"),
            {"ids": seeded.lot_products},
        )
        return list(found.scalars())


async def movement_size(engines: Engines) -> tuple[int, float, float]:
    """(movements, MB per million rows for the table, MB per million for its indexes)."""
    async with engines.read.connect() as conn:
        rows = (await conn.execute(text("SELECT count(*) FROM movement"))).scalar_one()
        table, indexes = (
            await conn.execute(
                text("SELECT pg_table_size('movement'), pg_indexes_size('movement')")
            )
        ).one()
    per_million = 1_000_000 / rows / 2**20
    return rows, table * per_million, indexes * per_million


ORDER = """
mutation Order($number: String!, $sku: String!) {
  createOrder(input: {number: $number, warehouseCode: "BENCH",
                      lines: [{productSku: $sku, quantity: 1}]}) { userErrors { code } }
  allocateOrder(input: {orderNumber: $number}) {
    order { pickTasks { id allocation { quantity lot { lotNumber } } } }
    userErrors { code }
  }
}"""
PICK = """
mutation Pick($task: ID!, $lot: String!, $quantity: Int!) {
  confirmPick(input: {taskId: $task, lotNumber: $lot, quantity: $quantity}) { userErrors { code } }
}"""
PACK = """
mutation Pack($number: String!) {
  createShipment(input: {orderNumber: $number}) { shipment { id } userErrors { code } }
}"""
DISPATCH = """
mutation Dispatch($id: ID!) { dispatchShipment(input: {shipmentId: $id}) { userErrors { code } } }
"""


class Floor:
    """One client working orders through the processes in turn, as behind a balancer."""

    def __init__(self, http: httpx.AsyncClient, bases: list[str], skus: list[str]) -> None:
        self.http, self.bases, self.skus = http, bases, skus
        self.sent = 0

    async def send(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        base = self.bases[self.sent % len(self.bases)]
        self.sent += 1
        response = await self.http.post(
            f"{base}/graphql", json={"query": query, "variables": variables}
        )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        assert "errors" not in answer, answer
        data: dict[str, Any] = answer["data"]
        for result in data.values():
            assert not result["userErrors"], answer
        return data

    async def fulfil(self, number: str, i: int) -> None:
        ordered = await self.send(ORDER, {"number": number, "sku": self.skus[i % len(self.skus)]})
        for task in ordered["allocateOrder"]["order"]["pickTasks"]:
            allocation = task["allocation"]
            lot, quantity = allocation["lot"]["lotNumber"], allocation["quantity"]
            await self.send(PICK, {"task": task["id"], "lot": lot, "quantity": quantity})
        packed = await self.send(PACK, {"number": number})
        await self.send(DISPATCH, {"id": packed["createShipment"]["shipment"]["id"]})


async def fulfilment(
    bases: list[str], headers: dict[str, str], skus: list[str], clients: int, seconds: float
) -> float:
    """Orders per second that `clients` take from creation to dispatch in `seconds`."""
    done = 0
    tag = len(bases)

    async def client(n: int, until: float, counted: bool) -> None:
        nonlocal done
        async with httpx.AsyncClient(headers=headers, timeout=60) as http:
            floor, i = Floor(http, bases, skus), n
            while time.perf_counter() < until:
                await floor.fulfil(f"SC{tag}-{'W' if not counted else 'M'}-{i}", i)
                done += counted
                i += clients

    await asyncio.gather(*(client(n, time.perf_counter() + 2, False) for n in range(clients)))
    began = time.perf_counter()
    await asyncio.gather(*(client(n, began + seconds, True) for n in range(clients)))
    return done / (time.perf_counter() - began)


def scenarios(seeded: Seeded) -> dict[str, Callable[[int], dict[str, Any]]]:
    def look_up(i: int) -> dict[str, Any]:
        sku, number = seeded.long_history[i % len(seeded.long_history)]
        return {"query": SERIAL_QUERY, "variables": {"sku": sku, "number": number}}

    def dashboard(_i: int) -> dict[str, Any]:
        return {"query": TREE_QUERY, "variables": {"products": 5, "serials": 10}}

    return {"B1 dashboard 5x10x10": dashboard, "B4 serial look-up": look_up}


async def run(size: str, seconds: float, clients: int) -> None:
    async with scratch_database("postgresql") as engines:
        seeded = await seed(engines, SIZES[size])
        rows, table_mb, index_mb = await movement_size(engines)
        print(
            f"{rows:,} movements: {table_mb:.0f} MB per million rows in the table, "
            f"{index_mb:.0f} MB per million in its indexes",
            flush=True,
        )
        headers = await access.headers(engines)
        url = engines.write.url.render_as_string(hide_password=False)
        heads = ("processes", "req/s", "x 1 proc", "p50 ms", "p99 ms")
        print("\n" + f"{'scenario':24}" + "".join(f"{h:>10}" for h in heads))
        for name, body in scenarios(seeded).items():
            single = 0.0
            for count in PROCESSES:
                async with servers(url, count) as bases:
                    rate, p50, p99 = await load(bases, headers, body, clients, seconds)
                single = single or rate
                cells = (
                    f"{count}",
                    f"{rate:.1f}",
                    f"{rate / single:.2f}",
                    f"{p50:.1f}",
                    f"{p99:.1f}",
                )
                print(f"{name:24}" + "".join(f"{c:>10}" for c in cells), flush=True)
        skus = await lot_skus(engines, seeded)
        single = 0.0
        for count in PROCESSES:
            async with servers(url, count) as bases:
                rate = await fulfilment(bases, headers, skus, FLOOR_CLIENTS, seconds)
            single = single or rate
            cells = (f"{count}", f"{rate:.1f}", f"{rate / single:.2f}", "-", "-")
            name = f"B5 orders, {FLOOR_CLIENTS} clients"
            print(f"{name:24}" + "".join(f"{c:>10}" for c in cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(run(args.size, args.seconds, args.clients))


if __name__ == "__main__":
    main()
