"""Building GraphQL objects from database rows, and the relay plumbing they share."""

import dataclasses
import operator
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Self

from graphql.pyutils import Undefined, UndefinedType
from strawberry import relay

from resolvers.context import Context
from resolvers.loaders import SessionLoader


class FromRow(relay.Node):
    """Mixin for types whose fields are columns of one table, loaded through a dataloader.

    Leaf fields are plain attributes copied from the row (no resolver per field); only
    relationship fields are async and go through loaders.
    """

    loader_name: ClassVar[str]
    # (class, a row's column names or None for an object) -> the class's field names and
    # a function reading all of them from such a row at once. Built on first use.
    _readers: ClassVar[dict[tuple[type, Any], tuple[tuple[str, ...], Callable[[Any], Any]]]] = {}

    @classmethod
    def _reader(
        cls, columns: tuple[str, ...] | None
    ) -> tuple[tuple[str, ...], Callable[[Any], Any]]:
        """How to copy this type's fields from a row: by name from an ORM object; by position
        from a Core row (named tuple), whose attribute access by name costs ten times more."""
        reader = FromRow._readers.get((cls, columns))
        if reader is None:
            names = tuple(f.name for f in dataclasses.fields(cls) if f.init)
            if columns is not None and set(names) <= set(columns):
                read: Callable[[Any], Any] = operator.itemgetter(*(columns.index(n) for n in names))
            else:
                read = operator.attrgetter(*names)
            reader = FromRow._readers[(cls, columns)] = (names, read)
        return reader

    @classmethod
    def from_row(cls, row: Any) -> Self:
        names, read = cls._reader(getattr(row, "_fields", None))
        values = read(row) if len(names) > 1 else (read(row),)
        return cls(**dict(zip(names, values, strict=True)))

    @classmethod
    def maybe(cls, row: Any | None) -> Self | None:
        return None if row is None else cls.from_row(row)

    @classmethod
    def many(cls, rows: Iterable[Any]) -> list[Self]:
        """Rows of one query: the way to read them is worked out once, from the first."""
        rows = list(rows)
        if not rows:
            return []
        names, read = cls._reader(getattr(rows[0], "_fields", None))
        if len(names) == 1:
            return [cls(**{names[0]: read(row)}) for row in rows]
        return [cls(**dict(zip(names, read(row), strict=True))) for row in rows]

    @classmethod
    async def load(cls, info: Any, row_id: int) -> Self:
        """The object with this id, through the request's dataloader for the type."""
        loader: SessionLoader[int, Any] = getattr(info.context.loaders, cls.loader_name)
        return cls.from_row(await loader.load(row_id))

    @classmethod
    async def load_optional(cls, info: Any, row_id: int | None) -> Self | None:
        """Like `load`, for an optional reference (or a row that may be gone)."""
        if row_id is None:
            return None
        loader: SessionLoader[int, Any] = getattr(info.context.loaders, cls.loader_name)
        return cls.maybe(await loader.load(row_id))

    @classmethod
    def at_once(cls, context: Context, row_id: int | None) -> "Self | UndefinedType | None":
        """The object with this id if this request has loaded its row already (None for no
        row), else Undefined: for `schema.execution.answered_at_once`. Each object is built
        once per request."""
        if row_id is None:
            return None
        loader: SessionLoader[int, Any] = getattr(context.loaders, cls.loader_name)
        found = loader.built.get(row_id)
        if found is not None:
            return found  # type: ignore[no-any-return]
        done = loader.done(row_id)
        if done is None:
            return Undefined
        row = done.result()
        if row is None:
            return None
        found = loader.built[row_id] = cls.from_row(row)
        return found

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # one implementation of the overloads
        cls, *, info: Any, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        context: Context = info.context
        loader: SessionLoader[int, Any] = getattr(context.loaders, cls.loader_name)
        ids = [int(i) if i.isdigit() else 0 for i in node_ids]
        return [cls.maybe(row) for row in await loader.load_many(ids)]
