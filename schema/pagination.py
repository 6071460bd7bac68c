"""Keyset cursor connections (Relay), with a hard maximum page size."""

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
