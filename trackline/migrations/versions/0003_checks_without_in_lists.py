"""enum checks as = tests joined by OR: SQLite built a temporary index per written row for
each CHECK (column IN (...)) of more than two values

The allowed values do not change, only how the condition is spelled (models.base.one_of).
PostgreSQL replaces each constraint. SQLite cannot alter a constraint, and rebuilding
thirteen tables (movements and serials among them, with their indexes and triggers) for a
condition that all their rows already meet is not worth it; instead each table's CREATE
statement is edited in place as SQLite documents for changes that leave the stored rows as
they are ("Making Other Kinds Of Table Schema Changes",
https://www.sqlite.org/lang_altertable.html#otheralter).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:40:00
"""

from collections.abc import Callable, Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SERIAL_STATUSES = (
    "EXPECTED",
    "RECEIVED",
    "IN_INVENTORY",
    "ALLOCATED",
    "PICKED",
    "SHIPPED",
    "RELEASED",
)
_RECEIVING_STATUSES = ("PLANNED", "RECEIVING", "RECEIVED", "CLOSED", "CANCELLED")

Spelling = Callable[[str, tuple[str, ...]], str]

# (table, column, allowed values), as 0001 and 0002 created them.
CHECKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("api_token", "role", ("VIEWER", "OPERATOR", "INTEGRATOR", "ADMIN")),
    ("product", "tracking", ("NONE", "SERIAL", "LOT")),
    ("warehouse", "allocation_strategy", ("FEFO", "FIFO")),
    ("location", "kind", ("RECEIVING", "STORAGE", "PACKING", "SHIPPING")),
    (
        "outbound_order",
        "status",
        ("OPEN", "ALLOCATED", "PICKING", "PICKED", "PACKED", "SHIPPED", "CANCELLED"),
    ),
    ("receiving_order", "status", _RECEIVING_STATUSES),
    ("receiving_line", "status", _RECEIVING_STATUSES),
    ("shipment", "status", ("PACKED", "DISPATCHED")),
    ("putaway_task", "status", ("OPEN", "DONE")),
    ("serial", "status", _SERIAL_STATUSES),
    ("allocation", "status", ("ALLOCATED", "PICKED", "SHIPPED", "CANCELLED", "RETURNED")),
    (
        "movement",
        "kind",
        (
            "EXPECT",
            "RECEIVE",
            "PUTAWAY",
            "ALLOCATE",
            "PICK",
            "SHIP",
            "CANCEL",
            "RETURN",
            "RELEASE",
            "HOLD",
            "RELEASE_HOLD",
            "OPENING_STOCK",
        ),
    ),
    ("movement", "from_status", _SERIAL_STATUSES),
    ("movement", "to_status", _SERIAL_STATUSES),
    ("pick_task", "status", ("OPEN", "DONE", "SHORT", "CANCELLED")),
)


def _in_list(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _or_chain(column: str, values: tuple[str, ...]) -> str:
    # Frozen here rather than imported from models.base, so this revision stays as it is.
    return " OR ".join(f"{column} = '{value}'" for value in values)


def upgrade() -> None:
    _respell(_in_list, _or_chain)


def downgrade() -> None:
    _respell(_or_chain, _in_list)


def _respell(old: Spelling, new: Spelling) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _respell_sqlite(old, new)
        return
    for table, column, values in CHECKS:
        name = f"ck_{table}_{column}_valid"
        op.execute(
            f"ALTER TABLE {table} DROP CONSTRAINT {name}, "
            f"ADD CONSTRAINT {name} CHECK ({new(column, values)})"
        )


def _respell_sqlite(old: Spelling, new: Spelling) -> None:
    bind = op.get_bind()
    creates: dict[str, str] = dict(
        bind.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all()
    )
    for table, column, values in CHECKS:
        before = f"CHECK ({old(column, values)})"
        if creates[table].count(before) != 1:
            raise RuntimeError(f"{table}: expected one {before!r} in {creates[table]!r}")
        creates[table] = creates[table].replace(before, f"CHECK ({new(column, values)})")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        for table in {table for table, _, _ in CHECKS}:
            bind.exec_driver_sql(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                (creates[table], table),
            )
        # Tells every connection, this one included, to read the schema again.
        bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA quick_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"the edited schema does not check: {problems}")
