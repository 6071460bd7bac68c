"""Live updates end to end: `trackline serve` on a real uvicorn, real WebSocket
(graphql-transport-ws) and server-sent-events clients, both engines; on PostgreSQL, two
server processes on one database and a listener connection killed under them."""

import asyncio
from pathlib import Path
from typing import Any

import asyncpg

from tests.conftest import Database, _truncate_all
from tests.e2e.live import TRACKLINE, Server, serving, sse_client, ws_client
from trackline.db import create_engines
from trackline.events_pg import asyncpg_dsn

SETUP = """
mutation {
  createWarehouse(input: {code: "MAIN", name: "Main", timeZone: "UTC",
    locations: [{code: "DOCK", kind: RECEIVING}, {code: "A-01", kind: STORAGE}]}) {
    warehouse { id } userErrors { code }
  }
  east: createWarehouse(input: {code: "EAST", name: "East", timeZone: "UTC",
    locations: [{code: "DOCK", kind: RECEIVING}, {code: "E-01", kind: STORAGE}]}) {
    warehouse { id } userErrors { code }
  }
  laptop: createProduct(input: {sku: "LAPTOP", name: "Laptop", serialTracked: true}) {
    product { id } userErrors { code }
  }
  vitamins: createProduct(input: {sku: "VIT", name: "Vitamins", lotTracked: true}) {
    product { id } userErrors { code }
  }
}
"""

PLAN = """
mutation ($number: String!, $warehouse: String!, $serials: [String!]!, $count: Int!) {
  planReceivingOrder(input: {number: $number, warehouseCode: $warehouse, lines: [
    {productSku: "LAPTOP", expectedQuantity: $count, expectedSerialNumbers: $serials},
    {productSku: "VIT", expectedQuantity: 10}]}) {
    receivingOrder { id } userErrors { code message }
  }
}
"""

RECEIVE = """
mutation ($number: String!, $serials: [String!]!, $lot: String!) {
  receiveItems(input: {orderNumber: $number, lines: [
    {lineNumber: 1, serialNumbers: $serials},
    {lineNumber: 2, lots: [{lotNumber: $lot, quantity: 10}]}]}) {
    putawayTasks { id } userErrors { code message }
  }
}
"""

PUTAWAY = """
mutation ($serials: ID!, $lot: ID!, $numbers: [String!]!, $count: Int!, $bin: String!) {
  serials: completePutaway(input: {taskId: $serials, placements: [
    {locationCode: $bin, quantity: $count, serialNumbers: $numbers}]}) { userErrors { code } }
  lot: completePutaway(input: {taskId: $lot, placements: [
    {locationCode: $bin, quantity: 10}]}) { userErrors { code } }
}
"""

SERIAL_CHANGES = """
subscription ($productId: ID, $serialNumber: String, $warehouseId: ID, $statuses: [SerialStatus!]) {
  serialStatusChanged(productId: $productId, serialNumber: $serialNumber,
                      warehouseId: $warehouseId, statuses: $statuses) {
    serial { serialNumber status location { code } movements { kind } }
    fromStatus toStatus actor movement { kind documentNumber }
  }
}
"""

LOT_CHANGES = """
subscription ($productId: ID) {
  lotStockChanged(productId: $productId) {
    lot { lotNumber stock { onHand } }
    movements { kind quantity toLocation { code } }
    actor
  }
}
"""

ASN_CHANGES = """
subscription { receivingOrderStatusChanged { receivingOrder { number } fromStatus toStatus } }
"""


async def _setup(server: Server) -> dict[str, str]:
    data = await server.gql(SETUP)
    assert all(not answer["userErrors"] for answer in data.values()), data
    return {
        "main": data["createWarehouse"]["warehouse"]["id"],
        "east": data["east"]["warehouse"]["id"],
        "laptop": data["laptop"]["product"]["id"],
        "vitamins": data["vitamins"]["product"]["id"],
    }


