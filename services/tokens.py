"""API tokens: issue, check, list and revoke.

A token reads `tl_<prefix>_<secret>`. The prefix finds the row; the whole token's SHA-256
is compared in constant time. The secret exists only in the answer that issued it.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.access import ApiToken
from models.base import utc_now
from models.enums import Role
from services.access import Principal
from services.errors import ErrorCode, Problem, Refused
from services.queries import locked

TOKEN_PREFIX = "tl_"
MAX_NAME_LENGTH = 100
# How far up a chain of tokens creating tokens the check walks; deeper chains are refused.
MAX_CHAIN = 16


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    # The bearer secret: shown to the creator once, never stored.
    secret: str


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _split(raw: str) -> str | None:
    """The lookup prefix of a well-formed token, else None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, _, secret = raw[len(TOKEN_PREFIX) :].partition("_")
    if len(prefix) != 8 or len(secret) < 20:
        return None
    return prefix


async def issue(
    session: AsyncSession,
    *,
    name: str,
    role: Role,
    expires_at: datetime | None,
    by: Principal,
) -> IssuedToken:
    """A new token for `role`. A token never grants more than the caller creating it has:
    not a higher role, not a later expiry."""
    name = name.strip()
    problems = []
    if not name or len(name) > MAX_NAME_LENGTH:
        problems.append(
            Problem(
                ErrorCode.INVALID_VALUE, f"name must be 1 to {MAX_NAME_LENGTH} characters", "name"
            )
        )
    if not by.role.includes(role):
        problems.append(
            Problem(ErrorCode.ROLE_TOO_HIGH, f"a {by.role} cannot grant {role}", "role")
        )
    now = utc_now()
    if expires_at is not None and expires_at <= now:
        problems.append(
            Problem(ErrorCode.INVALID_VALUE, "expiresAt must be in the future", "expiresAt")
        )
    if by.expires_at is not None and (expires_at is None or expires_at > by.expires_at):
        problems.append(
            Problem(
                ErrorCode.EXPIRY_TOO_LATE,
                f"a token created by a token must expire by {by.expires_at.isoformat()}",
                "expiresAt",
            )
        )
    if problems:
        raise Refused(problems)
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(20)}"
    token = ApiToken(
        prefix=prefix,
        secret_hash=_digest(raw),
        name=name,
        role=role,
        created_at=now,
        expires_at=expires_at,
        created_by_id=by.token_id,
    )
    session.add(token)
    await session.flush()
    return IssuedToken(token, raw)


def expiry_in(days: int | None) -> datetime | None:
    return None if days is None else utc_now() + timedelta(days=days)


async def authenticate(session: AsyncSession, raw: str) -> Principal | None:
    """The caller a bearer token stands for, or None when it is unknown, malformed,
    expired or revoked, or any token above it in its chain of creators is."""
    prefix = _split(raw)
    if prefix is None:
        return None
    token = await session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None or not hmac.compare_digest(token.secret_hash, _digest(raw)):
        return None
    now = utc_now()
    expires_at = token.expires_at
    link: ApiToken | None = token
    for _ in range(MAX_CHAIN):
        if link is None:
            break
        if link.revoked_at is not None or (link.expires_at is not None and link.expires_at <= now):
            return None
        if link.expires_at is not None and (expires_at is None or link.expires_at < expires_at):
            expires_at = link.expires_at  # a token lasts no longer than its creators
        link = await session.get(ApiToken, link.created_by_id) if link.created_by_id else None
    else:
        return None
    return Principal(token.name, token.role, token.id, expires_at)


def not_found() -> Problem:
    return Problem(ErrorCode.NOT_FOUND, "no such token", "id")


async def revoke(session: AsyncSession, token_id: int) -> ApiToken:
    """Revoke a token, and with it every token it created (checked in `authenticate`)."""
    token = await locked(session, ApiToken, token_id)
    if token is None:
        raise Refused([not_found()])
    if token.revoked_at is None:
        token.revoked_at = utc_now()
    return token


async def all_tokens(session: AsyncSession) -> list[ApiToken]:
    return list(await session.scalars(select(ApiToken).order_by(ApiToken.id)))


class TokenCache:
    """Checked tokens, kept for a few seconds so a busy client costs one look-up per
    interval rather than one per request. A revocation in this process empties it at once;
    other processes see it within `ttl_s`."""

    def __init__(self, ttl_s: float = 5.0) -> None:
        self.ttl_s = ttl_s
        self._checked: dict[str, tuple[Principal | None, float]] = {}

    def get(self, raw: str, now: float) -> tuple[bool, Principal | None]:
        """(known, principal): known is False when the token must be looked up again."""
        entry = self._checked.get(_digest(raw))
        if entry is None or now - entry[1] > self.ttl_s:
            return False, None
        principal = entry[0]
        if principal and principal.expires_at and principal.expires_at <= utc_now():
            return True, None
        return True, principal

    def put(self, raw: str, principal: Principal | None, now: float) -> None:
        if len(self._checked) > 10_000:  # a flood of made-up tokens must not grow it forever
            self._checked.clear()
        self._checked[_digest(raw)] = (principal, now)

    def forget(self) -> None:
        self._checked.clear()
