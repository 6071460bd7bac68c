"""Live subscriptions authenticate when they start: a WebSocket in connection_init (or its
handshake's Authorization header), an event stream in its request."""

import json

import httpx
import pytest
import websockets
from sqlalchemy import update

from models.access import ApiToken
from models.base import utc_now
from models.enums import Role
from tests.conftest import Database
from tests.e2e.live import GRAPHQL_TRANSPORT_WS, Server, issue_token, serving

SUBSCRIPTION = "subscription { serialStatusChanged { toStatus } }"


async def _init(server: Server, payload: dict[str, str] | None) -> tuple[str, int | None]:
    """What the server answers a connection_init with: ('ack', None) or ('closed', code)."""
    async with websockets.connect(server.ws, subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
        message = {"type": "connection_init", **({"payload": payload} if payload else {})}
        await ws.send(json.dumps(message))
        try:
            answer = json.loads(await ws.recv())
        except websockets.ConnectionClosed as closed:
            return "closed", closed.rcvd.code if closed.rcvd else None
        return answer["type"], None


@pytest.mark.sqlite_only(reason="who may connect does not depend on the engine")
async def test_websockets_and_event_streams_need_a_valid_token(db: Database) -> None:
    async with serving(db.url) as server:
        viewer = await issue_token(db.url, "wall-screen", Role.VIEWER)
        revoked = await issue_token(db.url, "old-screen", Role.VIEWER)
        async with db.sessions.begin() as session:
            await session.execute(
                update(ApiToken).where(ApiToken.name == "old-screen").values(revoked_at=utc_now())
            )

        assert await _init(server, {"authorization": f"Bearer {viewer}"}) == (
            "connection_ack",
            None,
        )
        assert await _init(server, {"authorization": viewer}) == ("connection_ack", None)
        assert await _init(server, None) == ("closed", 4403)
        assert await _init(server, {"authorization": f"Bearer {revoked}"}) == ("closed", 4403)
        assert await _init(server, {"authorization": "Bearer tl_made_up"}) == ("closed", 4403)

        # a handshake with a bad Authorization header is refused before it opens
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(
                server.ws,
                subprotocols=[GRAPHQL_TRANSPORT_WS],
                additional_headers={"Authorization": f"Bearer {revoked}"},
            )
        assert refused.value.response.status_code == 403
        # a good one needs nothing in connection_init
        async with websockets.connect(
            server.ws,
            subprotocols=[GRAPHQL_TRANSPORT_WS],
            additional_headers={"Authorization": f"Bearer {viewer}"},
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}

        # an event stream without a token is refused with the permission code
        async with httpx.AsyncClient(base_url=server.base) as client:
            stream = await client.post(
                "/graphql",
                json={"query": SUBSCRIPTION},
                headers={"Accept": "text/event-stream"},
            )
        # (the stream itself is opened; its one event is the refusal, and then it ends)
        events = [line for line in stream.text.splitlines() if line.startswith("data: {")]
        assert len(events) == 1
        refusal = json.loads(events[0].removeprefix("data:"))
        assert "data" not in refusal
        assert refusal["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
