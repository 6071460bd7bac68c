"""API tokens as the API offers them: issued and revoked by admins, listed without secrets."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.access import ApiToken
from models.enums import Role
from resolvers.context import Context
from resolvers.outcome import Refusal, attempt
from services import tokens
from services.access import Principal
from services.errors import ErrorCode, Refused


def _caller(ctx: Context) -> Principal:
    # The permission rule has let only admins this far; a missing principal is a bug.
    if ctx.principal is None:
        raise Refused.one(ErrorCode.INVALID_VALUE, "no caller")
    return ctx.principal


async def create_token(
    ctx: Context, *, name: str, role: Role, expires_at: datetime | None
) -> tokens.IssuedToken | Refusal:
    by = _caller(ctx)

    async def use_case(session: AsyncSession) -> tokens.IssuedToken:
        return await tokens.issue(session, name=name, role=role, expires_at=expires_at, by=by)

    return await attempt(ctx, use_case)


async def revoke_token(ctx: Context, token_id: str) -> ApiToken | Refusal:
    if not token_id.isdigit():
        return Refusal([tokens.not_found()])

    async def use_case(session: AsyncSession) -> ApiToken:
        return await tokens.revoke(session, int(token_id))

    outcome = await attempt(ctx, use_case)
    if ctx.tokens is not None and not isinstance(outcome, Refusal):
        ctx.tokens.forget()  # this process refuses it from the next request on
    return outcome


async def list_tokens(ctx: Context) -> list[ApiToken]:
    async with ctx.read() as session:
        return await tokens.all_tokens(session)
