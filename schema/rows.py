"""Building GraphQL objects from database rows, and the relay plumbing they share."""

import dataclasses
import operator
from collections.abc import Callable, Iterable
from dataclasses import MISSING
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
    # (class, a row's column names or None for an object) -> how to build the class from
    # such a row. Built on first use.
    _builders: ClassVar[dict[tuple[type, Any], Callable[[Any], Any]]] = {}

    @classmethod
    def _builder(cls, columns: tuple[str, ...] | None) -> Callable[[Any], Self]:
        """How to build this type from a row: its fields read by name from an ORM object,
        by position from a Core row (named tuple), whose attribute access by name costs ten
        times more; then set on a new object without the dataclass `__init__`, which costs
        twice as much as the rest when a history builds ten thousand movements."""
        builder = FromRow._builders.get((cls, columns))
        if builder is not None:
            return builder
        fields = dataclasses.fields(cls)
        names = tuple(f.name for f in fields if f.init)
        if columns is not None and set(names) <= set(columns):
            get: Callable[[Any], Any] = operator.itemgetter(*(columns.index(n) for n in names))
        else:
            get = operator.attrgetter(*names)

        def one(row: Any) -> tuple[Any]:
            return (get(row),)

        read = get if len(names) > 1 else one  # a tuple of the values, even of one
        new = object.__new__

        def build(row: Any) -> Any:
            built = new(cls)
            built.__dict__.update(zip(names, read(row), strict=True))
            return built

        def build_by_init(row: Any) -> Any:
            return cls(**dict(zip(names, read(row), strict=True)))

        # `__init__` sets the fields it takes and the others' defaults (resolver fields have
        # none), and calls `__post_init__`: only then does skipping it change anything.
        plain = not hasattr(cls, "__post_init__") and all(
            f.init or (f.default is MISSING and f.default_factory is MISSING) for f in fields
        )
        builder = FromRow._builders[(cls, columns)] = build if plain else build_by_init
        return builder

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls._builder(getattr(row, "_fields", None))(row)

    @classmethod
    def maybe(cls, row: Any | None) -> Self | None:
        return None if row is None else cls.from_row(row)

    @classmethod
    def many(cls, rows: Iterable[Any]) -> list[Self]:
        """Rows of one query: the way to read them is worked out once, from the first."""
        rows = list(rows)
        if not rows:
            return []
        return list(map(cls._builder(getattr(rows[0], "_fields", None)), rows))

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
