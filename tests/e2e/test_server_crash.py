"""Crash safety of the server: a real `trackline serve` takes a stream of receipts and
product creations from several clients, is killed with SIGKILL part-way, and is started
again on the same database. Then every write the server acknowledged is there, whole; no
write is there in part (a receipt's serials, movements and line count all present or all
absent); SQLite's integrity check passes; the movement hash chain verifies; and the
restarted server takes writes again. Runs on both engines (the `db` fixture).
"""

import asyncio
import signal
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select, text

from models import Movement, MovementKind, Product, ReceivingLine, ReceivingOrder, Serial
from services.access import Role, system
from services.audit import verify_chain
from services.receiving import PlannedLine, plan_receiving_order
from services.tokens import issue
from tests.conftest import Database
from tests.e2e.live import Server, serving
from tests.services.builders import make_site, serial_product

CLIENTS = 4
RECEIPTS = 400  # planned ASNs; the server is killed long before they are all received
PER_RECEIPT = 5
KILL_AFTER = 40  # acknowledged writes before the kill
RECEIVE = """
mutation R($n: String!, $s: [String!]!) {
  receiveItems(input: {orderNumber: $n, lines: [{lineNumber: 1, serialNumbers: $s}]}) {
    serials { serialNumber }
    userErrors { code message }
  }
}"""
CREATE_PRODUCT = """
mutation P($sku: String!) {
  createProduct(input: {sku: $sku, name: "crash"}) { product { sku } userErrors { code } }
}"""


async def _authorization(db: Database) -> dict[str, str]:
    """The headers of every request (the one place this module authenticates)."""
    async with db.sessions.begin() as session:
        issued = await issue(session, name="crash", role=Role.ADMIN, expires_at=None, by=system())
    return {"Authorization": f"Bearer {issued.secret}"}


def _serials(receipt: int) -> list[str]:
    return [f"C{receipt:04d}-{k}" for k in range(PER_RECEIPT)]


@dataclass
class Log:
    """What the clients sent and what the server acknowledged."""

    receipts: set[int] = field(default_factory=set)
    products: set[str] = field(default_factory=set)
    sent: int = 0
    refused: list[Any] = field(default_factory=list)
    acknowledged: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def count(self) -> int:
        return len(self.receipts) + len(self.products)


async def _client(
    server: Server, headers: dict[str, str], worker: int, log: Log, stop: asyncio.Event
) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=30, headers=headers) as http:
        for receipt in range(worker, RECEIPTS, CLIENTS):
            if stop.is_set():
                return
            sku = f"CRASH-{receipt:04d}"
            try:
                log.sent += 2
                answer = (
                    await http.post(
                        "/graphql",
                        json={
                            "query": RECEIVE,
                            "variables": {"n": f"ASN-{receipt:04d}", "s": _serials(receipt)},
                        },
                    )
                ).json()
                payload = answer["data"]["receiveItems"]
                if payload["userErrors"]:
                    log.refused.append(answer)
                else:
                    assert len(payload["serials"]) == PER_RECEIPT, answer
                    log.receipts.add(receipt)
                answer = (
                    await http.post(
                        "/graphql", json={"query": CREATE_PRODUCT, "variables": {"sku": sku}}
                    )
                ).json()
                if answer["data"]["createProduct"]["userErrors"]:
                    log.refused.append(answer)
                else:
                    log.products.add(sku)
            except httpx.TransportError:
                return  # the server died under this request: it is not acknowledged
            if log.count >= KILL_AFTER:
                log.acknowledged.set()


async def _plan(db: Database) -> None:
    site = await make_site(db)
    product = await serial_product(db, "CRASH-SER")
    async with db.sessions.begin() as session:
        for receipt in range(RECEIPTS):
            await plan_receiving_order(
                session,
                number=f"ASN-{receipt:04d}",
                warehouse_id=site.warehouse_id,
                lines=[PlannedLine(product, PER_RECEIPT, [])],
                actor="planner",
            )


