"""Idempotency keys: a retried write gets the first answer and causes no second effect.

The key is claimed by the first write transaction of the request that commits, in that
same transaction: if the claim is in the database, so is the effect, and the other way
round. The answer is stored afterwards, in a transaction of its own.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import IdempotencyKey
from models.base import utc_now
from services.errors import ErrorCode, Problem, Refused

# How long a key is kept, at least: the purge removes only keys older than this.
KEY_LIFETIME = timedelta(hours=24)


class KeyClaimedElsewhere(Refused):
    """A concurrent request with the same key committed its write first. Nothing of this
    one was written; its answer is the other request's. A refusal, so the rest of the
    document runs its ordinary course (its answer is discarded) rather than failing."""

    def __init__(self) -> None:
        super().__init__(
            [Problem(ErrorCode.CONFLICT, "a request with this Idempotency-Key ran first")]
        )


@dataclass
class KeyedRequest:
    """One request carrying an idempotency key, as it goes through its write transactions."""

    scope: str
    key: str
    fingerprint: str
    # Set once a transaction holding the claim has committed: later writes of the same
    # request (a document with several mutation fields) must not claim again.
    claimed: bool = field(default=False)
    # Set when a concurrent request with the key committed first: this one's answer is void.
    claimed_elsewhere: bool = field(default=False)


@dataclass(frozen=True)
class StoredAnswer:
    fingerprint: str
    created_at: datetime
    status_code: int | None
    response: bytes | None

    @property
    def answered(self) -> bool:
        return self.response is not None


async def claim(session: AsyncSession, request: KeyedRequest | None) -> None:
    """Insert the claim in the write transaction about to run. A row already there means
    another request with this key has committed (PostgreSQL makes the insert wait for a
    concurrent one; on SQLite the write lock already orders them)."""
    if request is None or request.claimed:
        return
    try:
        await session.execute(
            insert(IdempotencyKey).values(
                scope=request.scope, key=request.key, fingerprint=request.fingerprint
            )
        )
    except IntegrityError as exc:
        request.claimed_elsewhere = True
        raise KeyClaimedElsewhere from exc


async def find(session: AsyncSession, scope: str, key: str) -> StoredAnswer | None:
    row = (
        await session.execute(
            select(
                IdempotencyKey.fingerprint,
                IdempotencyKey.created_at,
                IdempotencyKey.status_code,
                IdempotencyKey.response,
            ).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        )
    ).one_or_none()
    return None if row is None else StoredAnswer(*row)


async def store_answer(
    session: AsyncSession, request: KeyedRequest, status_code: int, response: bytes
) -> bool:
    """Keep the answer. A claimed request fills in its row; one that committed nothing (a
    refusal) inserts it. False when another request with the key got there first."""
    if request.claimed:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.scope == request.scope, IdempotencyKey.key == request.key)
            .values(status_code=status_code, response=response)
        )
        return True
    try:
        async with session.begin_nested():
            await session.execute(
                insert(IdempotencyKey).values(
                    scope=request.scope,
                    key=request.key,
                    fingerprint=request.fingerprint,
                    status_code=status_code,
                    response=response,
                )
            )
    except IntegrityError:
        return False
    return True


async def purge(session: AsyncSession, now: datetime | None = None) -> int:
    """Forget keys older than their lifetime; returns how many."""
    cutoff = (now or utc_now()) - KEY_LIFETIME
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
