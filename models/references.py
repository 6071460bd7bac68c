"""Where the foreign keys of `serial` and `movement` live on PostgreSQL.

These two tables take the bulk writes (an import of opening stock writes both, row for row).
On PostgreSQL their keys are checked by triggers once per statement instead of by
PostgreSQL's per-row foreign-key triggers (migration 0004 says how and why). The models
still declare them: SQLite keeps them as constraints, and the ORM orders its writes by them.
"""

from collections.abc import Callable
from typing import Any

ObjectFilter = Callable[[Any, str | None, str, bool, Any], bool]

CHECKED_PER_STATEMENT = frozenset({"serial", "movement"})


def compared_on(dialect: str) -> ObjectFilter:
    """An alembic `include_object` for comparing a database with the models: on PostgreSQL,
    the keys its triggers check are left out, as the database has no constraints for them."""

    def include(item: Any, _name: str | None, type_: str, _reflected: bool, _to: Any) -> bool:
        return not (
            dialect == "postgresql"
            and type_ == "foreign_key_constraint"
            and item.table.name in CHECKED_PER_STATEMENT
        )

    return include
