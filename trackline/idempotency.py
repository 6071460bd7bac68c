"""The `Idempotency-Key` header on GraphQL mutations sent by POST.

Around the GraphQL view: a request carrying a key is fingerprinted (normalised document,
variables, operation name) and looked up under its caller's scope.

- Seen with this fingerprint and answered: the stored answer, byte for byte.
- Seen with another fingerprint: 422 `IDEMPOTENCY_KEY_REUSED`, nothing runs.
- Claimed but not answered yet (a duplicate still running): wait for its answer, up to
  WAIT_FOR_FIRST_S, then 409 `IDEMPOTENCY_KEY_IN_PROGRESS` (safe to retry).
- Claimed long ago and never answered (the server stopped between the commit and storing
  the answer): 409 `IDEMPOTENCY_KEY_ANSWER_LOST`; the effect happened and is not repeated.
- Unknown: the mutation runs; its first committing write claims the key (services/
  idempotency.py) and the answer is stored afterwards.

Queries, subscriptions, WebSocket and event streams ignore the header.
"""

import asyncio
import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta

from graphql import GraphQLError, OperationType, get_operation_ast, parse, print_ast
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.base import utc_now
from services.idempotency import KeyedRequest, StoredAnswer, find, purge, store_answer
from trackline.observability import note_errors

IDEMPOTENCY_HEADER = "idempotency-key"
REPLAYED_HEADER = b"idempotent-replayed"
# Where the keyed request travels from here to the view's get_context.
SCOPE_ENTRY = "trackline.idempotency"
MAX_KEY_LENGTH = 255
# How long a duplicate waits for the first request's answer before it is told to retry.
WAIT_FOR_FIRST_S = 10.0
POLL_S = 0.05
# A claim this old without an answer belongs to a request that died after its commit: no
# request runs this long (SQLite's write queue gives up after a minute).
ANSWER_LOST_AFTER = timedelta(minutes=10)
# The opportunistic purge runs at most this often per process.
PURGE_EVERY_S = 3600.0


def keyed_request(connection: HTTPConnection) -> KeyedRequest | None:
    """The keyed request this view call serves, for the Context."""
    keyed: KeyedRequest | None = connection.scope.get(SCOPE_ENTRY)
    return keyed


