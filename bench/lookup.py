"""Look-up benchmark (issue 4): serial look-up with history, a dashboard page, a large tree
and prefix search over many serials, through the real GraphQL app next to a hand-written
raw-SQL Starlette endpoint that returns byte-identical JSON, measured in the same run.

    python -m bench.lookup --engine postgresql          # full: 1,000,000 serials
    python -m bench.lookup --engine sqlite --small      # what CI runs: 20,000 serials

Both apps are called in-process through httpx's ASGI transport, so both pay for routing,
JSON encoding and the HTTP framing alike.
"""

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bench import graphql_floor
from bench.common import StatementCounter, Timing, machine, print_table, scratch_database
from bench.raw_lookup import create_raw_app
from models import LocationKind, Movement, Product, Serial, SerialStatus, Tracking
from services import catalog
from services.catalog import LocationSpec
from services.identifiers import serial_key
from trackline.app import create_app
from trackline.db import Engines

PRODUCTS = 100
STORAGE_BINS = 50
# (b) and (c) read the first products' first serials; (a) serials with a long history.
TREE_PRODUCTS, TREE_SERIALS, DASH_PRODUCTS, DASH_SERIALS = 20, 50, 5, 10
LAST = 10
LONG_HISTORY_SERIALS, LONG_HISTORY = 100, 41
# (d): serial numbers are "SN" and 7 digits, scattered over 10**7 numbers (not in id order);
# a 4-digit prefix ("sn0123") matches about one serial in 10**4.
NUMBER_SPACE = 10**7
SCATTER = 7_777_777  # coprime with 10**7, so i -> i * SCATTER % 10**7 is one-to-one
SEARCH_PAGE = 20
CHUNK = 50_000

SERIAL_QUERY = """
query One($sku: String!, $number: String!) {
  serial(sku: $sku, serialNumber: $number) {
    id serialNumber status receivedAt
    product { sku name }
    location { code }
    movements(last: 10) {
      kind fromStatus toStatus fromLocation { code } toLocation { code }
      documentType documentNumber actor occurredAt
    }
  }
}
"""

TREE_QUERY = """
query Tree($products: Int!, $serials: Int!) {
  products(first: $products) {
    nodes {
      sku name
      serials(first: $serials) {
        pageInfo { hasNextPage endCursor }
        nodes {
          serialNumber status location { code }
          movements(last: 10) {
            kind fromStatus toStatus toLocation { code } documentNumber occurredAt
          }
        }
      }
    }
  }
}
"""

SEARCH_QUERY = """
query Find($search: String!, $first: Int!) {
  serialLookup(search: $search, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id serialNumber status product { sku } location { code } }
  }
}
"""


@dataclass(frozen=True)
class Seeded:
    serials: int
    movements: int
    long_history: list[tuple[str, str]]  # (sku, serial number) of serials with long histories
    seconds: float


def serial_number(i: int) -> str:
    return f"SN{i * SCATTER % NUMBER_SPACE:07d}"


def product_of(i: int) -> int:
    """Serials are spread over the products round-robin, so every product's first serials
    are among the first ids."""
    return i % PRODUCTS


async def bulk_insert(
    conn: AsyncConnection, table: Any, columns: Sequence[str], rows: Iterator[tuple[Any, ...]]
) -> None:
    """COPY on PostgreSQL; Core executemany in chunks on SQLite."""
    chunk: list[tuple[Any, ...]] = []

    async def flush() -> None:
        if not chunk:
            return
        if conn.dialect.name == "postgresql":
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.copy_records_to_table(table.name, records=chunk, columns=list(columns))
        else:
            await conn.execute(insert(table), [dict(zip(columns, r, strict=True)) for r in chunk])
        chunk.clear()

    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            await flush()
    await flush()


