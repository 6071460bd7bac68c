"""Declarative base with a naming convention, so migrations name constraints the same way
on SQLite and PostgreSQL."""

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import Enum as PythonEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, MappedColumn, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant on both engines.

    SQLite has no time zones and hands back naive values; PostgreSQL stores timestamptz.
    Either way the application only ever sees aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        # asyncpg hands back every timestamptz as an aware datetime in UTC already: nothing
        # to convert, where the conversion was a Python call per value (a history of ten
        # thousand movements has ten thousand).
        if dialect.driver == "asyncpg":
            return None
        return super().result_processor(dialect, coltype)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def one_of(column: str, values: Iterable[str]) -> str:
    """The SQL condition that `column` holds one of `values`, spelled as `=` tests joined by
    OR rather than as `IN (...)`: SQLite evaluates a constant IN list of more than two
    values by building a temporary index each time a row is written, which took three
    quarters of the time of inserting a movement (docs/performance.md, "Bulk import")."""
    return " OR ".join(f"{column} = '{value}'" for value in values)


def where_not_null(column: str) -> dict[str, Any]:
    """The keyword arguments that make an `Index` partial, over the rows where `column` is
    not null, on both engines. Both use such an index for `column = x` and `column IN (…)`,
    which imply it."""
    condition = text(f"{column} IS NOT NULL")
    return {"postgresql_where": condition, "sqlite_where": condition}


class _Members(dict[str | None, PythonEnum | None]):
    """A member by its name (None for NULL); a name it does not know is an error, as in
    SQLAlchemy's own `Enum`."""

    def __init__(self, cls: type[PythonEnum]) -> None:
        super().__init__({member.name: member for member in cls})
        self[None] = None
        self.cls = cls

    def __missing__(self, name: str | None) -> PythonEnum:
        raise LookupError(f"{name!r} is not a member of {self.cls.__name__}")


class MembersOnRead(TypeDecorator[PythonEnum]):
    """For the columns of `enum_column` in reads of many rows (histories): the member for
    each name through a dictionary's own look-up, where SQLAlchemy's `Enum` calls two
    Python functions per value (a sixth of the calls of reading a history)."""

    impl = String(32)
    cache_ok = True

    def __init__(self, cls: type[PythonEnum]) -> None:
        super().__init__()
        self.cls = cls

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        return _Members(self.cls).__getitem__


def enum_column(cls: type[PythonEnum], column: str, **kwargs: Any) -> MappedColumn[Any]:
    """A column holding the names of `cls`'s members: plain VARCHAR with a CHECK on both
    engines, so that adding a value later is a simple migration. The CHECK is named after
    the column, as one table may hold two columns of one enum."""
    allowed = CheckConstraint(one_of(column, cls.__members__), name=f"{column}_valid")
    return mapped_column(Enum(cls, native_enum=False, length=32), allowed, **kwargs)
