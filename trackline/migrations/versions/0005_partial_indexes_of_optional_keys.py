"""indexes of optional keys hold only the rows that have one

`serial.receiving_line_id`, `serial.putaway_task_id` and `movement.lot_id` are empty on
most rows that bulk writes add: opening stock names no receiving line, no putaway task,
and its movements no lot. Indexing those nulls was about an eighth of the time PostgreSQL
took to write 100,000 opening-stock serials with their movements (2.39–2.66 s against
2.20–2.26 s, docs/performance.md). Every query that reads these indexes asks for `= x` or
`IN (…)`, which imply the column is not null, so both engines still use them, and the
report of lot movements (`lot_id IS NOT NULL`) reads exactly the index's rows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index, table, columns, the optional key)
INDEXES = (
    ("ix_serial_receiving_line_id", "serial", ["receiving_line_id"], "receiving_line_id"),
    ("ix_serial_putaway_task_id", "serial", ["putaway_task_id"], "putaway_task_id"),
    ("ix_movement_lot_id_id", "movement", ["lot_id", "id"], "lot_id"),
)


def upgrade() -> None:
    for name, table, columns, key in INDEXES:
        condition = sa.text(f"{key} IS NOT NULL")
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, postgresql_where=condition, sqlite_where=condition)


def downgrade() -> None:
    for name, table, columns, _ in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