def history(n: int, storage: int, dock: int, pack: int) -> list[tuple[Any, ...]]:
    """`n` plausible movements of one serial: expected, received, put away, then allocations
    cancelled, picks returned; (kind, from, to, from location, to location, document)."""
    s = SerialStatus
    steps: list[tuple[Any, ...]] = [
        ("EXPECT", None, s.EXPECTED, None, None, "RECEIVING_ORDER", "ASN-1"),
        ("RECEIVE", s.EXPECTED, s.RECEIVED, None, dock, "RECEIVING_ORDER", "ASN-1"),
        ("PUTAWAY", s.RECEIVED, s.IN_INVENTORY, dock, storage, "RECEIVING_ORDER", "ASN-1"),
    ]
    order = 0
    while len(steps) < n:
        order += 1
        so = f"SO-{order}"
        steps.append(("ALLOCATE", s.IN_INVENTORY, s.ALLOCATED, storage, storage, "ORDER", so))
        if order % 2:
            steps.append(("CANCEL", s.ALLOCATED, s.IN_INVENTORY, storage, storage, "ORDER", so))
        else:
            steps.append(("PICK", s.ALLOCATED, s.PICKED, storage, pack, "ORDER", so))
            steps.append(("RETURN", s.PICKED, s.IN_INVENTORY, pack, storage, "ORDER", so))
    return steps[:n]


async def seed(engines: Engines, serials: int) -> Seeded:
    """Bulk-load `serials` serials over PRODUCTS products; movements only for the serials
    that (a) to (c) read (the services would take hours for a million)."""
    started = time.perf_counter()
    sessions = engines.sessions()
    async with sessions.begin() as session:
        warehouse = await catalog.create_warehouse(
            session,
            code="BENCH",
            name="Bench",
            time_zone="UTC",
            locations=[
                LocationSpec("DOCK", LocationKind.RECEIVING),
                LocationSpec("PACK", LocationKind.PACKING),
            ]
            + [LocationSpec(f"S-{i:03d}", LocationKind.STORAGE) for i in range(STORAGE_BINS)],
        )
        warehouse_id = warehouse.id
    base = datetime(2026, 1, 1, tzinfo=UTC)
    async with engines.write.begin() as conn:
        found = await conn.execute(text("SELECT code, id FROM location ORDER BY id"))
        locations: dict[str, int] = {row.code: row.id for row in found}
        dock, pack = locations["DOCK"], locations["PACK"]
        bins = [locations[f"S-{i:03d}"] for i in range(STORAGE_BINS)]
        await conn.execute(
            insert(Product),
            [
                {
                    "sku": f"P-{p:03d}",
                    "name": f"Product {p}",
                    "tracking": Tracking.SERIAL,
                    "created_at": base,
                }
                for p in range(PRODUCTS)
            ],
        )
        product_ids = list((await conn.execute(select(Product.id).order_by(Product.id))).scalars())
        first_serial = (await conn.scalar(text("SELECT coalesce(max(id), 0) FROM serial"))) + 1

        def serial_rows() -> Iterator[tuple[Any, ...]]:
            for i in range(serials):
                shipped = i % 10 == 9 and i >= TREE_SERIALS * PRODUCTS * 2
                number = serial_number(i)
                at = base + timedelta(seconds=i, microseconds=i * 37 % 1_000_000)
                yield (
                    first_serial + i,
                    product_ids[product_of(i)],
                    number,
                    serial_key(number),
                    "SHIPPED" if shipped else "IN_INVENTORY",
                    warehouse_id,
                    None if shipped else bins[i % STORAGE_BINS],
                    at,
                    at,
                    at,
                )

        await bulk_insert(
            conn,
            Serial.__table__,
            (
                "id",
                "product_id",
                "serial_number",
                "serial_key",
                "status",
                "warehouse_id",
                "location_id",
                "received_at",
                "created_at",
                "updated_at",
            ),
            serial_rows(),
        )
        if conn.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT setval(pg_get_serial_sequence('serial', 'id'), :n)"),
                {"n": first_serial + serials - 1},
            )

        # Movements: LAST for each serial of the tree, LONG_HISTORY for the (a) serials
        # (the first serials after the tree's rows, one per product).
        histories: list[tuple[int, int]] = []  # (serial index, movements)
        for i in range(TREE_SERIALS * PRODUCTS):
            if product_of(i) < TREE_PRODUCTS:
                histories.append((i, LAST))
        long_start = TREE_SERIALS * PRODUCTS
        long_ones = list(range(long_start, long_start + LONG_HISTORY_SERIALS))
        histories += [(i, LONG_HISTORY) for i in long_ones]
        count = 0

        def movement_rows() -> Iterator[tuple[Any, ...]]:
            nonlocal count
            for i, n in histories:
                storage = bins[i % STORAGE_BINS]
                at = base + timedelta(seconds=i)
                for step, (kind, from_s, to_s, from_l, to_l, doc_type, doc) in enumerate(
                    history(n, storage, dock, pack)
                ):
                    count += 1
                    yield (
                        kind,
                        product_ids[product_of(i)],
                        first_serial + i,
                        1,
                        from_s and str(from_s),
                        to_s and str(to_s),
                        from_l,
                        to_l,
                        doc_type,
                        doc,
                        "bench",
                        at + timedelta(minutes=step, microseconds=step * 1001),
                        "",  # not chained: the look-ups never read the chain
                    )

        await bulk_insert(
            conn,
            Movement.__table__,
            (
                "kind",
                "product_id",
                "serial_id",
                "quantity",
                "from_status",
                "to_status",
                "from_location_id",
                "to_location_id",
                "document_type",
                "document_number",
                "actor",
                "occurred_at",
                "chain_hash",
            ),
            movement_rows(),
        )
    if engines.write.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load; without statistics the planner
        # guesses row counts.
        async with engines.write.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
    skus = {i: f"P-{product_of(i):03d}" for i in long_ones}
    return Seeded(
        serials,
        count,
        [(skus[i], serial_number(i)) for i in long_ones],
        time.perf_counter() - started,
    )