async def _plan(server: Server, number: str, serials: list[str], warehouse: str = "MAIN") -> None:
    variables = {"number": number, "warehouse": warehouse, "serials": serials}
    data = await server.gql(PLAN, {**variables, "count": len(serials)}, actor="planner")
    assert data["planReceivingOrder"]["userErrors"] == []


async def _receive(server: Server, number: str, serials: list[str], lot: str) -> list[str]:
    variables = {"number": number, "serials": serials, "lot": lot}
    data = await server.gql(RECEIVE, variables, actor="receiver")
    assert data["receiveItems"]["userErrors"] == []
    return [task["id"] for task in data["receiveItems"]["putawayTasks"]]


def _change(serial: str, before: str | None, after: str, actor: str, **more: Any) -> dict[str, Any]:
    return {"serial": serial, "from": before, "to": after, "actor": actor, **more}


def _summary(data: dict[str, Any]) -> dict[str, Any]:
    change = data["serialStatusChanged"]
    return _change(
        change["serial"]["serialNumber"], change["fromStatus"], change["toStatus"], change["actor"]
    )


async def test_changes_reach_websocket_and_sse_subscribers_through_their_filters(
    db: Database,
) -> None:
    async with serving(db.url) as server:
        ids = await _setup(server)
        async with (
            ws_client(server) as ws,
            sse_client(server, SERIAL_CHANGES, {"statuses": ["RECEIVED"]}) as sse,
        ):
            # given subscribers to: one serial of one product; serials stored in MAIN;
            # the vitamins' lots; (SSE) serials being received
            await ws.subscribe(
                "one-serial", SERIAL_CHANGES, {"productId": ids["laptop"], "serialNumber": "SN-2"}
            )
            await ws.subscribe(
                "main-stored",
                SERIAL_CHANGES,
                {"warehouseId": ids["main"], "statuses": ["IN_INVENTORY"]},
            )
            await ws.subscribe("lots", LOT_CHANGES, {"productId": ids["vitamins"]})
            await server.wait_for_subscribers(4)
            assert sse.content_type.startswith("text/event-stream")

            # when an ASN is planned, received and put away in MAIN, and another is
            # planned and received in EAST
            await _plan(server, "ASN-1", ["SN-1", "SN-2"])
            await _plan(server, "ASN-E", ["SN-E"], warehouse="EAST")
            tasks = await _receive(server, "ASN-1", ["SN-1", "SN-2"], "L-1")
            await _receive(server, "ASN-E", ["SN-E"], "L-E")
            putaway = {"serials": tasks[0], "lot": tasks[1], "numbers": ["SN-1", "SN-2"]}
            data = await server.gql(PUTAWAY, {**putaway, "count": 2, "bin": "A-01"}, "stocker")
            assert data == {"serials": {"userErrors": []}, "lot": {"userErrors": []}}

            # then the one-serial subscriber saw SN-2's three changes, with its state now
            seen = [await ws.data("one-serial") for _ in range(3)]
            assert [_summary(d) for d in seen] == [
                _change("SN-2", None, "EXPECTED", "planner"),
                _change("SN-2", "EXPECTED", "RECEIVED", "receiver"),
                _change("SN-2", "RECEIVED", "IN_INVENTORY", "stocker"),
            ]
            last = seen[-1]["serialStatusChanged"]
            assert last["serial"]["location"] == {"code": "A-01"}
            assert last["serial"]["movements"] == [
                {"kind": "EXPECT"},
                {"kind": "RECEIVE"},
                {"kind": "PUTAWAY"},
            ]
            assert last["movement"] == {"kind": "PUTAWAY", "documentNumber": "ASN-1"}

            # the MAIN storage subscriber saw both serials stored, nothing from receiving
            stored = [_summary(await ws.data("main-stored")) for _ in range(2)]
            assert stored == [
                _change("SN-1", "RECEIVED", "IN_INVENTORY", "stocker"),
                _change("SN-2", "RECEIVED", "IN_INVENTORY", "stocker"),
            ]

            # the lots subscriber saw each lot arrive, then L-1 put away
            lots = [(await ws.data("lots"))["lotStockChanged"] for _ in range(3)]
            assert [(c["lot"]["lotNumber"], c["actor"]) for c in lots] == [
                ("L-1", "receiver"),
                ("L-E", "receiver"),
                ("L-1", "stocker"),
            ]
            assert lots[2]["movements"] == [
                {"kind": "PUTAWAY", "quantity": 10, "toLocation": {"code": "A-01"}}
            ]
            assert lots[2]["lot"]["stock"] == {"onHand": 10}

            # and the SSE subscriber saw the three receipts, in both warehouses
            received = [_summary(await sse.data()) for _ in range(3)]
            assert received == [
                _change("SN-1", "EXPECTED", "RECEIVED", "receiver"),
                _change("SN-2", "EXPECTED", "RECEIVED", "receiver"),
                _change("SN-E", "EXPECTED", "RECEIVED", "receiver"),
            ]

            # and none of them got anything else
            for op in ("one-serial", "main-stored", "lots"):
                await ws.nothing_more(op, wait=0.1)
            await sse.nothing_more()


