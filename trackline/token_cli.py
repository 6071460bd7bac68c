"""`trackline token create|list|revoke`: API tokens from the command line, which acts with
every right (whoever can run it can read the database anyway)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from rich.console import Console
from rich.table import Table
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models.access import ApiToken
from models.base import utc_now
from models.enums import Role
from services import tokens
from services.access import system
from services.errors import Refused
from trackline.db import create_engines

T = TypeVar("T")
DEMO_TOKEN_NAME = "demo"
DEMO_TOKEN_DAYS = 7


def _in_transaction(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engines = create_engines(url)
        try:
            async with engines.sessions().begin() as session:
                return await work(session)
        finally:
            await engines.dispose()

    return asyncio.run(run())


def create(url: str, name: str, role: Role, days: int | None, console: Console) -> bool:
    """Print the new token's secret alone on stdout (for scripts); the rest goes to stderr."""

    async def work(session: AsyncSession) -> tokens.IssuedToken:
        expires = tokens.expiry_in(days)
        return await tokens.issue(session, name=name, role=role, expires_at=expires, by=system())

    try:
        issued = _in_transaction(url, work)
    except Refused as refused:
        for problem in refused.problems:
            console.print(f"[red]{problem.code}[/red] {problem.message}")
        return False
    token = issued.token
    until = token.expires_at.isoformat() if token.expires_at else "never"
    console.print(f"Token {token.id} '{token.name}', role {token.role}, expires {until}.")
    console.print("It is shown this once; store it safely.")
    print(issued.secret, flush=True)
    return True


def list_all(url: str, console: Console) -> None:
    rows = _in_transaction(url, tokens.all_tokens)
    table = Table("id", "name", "role", "prefix", "created", "expires", "revoked", "by")
    for row in rows:
        table.add_row(
            str(row.id),
            row.name,
            row.role,
            row.prefix,
            row.created_at.strftime("%Y-%m-%d %H:%M"),
            row.expires_at.strftime("%Y-%m-%d %H:%M") if row.expires_at else "never",
            row.revoked_at.strftime("%Y-%m-%d %H:%M") if row.revoked_at else "",
            str(row.created_by_id or "command line"),
        )
    console.print(table)


def revoke(url: str, token_id: int, console: Console) -> bool:
    try:
        token = _in_transaction(url, lambda session: tokens.revoke(session, token_id))
    except Refused:
        console.print(f"[red]No token {token_id}[/red]")
        return False
    console.print(f"Token {token.id} '{token.name}' revoked, and every token it created.")
    return True


def demo_token(url: str) -> str:
    """A fresh admin token for the demo, for this machine only. Earlier demo tokens are
    revoked, so only the one printed last works."""

    async def work(session: AsyncSession) -> str:
        stale = (ApiToken.name == DEMO_TOKEN_NAME) & ApiToken.revoked_at.is_(None)
        await session.execute(update(ApiToken).where(stale).values(revoked_at=utc_now()))
        issued = await tokens.issue(
            session,
            name=DEMO_TOKEN_NAME,
            role=Role.ADMIN,
            expires_at=tokens.expiry_in(DEMO_TOKEN_DAYS),
            by=system(),
        )
        return issued.secret

    return _in_transaction(url, work)


__all__ = ["create", "demo_token", "list_all", "revoke"]
