"""What every resolver gets: database access, loaders, the event bus and who is acting."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from resolvers.loaders import Loaders
from services.access import Principal
from services.epcis_identifiers import DEFAULT_URIS, UriScheme
from services.events import NULL_BUS, EventBus, start_recording
from services.idempotency import KeyedRequest, claim
from services.movements import write_with_events
from services.queries import statement_by_statement
from services.tokens import TokenCache

DEFAULT_ACTOR = "api"
# The id of the HTTP request or WebSocket connection being served (set by trackline/
# observability.py): log lines and masked errors carry it.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
log = logging.getLogger(__name__)


@dataclass
class Context:
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]
    actor: str = DEFAULT_ACTOR
    # The authenticated caller; None is anonymous, who may select only what is open to all
    # (schema/permissions.py). Movements record `actor`, which is the principal's name.
    principal: Principal | None = None
    # Where committed changes are published for subscriptions; the default publishes nothing.
    bus: EventBus = NULL_BUS
    # Our URIs in EPCIS documents (locations, documents, event ids); set from the settings.
    epcis_uris: UriScheme = DEFAULT_URIS
    # The request's idempotency key, claimed by the first write that commits.
    idempotency: KeyedRequest | None = None
    # Checked tokens of this process, emptied when a token is revoked here.
    tokens: TokenCache | None = None
    # What a WebSocket client sent in connection_init (its token among them).
    connection_params: dict[str, object] | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders.create(self.read_sessions)

    def fresh_loaders(self) -> None:
        """Forget every row loaded so far. A WebSocket connection keeps one context for all
        its operations, so each subscription event starts with empty loaders (else a
        serial's second change would be answered from the first one's cache)."""
        self.loaders = Loaders.create(self.read_sessions, self.loaders.selected)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction for one use case: committed on success, rolled back on a refusal
        or any error, so nothing partial is ever committed.

        With a bus, the use case's changes are noted as it writes; they are staged inside
        the transaction (PostgreSQL: NOTIFY, which fires only on commit) and handed to the
        bus after the commit. A refusal or error publishes nothing.

        An idempotency key is claimed inside the transaction, so the claim commits if and
        only if the effect does.
        """
        if not self.bus.enabled:
            async with self.sessions.begin() as session:
                await claim(session, self.idempotency)
                yield session
            self._note_claimed()
            return
        async with self.sessions.begin() as session:
            await claim(session, self.idempotency)
            start_recording(session, self.actor)
            yield session
            events = await write_with_events(session)
            await self.bus.stage(session, events)
        self._note_claimed()
        try:
            self.bus.committed(events)
        except Exception:  # the write has committed: a publishing fault must not undo its answer
            log.exception("publishing %d committed events failed", len(events))

    def _note_claimed(self) -> None:
        if self.idempotency is not None:
            self.idempotency.claimed = True

    @asynccontextmanager
    async def read(self, *, one_statement: bool = False) -> AsyncIterator[AsyncSession]:
        """A read session: one snapshot for all its statements, or, for a read that is
        `one_statement`, none around it (services/queries.py, `statement_by_statement`)."""
        async with self.read_sessions() as session:
            if one_statement:
                await statement_by_statement(session)
            yield session