async def _receipts_in_database(db: Database) -> dict[int, tuple[int, int, int]]:
    """Per ASN: (the line's received quantity, serials, RECEIVE movements)."""
    async with db.read_sessions() as session:
        lines = {
            int(number.split("-")[1]): received
            for number, received in await session.execute(
                select(ReceivingOrder.number, ReceivingLine.received_quantity).join(
                    ReceivingLine, ReceivingLine.order_id == ReceivingOrder.id
                )
            )
        }
        serials = {
            int(number.split("-")[1]): count
            for number, count in await session.execute(
                select(ReceivingOrder.number, func.count(Serial.id))
                .join(ReceivingLine, ReceivingLine.order_id == ReceivingOrder.id)
                .join(Serial, Serial.receiving_line_id == ReceivingLine.id)
                .group_by(ReceivingOrder.number)
            )
        }
        moves = {
            int(number.split("-")[1]): count
            for number, count in await session.execute(
                select(Movement.document_number, func.count(Movement.id))
                .where(Movement.kind == MovementKind.RECEIVE)
                .group_by(Movement.document_number)
            )
        }
    return {n: (lines[n], serials.get(n, 0), moves.get(n, 0)) for n in lines}


async def test_a_server_killed_mid_stream_keeps_every_acknowledged_write_whole(
    db: Database,
) -> None:
    await _plan(db)
    headers = await _authorization(db)
    log = Log()
    stop = asyncio.Event()

    # when the clients stream writes and the server is killed part-way
    async with serving(db.url) as server:
        clients = [
            asyncio.create_task(_client(server, headers, worker, log, stop))
            for worker in range(CLIENTS)
        ]
        await asyncio.wait_for(log.acknowledged.wait(), 120)
        server.process.send_signal(signal.SIGKILL)
        await server.process.wait()
        stop.set()
        await asyncio.gather(*clients)
    assert server.process.returncode == -signal.SIGKILL
    print(f"{log.count} writes acknowledged of {log.sent} sent before the kill")
    assert not log.refused, log.refused[:3]
    assert log.count >= KILL_AFTER
    assert log.sent > log.count or len(log.receipts) < RECEIPTS, "the kill came too late"

    # then every acknowledged write is there, and nothing is there in part
    receipts = await _receipts_in_database(db)
    for receipt, (received, serials, moves) in receipts.items():
        assert (received, serials, moves) in (
            (0, 0, 0),
            (PER_RECEIPT, PER_RECEIPT, PER_RECEIPT),
        ), f"ASN-{receipt:04d} is there in part: {received, serials, moves}"
        if receipt in log.receipts:
            assert serials == PER_RECEIPT, f"acknowledged ASN-{receipt:04d} is missing"
    async with db.read_sessions() as session:
        skus = set(await session.scalars(select(Product.sku).where(Product.sku.like("CRASH-0%"))))
    assert log.products <= skus, f"acknowledged products missing: {log.products - skus}"
    if db.name == "sqlite":
        async with db.engine.connect() as connection:
            result = (await connection.execute(text("PRAGMA integrity_check"))).scalar()
            assert result == "ok", result
    async with db.read_sessions() as session:
        check = await verify_chain(session)
    assert check.intact, check.broken

    # and the server, started again on the same database, takes writes again
    first_open = min(n for n, (received, _, _) in receipts.items() if received == 0)
    async with serving(db.url) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=30, headers=headers) as http:
            variables = {"n": f"ASN-{first_open:04d}", "s": _serials(first_open)}
            response = await http.post("/graphql", json={"query": RECEIVE, "variables": variables})
        assert response.status_code == 200, response.text
        assert response.json()["data"]["receiveItems"]["userErrors"] == [], response.text
    async with db.read_sessions() as session:
        check = await verify_chain(session)
    assert check.intact, check.broken
    assert (await _receipts_in_database(db))[first_open] == (PER_RECEIPT,) * 3
