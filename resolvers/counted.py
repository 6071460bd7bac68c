"""Keyset pages that can also say how long the whole list is."""

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Select

from resolvers import lookup
from resolvers.context import Context
from resolvers.lookup import Page
from services.queries import count_rows


async def counted_page(
    ctx: Context, query: Select[Any], first: int, after: str | None
) -> tuple[Page[Any], Callable[[], Awaitable[int]]]:
    """One keyset page of `query`, and a function counting all its rows in a session of its
    own (so it may run alongside the page's dataloader batches)."""
    page = await lookup.page(ctx, query, first, after)

    async def count() -> int:
        async with ctx.read() as session:
            return await count_rows(session, query)

    return page, count