async def test_a_refused_mutation_publishes_nothing(db: Database) -> None:
    async with serving(db.url) as server:
        await _setup(server)
        await _plan(server, "ASN-1", ["SN-1", "SN-2"])
        async with ws_client(server) as ws, sse_client(server, ASN_CHANGES) as sse:
            await ws.subscribe("serials", SERIAL_CHANGES)
            await ws.subscribe("lots", LOT_CHANGES)
            await server.wait_for_subscribers(3)

            # when a receipt with one good line and one unknown serial is refused as a whole
            refused = await server.gql(
                RECEIVE, {"number": "ASN-1", "serials": ["SN-1", "SN-999"], "lot": "L-1"}
            )
            codes = {e["code"] for e in refused["receiveItems"]["userErrors"]}
            assert codes, refused

            # and then the same receipt, right this time, is accepted
            await _receive(server, "ASN-1", ["SN-1", "SN-2"], "L-1")

            # then every subscriber's first message is from the accepted receipt
            assert _summary(await ws.data("serials")) == _change(
                "SN-1", "EXPECTED", "RECEIVED", "receiver"
            )
            assert _summary(await ws.data("serials"))["serial"] == "SN-2"
            lot = (await ws.data("lots"))["lotStockChanged"]
            assert lot["movements"] == [
                {"kind": "RECEIVE", "quantity": 10, "toLocation": {"code": "DOCK"}}
            ]
            assert await sse.data() == {
                "receivingOrderStatusChanged": {
                    "receivingOrder": {"number": "ASN-1"},
                    "fromStatus": "PLANNED",
                    "toStatus": "RECEIVED",
                }
            }
            await ws.nothing_more("serials")
            await ws.nothing_more("lots", wait=0)
            await sse.nothing_more(wait=0)


async def test_subscriptions_per_connection_are_capped_and_bad_ids_refused(
    tmp_path: Path,
) -> None:
    async with serving(f"sqlite:///{tmp_path / 'cap.sqlite3'}") as server, ws_client(server) as ws:
        # 32 subscriptions on one connection are served; the 33rd is refused
        for i in range(32):
            await ws.subscribe(str(i), ASN_CHANGES)
        await server.wait_for_subscribers(32)
        await ws.subscribe("one-too-many", ASN_CHANGES)
        message = await ws.next("one-too-many")
        assert message["type"] == "error"
        assert message["payload"][0]["message"] == "Subscription limit reached"

        # leaving one frees a place
        await ws.connection.send('{"id": "0", "type": "complete"}')
        for _ in range(100):
            if (await server.health())["events"]["subscribers"] == 31:
                break
            await asyncio.sleep(0.05)
        assert (await server.health())["events"]["subscribers"] == 31
        await ws.subscribe("bad-id", SERIAL_CHANGES, {"productId": "V2FyZWhvdXNlOjE="})
        message = await ws.next("bad-id")
        assert message["type"] == "next"
        assert "is not the id of a Product" in message["payload"]["errors"][0]["message"]


