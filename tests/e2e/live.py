"""Real clients for live-update tests: `trackline serve` in a subprocess, a
graphql-transport-ws client on the `websockets` library, and an SSE reader on httpx."""

import asyncio
import contextlib
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from models.enums import Role
from services import tokens
from services.access import system
from trackline.db import create_engines
from trackline.settings import normalize_database_url

TRACKLINE = Path(sys.executable).parent / "trackline"
GRAPHQL_TRANSPORT_WS = Subprotocol("graphql-transport-ws")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def issue_token(database_url: str, name: str, role: Role = Role.ADMIN) -> str:
    """A token's secret, issued straight into the server's database."""
    engines = create_engines(normalize_database_url(database_url))
    try:
        async with engines.sessions().begin() as session:
            issued = await tokens.issue(session, name=name, role=role, expires_at=None, by=system())
            return issued.secret
    finally:
        await engines.dispose()


@dataclass
class Server:
    """One `trackline serve` process."""

    base: str
    process: asyncio.subprocess.Process
    database_url: str
    # API tokens by name: each name acts (and is written on movements) as itself.
    tokens: dict[str, str] = field(default_factory=dict)

    async def token(self, name: str = "tester") -> str:
        if name not in self.tokens:
            self.tokens[name] = await issue_token(self.database_url, name)
        return self.tokens[name]

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ws(self) -> str:
        return self.base.replace("http://", "ws://") + "/graphql"

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, actor: str = "tester"
    ) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as client:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables or {}},
                headers={"Authorization": f"Bearer {await self.token(actor)}"},
            )
        answer = response.json()
        assert "errors" not in answer, answer
        data: dict[str, Any] = answer["data"]
        return data

    async def health(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.base) as client:
            answer: dict[str, Any] = (await client.get("/health")).json()
            return answer

    async def wait_for_subscribers(self, count: int) -> None:
        """Until `count` subscriptions are registered with the server's bus (a subscribe
        message has no acknowledgement, so a test asks the server)."""
        for _ in range(200):
            if (await self.health())["events"]["subscribers"] >= count:
                return
            await asyncio.sleep(0.05)
        pytest.fail(f"the server never had {count} subscribers: {await self.health()}")


@contextlib.asynccontextmanager
async def serving(database_url: str) -> AsyncIterator[Server]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        str(TRACKLINE),
        "serve",
        "--port",
        str(port),
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    server = Server(f"http://127.0.0.1:{port}", process, database_url)
    try:
        for _ in range(300):
            if process.returncode is not None:
                break
            with contextlib.suppress(httpx.TransportError):
                if (await server.health())["status"] == "ok":
                    break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the server did not answer within 30 s")
        assert process.returncode is None, "the server exited"
        yield server
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            output, _ = await asyncio.wait_for(process.communicate(), 15)
        except TimeoutError:
            process.kill()
            output, _ = await process.communicate()
        print(output.decode(errors="replace"))


@dataclass
class WsClient:
    """A graphql-transport-ws connection: results are sorted into a queue per operation."""

    connection: Any
    results: dict[str, asyncio.Queue[dict[str, Any]]] = field(default_factory=dict)
    reader: asyncio.Task[None] | None = None

    async def subscribe(
        self, op_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        self.results.setdefault(op_id, asyncio.Queue())
        payload = {"query": query, "variables": variables or {}}
        await self.connection.send(
            json.dumps({"id": op_id, "type": "subscribe", "payload": payload})
        )

    async def _read(self) -> None:
        async for raw in self.connection:
            message = json.loads(raw)
            if message["type"] == "ping":
                await self.connection.send(json.dumps({"type": "pong"}))
            elif "id" in message:
                await self.results.setdefault(message["id"], asyncio.Queue()).put(message)

    async def next(self, op_id: str, within: float = 15) -> dict[str, Any]:
        """The next message of operation `op_id` (next, error or complete)."""
        return await asyncio.wait_for(self.results[op_id].get(), within)

    async def data(self, op_id: str, within: float = 15) -> dict[str, Any]:
        """The data of the next result of `op_id`, which must be a result without errors."""
        message = await self.next(op_id, within)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def nothing_more(self, op_id: str, wait: float = 0.5) -> None:
        await asyncio.sleep(wait)
        assert self.results[op_id].empty(), self.results[op_id].get_nowait()


@contextlib.asynccontextmanager
async def ws_client(server: Server) -> AsyncIterator[WsClient]:
    token = await server.token("watcher")
    async with websockets.connect(server.ws, subprotocols=[GRAPHQL_TRANSPORT_WS]) as connection:
        assert connection.subprotocol == GRAPHQL_TRANSPORT_WS
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await connection.send(json.dumps(init))
        assert json.loads(await connection.recv()) == {"type": "connection_ack"}
        client = WsClient(connection)
        client.reader = asyncio.create_task(client._read())
        try:
            yield client
        finally:
            client.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await client.reader


@dataclass
class SseClient:
    """A server-sent events stream of one subscription (what a browser's EventSource reads:
    a GET with the query in the URL and `Accept: text/event-stream`)."""

    events: asyncio.Queue[tuple[str, str]] = field(default_factory=asyncio.Queue)
    content_type: str = ""

    async def data(self, within: float = 15) -> dict[str, Any]:
        kind, data = await asyncio.wait_for(self.events.get(), within)
        assert kind == "next", (kind, data)
        payload = json.loads(data)
        assert "errors" not in payload, payload
        result: dict[str, Any] = payload["data"]
        return result

    async def nothing_more(self, wait: float = 0.5) -> None:
        await asyncio.sleep(wait)
        assert self.events.empty(), self.events.get_nowait()


@contextlib.asynccontextmanager
async def sse_client(
    server: Server, query: str, variables: dict[str, Any] | None = None
) -> AsyncIterator[SseClient]:
    client = SseClient()
    params = {"query": query, "variables": json.dumps(variables or {})}
    token = await server.token("watcher")

    async def read() -> None:
        async with (
            httpx.AsyncClient(timeout=None) as http,
            http.stream(
                "GET",
                f"{server.base}/graphql",
                params=params,
                headers={"Accept": "text/event-stream", "Authorization": f"Bearer {token}"},
            ) as response,
        ):
            client.content_type = response.headers["content-type"]
            kind = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    kind = line.partition(":")[2].strip()
                elif line.startswith("data:"):
                    await client.events.put((kind, line.partition(":")[2].strip()))

    reader = asyncio.create_task(read())
    try:
        yield client
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
