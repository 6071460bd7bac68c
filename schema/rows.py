"""Building GraphQL objects from database rows, and the relay plumbing they share."""

import dataclasses
from collections.abc import Iterable
from typing import Any, ClassVar, Self

from strawberry import relay

from resolvers.context import Context
from resolvers.loaders import SessionLoader


class FromRow(relay.Node):
    """Mixin for types whose fields are columns of one table, loaded through a dataloader.

    Leaf fields are plain attributes copied from the row (no resolver per field); only
    relationship fields are async and go through loaders.
    """

    loader_name: ClassVar[str]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        names = [f.name for f in dataclasses.fields(cls) if f.init]
        return cls(**{name: getattr(row, name) for name in names})

    @classmethod
    def maybe(cls, row: Any | None) -> Self | None:
        return None if row is None else cls.from_row(row)

    @classmethod
    def many(cls, rows: Iterable[Any]) -> list[Self]:
        return [cls.from_row(row) for row in rows]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # one implementation of the overloads
        cls, *, info: Any, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        context: Context = info.context
        loader: SessionLoader[int, Any] = getattr(context.loaders, cls.loader_name)
        ids = [int(i) if i.isdigit() else 0 for i in node_ids]
        return [cls.maybe(row) for row in await loader.load_many(ids)]