async def test_watch_serials_prints_changes_from_the_command_line(tmp_path: Path) -> None:
    async with serving(f"sqlite:///{tmp_path / 'watch.sqlite3'}") as server:
        await _setup(server)
        watcher = await asyncio.create_subprocess_exec(
            str(TRACKLINE), "watch-serials", "--url", server.base, "--sku", "LAPTOP",
            "--warehouse", "MAIN", "--limit", "2", "--token", await server.token("watcher"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await server.wait_for_subscribers(1)
            await _plan(server, "ASN-1", ["SN-1", "SN-2"])
            out, err = await asyncio.wait_for(watcher.communicate(), 30)
        finally:
            if watcher.returncode is None:
                watcher.kill()
        output, errors = out.decode(), err.decode()
        assert watcher.returncode == 0, errors
        assert "Watching serial status changes" in errors
        lines = output.splitlines()
        assert len(lines) == 2
        assert (
            "LAPTOP  SN-1  (new) -> EXPECTED  MAIN/-  by planner  (RECEIVING_ORDER ASN-1)"
            in lines[0]
        )
        assert "SN-2  (new) -> EXPECTED" in lines[1]


async def _listener_pids(dsn: str, server: Server) -> list[int]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
            f"trackline-listen-{server.pid}",
        )
        return [row["pid"] for row in rows]
    finally:
        await connection.close()


async def _terminate(dsn: str, pid: int) -> bool:
    connection = await asyncpg.connect(dsn)
    try:
        return bool(await connection.fetchval("SELECT pg_terminate_backend($1)", pid))
    finally:
        await connection.close()


async def test_two_processes_share_events_and_survive_a_killed_listener(
    postgres_url: str,
) -> None:
    dsn = asyncpg_dsn(postgres_url)
    try:
        # given two API processes on one PostgreSQL database (started one after the other:
        # each migrates at start), a subscriber on B and one on A
        async with serving(postgres_url) as a, serving(postgres_url) as b:
            ids = await _setup(a)
            async with ws_client(b) as on_b, ws_client(a) as on_a:
                await on_b.subscribe("b", SERIAL_CHANGES, {"productId": ids["laptop"]})
                await on_a.subscribe("a", SERIAL_CHANGES, {"serialNumber": "SN-2"})
                async with sse_client(b, LOT_CHANGES) as sse_on_b:
                    await b.wait_for_subscribers(2)
                    await a.wait_for_subscribers(1)

                    # when A writes, B's subscribers hear of it, and A's own
                    await _plan(a, "ASN-1", ["SN-1", "SN-2"])
                    assert [_summary(await on_b.data("b")) for _ in range(2)] == [
                        _change("SN-1", None, "EXPECTED", "planner"),
                        _change("SN-2", None, "EXPECTED", "planner"),
                    ]
                    assert _summary(await on_a.data("a"))["to"] == "EXPECTED"

                    # when B's listening connection is killed
                    (listener,) = await _listener_pids(dsn, b)
                    assert await _terminate(dsn, listener)
                    for _ in range(200):
                        health = (await b.health())["events"]
                        if health["connects"] >= 2 and health["listening"]:
                            break
                        await asyncio.sleep(0.05)
                    assert health["connects"] == 2
                    assert health["listening"]
                    (new_listener,) = await _listener_pids(dsn, b)
                    assert new_listener != listener

                    # then later writes through A still reach B's subscribers
                    await _receive(a, "ASN-1", ["SN-1", "SN-2"], "L-1")
                    assert [_summary(await on_b.data("b")) for _ in range(2)] == [
                        _change("SN-1", "EXPECTED", "RECEIVED", "receiver"),
                        _change("SN-2", "EXPECTED", "RECEIVED", "receiver"),
                    ]
                    assert (await sse_on_b.data())["lotStockChanged"]["actor"] == "receiver"
                    assert _summary(await on_a.data("a"))["to"] == "RECEIVED"
                    await on_b.nothing_more("b")
    finally:
        engines = create_engines(postgres_url)
        try:
            await _truncate_all(engines.write)
        finally:
            await engines.dispose()