def mutation_fingerprint(body: bytes) -> str | None:
    """SHA-256 of a mutation request in normal form; None for anything else (a query, a
    batch, a body that does not parse: those run as if there were no key)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        return None
    name = data.get("operationName")
    try:
        document = parse(data["query"])
    except GraphQLError:
        return None
    operation = get_operation_ast(document, name if isinstance(name, str) else None)
    if operation is None or operation.operation is not OperationType.MUTATION:
        return None
    normal = [print_ast(document), data.get("variables") or {}, name]
    canonical = json.dumps(normal, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _error_body(code: str, message: str) -> bytes:
    return json.dumps(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    ).encode()


class _Answer:
    def __init__(self, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.status = status
        self.body = body
        self.headers = headers

    @classmethod
    def json(cls, status: int, body: bytes, *extra: tuple[bytes, bytes]) -> "_Answer":
        return cls(status, body, [(b"content-type", b"application/json"), *extra])

    @classmethod
    def refusal(cls, status: int, code: str, message: str) -> "_Answer":
        note_errors({"errors": [{"extensions": {"code": code}}]})
        return cls.json(status, _error_body(code, message))

    def storable(self, claimed: bool) -> bool:
        """A committed effect's answer is always kept. Without one, only a complete answer
        (data, perhaps userErrors): an error such as a database outage should be retried,
        and nothing of it needs protecting."""
        if claimed:
            return True
        if self.status != 200:
            return False
        try:
            return "errors" not in json.loads(self.body)
        except ValueError:
            return False

    async def send(self, send: Send) -> None:
        headers = [h for h in self.headers if h[0] != b"content-length"]
        headers.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


class IdempotentMutations:
    """ASGI wrapper of the GraphQL view; `caller` names the scope keys belong to."""

    def __init__(
        self,
        view: ASGIApp,
        sessions: async_sessionmaker[AsyncSession],
        read_sessions: async_sessionmaker[AsyncSession],
        caller: Callable[[HTTPConnection], str],
        max_body_bytes: int,
    ) -> None:
        self.view = view
        # The view caps bodies too, but only sees this one after it has been read here.
        self.max_body_bytes = max_body_bytes
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.caller = caller
        self._last_purge = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        key = headers.get(IDEMPOTENCY_HEADER)
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or key is None
            or "text/event-stream" in headers.get("accept", "")
        ):
            await self.view(scope, receive, send)
            return
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            refusal = f"an Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable characters"
            await _Answer.refusal(400, "IDEMPOTENCY_KEY_INVALID", refusal).send(send)
            return
        if headers.get("content-type", "").startswith("multipart/"):
            refusal = "Idempotency-Key is not supported on file uploads"
            await _Answer.refusal(400, "IDEMPOTENCY_KEY_UNSUPPORTED", refusal).send(send)
            return
        body = b""
        async for chunk in Request(scope, receive).stream():
            body += chunk
            if len(body) > self.max_body_bytes:
                refusal = f"the request body exceeds {self.max_body_bytes} bytes"
                await _Answer.refusal(413, "REQUEST_TOO_LARGE", refusal).send(send)
                return
        fingerprint = mutation_fingerprint(body)
        replay = _replaying(body, receive)
        if fingerprint is None:
            await self.view(scope, replay, send)
            return
        keyed = KeyedRequest(self.caller(HTTPConnection(scope)), key, fingerprint)
        answer = await self._answer(keyed, {**scope, SCOPE_ENTRY: keyed}, replay)
        await answer.send(send)

    async def _answer(self, keyed: KeyedRequest, scope: Scope, receive: Receive) -> _Answer:
        async with self.read_sessions() as session:
            stored = await find(session, keyed.scope, keyed.key)
        if stored is not None:
            return await self._from_stored(keyed, stored)
        answer = await _run(self.view, scope, receive)
        if keyed.claimed_elsewhere:
            return await self._await_first(keyed)
        if not answer.storable(keyed.claimed):
            return answer
        if await self._store(keyed, answer):
            return answer
        # A duplicate stored its answer between our look-up and now; both committed
        # nothing, or it committed and we did not: its answer is the key's answer.
        return await self._await_first(keyed)

    async def _from_stored(self, keyed: KeyedRequest, stored: StoredAnswer) -> _Answer:
        if stored.fingerprint != keyed.fingerprint:
            return _Answer.refusal(
                422,
                "IDEMPOTENCY_KEY_REUSED",
                "this Idempotency-Key was used for a different request; use a new key",
            )
        if stored.response is not None:
            return _Answer.json(
                stored.status_code or 200, stored.response, (REPLAYED_HEADER, b"true")
            )
        if utc_now() - stored.created_at > ANSWER_LOST_AFTER:
            return _Answer.refusal(
                409,
                "IDEMPOTENCY_KEY_ANSWER_LOST",
                "this request took effect but its answer was lost when the server stopped;"
                " read the current state instead of retrying",
            )
        return await self._await_first(keyed)

    async def _await_first(self, keyed: KeyedRequest) -> _Answer:
        deadline = time.monotonic() + WAIT_FOR_FIRST_S
        while time.monotonic() < deadline:
            async with self.read_sessions() as session:
                stored = await find(session, keyed.scope, keyed.key)
            if stored is not None and (stored.answered or stored.fingerprint != keyed.fingerprint):
                return await self._from_stored(keyed, stored)
            await asyncio.sleep(POLL_S)
        answer = _Answer.refusal(
            409,
            "IDEMPOTENCY_KEY_IN_PROGRESS",
            "a request with this Idempotency-Key is still running; retry shortly",
        )
        answer.headers.append((b"retry-after", b"1"))
        return answer

    async def _store(self, keyed: KeyedRequest, answer: _Answer) -> bool:
        async with self.sessions.begin() as session:
            stored = await store_answer(session, keyed, answer.status, answer.body)
            if time.monotonic() - self._last_purge > PURGE_EVERY_S:
                self._last_purge = time.monotonic()
                await purge(session)
        return stored


def _replaying(body: bytes, receive: Receive) -> Receive:
    """The request body once more for the view, then the client's own messages
    (a disconnect)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _run(view: ASGIApp, scope: Scope, receive: Receive) -> _Answer:
    """Run the view and keep its answer instead of sending it."""
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await view(scope, receive, capture)
    return _Answer(status, b"".join(chunks), headers)