Request = Callable[[int], Awaitable[bytes]]


@dataclass(frozen=True)
class Scenario:
    label: str
    ours: Request
    raw: Request
    runs: int
    # The same answer from Strawberry over in-memory objects, for (c): see bench.graphql_floor.
    floor: Request | None = None


def graphql(
    client: httpx.AsyncClient, query: str, variables: Callable[[int], dict[str, Any]]
) -> Request:
    async def call(i: int) -> bytes:
        response = await client.post("/graphql", json={"query": query, "variables": variables(i)})
        response.raise_for_status()
        return response.content

    return call


def raw(client: httpx.AsyncClient, path: str, params: Callable[[int], dict[str, Any]]) -> Request:
    async def call(i: int) -> bytes:
        response = await client.get(path, params=params(i))
        response.raise_for_status()
        return response.content

    return call


def check_same(label: str, ours: bytes, theirs: bytes) -> None:
    """Byte for byte: both encode with json.dumps(separators=(",", ":"))."""
    if b'"errors"' in ours[:20]:
        raise AssertionError(f"{label}: GraphQL answered errors: {ours[:600]!r}")
    if ours != theirs:
        same = json.loads(ours) == json.loads(theirs)
        raise AssertionError(
            f"{label}: the bodies differ ({'parsed JSON is equal' if same else 'JSON differs'})"
            f"\nours: {ours[:600]!r}\nraw:  {theirs[:600]!r}"
        )


async def count_statements(engines: Engines, request: Request) -> int:
    with StatementCounter(engines) as counter:
        await request(0)
    return counter.count


async def time_interleaved(runs: int, *requests: Request) -> list[Timing]:
    """Run i of every request, then run i + 1 of every request, ...: a machine that speeds up
    or slows down during the run (this one is a shared VM) affects them alike."""
    samples: list[list[float]] = [[] for _ in requests]
    for i in range(runs):
        for request, times in zip(requests, samples, strict=True):
            start = time.perf_counter()
            await request(i)
            times.append((time.perf_counter() - start) * 1000)
    timings = []
    for times in samples:
        times.sort()
        p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
        timings.append(Timing(statistics.median(times), p99, runs))
    return timings


