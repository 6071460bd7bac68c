"""Keyset cursor connections (Relay), with a hard maximum page size."""

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.lookup import Page, encode_cursor

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type(description="A page of a list that can grow; ask for the next with `after`.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def connection(node_type: type[Any], page: Page[Any]) -> Connection[Any]:
    """Wrap a keyset page of rows as a connection of `node_type` objects."""
    edges = [Edge(node=node_type.from_row(row), cursor=encode_cursor(row.id)) for row in page.rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


@strawberry.type(description="A page of a list that can grow, and how long the whole list is.")
class CountedConnection(Connection[T]):
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list holds, all pages together.")
    async def total_count(self) -> int:
        # Counted only when asked for: it is one more statement over every matching row.
        return await self.count()


C = TypeVar("C", bound=CountedConnection[Any])


def counted_connection(
    connection_type: type[C],
    node_type: type[Any],
    page: Page[Any],
    count: Callable[[], Awaitable[int]],
) -> C:
    """Wrap a keyset page as a connection whose `totalCount` runs `count`."""
    plain = connection(node_type, page)
    return connection_type(edges=plain.edges, page_info=plain.page_info, count=count)
