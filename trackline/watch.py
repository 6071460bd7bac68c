"""A small command-line subscriber: `trackline watch-serials` (and bin/watch-serials).

It speaks graphql-transport-ws over one WebSocket, as any client may: connection_init,
then a query to turn the SKU and warehouse code into ids, then the subscription, printing
one line per serial status change until interrupted.
"""

import itertools
import json
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import websockets
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")

IDS = """
query ($sku: String!, $code: String!, $bySku: Boolean!, $byCode: Boolean!) {
  product(sku: $sku) @include(if: $bySku) { id }
  warehouse(code: $code) @include(if: $byCode) { id }
}
"""

SERIAL_STATUS_CHANGED = """
subscription ($productId: ID, $serialNumber: String, $warehouseId: ID, $statuses: [SerialStatus!]) {
  serialStatusChanged(productId: $productId, serialNumber: $serialNumber,
                      warehouseId: $warehouseId, statuses: $statuses) {
    serial { serialNumber product { sku } warehouse { code } location { code } }
    fromStatus toStatus actor occurredAt
    movement { documentType documentNumber }
  }
}
"""


class WatchError(Exception):
    """The server refused: an unknown SKU or warehouse, or a GraphQL error."""


# What a lost or refused connection raises, for a one-line message instead of a traceback.
CONNECTION_ERRORS = (OSError, WebSocketException)


def websocket_url(url: str) -> str:
    """ws(s)://host/graphql from whatever base the user gave (http://host:8000, ...)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path.endswith("/graphql"):
        path += "/graphql"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


class _Operations:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def run(self, query: str, variables: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The `data` of each result of one operation, until the server completes it."""
        op_id = str(next(self.ids))
        payload = {"query": query, "variables": variables}
        await self.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))
        async for raw in self.ws:
            message = json.loads(raw)
            if message.get("type") == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            if message.get("id") != op_id:
                continue
            if message["type"] == "complete":
                return
            if message["type"] == "error":
                raise WatchError("; ".join(e["message"] for e in message["payload"]))
            result = message["payload"]
            if result.get("errors"):
                raise WatchError("; ".join(e["message"] for e in result["errors"]))
            yield result["data"]


def format_change(change: dict[str, Any]) -> str:
    serial = change["serial"]
    where = serial["location"]["code"] if serial["location"] else "-"
    before = change["fromStatus"] or "(new)"
    document = change["movement"]
    return (
        f"{change['occurredAt']}  {serial['product']['sku']}  {serial['serialNumber']}  "
        f"{before} -> {change['toStatus']}  {serial['warehouse']['code']}/{where}  "
        f"by {change['actor']}  ({document['documentType']} {document['documentNumber']})"
    )


async def watch_serials(
    url: str,
    *,
    sku: str | None = None,
    serial_number: str | None = None,
    warehouse: str | None = None,
    statuses: Sequence[str] = (),
    show: Callable[[str], None] = print,
    notice: Callable[[str], None] = lambda _text: None,
    limit: int | None = None,
    token: str = "",
) -> None:
    """Print serial status changes as they commit (`limit` of them, or until interrupted)."""
    async with websockets.connect(websocket_url(url), subprotocols=[PROTOCOL]) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        ack = json.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            raise WatchError(f"the server did not acknowledge the connection: {ack}")
        operations = _Operations(ws)
        variables: dict[str, Any] = {"serialNumber": serial_number, "statuses": statuses or None}
        if sku or warehouse:
            names = {"sku": sku or "", "code": warehouse or "", "bySku": bool(sku)}
            async for data in operations.run(IDS, {**names, "byCode": bool(warehouse)}):
                if sku and data["product"] is None:
                    raise WatchError(f"no product with SKU {sku}")
                if warehouse and data["warehouse"] is None:
                    raise WatchError(f"no warehouse with code {warehouse}")
                variables["productId"] = data["product"]["id"] if sku else None
                variables["warehouseId"] = data["warehouse"]["id"] if warehouse else None
        notice(f"Watching serial status changes at {websocket_url(url)} (Ctrl-C to stop)")
        seen = 0
        async for data in operations.run(SERIAL_STATUS_CHANGED, variables):
            show(format_change(data["serialStatusChanged"]))
            seen += 1
            if limit is not None and seen >= limit:
                return
