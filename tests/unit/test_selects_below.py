"""`selects_below` reads the document's nodes under the field being resolved."""

from typing import Any

import pytest
import strawberry
from strawberry import Info

from schema.loading import selects_below

PATHS = (("nodes", "movements"), ("edges", "node", "movements"))
seen: list[bool] = []


@strawberry.type
class Movement:
    kind: str = "PICK"


@strawberry.type
class Item:
    name: str = "x"

    @strawberry.field
    def movements(self) -> list[Movement]:
        return []


@strawberry.type
class Edge:
    @strawberry.field
    def node(self) -> Item:
        return Item()


@strawberry.type
class Page:
    @strawberry.field
    def nodes(self) -> list[Item]:
        return [Item()]

    @strawberry.field
    def edges(self) -> list[Edge]:
        return [Edge()]


@strawberry.type
class Query:
    @strawberry.field
    def page(self, info: Info[Any, Any]) -> Page:
        seen.append(selects_below(info, *PATHS))
        return Page()


schema = strawberry.Schema(query=Query)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{ page { nodes { movements { kind } } } }", True),
        ("{ page { edges { node { movements { kind } } } } }", True),
        ("{ page { nodes { name } } }", False),
        # `movements` elsewhere than at the path does not count.
        ("{ page { edges { node { name } } nodes { name } } }", False),
        ("{ page { ... on Page { nodes { ... on Item { movements { kind } } } } } }", True),
        (
            "{ page { ...P } } fragment P on Page { nodes { ...I } } "
            "fragment I on Item { movements { kind } }",
            True,
        ),
        ("{ page { ...P } } fragment P on Page { nodes { name } }", False),
        # Two selections of the same field are merged: either may select the path.
        ("{ page { nodes { name } } page { nodes { movements { kind } } } }", True),
    ],
)
def test_paths_are_found_through_fragments_and_only_where_they_lead(
    document: str, expected: bool
) -> None:
    seen.clear()
    result = schema.execute_sync(document)
    assert result.errors is None
    assert seen == [expected]