async def run(engine_name: str, serials: int, runs: int) -> None:
    async with scratch_database(engine_name) as engines:
        seeded = await seed(engines, serials)
        print(
            f"\nLook-up on {engine_name}: {seeded.serials:,} serials over {PRODUCTS} products, "
            f"{seeded.movements:,} movements (seeded in {seeded.seconds:.0f} s); {machine()}"
        )
        app = create_app(engines.write.url.render_as_string(hide_password=False), engines)
        raw_app = create_raw_app(engines.read)
        rng = random.Random(4)
        # The first 6 characters of seeded numbers ("SN" and 4 of 7 digits: about one serial
        # in 10**4 matches), in upper or lower case as people type them.
        starts = [serial_number(rng.randrange(serials))[:6] for _ in range(runs * 10)]
        prefixes = [p.lower() if k % 2 else p for k, p in enumerate(starts)]
        long_history = seeded.long_history

        def one(i: int) -> dict[str, Any]:
            sku, number = long_history[i % len(long_history)]
            return {"sku": sku, "number": number}

        def dashboard(_: int) -> dict[str, Any]:
            return {"products": DASH_PRODUCTS, "serials": DASH_SERIALS}

        def tree(_: int) -> dict[str, Any]:
            return {"products": TREE_PRODUCTS, "serials": TREE_SERIALS}

        def search(i: int) -> dict[str, Any]:
            return {"search": prefixes[i % len(prefixes)], "first": SEARCH_PAGE}

        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as ours,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=raw_app), base_url="http://b"
            ) as theirs,
        ):
            floor_app = graphql_floor.floor_app(
                graphql_floor.objects_from_answer(await graphql(ours, TREE_QUERY, tree)(0))
            )
            floor_client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=floor_app), base_url="http://b"
            )
            scenarios = [
                Scenario(
                    f"(a) one serial, last {LAST} of {LONG_HISTORY} movements",
                    graphql(ours, SERIAL_QUERY, one),
                    raw(theirs, "/serial", one),
                    runs * 10,
                ),
                Scenario(
                    f"(b) dashboard {DASH_PRODUCTS} x {DASH_SERIALS} x {LAST}",
                    graphql(ours, TREE_QUERY, dashboard),
                    raw(theirs, "/tree", dashboard),
                    runs * 5,
                ),
                Scenario(
                    f"(c) tree {TREE_PRODUCTS} x {TREE_SERIALS} x {LAST}",
                    graphql(ours, TREE_QUERY, tree),
                    raw(theirs, "/tree", tree),
                    runs,
                    floor=graphql(floor_client, TREE_QUERY, tree),
                ),
                Scenario(
                    f"(d) prefix search in {serials:,}, first {SEARCH_PAGE} + totalCount",
                    graphql(ours, SEARCH_QUERY, search),
                    raw(theirs, "/lookup", search),
                    runs * 10,
                ),
            ]
            rows = []
            async with floor_client:
                for scenario in scenarios:
                    rows += await measure(engines, scenario)
        print_table(
            "Latency, ms: in-process HTTP; ours POST /graphql, raw a hand-written SQL route "
            "returning the same bytes",
            ["scenario", "median", "p99", "raw median", "raw p99", "ours/raw", "SQL ours/raw"],
            rows,
        )


async def measure(engines: Engines, scenario: Scenario) -> list[list[str]]:
    requests = [scenario.ours, scenario.raw] + ([scenario.floor] if scenario.floor else [])
    for i in range(3):
        answers = [await request(i) for request in requests]
        for other in answers[1:]:
            check_same(scenario.label, answers[0], other)
    statements = [await count_statements(engines, r) for r in (scenario.ours, scenario.raw)]
    timings = await time_interleaved(scenario.runs, *requests)
    ours, baseline = timings[0], timings[1]
    rows = [
        [
            f"{scenario.label} ({len(answers[0]):,} bytes, {scenario.runs} runs)",
            f"{ours.median_ms:.1f}",
            f"{ours.p99_ms:.1f}",
            f"{baseline.median_ms:.1f}",
            f"{baseline.p99_ms:.1f}",
            f"{ours.median_ms / baseline.median_ms:.2f}",
            f"{statements[0]} / {statements[1]}",
        ]
    ]
    if scenario.floor:
        floor = timings[2]
        rows.append(
            [
                "    the same answer from Strawberry alone (in-memory objects, no database)",
                f"{floor.median_ms:.1f}",
                f"{floor.p99_ms:.1f}",
                f"{baseline.median_ms:.1f}",
                f"{baseline.p99_ms:.1f}",
                f"{floor.median_ms / baseline.median_ms:.2f}",
                "0 / -",
            ]
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--serials", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30, help="runs of (c); (b) 5x, (a), (d) 10x")
    parser.add_argument("--small", action="store_true", help="20,000 serials, to prove it works")
    args = parser.parse_args(argv)
    if args.small:
        args.serials, args.runs = 20_000, 2
    asyncio.run(run(args.engine, args.serials, args.runs))


if __name__ == "__main__":
    main()
